// Intel IPU3 (seed 003): the ipu3-mmu model, the driver's two designs and the intel-ipu3 preset.
import './model';
import './driver';
import './preset';
