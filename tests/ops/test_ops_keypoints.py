"""Tests for integral_keras.ops.keypoints."""
import numpy as np
import tensorflow as tf

from integral_keras.data import skeletons
from integral_keras.ops import keypoints


def test_swap_flip_pairs_swaps_mpii_pairs_and_is_an_involution():
    perm = skeletons.MPII.flip_permutation()
    values = tf.range(16)
    swapped = keypoints.swap_flip_pairs(values, perm).numpy()
    assert swapped[0] == 5 and swapped[5] == 0 and swapped[12] == 13 and swapped[6] == 6
    np.testing.assert_array_equal(keypoints.swap_flip_pairs(swapped, perm).numpy(), np.arange(16))


def test_joint_index_map_mpii_to_h36m_by_name():
    index = keypoints.joint_index_map("mpii", "h36m")
    h36m, mpii = skeletons.H36M.joint_names, skeletons.MPII.joint_names
    assert index[h36m.index("spine")] == -1
    assert mpii[index[h36m.index("l_wrist")]] == "l_wrist"
    assert mpii[index[h36m.index("head")]] == "head_top"
    assert mpii[index[h36m.index("neck")]] == "upper_neck"


def test_remap_joints_zero_fills_absent_joints():
    values = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out = keypoints.remap_joints(values, np.array([2, -1, 0])).numpy()
    np.testing.assert_array_equal(out, [[5, 6], [0, 0], [1, 2]])
