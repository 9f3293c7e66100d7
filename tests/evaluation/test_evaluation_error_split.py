"""`split_3d_error`: a 3D prediction scored with its 2D or its depth replaced by the truth, against numpy."""
import numpy as np

from integral_keras.evaluation.error_split import split_3d_error

FOCAL, CENTRE, ROOT_DEPTH = 500.0, 48.0, 4000.0


def _scene(seed=0, num=6, joints=5):
    """Random root-relative poses (mm) and their exact projections (px) for one camera."""
    rng = np.random.default_rng(seed)
    pose = rng.normal(0, 300, (num, joints, 3))
    pose -= pose[:, :1]
    camera_z = pose[..., 2] + ROOT_DEPTH
    uv = FOCAL * pose[..., :2] / camera_z[..., None] + CENTRE
    return pose, uv


def _numpy_mpjpe(uv, z, pose):
    """Back-projection with the true root depth, then the mean joint distance after aligning the roots."""
    camera_z = z + ROOT_DEPTH
    points = np.concatenate([(uv - CENTRE) * camera_z[..., None] / FOCAL, camera_z[..., None]], axis=-1)
    truth = np.concatenate([pose[..., :2], pose[..., 2:] + ROOT_DEPTH], axis=-1)
    points, truth = points - points[:, :1], truth - truth[:, :1]
    return float(np.mean(np.linalg.norm(points - truth, axis=-1)))


def _split(uv, z, pose, gt_uv):
    num = len(pose)
    return split_3d_error(uv, z, gt_uv, pose, np.full(num, ROOT_DEPTH), np.full((num, 2), FOCAL),
                          np.full((num, 2), CENTRE))


def test_each_half_replaced_by_the_truth_matches_numpy():
    pose, uv = _scene()
    rng = np.random.default_rng(1)
    pred_uv = uv + rng.normal(0, 2.0, uv.shape)
    pred_z = pose[..., 2] + rng.normal(0, 100.0, pose[..., 2].shape)
    pred_z[:, 0] = 0.0
    split = _split(pred_uv, pred_z, pose, uv)
    np.testing.assert_allclose(split["MPJPE (true 2D)"], _numpy_mpjpe(uv, pred_z, pose), rtol=1e-9)
    np.testing.assert_allclose(split["MPJPE (true depth)"], _numpy_mpjpe(pred_uv, pose[..., 2], pose), rtol=1e-9)
    np.testing.assert_allclose(split["MPJPE (depth 0)"], _numpy_mpjpe(pred_uv, 0 * pred_z, pose), rtol=1e-9)
    np.testing.assert_allclose(split["2D error px mean"], np.mean(np.linalg.norm(pred_uv - uv, axis=-1)))
    np.testing.assert_allclose(split["2D error px median"], np.median(np.linalg.norm(pred_uv - uv, axis=-1)))
    np.testing.assert_allclose(split["depth abs error mm"], np.mean(np.abs(pred_z - pose[..., 2])[:, 1:]))
    np.testing.assert_allclose(split["depth abs error mm (0)"], np.mean(np.abs(pose[..., 2])[:, 1:]))
    for k in range(5):  # the per-joint lists, joint by joint
        np.testing.assert_allclose(split["2D error px per joint"][k], np.mean(np.hypot(*(pred_uv - uv)[:, k].T)))
        depth_error = np.mean(np.abs(pred_z - pose[..., 2])[:, k])
        np.testing.assert_allclose(split["depth abs error mm per joint"][k], depth_error)
        np.testing.assert_allclose(split["depth abs error mm per joint (0)"][k], np.mean(np.abs(pose[:, k, 2])))
    assert split["depth abs error mm per joint"][0] == 0.0  # the root is at depth 0 in both
    expected_r = np.mean([np.corrcoef(pred_z[:, k], pose[:, k, 2])[0, 1] for k in range(1, 5)])
    np.testing.assert_allclose(split["depth correlation"], expected_r, rtol=1e-9)


def test_a_perfect_prediction_has_no_error_in_either_half():
    pose, uv = _scene(seed=3)
    split = _split(uv, pose[..., 2], pose, uv)
    for key in ("MPJPE (true 2D)", "PA-MPJPE (true 2D)", "MPJPE (true depth)", "PA-MPJPE (true depth)",
                "2D error px mean", "depth abs error mm"):
        assert abs(split[key]) < 1e-6, key
    np.testing.assert_allclose(split["depth correlation"], 1.0)
    assert split["MPJPE (depth 0)"] > 50.0  # flattening the poses costs their depth
