"""Keypoint helpers for the input pipeline: flip-pair swaps and joint-set remapping (TensorFlow ops).

Joint orders, flip pairs and the joint maps between skeletons (`JOINT_ALIASES`, `joint_index_map`) are tables of
`integral_keras.core.skeletons`, re-exported here; nothing here redefines them.
"""
import tensorflow as tf

from integral_keras.core.skeletons import JOINT_ALIASES  # noqa: F401  (re-export)
from integral_keras.core.skeletons import joint_index_map  # noqa: F401  (re-export)


def swap_flip_pairs(values, flip_permutation, axis=0):
    """Reorders per-joint values so that every left/right pair is swapped.

    Args:
      values: per-joint tensor with the joints on `axis`, e.g. `(K, ...)` or `(N, K, ...)` with `axis=1`.
      flip_permutation: `(K,)` int permutation from `Skeleton.flip_permutation()`.
      axis: the joint axis.

    Returns:
      Tensor of the shape of `values`, `out[..., k, ...] = values[..., flip_permutation[k], ...]`.
    """
    return tf.gather(values, tf.constant(flip_permutation, tf.int32), axis=axis)


def remap_joints(values, index_map):
    """Gathers per-joint values through `joint_index_map`, filling absent joints with zeros.

    Args:
      values: `(K_source, ...)` tensor.
      index_map: `(K_target,)` int array, `-1` for absent joints.

    Returns:
      `(K_target, ...)` tensor of the same dtype.
    """
    index_map = tf.constant(index_map, tf.int32)
    gathered = tf.gather(values, tf.maximum(index_map, 0), axis=0)
    present = tf.reshape(index_map >= 0, [-1] + [1] * (len(values.shape) - 1))
    return tf.where(present, gathered, tf.zeros_like(gathered))
