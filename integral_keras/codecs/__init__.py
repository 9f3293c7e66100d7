"""Target encoding and prediction decoding: `PoseCodec` owns the coordinate convention."""
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
from integral_keras.codecs.packing import unpack_heatmap_target
from integral_keras.codecs.packing import unpack_joint_target
from integral_keras.codecs.pose_codec import PoseCodec
