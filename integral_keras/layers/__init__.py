"""Keras layers that turn joint-major heat-map logits into joints, and the networks' fused BatchNormalization.

Logits are `(N, H, W, K*D)` with channel `k*D + d` (DESIGN.md, Conventions).
"""
from integral_keras.layers.batch_norm import FusedBatchNormalization
from integral_keras.layers.decode import HeatmapArgmax
from integral_keras.layers.integral import HeatmapSoftmax, IntegralRegression, TwoStepIntegral

__all__ = ["FusedBatchNormalization", "HeatmapArgmax", "HeatmapSoftmax", "IntegralRegression", "TwoStepIntegral"]
