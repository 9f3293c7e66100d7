"""Packed targets: layout of pack_* and the slicing of unpack_* on several array types."""
import keras
import numpy as np
import pytest

from integral_keras.codecs import pack_heatmap_target
from integral_keras.codecs import pack_joint_target
from integral_keras.codecs import packing
from integral_keras.codecs import unpack_heatmap_target
from integral_keras.codecs import unpack_joint_target


def test_pack_heatmap_target_layout():
    rng = np.random.default_rng(0)
    heatmaps = rng.random((2, 5, 4, 6))  # K=3, D=2
    weights = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]])
    packed = pack_heatmap_target(heatmaps, weights).numpy()
    assert packed.shape == (2, 5, 4, 9)
    np.testing.assert_allclose(packed[..., :6], heatmaps, atol=1e-6)
    for n in range(2):
        np.testing.assert_array_equal(packed[n, :, :, 6:], np.broadcast_to(weights[n], (5, 4, 3)))

    maps, joint_weights = unpack_heatmap_target(packed, num_joints=3, depth=2)
    np.testing.assert_array_equal(maps, packed[..., :6])
    np.testing.assert_array_equal(joint_weights, weights)


def test_separable_pack_equals_the_packed_outer_product():
    rng = np.random.default_rng(1)
    rows, cols = rng.random((2, 5, 6)), rng.random((2, 4, 6))  # K=3, D=2
    weights = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]])
    packed = packing.pack_separable_heatmap_target(rows, cols, weights).numpy()
    maps = np.einsum("nhc,nwc->nhwc", rows, cols)
    assert packed.shape == (2, 5, 4, 9)
    np.testing.assert_allclose(packed[..., :6], maps, rtol=1e-6)
    for n in range(2):
        np.testing.assert_array_equal(packed[n, :, :, 6:], np.broadcast_to(weights[n], (5, 4, 3)))


def test_pack_joint_target_layout():
    joints = np.arange(12.0).reshape(2, 2, 3)
    weights = np.array([[[1, 1, 0], [0, 0, 0]], [[1, 1, 1], [1, 1, 0]]], np.float32)
    packed = pack_joint_target(joints, weights).numpy()
    np.testing.assert_array_equal(packed[..., :3], joints)
    np.testing.assert_array_equal(packed[..., 3:], weights)
    unpacked_joints, unpacked_weights = unpack_joint_target(packed, num_coords=3)
    np.testing.assert_array_equal(unpacked_joints, joints)
    np.testing.assert_array_equal(unpacked_weights, weights)


def test_unpacked_targets_without_weights():
    maps = np.ones((1, 4, 4, 3))
    assert unpack_heatmap_target(maps, num_joints=3)[1] is None
    joints = np.ones((1, 3, 2))
    assert unpack_joint_target(joints, num_coords=2)[1] is None


def test_unpack_works_on_symbolic_keras_tensors():
    maps, weights = unpack_heatmap_target(keras.Input((8, 8, 6)), num_joints=3)
    assert tuple(maps.shape) == (None, 8, 8, 3)
    assert tuple(weights.shape) == (None, 3)


def test_unpack_rejects_wrong_channel_counts():
    with pytest.raises(ValueError, match="expected K\\*D = 6 .* K\\*D \\+ K = 9"):
        unpack_heatmap_target(np.ones((1, 4, 4, 7)), num_joints=3, depth=2)
    with pytest.raises(ValueError, match="expected C = 3 .* 2\\*C = 6"):
        unpack_joint_target(np.ones((1, 3, 4)), num_coords=3)
