// The APU accelerator DRM driver model (seed 000).
import './ops';
import './preset';
