// Driver models of the seed systems: their ops, IOMMU models, presets and report additions.
import './common/report';
import './common/cache-ops';
import './apu/index';
import './qcom/index';
import './ipu3/index';
import './dcp/index';
