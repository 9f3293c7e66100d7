"""The one crop-mapping step of the decode path: crop pixels -> original-image pixels (numpy).

Decoding goes model outputs -> joints in heat-map units (`PoseCodec.joints_from_outputs`) -> crop pixels and mm
(`PoseCodec.decode`) -> original-image pixels (here). The matrices come from `ops.affine.crop_transform`, which owns
the crop geometry: its `(3, 3)` matrix `M` maps original-image pixels to crop pixels, so the mapping applies `M^-1`
(`crop_to_image`) or the parser's own crop-to-image matrix (`apply_affine` with the eval metadata's
`crop_to_image`). The evaluator, the benchmark protocols and the MPII submission map through here; the serving
graph (`serve_image_bytes`, so `PosePredictor`, the demo's overlays and `scripts/predict.py`) maps through the
TensorFlow form of the same inverse (`ops.affine.invert_affine`, `ops.affine.transform_points`).
"""
import numpy as np


def apply_affine(points, matrices):
    """Applies per-sample affine matrices to points.

    Args:
      points: `(N, K, 2)` points `(x, y)`.
      matrices: `(N, 2, 3)` or `(N, 3, 3)` affine matrices (only the top two rows are used).

    Returns:
      `(N, K, 2)` float64 transformed points.
    """
    points = np.asarray(points, np.float64)
    matrices = np.asarray(matrices, np.float64)
    if points.ndim != 3 or points.shape[-1] != 2:
        raise ValueError(f"points must be (N, K, 2); got {points.shape}")
    if matrices.ndim != 3 or matrices.shape[1:] not in ((2, 3), (3, 3)) or matrices.shape[0] != points.shape[0]:
        raise ValueError(f"matrices must be (N, 2, 3) or (N, 3, 3) with N = {points.shape[0]}; got {matrices.shape}")
    return np.einsum("nij,nkj->nki", matrices[:, :2, :2], points) + matrices[:, None, :2, 2]


def crop_to_image(points, image_to_crop):
    """Maps crop-pixel predictions back to the original image through the inverse of the crop matrices.

    Args:
      points: `(N, K, 2)` or `(N, K, 3)` predictions in crop pixels; a third coordinate (depth) passes through.
      image_to_crop: `(N, 3, 3)` or `(N, 2, 3)` matrices mapping image pixels to crop pixels
        (`ops.affine.crop_transform`).

    Returns:
      array shaped like `points`, float64, with `x, y` in original-image pixels.
    """
    points = np.asarray(points, np.float64)
    matrices = np.asarray(image_to_crop, np.float64)
    if matrices.ndim != 3 or matrices.shape[1:] not in ((2, 3), (3, 3)):
        raise ValueError(f"image_to_crop must be (N, 2, 3) or (N, 3, 3); got {matrices.shape}")
    full = np.zeros((matrices.shape[0], 3, 3))
    full[:, :2] = matrices[:, :2]
    full[:, 2, 2] = 1.0
    mapped = apply_affine(points[..., :2], np.linalg.inv(full))
    return np.concatenate([mapped, points[..., 2:]], axis=-1)
