"""Side colours, enlarged prediction / ground-truth panels with titles and a legend, checked on rendered pixels."""
import numpy as np
import pytest

from integral_keras.data.skeletons import SKELETONS
from integral_keras.data.skeletons import Skeleton
from integral_keras.data.skeletons import get_skeleton
from integral_keras.visualization import SIDE_COLORS
from integral_keras.visualization import bone_sides
from integral_keras.visualization import draw_skeleton
from integral_keras.visualization import joint_sides
from integral_keras.visualization import pose_comparison
from integral_keras.visualization import side_colors
from integral_keras.visualization import stack_images
from integral_keras.visualization.panels import LEGEND_HEIGHT
from integral_keras.visualization.panels import TITLE_HEIGHT
from integral_keras.visualization.panels import crop_transform

H36M = get_skeleton("h36m")


def _near(pixel, colour, tolerance=40):
    return bool(np.all(np.abs(np.asarray(pixel, int) - np.asarray(colour, int)) <= tolerance))


@pytest.mark.parametrize("name", sorted(SKELETONS))
def test_joint_sides_follow_the_joint_names_and_split_every_flip_pair(name):
    skeleton = get_skeleton(name)
    sides = joint_sides(skeleton)
    for joint, side in zip(skeleton.joint_names, sides):
        expected = {"l": "left", "r": "right"}.get(joint.split("_")[0], "centre") if "_" in joint else "centre"
        assert side == expected, joint
    for a, b in skeleton.flip_pairs:
        assert {sides[a], sides[b]} == {"left", "right"}


def test_bones_take_the_side_of_their_lateral_end():
    sides = dict(zip(H36M.bones, bone_sides(H36M)))
    names = H36M.joint_names
    assert sides[(names.index("pelvis"), names.index("r_hip"))] == "right"
    assert sides[(names.index("thorax"), names.index("l_shoulder"))] == "left"
    assert sides[(names.index("neck"), names.index("head"))] == "centre"
    assert side_colors(H36M)[H36M.bones.index((0, 1))] == SIDE_COLORS["right"]


def test_a_flip_pair_without_sides_in_its_names_is_refused():
    odd = Skeleton(name="odd", joint_names=("a", "b", "c"), flip_pairs=((0, 1),), bones=((0, 1), (1, 2)))
    with pytest.raises(ValueError, match="flip pair"):
        joint_sides(odd)


def test_draw_skeleton_uses_the_given_bone_colours_over_an_outline():
    image = np.full((100, 100, 3), 200, np.uint8)
    joints = np.full((H36M.num_joints, 2), 50.0)
    joints[0], joints[1] = [10.0, 50.0], [90.0, 50.0]  # bone pelvis -> r_hip along y = 50
    visible = np.zeros(H36M.num_joints, bool)
    visible[[0, 1]] = True
    drawn = draw_skeleton(image, joints, H36M, visible=visible, radius=1, thickness=3,
                          bone_colors=side_colors(H36M), outline=True)
    assert _near(drawn[50, 50], SIDE_COLORS["right"], 5)
    assert drawn[47, 50].max() < 60  # the black outline just outside the 3 px line
    with pytest.raises(ValueError, match="one colour per bone"):
        draw_skeleton(image, joints, H36M, bone_colors=[(1, 2, 3)])


def test_crop_transform_maps_the_box_centre_to_the_panel_centre_and_scales_lengths():
    matrix = crop_transform((40.0, 30.0), 20.0, 256)
    points = np.array([[40.0, 30.0, 1.0], [50.0, 30.0, 1.0]]) @ matrix.T
    np.testing.assert_allclose(points[0], [127.5, 127.5])
    np.testing.assert_allclose(points[1] - points[0], [128.0, 0.0])  # 10 px of a 20 px box = half of 256
    with pytest.raises(ValueError, match="positive"):
        crop_transform((0, 0), 0.0, 256)


def _comparison_inputs():
    """A 64x64 grey image; prediction and truth differ: left leg (l_hip -> l_knee) vs right arm horizontal."""
    image = np.full((64, 64, 3), 128, np.uint8)
    names = H36M.joint_names
    predicted = np.full((H36M.num_joints, 2), 32.0)
    truth = np.full((H36M.num_joints, 2), 32.0)
    predicted[names.index("l_hip")], predicted[names.index("l_knee")] = [16.0, 16.0], [16.0, 48.0]
    truth[names.index("r_shoulder")], truth[names.index("r_elbow")] = [8.0, 56.0], [56.0, 56.0]
    return image, predicted, truth


