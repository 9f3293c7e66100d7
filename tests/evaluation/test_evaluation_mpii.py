"""MPII PCKh against hand-built cases and the official gt_valid.mat layout."""
import math

import numpy as np
import pytest
import scipy.io

from integral_keras import evaluation
from integral_keras.data import skeletons
from integral_keras.evaluation import mpii

NAMES = skeletons.MPII.joint_names
PELVIS, THORAX = NAMES.index("pelvis"), NAMES.index("thorax")
DIRECTION = np.array([0.6, 0.8])  # unit vector
OFFICIAL_ORDER = ["rank", "rkne", "rhip", "lhip", "lkne", "lank", "pelv", "thor",
                  "neck", "head", "rwri", "relb", "rsho", "lsho", "lelb", "lwri"]


def _gt_and_boxes(num):
    rng = np.random.default_rng(1)
    gt = rng.uniform(50, 400, size=(num, 16, 2))
    # Head boxes 30 x 40 px: diagonal 50, head size 0.6 * 50 = 30 px.
    corner = rng.uniform(0, 300, size=(num, 1, 2))
    boxes = np.concatenate([corner, corner + np.array([[30.0, 40.0]])], axis=1)
    return gt, boxes


def _auc_of_one_joint(ratio):
    """Trapezoid over t = 0, 0.01, ..., 0.5 (x scaled to [0, 1]) of the step `ratio <= t`, by hand."""
    if ratio > 0.5:
        return 0.0
    first = math.ceil(round(ratio * 100, 9))  # first grid index where the joint counts
    if first == 0:
        return 1.0
    return 0.02 * (50 - first + 0.5)


def test_perfect_predictions_score_100():
    gt, boxes = _gt_and_boxes(3)
    visible = np.ones((3, 16), bool)
    result = evaluation.mpii_pckh(gt.copy(), gt, visible, boxes)
    assert result["Mean"] == pytest.approx(100.0)
    assert result["Mean@0.1"] == pytest.approx(100.0)
    assert result["AUC"] == pytest.approx(100.0)
    assert set(result["per_joint"]) == set(NAMES)
    assert all(v == pytest.approx(100.0) for v in result["per_joint"].values())
    assert len(result["thresholds"]) == 51 and len(result["curve"]) == 51


def test_known_offsets_give_hand_computed_pckh():
    gt, boxes = _gt_and_boxes(2)
    head_size = 30.0
    # Offsets in head sizes, off the 0.01 threshold grid (except 0) so that the AUC steps are unambiguous.
    # Pelvis and thorax are far off but never enter the means.
    ratios = np.array([
        [0.499, 0.501, 0.099, 0.101, 0.0, 0.305, 0.8, 0.9, 0.205, 0.055, 0.455, 0.555, 0.125, 0.075, 0.605, 0.335],
        [0.0, 0.0, 0.495, 0.515, 0.205, 0.215, 2.0, 2.0, 0.085, 0.115, 0.305, 0.705, 0.095, 0.495, 0.015, 0.405],
    ])
    visible = np.ones((2, 16), bool)
    visible[1, [3, 11]] = False  # the 0.51 and 0.7 of sample 2 are not annotated
    pred = gt + ratios[..., None] * head_size * DIRECTION

    counted = [(r, v) for s in range(2) for j, (r, v) in enumerate(zip(ratios[s], visible[s]))
               if j not in (PELVIS, THORAX) and v]
    counted_ratios = [r for r, _ in counted]
    assert len(counted_ratios) == 26
    inside_05 = sum(r <= 0.5 for r in counted_ratios)
    inside_01 = sum(r <= 0.1 for r in counted_ratios)
    # Sample 1 (14 joints): 0.499 0.099 0.101 0.0 0.305 0.205 0.055 0.455 0.125 0.075 0.335 inside 0.5 -> 11;
    # 0.501, 0.555, 0.605 outside. Sample 2 (12 visible joints): all inside -> 12. Total 23 / 26.
    assert inside_05 == 23
    # At 0.1: sample 1: 0.099, 0.0, 0.055, 0.075 -> 4; sample 2: 0.0, 0.0, 0.085, 0.095, 0.015 -> 5.
    assert inside_01 == 9

    result = evaluation.mpii_pckh(pred, gt, visible, boxes)
    assert result["Mean"] == pytest.approx(100.0 * 23 / 26)
    assert result["Mean@0.1"] == pytest.approx(100.0 * 9 / 26)
    expected_auc = 100.0 * np.mean([_auc_of_one_joint(r) for r in counted_ratios])
    assert result["AUC"] == pytest.approx(expected_auc, abs=1e-9)
    # Per joint at 0.5: r_hip (index 2) 0.099 and 0.495 -> 100; r_knee 0.501 and 0.0 -> 50;
    # l_hip only sample 1 visible, 0.101 -> 100; r_elbow (11): 0.555 and invisible -> 0.
    assert result["per_joint"]["r_hip"] == pytest.approx(100.0)
    assert result["per_joint"]["r_knee"] == pytest.approx(50.0)
    assert result["per_joint"]["l_hip"] == pytest.approx(100.0)
    assert result["per_joint"]["r_elbow"] == pytest.approx(0.0)
    assert result["per_joint"]["pelvis"] == pytest.approx(0.0)
    # Shoulder part: r_shoulder 0.125, 0.095 -> 100; l_shoulder 0.075, 0.495 -> 100.
    assert result["per_part"]["Shoulder"] == pytest.approx(100.0)
    # Elbow part: r_elbow 0 (one visible, 0.555); l_elbow 0.605 and 0.015 -> 50.
    assert result["per_part"]["Elbow"] == pytest.approx((0.0 + 50.0) / 2)


