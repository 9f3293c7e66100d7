"""Where a 3D model's error comes from: its 2D joints or its depth.

MPJPE after back-projection (`h36m.back_project`, the true root depth and camera) mixes two predictions: the 2D
joints `(u, v)`, whose pixel errors grow into millimetres with the depth (about 20-35 mm per pixel for a person
that fills a 96 px image), and the root-relative depth `z`. `split_3d_error` scores the prediction again with one of
the two replaced by the truth, which tells which half to improve:

| key | 2D | depth |
|---|---|---|
| `MPJPE (true 2D)`, `PA-MPJPE (true 2D)` | true | predicted |
| `MPJPE (true depth)`, `PA-MPJPE (true depth)` | predicted | true |
| `MPJPE (depth 0)`, `PA-MPJPE (depth 0)` | predicted | 0 mm for every joint (a 2D-only guess) |

plus the 2D error in image pixels (`2D error px mean`, `... median`) and how well the depth follows the truth
(`depth correlation`: Pearson's r per non-root joint, averaged; `depth abs error mm`, and `depth abs error mm (0)`
of predicting 0 mm). Three lists in the skeleton's joint order say which joints carry the error: `2D error px per
joint`, `depth abs error mm per joint` and `depth abs error mm per joint (0)` (the root's depth error is 0).
"""
from typing import Dict

import numpy as np

from integral_keras.evaluation import h36m as h36m_eval


def _scores(uv, z, root_depth, focal, principal_point, gt, root_joint, suffix) -> Dict[str, float]:
    uvz = np.concatenate([uv, z[..., None]], axis=-1)
    pose = h36m_eval.back_project(uvz, root_depth, focal, principal_point)
    return {f"MPJPE{suffix}": h36m_eval.mpjpe(pose, gt, root=root_joint),
            f"PA-MPJPE{suffix}": h36m_eval.pa_mpjpe(pose, gt)}


def split_3d_error(joints_px, z_mm, keypoints_2d, keypoints_3d, root_depth, focal, principal_point,
                   root_joint: int = 0) -> Dict[str, float]:
    """Scores a 3D prediction with its 2D or its depth replaced by the truth (see the module docstring).

    Args:
      joints_px: `(N, K, 2)` predicted joints, original-image pixels.
      z_mm: `(N, K)` predicted root-relative depth, millimetres.
      keypoints_2d: `(N, K, 2)` true joints, original-image pixels.
      keypoints_3d: `(N, K, 3)` true camera-space joints (root-relative or not), millimetres.
      root_depth: `(N,)` true depth of the root joint, millimetres.
      focal: `(N, 2)` focal lengths, pixels.
      principal_point: `(N, 2)` principal points, pixels.
      root_joint: the root joint (MPJPE alignment, root-relative depth).

    Returns:
      the keys of the module docstring: floats (mm, px or a correlation), the per-joint ones lists of K floats.
    """
    joints_px = np.asarray(joints_px, np.float64)
    z_mm = np.asarray(z_mm, np.float64)
    keypoints_2d = np.asarray(keypoints_2d, np.float64)
    gt = np.asarray(keypoints_3d, np.float64)
    true_z = gt[..., 2] - gt[:, root_joint:root_joint + 1, 2]
    camera = (root_depth, focal, principal_point, gt, root_joint)
    result = {}
    result.update(_scores(keypoints_2d, z_mm, *camera, " (true 2D)"))
    result.update(_scores(joints_px, true_z, *camera, " (true depth)"))
    result.update(_scores(joints_px, np.zeros_like(z_mm), *camera, " (depth 0)"))
    distances = np.linalg.norm(joints_px - keypoints_2d, axis=-1)
    result["2D error px mean"] = float(np.mean(distances))
    result["2D error px median"] = float(np.median(distances))
    others = [k for k in range(gt.shape[1]) if k != root_joint]
    correlations = []
    for k in others:
        if np.std(z_mm[:, k]) > 0 and np.std(true_z[:, k]) > 0:
            correlations.append(np.corrcoef(z_mm[:, k], true_z[:, k])[0, 1])
    result["depth correlation"] = float(np.mean(correlations)) if correlations else float("nan")
    depth_errors, zero_errors = np.abs(z_mm - true_z), np.abs(true_z)
    result["depth abs error mm"] = float(np.mean(depth_errors[:, others]))
    result["depth abs error mm (0)"] = float(np.mean(zero_errors[:, others]))
    result["2D error px per joint"] = np.mean(distances, axis=0).tolist()
    result["depth abs error mm per joint"] = np.mean(depth_errors, axis=0).tolist()
    result["depth abs error mm per joint (0)"] = np.mean(zero_errors, axis=0).tolist()
    return result
