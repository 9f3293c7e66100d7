"""A grid of synthetic samples with their labels drawn on, to check the data by eye."""
from typing import Sequence

import cv2
import numpy as np

from integral_keras.core import skeletons
from integral_keras.visualization.skeleton import draw_skeleton

LEFT_COLOUR = (255, 60, 60)     # red: the person's left joints
RIGHT_COLOUR = (60, 140, 255)   # blue: the right joints
CENTRE_COLOUR = (255, 255, 255)


def draw_labels(sample) -> np.ndarray:
    """The sample's image with bones, joints (left red, right blue, centre white) and MPII head box drawn.

    Args:
      sample: a `SyntheticSample` (or anything with `image`, `keypoints_2d`, `visible`, `headbox`, `skeleton`).

    Returns:
      uint8 RGB `(S, S, 3)`.
    """
    skeleton = skeletons.get_skeleton(sample.skeleton)
    size = sample.image.shape[0]
    canvas = draw_skeleton(sample.image, sample.keypoints_2d, skeleton, sample.visible, radius=1,
                           thickness=max(1, size // 200))
    colours = [LEFT_COLOUR if name.startswith("l_") else RIGHT_COLOUR if name.startswith("r_") else CENTRE_COLOUR
               for name in skeleton.joint_names]
    radius = max(2, size // 80)
    for point, visible, colour in zip(sample.keypoints_2d, sample.visible, colours):
        if not visible:
            continue
        centre = tuple(int(v) for v in np.round(point * 16))
        cv2.circle(canvas, centre, radius * 16, colour, -1, cv2.LINE_AA, 4)
    if np.any(sample.headbox):
        x1, y1, x2, y2 = (int(round(v)) for v in sample.headbox)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (255, 255, 0), 1, cv2.LINE_AA)
    return canvas


def contact_sheet(samples: Sequence, columns: int = 4, labels: bool = True) -> np.ndarray:
    """Tiles samples (labelled with `draw_labels` when `labels`) into a grid, uint8 RGB, 2-pixel gaps."""
    tiles = [draw_labels(sample) if labels else sample.image for sample in samples]
    size = tiles[0].shape[0]
    rows = -(-len(tiles) // columns)
    gap = 2
    sheet = np.full((rows * (size + gap) - gap, columns * (size + gap) - gap, 3), 255, np.uint8)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        sheet[row * (size + gap):row * (size + gap) + size, column * (size + gap):column * (size + gap) + size] = tile
    return sheet


def save_image(path: str, image: np.ndarray, jpeg_quality: int = 80) -> None:
    """Writes an RGB image; JPEG (by extension) with `jpeg_quality`."""
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if path.lower().endswith((".jpg", ".jpeg")) else []
    if not cv2.imwrite(path, np.ascontiguousarray(image[..., ::-1]), params):
        raise OSError(f"Could not write image {path!r}.")
