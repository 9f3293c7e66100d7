"""MPJPE, PA-MPJPE, back-projection and the Human3.6M protocol helpers against independent references."""
import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from scipy.spatial.transform import Rotation

from integral_keras import evaluation
from integral_keras.evaluation import h36m


def _poses(num=4, joints=17, seed=0):
    return np.random.default_rng(seed).normal(0.0, 300.0, size=(num, joints, 3))


def test_perfect_predictions_give_zero():
    gt = _poses()
    assert evaluation.mpjpe(gt.copy(), gt) == 0.0
    assert evaluation.pa_mpjpe(gt.copy(), gt) == pytest.approx(0.0, abs=1e-9)


def test_mpjpe_known_shifts():
    gt = _poses(num=2)
    # A global shift disappears after root alignment but not without it.
    shifted = gt + np.array([3.0, 4.0, 0.0])
    assert evaluation.mpjpe(shifted, gt) == pytest.approx(0.0, abs=1e-12)
    assert evaluation.mpjpe(shifted, gt, root=None) == pytest.approx(5.0)
    # One non-root joint of one frame off by 12 mm: 12 / (2 frames * 17 joints).
    one_joint = gt.copy()
    one_joint[1, 5, 2] += 12.0
    assert evaluation.mpjpe(one_joint, gt) == pytest.approx(12.0 / 34)
    # The root itself off by 10 mm moves the 16 other joints by 10 mm after alignment.
    root_off = gt.copy()
    root_off[0, 0, 0] += 10.0
    assert evaluation.mpjpe(root_off, gt) == pytest.approx(16 * 10.0 / 34)


def test_pa_mpjpe_is_invariant_to_similarity_transforms():
    gt = _poses()
    rotations = Rotation.random(4, random_state=1).as_matrix()
    pred = 0.7 * np.einsum("nij,nkj->nki", rotations, gt) + np.array([100.0, -40.0, 2500.0])
    assert evaluation.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-8)
    np.testing.assert_allclose(evaluation.procrustes_align(pred, gt), gt, atol=1e-8)


def _reference_similarity_error(pred, gt):
    """Per-frame Procrustes with scipy.linalg.orthogonal_procrustes and the least-squares scale."""
    errors = []
    for p, g in zip(pred, gt):
        p_c, g_c = p - p.mean(0), g - g.mean(0)
        rotation, _ = scipy.linalg.orthogonal_procrustes(p_c, g_c)
        assert np.linalg.det(rotation) > 0  # the case is built so that no reflection is involved
        rotated = p_c @ rotation
        scale = np.sum(rotated * g_c) / np.sum(p_c**2)
        errors.append(np.linalg.norm(scale * rotated - g_c, axis=1).mean())
    return float(np.mean(errors))


def test_pa_mpjpe_matches_orthogonal_procrustes_on_a_noisy_case():
    gt = _poses(seed=2)
    rotations = Rotation.random(4, random_state=3).as_matrix()
    noise = np.random.default_rng(4).normal(0.0, 40.0, size=gt.shape)
    pred = 1.3 * np.einsum("nij,nkj->nki", rotations, gt + noise) + 50.0
    expected = _reference_similarity_error(pred, gt)
    assert expected > 10.0
    assert evaluation.pa_mpjpe(pred, gt) == pytest.approx(expected, rel=1e-9)


def _optimised_error(pred, gt):
    """Minimises the squared error over rotation vector, log-scale and translation numerically."""
    def residual(params):
        rotation = Rotation.from_rotvec(params[:3]).as_matrix()
        aligned = np.exp(params[3]) * pred @ rotation.T + params[4:]
        return (aligned - gt).ravel()

    best = None
    for start in Rotation.random(8, random_state=5).as_rotvec():
        fit = scipy.optimize.least_squares(residual, np.concatenate([start, [0.0], np.zeros(3)]))
        if best is None or fit.cost < best.cost:
            best = fit
    return np.linalg.norm(best.fun.reshape(-1, 3), axis=1).mean()


def test_pa_mpjpe_does_not_use_reflections():
    gt = _poses(num=1, joints=8, seed=6)
    mirrored = gt * np.array([-1.0, 1.0, 1.0])  # only a reflection would map it back exactly
    expected = _optimised_error(mirrored[0], gt[0])
    assert expected > 1.0
    assert evaluation.pa_mpjpe(mirrored, gt) == pytest.approx(expected, rel=1e-4)


