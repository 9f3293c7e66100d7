"""TensorFlow ops for the input pipeline: crop transforms and keypoint helpers."""
from integral_keras.ops.affine import WARP_BACKENDS
from integral_keras.ops.affine import crop_transform
from integral_keras.ops.affine import fit_box_to_aspect
from integral_keras.ops.affine import invert_affine
from integral_keras.ops.affine import transform_points
from integral_keras.ops.affine import warp_image
from integral_keras.ops.affine import warp_images
from integral_keras.ops.keypoints import joint_index_map
from integral_keras.ops.keypoints import remap_joints
from integral_keras.ops.keypoints import swap_flip_pairs
