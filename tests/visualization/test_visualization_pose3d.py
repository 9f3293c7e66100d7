"""Front and side views of 3D poses: depth shows in the side view only, truth and prediction both drawn."""
import numpy as np
import pytest

from integral_keras.data.skeletons import get_skeleton
from integral_keras.visualization import SIDE_COLORS
from integral_keras.visualization import pose_views_3d
from integral_keras.visualization.pose3d import TRUTH_COLOR

H36M = get_skeleton("h36m")
SIZE = (600, 320)


def _mask(image, colour, tolerance=30):
    return np.all(np.abs(image.astype(int) - np.asarray(colour, int)) <= tolerance, axis=-1)


def _depth_only_pose():
    """Every joint on the camera's optical axis through the root: x = y = 0, spread only in depth."""
    pose = np.zeros((H36M.num_joints, 3))
    pose[:, 2] = np.linspace(-800.0, 800.0, H36M.num_joints)
    return pose


def _coloured(image):
    """Prediction pixels (any side colour) above the legend, split into the front (left) and side (right) views."""
    coloured = np.zeros(image.shape[:2], bool)
    for side in ("left", "right", "centre"):
        coloured |= _mask(image, SIDE_COLORS[side])
    coloured = coloured[: int(SIZE[1] * 0.8)]  # the legend's line samples sit below the axes
    return coloured[:, : SIZE[0] // 2], coloured[:, SIZE[0] // 2:]


def _width(mask):
    columns = np.flatnonzero(mask.any(axis=0))
    return int(columns.max() - columns.min())


def test_depth_shows_in_the_side_view_and_x_in_the_front_view_on_one_scale():
    along_z = _depth_only_pose()
    along_x = along_z[:, [2, 0, 1]]  # the same spread along x instead of z
    image = pose_views_3d(along_z, along_z, H36M, size=SIZE)
    assert image.shape == (SIZE[1], SIZE[0], 3) and image.dtype == np.uint8
    front_z, side_z = _coloured(image)
    front_x, side_x = _coloured(pose_views_3d(along_x, along_x, H36M, size=SIZE))
    # Seen end-on a pose is a dot; seen from the side it is a line.
    assert side_z.sum() > 10 * max(front_z.sum(), 1)
    assert front_x.sum() > 10 * max(side_x.sum(), 1)
    # Both views share one millimetre scale: 1600 mm of depth is as wide in the side view as 1600 mm of x in front.
    assert abs(_width(side_z) - _width(front_x)) <= 3 and _width(front_x) > 50


def test_truth_is_drawn_in_grey_and_poses_are_moved_to_their_root():
    truth = _depth_only_pose()[:, [2, 0, 1]]
    shifted = truth + np.array([5000.0, -3000.0, 2000.0])  # same pose elsewhere in camera space
    plain = pose_views_3d(truth, truth, H36M, size=SIZE)
    moved = pose_views_3d(shifted, truth + 100.0, H36M, size=SIZE)
    np.testing.assert_array_equal(plain, moved)  # root-relative: the translations do not matter
    grey = tuple(int(c * 255) for c in TRUTH_COLOR)
    other = truth.copy()
    other[:, 1] += np.linspace(0.0, 600.0, H36M.num_joints)  # prediction drawn apart from the truth
    image = pose_views_3d(other, truth, H36M, size=SIZE)
    assert _mask(image[: int(SIZE[1] * 0.8)], grey, 12).sum() > 50


def test_bad_poses_are_refused():
    pose = _depth_only_pose()
    with pytest.raises(ValueError, match=r"predicted_mm must have shape \(17, 3\)"):
        pose_views_3d(pose[:, :2], pose, H36M)
    bad = pose.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        pose_views_3d(pose, bad, H36M)
    with pytest.raises(ValueError, match="root_joint"):
        pose_views_3d(pose, pose, H36M, root_joint=17)
