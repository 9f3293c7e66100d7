"""Networks of the paper: backbones, heads and the pose model builder."""
from integral_keras.modeling.backbones import backbone_names, get_backbone, get_backbone_spec, register_backbone
from integral_keras.modeling.heads import deconv_head, regression_head
from integral_keras.modeling.pose_model import build_pose_model, model_name

__all__ = ["backbone_names", "build_pose_model", "deconv_head", "get_backbone", "get_backbone_spec", "model_name",
           "register_backbone", "regression_head"]
