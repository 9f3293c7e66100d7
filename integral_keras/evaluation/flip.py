"""Flip test: average the predictions for an image and for its horizontal mirror image.

With 0-based coordinates and pixel `i`'s centre at `i`, mirroring an image of width `W` maps `x` to
`W - 1 - x`. The same formula holds in heat-map cell units with the heat-map width, because
`x_px = (x_hm + 0.5) * stride - 0.5` maps `W_hm - 1 - x_hm` to `W - 1 - x_px`. Left and right joints swap
under a mirror, so the mirrored prediction is also re-indexed with the skeleton's flip permutation
(`Skeleton.flip_permutation()`). Depth and every coordinate after `x` are left unchanged.

Pure numpy on the outputs; `predict_fn` is any callable from an image batch to an array.
"""
from typing import Callable

import numpy as np


def flip_images(images):
    """Mirrors `(N, H, W, C)` images horizontally."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C); got {images.shape}")
    return images[:, :, ::-1]


def unflip_joints(joints, width, flip_permutation):
    """Maps joints predicted on mirrored images back to the original images.

    Args:
      joints: `(N, K, C)` joints, `C >= 2`, `x` first, in units where the image is `width` wide.
      width: image (or heat-map) width in the same units.
      flip_permutation: `(K,)` permutation swapping left and right joints.

    Returns:
      `(N, K, C)` float64 joints: `x -> width - 1 - x`, left/right swapped.
    """
    joints = np.array(joints, np.float64)
    joints[..., 0] = width - 1 - joints[..., 0]
    return joints[:, np.asarray(flip_permutation)]


def flip_test(predict_fn: Callable, images, flip_permutation, width=None):
    """Averages joint predictions of the images and of their mirror images.

    Args:
      predict_fn: callable, `(N, H, W, C)` images -> `(N, K, D)` joints with `x` first.
      images: `(N, H, W, C)` batch.
      flip_permutation: `(K,)` permutation swapping left and right joints.
      width: width of the predictions' frame in their units; defaults to the image width (pixel outputs).
        Pass the heat-map width for outputs in heat-map cells.

    Returns:
      `(N, K, D)` float64 averaged joints.
    """
    images = np.asarray(images)
    width = images.shape[2] if width is None else width
    direct = np.asarray(predict_fn(images), np.float64)
    mirrored = unflip_joints(np.asarray(predict_fn(flip_images(images))), width, flip_permutation)
    return (direct + mirrored) / 2.0


def unflip_heatmaps(heatmaps, flip_permutation, depth: int = 1, shift: int = 0):
    """Maps heat maps predicted on mirrored images back to the original images.

    Args:
      heatmaps: `(N, H, W, K*D)` maps, channel `k*D + d` (joint-major).
      flip_permutation: `(K,)` permutation swapping left and right joints.
      depth: D, depth bins per joint.
      shift: cells to move the mirrored maps to the right afterwards (0 in the package's convention; 1
        reproduces code whose mirror is `x -> W - x`). The vacated columns copy the edge.

    Returns:
      `(N, H, W, K*D)` maps.
    """
    heatmaps = np.asarray(heatmaps)
    if heatmaps.ndim != 4 or heatmaps.shape[-1] % depth:
        raise ValueError(f"heatmaps must be (N, H, W, K*{depth}); got {heatmaps.shape}")
    num, height, width, channels = heatmaps.shape
    per_joint = heatmaps[:, :, ::-1].reshape(num, height, width, channels // depth, depth)
    flipped = per_joint[:, :, :, np.asarray(flip_permutation)].reshape(heatmaps.shape)
    if shift:
        flipped = np.concatenate([np.repeat(flipped[:, :, :1], shift, axis=2), flipped[:, :, :-shift]], axis=2)
    return flipped


def flip_test_heatmaps(predict_fn: Callable, images, flip_permutation, depth: int = 1, shift: int = 0):
    """Averages heat maps of the images and of their mirror images (mirrored back, channels swapped).

    Args:
      predict_fn: callable, `(N, H, W, C)` images -> `(N, Hh, Wh, K*D)` heat maps (logits or probabilities).
      images: `(N, H, W, C)` batch.
      flip_permutation: `(K,)` permutation swapping left and right joints.
      depth: D, depth bins per joint.
      shift: see `unflip_heatmaps`.

    Returns:
      `(N, Hh, Wh, K*D)` float64 averaged maps; decode them with the model's decoder.
    """
    images = np.asarray(images)
    direct = np.asarray(predict_fn(images), np.float64)
    mirrored = unflip_heatmaps(np.asarray(predict_fn(flip_images(images)), np.float64), flip_permutation,
                               depth, shift)
    return (direct + mirrored) / 2.0
