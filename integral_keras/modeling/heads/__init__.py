"""Heads: the seed's heat-map (deconv) head and the R1 regression head."""
from integral_keras.modeling.heads.deconv import UPSAMPLE_MODES, deconv_head
from integral_keras.modeling.heads.regression import regression_head

__all__ = ["UPSAMPLE_MODES", "deconv_head", "regression_head"]
