// Qualcomm display/GPU (seed 002): the arm-smmu model, the drm/msm driver model and the qcom-sdm845 preset.
import './arm-smmu';
import './msm';
import './preset';
