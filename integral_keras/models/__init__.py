"""Model builders: `build_pose_model(config) -> keras.Model`."""
from integral_keras.modeling.pose_model import build_pose_model

__all__ = ["build_pose_model"]
