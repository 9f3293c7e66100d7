"""Heat-map (H1/H2/H3), 3D heat-map marginal (Strategy 2) and joint (L1/L2) losses on packed, weighted targets.

Targets are packed with their weights (`integral_keras.codecs.pack_joint_target`, `pack_heatmap_target`,
`pack_marginal_target`; `docs/architecture.md`): a joint target is `(N, K, 2*C)`, the C coordinates then C
weights; a heat-map target is `(N, H, W, K*D + K)`, the maps then one weight channel per joint.
"""
from integral_keras.losses.factory import losses_for_method
from integral_keras.losses.factory import marginal_loss_for_method
from integral_keras.losses.heatmap import HeatmapBinaryCrossEntropy
from integral_keras.losses.heatmap import HeatmapCrossEntropy
from integral_keras.losses.heatmap import HeatmapMSE
from integral_keras.losses.joint import JointL1
from integral_keras.losses.joint import JointL2
from integral_keras.losses.marginal import HeatmapMarginalBinaryCrossEntropy
from integral_keras.losses.marginal import HeatmapMarginalCrossEntropy
from integral_keras.losses.marginal import HeatmapMarginalMSE

__all__ = [
    "HeatmapBinaryCrossEntropy",
    "HeatmapCrossEntropy",
    "HeatmapMSE",
    "HeatmapMarginalBinaryCrossEntropy",
    "HeatmapMarginalCrossEntropy",
    "HeatmapMarginalMSE",
    "JointL1",
    "JointL2",
    "losses_for_method",
    "marginal_loss_for_method",
]
