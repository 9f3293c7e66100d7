"""Skeleton drawing and heat-map overlays, checked on rendered pixels."""
import numpy as np
import pytest

from integral_keras.data.skeletons import get_skeleton
from integral_keras.visualization import draw_skeleton
from integral_keras.visualization import heatmap_overlay

MPII = get_skeleton("mpii")


def _mpii_joints():
    """A spread-out MPII pose in a 200x200 image."""
    rng = np.random.default_rng(0)
    return rng.uniform(20, 180, size=(MPII.num_joints, 2))


def test_draws_joints_and_bones_without_touching_the_input():
    image = np.zeros((200, 200, 3), np.uint8)
    joints = _mpii_joints()
    drawn = draw_skeleton(image, joints, MPII, radius=3, thickness=2)
    assert image.max() == 0  # input untouched
    for x, y in np.round(joints).astype(int):
        np.testing.assert_array_equal(drawn[y, x], [255, 255, 255])  # joint dot at each joint
    parent, child = MPII.bones[0]
    midpoint = np.round((joints[parent] + joints[child]) / 2).astype(int)
    assert drawn[midpoint[1], midpoint[0]].max() > 100  # the bone passes through its midpoint


def test_invisible_joints_and_their_bones_are_skipped():
    image = np.zeros((200, 200, 3), np.uint8)
    joints = np.full((MPII.num_joints, 2), 20.0)
    joints[8] = [40.0, 40.0]  # upper_neck
    joints[9] = [150.0, 150.0]  # head_top: a leaf, only bone (8, 9) touches it
    visible = np.ones(MPII.num_joints, bool)
    visible[9] = False
    shown = draw_skeleton(image, joints, MPII, radius=3, thickness=2)
    hidden = draw_skeleton(image, joints, MPII, visible=visible, radius=3, thickness=2)
    for x, y in [(150, 150), (95, 95)]:  # head_top's dot and the middle of its bone
        assert shown[y, x].max() > 100 and hidden[y, x].max() == 0
    np.testing.assert_array_equal(hidden[40, 40], [255, 255, 255])  # upper_neck is still drawn


def test_non_finite_joints_are_not_drawn():
    joints = np.full((MPII.num_joints, 2), np.nan)
    drawn = draw_skeleton(np.zeros((50, 50, 3), np.uint8), joints, MPII)
    assert drawn.max() == 0


@pytest.mark.parametrize("image,joints,visible,message", [
    (np.zeros((10, 10), np.uint8), np.zeros((16, 2)), None, "uint8 image"),
    (np.zeros((10, 10, 3), np.uint8), np.zeros((17, 2)), None, r"\(16, 2\+\)"),
    (np.zeros((10, 10, 3), np.uint8), np.zeros((16, 2)), np.ones(3), r"visible must have shape \(16,\)"),
])
def test_bad_input(image, joints, visible, message):
    with pytest.raises(ValueError, match=message):
        draw_skeleton(image, joints, MPII, visible=visible)


def test_heatmap_overlay_places_the_peak_with_the_stride_convention():
    heatmap = np.zeros((16, 16), np.float32)
    heatmap[5, 11] = 1.0  # cell (x=11, y=5) -> pixel ((11 + 0.5) * 4 - 0.5, (5 + 0.5) * 4 - 0.5) = (45.5, 21.5)
    image = np.zeros((64, 64, 3), np.uint8)
    overlay = heatmap_overlay(image, heatmap, alpha=1.0)
    # JET maps 1.0 to dark red and 0.0 to dark blue: the red channel peaks around the mapped cell.
    red = overlay[..., 0].astype(float)
    ys, xs = np.nonzero(red == red.max())
    np.testing.assert_allclose([xs.mean(), ys.mean()], [45.5, 21.5], atol=0.01)
    assert overlay[0, 0, 2] > overlay[0, 0, 0]  # far from the peak: blue


def test_heatmap_overlay_blends_with_alpha():
    image = np.full((8, 8, 3), 200, np.uint8)
    flat = heatmap_overlay(image, np.ones((4, 4)), alpha=0.0)
    np.testing.assert_array_equal(flat, image)
    half = heatmap_overlay(image, np.ones((4, 4)), alpha=0.5)
    np.testing.assert_allclose(half.astype(float), (image.astype(float) + np.array([0, 0, 128.0])) / 2, atol=1.0)
    with pytest.raises(ValueError, match="2-D"):
        heatmap_overlay(image, np.ones((4, 4, 2)))
