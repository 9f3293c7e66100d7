"""Tests for integral_keras.evaluation.baseline (the mean-pose baseline) against independent numpy references.

The fixtures are small synthetic data sets written by `write_dataset`; the references read the labels straight from
`SyntheticPoseGenerator.sample` (not through the decoder) and compute torso PCK, MPJPE and PA-MPJPE with their own
code.
"""
import os

import numpy as np
import pytest

from integral_keras.data import skeletons
from integral_keras.data.synthetic import SyntheticPoseGenerator, file_pattern, write_dataset
from integral_keras.evaluation import mean_pose_metrics

SIZE = 48
NUM_TRAIN, NUM_VAL = 7, 5


def _labels(skeleton, seed, split, count):
    generator = SyntheticPoseGenerator(skeleton, SIZE, seed=seed)
    samples = [generator.sample(index, split) for index in range(count)]
    return {key: np.stack([getattr(s, key) for s in samples]).astype(np.float64)
            for key in ("keypoints_2d", "visible", "center", "scale", "keypoints_3d")}


def _reference_pck(pred, gt, visible, skeleton):
    """Torso PCK: pooled over visible joints of samples whose four torso joints are visible; AUC by trapezoids."""
    index = skeletons.get_skeleton(skeleton).index
    pairs = [(index("l_shoulder"), index("r_hip")), (index("r_shoulder"), index("l_hip"))]
    keep = np.array([all(visible[n, a] and visible[n, b] for a, b in pairs) for n in range(len(gt))])
    torso = np.array([np.mean([np.hypot(*(gt[n, a] - gt[n, b])) for a, b in pairs]) for n in range(len(gt))])
    curve = []
    thresholds = [i / 100 for i in range(51)]
    for threshold in thresholds:
        hits = total = 0
        for n in np.flatnonzero(keep):
            for k in range(gt.shape[1]):
                if visible[n, k]:
                    total += 1
                    hits += np.hypot(*(pred[n, k] - gt[n, k])) / torso[n] <= threshold
        curve.append(100.0 * hits / total)
    auc = sum((curve[i] + curve[i + 1]) / 2 * 0.02 for i in range(50))  # x rescaled to [0, 1]: steps of 0.02
    return {"PCK@0.5": curve[50], "PCK@0.1": curve[10], "AUC": auc}


def _reference_pa_mpjpe(pred, gt):
    """Per frame: similarity (scale, rotation without reflection, translation) fit of pred to gt, Umeyama (1991)."""
    errors = []
    for p, g in zip(pred, gt):
        p_c, g_c = p - p.mean(0), g - g.mean(0)
        u, s, vt = np.linalg.svd(g_c.T @ p_c)  # covariance of gt with pred
        d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
        rotation = u @ d @ vt  # maps centred pred onto centred gt
        scale = np.trace(np.diag(s) @ d) / np.sum(p_c**2)
        aligned = scale * p_c @ rotation.T + g.mean(0)
        errors.append(np.linalg.norm(aligned - g, axis=1))
    return float(np.mean(errors))


@pytest.fixture(scope="module")
def h36m_data(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("baseline_h36m"))
    write_dataset(folder, NUM_TRAIN, NUM_VAL, image_size=SIZE, skeleton="h36m", seed=3, num_shards=2)
    return folder


