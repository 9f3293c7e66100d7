"""Target encoding and prediction decoding: `PoseCodec` owns the coordinate convention.

The method table and the packed-target helpers import without TensorFlow (the
losses and configs use them on any Keras backend); `PoseCodec`, which encodes
with TensorFlow ops, is imported on first access.
"""
import importlib

from integral_keras.codecs.methods import DISC
from integral_keras.codecs.methods import GAUSSIAN
from integral_keras.codecs.methods import HEATMAP_TARGET_FOR_METHOD
from integral_keras.codecs.methods import HEATMAP_TARGET_KINDS
from integral_keras.codecs.methods import JOINT_TARGET_METHODS
from integral_keras.codecs.methods import METHODS
from integral_keras.codecs.methods import ONE_HOT
from integral_keras.codecs.methods import check_method
from integral_keras.codecs.methods import heatmap_target_kind
from integral_keras.codecs.methods import uses_heatmaps
from integral_keras.codecs.methods import uses_joints
from integral_keras.codecs.packing import pack_heatmap_target
from integral_keras.codecs.packing import pack_joint_target
from integral_keras.codecs.packing import pack_marginal_target
from integral_keras.codecs.packing import unpack_heatmap_target
from integral_keras.codecs.packing import unpack_joint_target
from integral_keras.codecs.packing import unpack_marginal_target


def __getattr__(name):
    if name == "PoseCodec":
        module = importlib.import_module(f"{__name__}.pose_codec")
        return module.PoseCodec
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + ["PoseCodec"])