def test_back_project_hand_numbers_and_round_trip():
    uvz = np.array([[[512.0 + 100.0, 500.0 - 50.0, 200.0], [512.0, 500.0, 0.0]]])
    camera = evaluation.back_project(uvz, root_depth=[4800.0], focal=[1000.0, 1000.0],
                                     principal_point=[512.0, 500.0])
    np.testing.assert_allclose(camera, [[[500.0, -250.0, 5000.0], [0.0, 0.0, 4800.0]]])

    points = _poses(num=3) + np.array([0.0, 0.0, 5000.0])
    focal = np.array([[1145.0, 1144.0], [1149.7, 1147.6], [1149.1, 1148.8]])
    center = np.array([[512.5, 515.5], [508.8, 508.1], [519.8, 501.4]])
    pixels = points[..., :2] / points[..., 2:] * focal[:, None] + center[:, None]
    root_depth = points[:, 0, 2]
    uvz = np.concatenate([pixels, (points[..., 2] - root_depth[:, None])[..., None]], axis=-1)
    np.testing.assert_allclose(evaluation.back_project(uvz, root_depth, focal, center), points, atol=1e-6)


def test_action_names_follow_the_dataset_ids():
    assert len(h36m.ACTION_NAMES) == 15 and sorted(h36m.ACTION_NAMES) == list(range(2, 17))
    assert h36m.ACTION_NAMES[2] == "Directions"
    assert h36m.ACTION_NAMES[10] == "SittingDown"
    assert h36m.ACTION_NAMES[12] == "Photo"
    assert h36m.ACTION_NAMES[16] == "WalkTogether"


def test_protocol_selection():
    subjects = np.array([9, 11, 11, 1, 9])
    frames = np.array([0, 64, 65, 128, 640])
    np.testing.assert_array_equal(evaluation.h36m_protocol_mask(subjects, frames, 1), [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(evaluation.h36m_protocol_mask(subjects, frames, 2), [1, 1, 0, 0, 1])
    with pytest.raises(ValueError, match="protocol"):
        evaluation.h36m_protocol_mask(subjects, frames, 3)


def test_protocol_2_per_action_table():
    gt = _poses(num=4)
    pred = gt.copy()
    pred[0, 1:, 0] += 10.0  # Directions: 16 of 17 joints off by 10 after root alignment
    pred[1, 1:, 1] += 30.0  # Directions
    pred[2, 3, 2] += 17.0  # WalkTogether: one joint off by 17
    actions = np.array([2, 2, 16, 16])
    result = evaluation.h36m_evaluate_protocol(pred, gt, actions, subjects=[9, 11, 9, 9],
                                               frames=[0, 64, 128, 1], protocol=2)
    directions = (16 * 10.0 / 17 + 16 * 30.0 / 17) / 2
    assert result["metric"] == "MPJPE"
    assert result["frames"] == 3  # the last frame is not a multiple of 64
    assert result["per_action"] == pytest.approx({"Directions": directions, "WalkTogether": 1.0})
    assert result["action_average"] == pytest.approx((directions + 1.0) / 2)
    assert result["mean"] == pytest.approx((16 * 10.0 + 16 * 30.0 + 17.0) / (3 * 17))


def test_protocol_1_uses_procrustes_on_s11():
    gt = _poses(num=2)
    pred = 2.0 * gt + 5.0  # exact similarity transform
    result = evaluation.h36m_evaluate_protocol(pred, gt, [3, 4], subjects=[11, 9], frames=[0, 0], protocol=1)
    assert result["metric"] == "PA-MPJPE"
    assert result["frames"] == 1
    assert result["mean"] == pytest.approx(0.0, abs=1e-8)
    assert list(result["per_action"]) == ["Discussion"]


def test_unknown_action_is_reported():
    with pytest.raises(ValueError, match="action ids \\[1\\]"):
        h36m.per_action_means([1.0], [1])


def test_per_frame_labels_must_match_the_predictions():
    gt = _poses(num=2)
    with pytest.raises(ValueError, match="subjects"):
        evaluation.h36m_evaluate_protocol(gt, gt, [2, 3], subjects=[9], frames=[0, 0], protocol=2)
