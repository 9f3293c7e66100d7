"""Per-joint confidence against numpy references written here."""
import numpy as np
import pytest

import serving_test_models as stm
from integral_keras.serving import confidence


@pytest.mark.parametrize("depth,beta,radius", [(1, 1.0, 1), (1, 3.0, 2), (3, 1.0, 1), (2, 0.5, 0)])
def test_window_mass_matches_numpy(depth, beta, radius):
    rng = np.random.default_rng(3)
    num_joints = 3
    logits = rng.normal(scale=2.0, size=(2, 6, 7, num_joints * depth)).astype(np.float32)
    # Interior, border, outside the map and exact half-cell positions.
    joints = np.array([[[2.4, 3.5], [0.0, 0.0], [6.6, 5.2]],
                       [[-1.0, 9.0], [3.5, 2.49], [5.0, 1.0]]], np.float32)
    if depth > 1:
        joints = np.concatenate([joints, np.ones_like(joints[..., :1])], axis=-1)
    got = np.asarray(confidence.window_mass(logits, joints, num_joints, depth, beta, radius))
    want = stm.window_mass_reference(logits, joints, num_joints, depth, beta, radius)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_window_mass_extremes():
    num_joints, h, w = 2, 8, 8
    logits = np.zeros((1, h, w, num_joints), np.float32)
    logits[0, 4, 5, 0] = 100.0  # a sharp peak for joint 0; joint 1 stays flat
    joints = np.array([[[5.0, 4.0], [0.2, 0.3]]], np.float32)
    got = np.asarray(confidence.window_mass(logits, joints, num_joints))
    # Sharp peak inside the window: all the mass. Flat map, corner window: 2x2 of the 64 cells.
    np.testing.assert_allclose(got, [[1.0, 4.0 / 64.0]], rtol=1e-5)
    # The same sharp peak seen from two cells away is outside the 3x3 window.
    far = np.asarray(confidence.window_mass(logits, np.array([[[7.0, 4.0], [0.0, 0.0]]], np.float32), num_joints))
    assert far[0, 0] < 1e-6


@pytest.mark.parametrize("activation", ["identity", "softmax", "sigmoid"])
def test_heatmap_peak_matches_numpy(activation):
    rng = np.random.default_rng(4)
    num_joints, depth = 2, 3
    heatmaps = rng.normal(size=(2, 5, 4, num_joints * depth)).astype(np.float32)
    cells = heatmaps.reshape(2, 5, 4, num_joints, depth).transpose(0, 3, 1, 2, 4)
    if activation == "softmax":
        cells = stm.softmax_per_joint(heatmaps, num_joints, depth, 1.0)
    elif activation == "sigmoid":
        cells = 1.0 / (1.0 + np.exp(-cells))
    want = cells.reshape(2, num_joints, -1).max(axis=-1)
    got = np.asarray(confidence.heatmap_peak(heatmaps, num_joints, depth, activation))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_joint_confidence_dispatch():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    joints = np.array([[[1.0, 2.0], [3.0, 0.0]]], np.float32)
    outputs = {"heatmaps": logits}
    np.testing.assert_array_equal(np.asarray(confidence.joint_confidence("R1", {}, joints, 2)), np.ones((1, 2)))
    np.testing.assert_allclose(np.asarray(confidence.joint_confidence("I2", outputs, joints, 2)),
                               np.asarray(confidence.window_mass(logits, joints, 2)))
    np.testing.assert_allclose(np.asarray(confidence.joint_confidence("H1", outputs, joints, 2)),
                               logits.reshape(1, 16, 2).max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(confidence.joint_confidence("H3", outputs, joints, 2)),
                               1.0 / (1.0 + np.exp(-logits.reshape(1, 16, 2).max(axis=1))), rtol=1e-6)
    with pytest.raises(KeyError, match="heatmaps"):
        confidence.joint_confidence("I1", {"joints": joints}, joints, 2)
    with pytest.raises(ValueError, match="Unknown method"):
        confidence.joint_confidence("I9", outputs, joints, 2)
