"""Heat-map (H1/H2/H3) and joint (L1/L2) losses on packed, weighted targets."""
from integral_keras.losses.factory import losses_for_method
from integral_keras.losses.heatmap import HeatmapBinaryCrossEntropy
from integral_keras.losses.heatmap import HeatmapCrossEntropy
from integral_keras.losses.heatmap import HeatmapMSE
from integral_keras.losses.joint import JointL1
from integral_keras.losses.joint import JointL2
