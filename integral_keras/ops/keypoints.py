"""Keypoint helpers for the input pipeline: flip-pair swaps and joint-set remapping.

Joint orders and flip pairs come from `integral_keras.data.skeletons`; nothing here redefines them.
"""
from typing import Mapping, Optional

import numpy as np
import tensorflow as tf

from integral_keras.data import skeletons

# Joints that carry different names in different skeletons but mark the same body point
# (target name -> source name). Used when 2D data of one skeleton trains a model of another (mixed 2D/3D).
# MPII -> Human3.6M differs from the official code's table at the neck and thorax on purpose: see the comment
# above `integral_keras.data.skeletons.H36M` and docs/architecture.md ("Joint mappings").
JOINT_ALIASES = {
    "neck": "upper_neck",
    "upper_neck": "neck",
    "head": "head_top",
    "head_top": "head",
}


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


def joint_index_map(source: str, target: str, aliases: Optional[Mapping[str, str]] = None) -> np.ndarray:
    """Maps the joints of skeleton `target` to indices of skeleton `source`, by joint name.

    Args:
      source: skeleton name of the data (e.g. `mpii`).
      target: skeleton name of the model (e.g. `h36m`).
      aliases: target-name -> source-name equivalences; defaults to `JOINT_ALIASES`.

    Returns:
      `(K_target,)` int32; `-1` where the source has no such joint (e.g. MPII has no `spine`).
    """
    aliases = JOINT_ALIASES if aliases is None else aliases
    source_names = skeletons.get_skeleton(source).joint_names
    index = []
    for name in skeletons.get_skeleton(target).joint_names:
        if name in source_names:
            index.append(source_names.index(name))
        elif aliases.get(name) in source_names:
            index.append(source_names.index(aliases[name]))
        else:
            index.append(-1)
    return np.asarray(index, np.int32)


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
