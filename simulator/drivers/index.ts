// Driver models of the seed systems: their ops, IOMMU models, presets and report additions.
import './common/report';
import './apu/index';
import './qcom/index';
