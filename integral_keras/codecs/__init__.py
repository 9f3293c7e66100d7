"""Target encoding and prediction decoding: `PoseCodec` owns the coordinate convention.

The method table (`core.methods`) and the packed-target layout (`core.packing`) are bottom-layer tables that the
losses read without TensorFlow; they are re-exported here under their documented names.
"""
from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.core.methods import DISC
from integral_keras.core.methods import GAUSSIAN
from integral_keras.core.methods import HEATMAP_TARGET_FOR_METHOD
from integral_keras.core.methods import HEATMAP_TARGET_KINDS
from integral_keras.core.methods import JOINT_TARGET_METHODS
from integral_keras.core.methods import METHODS
from integral_keras.core.methods import ONE_HOT
from integral_keras.core.methods import check_method
from integral_keras.core.methods import heatmap_target_kind
from integral_keras.core.methods import uses_heatmaps
from integral_keras.core.methods import uses_joints
from integral_keras.core.packing import pack_heatmap_target
from integral_keras.core.packing import pack_joint_target
from integral_keras.core.packing import pack_marginal_target
from integral_keras.core.packing import unpack_heatmap_target
from integral_keras.core.packing import unpack_joint_target
from integral_keras.core.packing import unpack_marginal_target