def test_pose_comparison_layout_titles_limb_colours_and_legend():
    image, predicted, truth = _comparison_inputs()
    figure = pose_comparison(image, predicted, truth, H36M, panel_size=256)
    assert figure.shape == (TITLE_HEIGHT + 256 + LEGEND_HEIGHT, 512, 3)
    # Whole 64 px image in a 256 px panel: x_panel = (x + 0.5) * 4 - 0.5.
    to_panel = lambda v: int(round((v + 0.5) * 4 - 0.5))  # noqa: E731
    top = TITLE_HEIGHT
    # Prediction panel (left): the left leg is vertical at x = 16, drawn in the left colour; no right arm there.
    assert _near(figure[top + to_panel(40), to_panel(16)], SIDE_COLORS["left"])
    assert _near(figure[top + to_panel(56), to_panel(32)], (128, 128, 128), 2)
    # Ground-truth panel (right): the right arm is horizontal at y = 56, in the right colour; no left leg there.
    assert _near(figure[top + to_panel(56), 256 + to_panel(32)], SIDE_COLORS["right"])
    assert _near(figure[top + to_panel(40), 256 + to_panel(16)], (128, 128, 128), 2)
    # Titles: white text on the dark bar above each panel; the legend strip shows the three side colours.
    for left in (0, 256):
        assert np.any(np.all(figure[:TITLE_HEIGHT, left:left + 256] > 200, axis=-1))
    legend = figure[-LEGEND_HEIGHT:]
    for colour in SIDE_COLORS.values():
        assert np.any(np.all(np.abs(legend.astype(int) - colour) <= 10, axis=-1)), colour


def test_pose_comparison_enlarges_the_person_box_and_hides_invisible_truth():
    image = np.full((64, 64, 3), 128, np.uint8)
    names = H36M.joint_names
    truth = np.full((H36M.num_joints, 2), 32.0)
    truth[names.index("r_shoulder")], truth[names.index("r_elbow")] = [30.0, 44.0], [50.0, 44.0]
    # A 32 px box centred on (40, 40) in a 256 px panel: 8x, x_panel = (x - 24) * 8 - 0.5. The arm runs from
    # x = 47.5 to 207.5 at y = 159.5 in the ground-truth panel (the right half).
    figure = pose_comparison(image, truth, truth, H36M, center=(40.0, 40.0), side=32.0, panel_size=256)
    row = TITLE_HEIGHT + 160
    for x in (60, 128, 195):
        assert _near(figure[row, 256 + x], SIDE_COLORS["right"]), x
    for x in (30, 225):
        assert _near(figure[row, 256 + x], (128, 128, 128), 2), x
    visible = np.ones(H36M.num_joints, bool)
    visible[names.index("r_elbow")] = False
    hidden = pose_comparison(image, truth, truth, H36M, visible=visible, center=(40.0, 40.0), side=32.0)
    assert _near(hidden[row, 256 + 128], (128, 128, 128), 2)  # the unlabelled elbow's bone is not drawn ...
    assert _near(hidden[row, 128], SIDE_COLORS["right"])  # ... in the truth panel only: the prediction keeps it


def test_pose_comparison_rejects_bad_input():
    image, predicted, truth = _comparison_inputs()
    with pytest.raises(ValueError, match="uint8"):
        pose_comparison(image.astype(np.float32), predicted, truth, H36M)
    with pytest.raises(ValueError, match=r"\(17, 2\+\)"):
        pose_comparison(image, predicted[:5], truth, H36M)


def test_stack_images_lays_out_a_grid():
    images = [np.full((10, 20, 3), value, np.uint8) for value in (50, 100, 150)]
    sheet = stack_images(images, columns=2, gap=4)
    assert sheet.shape == (24, 44, 3)
    assert sheet[0, 0, 0] == 50 and sheet[0, 24, 0] == 100 and sheet[14, 0, 0] == 150
    assert tuple(sheet[14, 24]) != (150, 150, 150)  # the empty cell stays background
    with pytest.raises(ValueError, match="at least one"):
        stack_images([])
