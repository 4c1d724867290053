// SVA on Arm SMMUv3: ops, PASID translation, report sections and the arm-sva preset.
import './ops';
import './report';
import './preset';
