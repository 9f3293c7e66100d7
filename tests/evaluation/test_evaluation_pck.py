"""Torso-normalised PCK and the shared PCK / AUC helpers."""
import numpy as np
import pytest

from integral_keras import evaluation
from integral_keras.data import skeletons
from integral_keras.evaluation import pck_metrics


def _h36m_pose():
    """A 17-joint pose whose torso diagonals are 30 and 50 px (torso size 40)."""
    pose = np.zeros((17, 2))
    names = skeletons.H36M.joint_names
    pose[names.index("l_shoulder")] = [0.0, 0.0]
    pose[names.index("r_hip")] = [18.0, 24.0]  # 30 from l_shoulder
    pose[names.index("r_shoulder")] = [100.0, 0.0]
    pose[names.index("l_hip")] = [130.0, 40.0]  # 50 from r_shoulder
    others = [i for i in range(17) if names[i] not in ("l_shoulder", "r_hip", "r_shoulder", "l_hip")]
    pose[others] = np.random.default_rng(0).uniform(0, 100, size=(len(others), 2))
    return pose


def test_torso_size_is_the_mean_of_the_two_diagonals():
    gt = _h36m_pose()[None]
    np.testing.assert_allclose(pck_metrics.torso_size(gt, np.ones((1, 17), bool), "h36m"), [40.0])


def test_perfect_predictions_score_100():
    gt = np.stack([_h36m_pose(), _h36m_pose() * 2.0])
    result = evaluation.torso_pck(gt, gt, np.ones((2, 17), bool), skeletons.H36M)
    assert result["PCK@0.5"] == pytest.approx(100.0)
    assert result["PCK@0.1"] == pytest.approx(100.0)
    assert result["AUC"] == pytest.approx(100.0)
    assert result["samples_skipped"] == 0


def test_hand_computed_torso_pck():
    gt = _h36m_pose()[None]
    # Torso 40 px: errors 3.9 (0.0975), 4.1 (0.1025), 19.9 (0.4975), 20.1 (0.5025); the rest exact.
    errors = np.zeros(17)
    errors[[1, 2, 3, 4]] = [3.9, 4.1, 19.9, 20.1]
    pred = gt + errors[None, :, None] * np.array([0.0, 1.0])
    visible = np.ones((1, 17), bool)
    visible[0, 16] = False
    pred[0, 16] += 1000.0  # invisible: must not count
    result = evaluation.torso_pck(pred, gt, visible, "h36m")
    assert result["PCK@0.5"] == pytest.approx(100.0 * 15 / 16)
    assert result["PCK@0.1"] == pytest.approx(100.0 * 13 / 16)
    assert result["per_joint"]["l_hip"] == pytest.approx(0.0)
    assert result["per_joint"]["r_ankle"] == pytest.approx(100.0)
    assert np.isnan(result["per_joint"]["r_wrist"])


def test_samples_without_torso_are_skipped():
    gt = np.stack([_h36m_pose(), _h36m_pose()])
    pred = gt.copy()
    pred[1] += 500.0
    visible = np.ones((2, 17), bool)
    visible[1, skeletons.H36M.index("l_hip")] = False
    result = evaluation.torso_pck(pred, gt, visible, "h36m")
    assert result["samples_skipped"] == 1
    assert result["PCK@0.5"] == pytest.approx(100.0)


@pytest.mark.parametrize("name", ["mpii", "coco", "h36m"])
def test_every_skeleton_has_a_torso(name):
    skeleton = skeletons.get_skeleton(name)
    gt = np.random.default_rng(3).uniform(0, 100, size=(2, skeleton.num_joints, 3))
    result = evaluation.torso_pck(gt + 0.0, gt, np.ones((2, skeleton.num_joints), bool), name)
    assert result["PCK@0.5"] == pytest.approx(100.0)


def test_pck_curve_and_auc():
    gt = np.zeros((1, 2, 2))
    pred = np.array([[[0.0, 0.25], [0.0, 0.0]]])  # normaliser 1: distances 0.25 and 0
    values = evaluation.pck(pred, gt, np.ones((1, 2), bool), np.array([1.0]), thresholds=[0.2, 0.3])
    np.testing.assert_allclose(values, [50.0, 100.0])
    assert float(evaluation.pck(pred, gt, np.ones((1, 2), bool), np.array([1.0]), thresholds=0.1)) == 50.0
    # Constant curve -> its value; linear ramp 0..100 over [0, 1] -> 50.
    assert evaluation.area_under_curve([0.0, 0.25, 0.5], [70.0, 70.0, 70.0]) == pytest.approx(70.0)
    assert evaluation.area_under_curve(np.linspace(0, 0.5, 11), np.linspace(0, 100, 11)) == pytest.approx(50.0)


def test_mismatched_shapes_are_reported():
    with pytest.raises(ValueError, match="visible"):
        evaluation.pck(np.zeros((2, 3, 2)), np.zeros((2, 3, 2)), np.ones((2, 4), bool), np.ones(2))
    with pytest.raises(ValueError, match="normalizer"):
        evaluation.pck(np.zeros((2, 3, 2)), np.zeros((2, 3, 2)), np.ones((2, 3), bool), np.ones(3))