@pytest.mark.parametrize("root_joint", [0, 8])
def test_mean_pose_metrics_match_numpy_reference(h36m_data, root_joint):
    metrics = mean_pose_metrics(file_pattern(h36m_data, "train"), [file_pattern(h36m_data, "val")], "h36m",
                                root_joint=root_joint)
    train, val = _labels("h36m", 3, "train", NUM_TRAIN), _labels("h36m", 3, "val", NUM_VAL)
    # 2D: per-joint mean of the box-normalised positions over the records where the joint is visible.
    mean_2d = np.zeros((17, 2))
    for k in range(17):
        rows = [(train["keypoints_2d"][n, k] - train["center"][n]) / train["scale"][n]
                for n in range(NUM_TRAIN) if train["visible"][n, k] > 0]
        mean_2d[k] = np.mean(rows, axis=0)
    pred_2d = val["center"][:, None] + mean_2d * val["scale"][:, None]
    expected = _reference_pck(pred_2d, val["keypoints_2d"], val["visible"] > 0, "h36m")
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-6), key
    assert metrics["num_examples"] == NUM_VAL
    # 3D: the training mean root-relative pose for every validation record.
    rel = train["keypoints_3d"] - train["keypoints_3d"][:, root_joint : root_joint + 1]
    mean_3d = rel.mean(axis=0)
    gt = val["keypoints_3d"]
    errors = [np.linalg.norm((mean_3d - mean_3d[root_joint]) - (g - g[root_joint]), axis=1) for g in gt]
    assert metrics["MPJPE"] == pytest.approx(np.mean(errors), rel=1e-5)
    assert metrics["PA-MPJPE"] == pytest.approx(_reference_pa_mpjpe(np.stack([mean_3d] * NUM_VAL), gt), rel=1e-5)
    assert metrics["PA-MPJPE"] < metrics["MPJPE"]


def test_2d_only_records_give_2d_keys_only(tmp_path):
    write_dataset(str(tmp_path), NUM_TRAIN, NUM_VAL, image_size=SIZE, skeleton="mpii", seed=5, num_shards=1,
                  with_3d=False)
    metrics = mean_pose_metrics(file_pattern(str(tmp_path), "train"), file_pattern(str(tmp_path), "val"), "mpii")
    assert sorted(metrics) == ["AUC", "PCK@0.1", "PCK@0.5", "num_examples"]
    train, val = _labels("mpii", 5, "train", NUM_TRAIN), _labels("mpii", 5, "val", NUM_VAL)
    visible = train["visible"][..., None] > 0
    normalised = (train["keypoints_2d"] - train["center"][:, None]) / train["scale"][:, None]
    mean_2d = (normalised * visible).sum(0) / np.maximum(visible.sum(0), 1)
    expected = _reference_pck(val["center"][:, None] + mean_2d * val["scale"][:, None], val["keypoints_2d"],
                              val["visible"] > 0, "mpii")
    assert metrics["PCK@0.5"] == pytest.approx(expected["PCK@0.5"], abs=1e-6)


def test_errors_name_the_pattern_and_the_joint_count(h36m_data, tmp_path):
    missing = os.path.join(str(tmp_path), "nothing-*.tfrecord")
    with pytest.raises(FileNotFoundError, match="nothing-"):
        mean_pose_metrics(missing, file_pattern(h36m_data, "val"), "h36m")
    with pytest.raises(ValueError, match="17 joints; the skeleton has 16"):
        mean_pose_metrics(file_pattern(h36m_data, "train"), file_pattern(h36m_data, "val"), "mpii")
    with pytest.raises(ValueError, match="root_joint"):
        mean_pose_metrics(file_pattern(h36m_data, "train"), file_pattern(h36m_data, "val"), "h36m", root_joint=17)


def test_mean_normalised_pose_pools_only_visible_joints():
    from integral_keras.evaluation.baseline import mean_normalised_pose

    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, 100, (9, 4, 2))
    visible = rng.uniform(size=(9, 4)) > 0.4
    visible[:, 3] = False  # never visible: placed at the box centre
    visible[0] = True
    center, scale = rng.uniform(40, 60, (9, 2)), rng.uniform(50, 90, (9, 2))
    scale[0] = 0.0  # a record without a crop size cannot be normalised and is left out
    expected = np.zeros((4, 2))
    for k in range(3):
        rows = [(keypoints[n, k] - center[n]) / scale[n] for n in range(1, 9) if visible[n, k]]
        expected[k] = np.mean(rows, axis=0)
    np.testing.assert_allclose(mean_normalised_pose(keypoints, visible.astype(float), center, scale), expected,
                               rtol=1e-12)
