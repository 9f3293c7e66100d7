"""Figures a person can read: enlarged, titled prediction / ground-truth panels with a left / right legend.

`pose_comparison` crops the person's square box from an image, enlarges it to `panel_size` pixels, draws the
predicted and the ground-truth skeleton side by side (left limbs, right limbs and the midline in the colours of
`skeleton.SIDE_COLORS`), titles the panels and adds a legend strip below. `stack_images` lays several such figures
out in a grid (the demo's contact sheets). All images are RGB uint8.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from integral_keras.visualization.skeleton import SIDE_COLORS
from integral_keras.visualization.skeleton import SIDES
from integral_keras.visualization.skeleton import draw_skeleton
from integral_keras.visualization.skeleton import side_colors

TITLE_HEIGHT = 30
LEGEND_HEIGHT = 30
BACKGROUND = (32, 32, 32)
TEXT_COLOR = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def crop_transform(center: Sequence[float], side: float, size: int) -> np.ndarray:
    """`(2, 3)` affine matrix taking image pixels to a `size` x `size` panel of the square box `center`, `side`.

    Pixel centres are at integers in both images, so the box centre lands on the panel centre
    `(size - 1) / 2` and a length `L` becomes `L * size / side`:
    `x_panel = (x - center_x + side / 2) * size / side - 0.5`.

    Args:
      center: `(cx, cy)` box centre, image pixels.
      side: box side, image pixels (> 0).
      size: panel side, pixels.
    """
    if not side > 0:
        raise ValueError(f"Box side must be positive; got {side}.")
    scale = size / float(side)
    cx, cy = (float(v) for v in center)
    return np.array([[scale, 0.0, (side / 2 - cx) * scale - 0.5],
                     [0.0, scale, (side / 2 - cy) * scale - 0.5]], np.float64)


def crop_panel(image: np.ndarray, center: Sequence[float], side: float, size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Crops the square box (`center`, `side`) of `image` and resizes it to `size` x `size` (black outside).

    Args:
      image: `(H, W, 3)` uint8 RGB.
      center, side: the box in image pixels.
      size: output side, pixels.

    Returns:
      `(panel (size, size, 3) uint8, matrix (2, 3))`; map joints with `apply_transform(joints, matrix)`.
    """
    matrix = crop_transform(center, side, size)
    panel = cv2.warpAffine(np.ascontiguousarray(image), matrix, (size, size), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return panel, matrix


def apply_transform(joints: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """`(K, 2)` float64 joints `(x, y)` mapped by a `(2, 3)` affine matrix (extra columns dropped)."""
    joints = np.asarray(joints, np.float64)[:, :2]
    return joints @ np.asarray(matrix)[:, :2].T + np.asarray(matrix)[:, 2]


def _text(canvas, text, origin, scale=0.6, color=TEXT_COLOR, thickness=1):
    cv2.putText(canvas, text, (int(origin[0]), int(origin[1])), _FONT, scale, color, thickness, cv2.LINE_AA)


def title_bar(width: int, title: str, height: int = TITLE_HEIGHT) -> np.ndarray:
    """`(height, width, 3)` dark strip with `title` centred in white."""
    bar = np.full((height, width, 3), BACKGROUND, np.uint8)
    (text_w, text_h), _ = cv2.getTextSize(title, _FONT, 0.6, 1)
    _text(bar, title, ((width - text_w) // 2, (height + text_h) // 2))
    return bar


def side_legend(width: int, height: int = LEGEND_HEIGHT) -> np.ndarray:
    """`(height, width, 3)` dark strip with a line sample and the name of each body side (`SIDE_COLORS`)."""
    bar = np.full((height, width, 3), BACKGROUND, np.uint8)
    slot = width // len(SIDES)
    middle = height // 2
    for index, side in enumerate(SIDES):
        left = index * slot + 10
        cv2.line(bar, (left, middle), (left + 28, middle), SIDE_COLORS[side], 4, cv2.LINE_AA)
        _text(bar, f"{side} limbs" if side != "centre" else "midline", (left + 36, middle + 6), scale=0.5)
    return bar


def pose_comparison(image: np.ndarray, predicted: np.ndarray, truth: np.ndarray, skeleton,
                    visible: Optional[np.ndarray] = None, center: Optional[Sequence[float]] = None,
                    side: Optional[float] = None, panel_size: int = 256,
                    titles: Sequence[str] = ("prediction", "ground truth")) -> np.ndarray:
    """Prediction and ground truth drawn side by side on the enlarged person crop, titled, with a side legend.

    Layout (pixels): a title bar of `TITLE_HEIGHT` over two `panel_size` x `panel_size` panels (prediction left,
    ground truth right), then a legend strip of `LEGEND_HEIGHT`: `(TITLE_HEIGHT + panel_size + LEGEND_HEIGHT,
    2 * panel_size, 3)` uint8 RGB in all.

    Args:
      image: `(H, W, 3)` uint8 RGB image.
      predicted: `(K, 2+)` predicted joints, image pixels (extra columns ignored).
      truth: `(K, 2+)` ground-truth joints, image pixels.
      skeleton: a `Skeleton` (bones; joint names give the side colours, see `joint_sides`).
      visible: optional `(K,)` visibility of the ground truth (unlabelled joints are not drawn there).
      center, side: the square box to show, image pixels; default: the whole image (its longer side).
      panel_size: side of each panel, pixels.
      titles: the two panel titles.

    Returns:
      the figure, uint8 RGB.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"pose_comparison expects an (H, W, 3) uint8 image; got {image.shape} {image.dtype}.")
    if panel_size < 32:
        raise ValueError(f"panel_size must be >= 32 pixels; got {panel_size}.")
    if len(titles) != 2:
        raise ValueError(f"titles must name the two panels; got {titles!r}.")
    height, width = image.shape[:2]
    if center is None:
        center = ((width - 1) / 2.0, (height - 1) / 2.0)
    if side is None:
        side = float(max(height, width))
    crop, matrix = crop_panel(image, center, side, panel_size)
    colours = side_colors(skeleton)
    thickness, radius = max(2, panel_size // 100), max(3, panel_size // 70)
    panels = []
    for joints, mask, title in ((predicted, None, titles[0]), (truth, visible, titles[1])):
        joints = np.asarray(joints, np.float64)
        if joints.ndim != 2 or joints.shape[0] != skeleton.num_joints or joints.shape[1] < 2:
            raise ValueError(f"joints must have shape ({skeleton.num_joints}, 2+) for skeleton {skeleton.name!r}; "
                             f"got {joints.shape}.")
        drawn = draw_skeleton(crop, apply_transform(joints, matrix), skeleton, visible=mask, radius=radius,
                              thickness=thickness, bone_colors=colours, outline=True)
        panels.append(np.concatenate([title_bar(panel_size, title), drawn], axis=0))
    body = np.concatenate(panels, axis=1)
    return np.concatenate([body, side_legend(body.shape[1])], axis=0)


def stack_images(images: Sequence[np.ndarray], columns: int = 1, gap: int = 4) -> np.ndarray:
    """Lays images out in a grid of `columns`, row by row, on the dark background (cells padded to the largest).

    Args:
      images: `(H_i, W_i, 3)` uint8 RGB images.
      columns: images per row.
      gap: pixels between cells.

    Returns:
      `(rows * (H + gap) - gap, columns * (W + gap) - gap, 3)` uint8 with `H`, `W` the largest sizes.
    """
    if not images:
        raise ValueError("stack_images needs at least one image.")
    if columns < 1:
        raise ValueError(f"columns must be >= 1; got {columns}.")
    cell_h = max(image.shape[0] for image in images)
    cell_w = max(image.shape[1] for image in images)
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    sheet = np.full((rows * (cell_h + gap) - gap, columns * (cell_w + gap) - gap, 3), BACKGROUND, np.uint8)
    for index, image in enumerate(images):
        top, left = (index // columns) * (cell_h + gap), (index % columns) * (cell_w + gap)
        sheet[top:top + image.shape[0], left:left + image.shape[1]] = image
    return sheet