def test_head_size_is_point_six_of_the_diagonal():
    boxes = np.array([[[10.0, 20.0], [13.0, 24.0]]])  # diagonal 5
    np.testing.assert_allclose(mpii.head_sizes(boxes), [3.0])


def test_bad_shapes_are_reported():
    gt, boxes = _gt_and_boxes(1)
    with pytest.raises(ValueError, match="MPII joint order"):
        evaluation.mpii_pckh(gt[:, :14], gt[:, :14], np.ones((1, 14), bool), boxes)
    with pytest.raises(ValueError, match="headboxes"):
        evaluation.mpii_pckh(gt, gt, np.ones((1, 16), bool), boxes.reshape(1, 4))


def _write_official_mat(path, joints, visible, headboxes, order=OFFICIAL_ORDER):
    """Writes a gt_valid.mat in the official layout (1-based MATLAB coordinates)."""
    package_of = dict(zip(OFFICIAL_ORDER, NAMES))
    columns = [NAMES.index(package_of[name]) for name in order]
    names = np.empty((1, 16), dtype=object)
    for i, name in enumerate(order):
        names[0, i] = name
    scipy.io.savemat(path, {
        "dataset_joints": names,
        "jnt_missing": (~visible[:, columns]).T.astype(np.uint8),
        "pos_gt_src": np.transpose(joints[:, columns] + 1.0, (1, 2, 0)),
        "headboxes_src": np.transpose(headboxes + 1.0, (1, 2, 0)),
    })


def test_gt_valid_round_trip(tmp_path):
    gt, boxes = _gt_and_boxes(4)
    visible = np.random.default_rng(2).uniform(size=(4, 16)) > 0.2
    path = tmp_path / "gt_valid.mat"
    _write_official_mat(path, gt, visible, boxes)
    loaded = evaluation.load_mpii_gt_valid(path)
    np.testing.assert_allclose(loaded["joints"], gt, atol=1e-9)
    np.testing.assert_array_equal(loaded["visible"], visible)
    np.testing.assert_allclose(loaded["headboxes"], boxes, atol=1e-9)
    assert evaluation.mpii_pckh_gt_valid(gt, path)["Mean"] == pytest.approx(100.0)


def test_gt_valid_with_another_joint_order_is_reordered(tmp_path):
    gt, boxes = _gt_and_boxes(2)
    visible = np.ones((2, 16), bool)
    visible[0, 5] = False
    order = list(reversed(OFFICIAL_ORDER))
    path = tmp_path / "gt_valid.mat"
    _write_official_mat(path, gt, visible, boxes, order=order)
    loaded = evaluation.load_mpii_gt_valid(path)
    np.testing.assert_allclose(loaded["joints"], gt, atol=1e-9)
    np.testing.assert_array_equal(loaded["visible"], visible)


def test_gt_valid_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.mat"):
        evaluation.load_mpii_gt_valid(tmp_path / "nowhere.mat")
    path = tmp_path / "partial.mat"
    scipy.io.savemat(path, {"jnt_missing": np.zeros((16, 1))})
    with pytest.raises(KeyError, match="pos_gt_src"):
        evaluation.load_mpii_gt_valid(path)
