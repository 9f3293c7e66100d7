"""Drawing predicted or ground-truth skeletons on images (OpenCV)."""
import colorsys
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

# RGB colours of the body sides (`side_colors`): the person's left, right, and the joints on the midline.
SIDE_COLORS = {"left": (40, 120, 255), "right": (255, 110, 20), "centre": (40, 200, 60)}
SIDES = ("left", "right", "centre")
_PREFIXES = {"left": ("l_", "left_", "left"), "right": ("r_", "right_", "right")}


def _palette(count):
    """`count` distinct, saturated RGB colours (uint8 triples)."""
    colours = []
    for i in range(max(count, 1)):
        r, g, b = colorsys.hsv_to_rgb(i / max(count, 1), 0.9, 1.0)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def joint_sides(skeleton) -> Tuple[str, ...]:
    """The body side of each joint, `"left"`, `"right"` or `"centre"`, from the joint names.

    A joint is left / right when its name starts with `l_` / `r_` (or `left` / `right`), as in every skeleton of
    `integral_keras.data.skeletons`. Every joint of a flip pair must get a side, and the two joints of a pair opposite
    sides, so a skeleton whose names do not say the side fails here instead of being drawn in misleading colours.

    Args:
      skeleton: a `integral_keras.data.skeletons.Skeleton`.

    Returns:
      `(K,)` tuple of side names.

    Raises:
      ValueError: a flip pair whose joints are not one left and one right by name.
    """
    sides = []
    for name in skeleton.joint_names:
        lowered = name.lower()
        side = next((key for key, prefixes in _PREFIXES.items() if lowered.startswith(prefixes)), "centre")
        sides.append(side)
    for a, b in skeleton.flip_pairs:
        if {sides[a], sides[b]} != {"left", "right"}:
            raise ValueError(f"Skeleton {skeleton.name!r}: flip pair ({skeleton.joint_names[a]!r}, "
                             f"{skeleton.joint_names[b]!r}) is not one left and one right joint by name.")
    return tuple(sides)


def bone_sides(skeleton) -> Tuple[str, ...]:
    """The side of each bone of `skeleton.bones`: the side of its lateral end (`"centre"` when both ends are).

    A bone from the midline to a limb (pelvis -> right hip, thorax -> left shoulder) belongs to that limb's side.
    """
    sides = joint_sides(skeleton)
    result = []
    for parent, child in skeleton.bones:
        lateral = {sides[parent], sides[child]} - {"centre"}
        result.append(lateral.pop() if len(lateral) == 1 else "centre")
    return tuple(result)


def side_colors(skeleton) -> List[Tuple[int, int, int]]:
    """RGB colour of each bone of `skeleton.bones` by body side (`SIDE_COLORS`), for `draw_skeleton(bone_colors=)`."""
    return [SIDE_COLORS[side] for side in bone_sides(skeleton)]


def draw_skeleton(image, joints, skeleton, visible=None, radius=None, thickness=None, joint_color=(255, 255, 255),
                  bone_colors: Optional[Sequence[Sequence[int]]] = None, outline: bool = False):
    """Draws joints and bones on a copy of `image`.

    Args:
      image: `(H, W, 3)` uint8 RGB image (not modified).
      joints: `(K, 2)` joint coordinates `(x, y)` in image pixels (pixel
        centres at integers); extra columns (e.g. depth) are ignored.
      skeleton: A `integral_keras.data.skeletons.Skeleton`, whose `bones`
        `(parent, child)` pairs are drawn in distinct colours.
      visible: Optional `(K,)` bool / float mask (or confidences thresholded at
        0 by the caller); joints with `False` / 0 and bones touching them are not
        drawn. Non-finite joints are never drawn.
      radius: Joint circle radius in pixels; default scales with the image size.
      thickness: Bone line thickness; default scales with the image size.
      joint_color: RGB colour of the joint dots.
      bone_colors: Optional RGB colour per bone of `skeleton.bones` (e.g. `side_colors(skeleton)`: left and right
        limbs apart); default: a distinct colour per bone.
      outline: draw each bone over a black line 2 px wider, so it stands out on any background.

    Returns:
      `(H, W, 3)` uint8 RGB image with the skeleton drawn (anti-aliased).
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"draw_skeleton expects an (H, W, 3) uint8 image; got {image.shape} {image.dtype}.")
    joints = np.asarray(joints, np.float64)
    if joints.ndim != 2 or joints.shape[0] != skeleton.num_joints or joints.shape[1] < 2:
        raise ValueError(f"joints must have shape ({skeleton.num_joints}, 2+) for skeleton {skeleton.name!r}; "
                         f"got {joints.shape}.")
    shown = np.all(np.isfinite(joints[:, :2]), axis=1)
    if visible is not None:
        visible = np.asarray(visible).reshape(-1)
        if visible.shape[0] != skeleton.num_joints:
            raise ValueError(f"visible must have shape ({skeleton.num_joints},); got {visible.shape}.")
        shown &= visible.astype(bool)
    size = max(image.shape[:2])
    radius = radius or max(2, size // 100)
    thickness = thickness or max(1, size // 150)
    canvas = np.ascontiguousarray(image.copy())
    if bone_colors is None:
        bone_colors = _palette(len(skeleton.bones))
    elif len(bone_colors) != len(skeleton.bones):
        raise ValueError(f"bone_colors must give one colour per bone ({len(skeleton.bones)}); "
                         f"got {len(bone_colors)}.")
    bone_colors = [tuple(int(c) for c in colour) for colour in bone_colors]
    points = np.round(np.where(shown[:, None], joints[:, :2], 0.0)).astype(np.int32)
    for (parent, child), colour in zip(skeleton.bones, bone_colors):
        if shown[parent] and shown[child]:
            if outline:
                cv2.line(canvas, tuple(map(int, points[parent])), tuple(map(int, points[child])), (0, 0, 0),
                         thickness + 2, cv2.LINE_AA)
            cv2.line(canvas, tuple(map(int, points[parent])), tuple(map(int, points[child])), colour, thickness,
                     cv2.LINE_AA)
    for k in np.flatnonzero(shown):
        cv2.circle(canvas, tuple(map(int, points[k])), radius, joint_color, -1, cv2.LINE_AA)
    return canvas
