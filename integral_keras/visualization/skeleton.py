"""Drawing predicted or ground-truth skeletons on images (OpenCV)."""
import colorsys

import cv2
import numpy as np


def _palette(count):
    """`count` distinct, saturated RGB colours (uint8 triples)."""
    colours = []
    for i in range(max(count, 1)):
        r, g, b = colorsys.hsv_to_rgb(i / max(count, 1), 0.9, 1.0)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def draw_skeleton(image, joints, skeleton, visible=None, radius=None, thickness=None, joint_color=(255, 255, 255)):
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
    points = np.round(np.where(shown[:, None], joints[:, :2], 0.0)).astype(np.int32)
    for (parent, child), colour in zip(skeleton.bones, _palette(len(skeleton.bones))):
        if shown[parent] and shown[child]:
            cv2.line(canvas, tuple(map(int, points[parent])), tuple(map(int, points[child])), colour, thickness,
                     cv2.LINE_AA)
    for k in np.flatnonzero(shown):
        cv2.circle(canvas, tuple(map(int, points[k])), radius, joint_color, -1, cv2.LINE_AA)
    return canvas
