"""Human3.6M metrics (MPJPE, PA-MPJPE) and the evaluation protocols of the paper.

The protocols (Sun et al., ECCV 2018, Sec. 5: Protocol 1 PA-MPJPE on S11, Protocol 2 MPJPE on S9 and S11, every 64th
frame) are the tables of `integral_keras.core.h36m_protocols`. Frames are 0-based indices within a video; "every
64th" keeps `frame % 64 == 0`.

Predictions of the network are `(u, v, z_rel)`: image pixels and root-relative depth in millimetres. They become
camera-space millimetres with the ground-truth root depth (`back_project`), as in the seed's code. Action ids follow
the dataset's folder numbering 2..16 (`ACTION_NAMES`). The tables are re-exported here.
"""
from typing import Dict, Optional

import numpy as np

from integral_keras.core.h36m_protocols import ACTION_NAMES  # noqa: F401  (re-export)
from integral_keras.core.h36m_protocols import FRAME_STEP
from integral_keras.core.h36m_protocols import PROTOCOLS
from integral_keras.core.h36m_protocols import Protocol


def _as_pair(pred, gt):
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(f"pred and gt must both be (N, K, 3) millimetres; got {pred.shape} and {gt.shape}")
    return pred, gt


def joint_errors(pred, gt, root: Optional[int] = 0):
    """Per-joint Euclidean errors after aligning both poses at a root joint.

    Args:
      pred: `(N, K, 3)` predicted joints, millimetres.
      gt: `(N, K, 3)` ground-truth joints, millimetres.
      root: joint index subtracted from each pose before comparing, or None for no alignment.

    Returns:
      `(N, K)` float64 errors in millimetres.
    """
    pred, gt = _as_pair(pred, gt)
    if root is not None:
        pred = pred - pred[:, root : root + 1]
        gt = gt - gt[:, root : root + 1]
    return np.linalg.norm(pred - gt, axis=-1)


def mpjpe(pred, gt, root: Optional[int] = 0) -> float:
    """Mean per-joint position error over all frames and joints, millimetres.

    Args:
      pred: `(N, K, 3)` predicted joints, millimetres.
      gt: `(N, K, 3)` ground-truth joints, millimetres.
      root: joint index at which both poses are aligned (default 0, the pelvis); None for no alignment.

    Returns:
      float, millimetres.
    """
    return float(joint_errors(pred, gt, root).mean())


def procrustes_align(pred, gt):
    """Aligns each predicted pose to its ground truth by the best similarity transform.

    Solves `min_{s, R, t} ||s * pred @ R + t - gt||` per frame with `R` a proper rotation (det +1): the SVD of
    the cross-covariance `U S V^T = pred_c^T gt_c` gives `R = U D V^T` with `D = diag(1, ..., 1, det(U V^T))`
    (the sign correction excludes reflections) and `s = trace(S D) / ||pred_c||^2`.

    Args:
      pred: `(N, K, 3)` predicted joints.
      gt: `(N, K, 3)` ground-truth joints.

    Returns:
      `(N, K, 3)` float64 aligned predictions.
    """
    pred, gt = _as_pair(pred, gt)
    pred_mean = pred.mean(axis=1, keepdims=True)
    gt_mean = gt.mean(axis=1, keepdims=True)
    pred_c, gt_c = pred - pred_mean, gt - gt_mean
    u, singular, vt = np.linalg.svd(np.einsum("nki,nkj->nij", pred_c, gt_c))
    sign = np.sign(np.linalg.det(u @ vt))
    sign[sign == 0] = 1.0
    correction = np.ones_like(singular)
    correction[:, -1] = sign
    rotation = (u * correction[:, None, :]) @ vt
    norm_sq = np.sum(pred_c**2, axis=(1, 2))
    scale = np.divide((singular * correction).sum(axis=1), norm_sq, out=np.zeros_like(norm_sq), where=norm_sq > 0)
    return scale[:, None, None] * (pred_c @ rotation) + gt_mean


def pa_mpjpe(pred, gt) -> float:
    """MPJPE after per-frame Procrustes alignment (rotation, translation and scale), millimetres.

    Args:
      pred: `(N, K, 3)` predicted joints, millimetres.
      gt: `(N, K, 3)` ground-truth joints, millimetres.

    Returns:
      float, millimetres.
    """
    return float(joint_errors(procrustes_align(pred, gt), gt, root=None).mean())


def back_project(uvz, root_depth, focal, principal_point):
    """Turns `(u, v, z_rel)` predictions into camera-space millimetres with the ground-truth root depth.

    `Z = z_rel + root_depth`, `X = (u - cx) * Z / fx`, `Y = (v - cy) * Z / fy`.

    Args:
      uvz: `(N, K, 3)`: image pixels `u, v` (original image, 0-based) and root-relative depth, millimetres.
      root_depth: `(N,)` absolute depth of the root joint, millimetres.
      focal: `(N, 2)` or `(2,)` focal lengths `fx, fy` in pixels.
      principal_point: `(N, 2)` or `(2,)` principal point `cx, cy` in pixels.

    Returns:
      `(N, K, 3)` float64 camera coordinates, millimetres.
    """
    uvz = np.asarray(uvz, np.float64)
    if uvz.ndim != 3 or uvz.shape[-1] != 3:
        raise ValueError(f"uvz must be (N, K, 3); got {uvz.shape}")
    num = uvz.shape[0]
    root_depth = np.broadcast_to(np.asarray(root_depth, np.float64), (num,))
    focal = np.broadcast_to(np.asarray(focal, np.float64), (num, 2))
    principal_point = np.broadcast_to(np.asarray(principal_point, np.float64), (num, 2))
    depth = uvz[..., 2] + root_depth[:, None]
    xy = (uvz[..., :2] - principal_point[:, None]) * depth[..., None] / focal[:, None]
    return np.concatenate([xy, depth[..., None]], axis=-1)


def protocol_mask(subjects, frames, protocol: int, frame_step: int = FRAME_STEP):
    """Selects the samples a protocol evaluates: its test subjects, every `frame_step`-th frame.

    Args:
      subjects: `(N,)` int subject ids (e.g. 9, 11).
      frames: `(N,)` int 0-based frame indices within each video.
      protocol: 1 or 2 (`PROTOCOLS`).
      frame_step: keep frames with `frame % frame_step == 0`.

    Returns:
      `(N,)` bool mask.
    """
    spec = _protocol(protocol)
    subjects = np.asarray(subjects)
    frames = np.asarray(frames)
    return np.isin(subjects, spec.test_subjects) & (frames % frame_step == 0)


def _protocol(protocol: int) -> Protocol:
    if protocol not in PROTOCOLS:
        raise ValueError(f"Unknown Human3.6M protocol {protocol!r}; valid: {sorted(PROTOCOLS)}")
    return PROTOCOLS[protocol]


def per_action_means(values, actions) -> Dict[str, float]:
    """Averages per-frame values by action.

    Args:
      values: `(N,)` per-frame errors.
      actions: `(N,)` int action ids (2..16).

    Returns:
      dict action name -> mean, in id order, for the actions present.
    """
    values = np.asarray(values, np.float64)
    actions = np.asarray(actions).astype(int)
    unknown = sorted(set(actions.tolist()) - set(ACTION_NAMES))
    if unknown:
        raise ValueError(f"Unknown Human3.6M action ids {unknown}; valid: {sorted(ACTION_NAMES)}")
    return {name: float(values[actions == action].mean())
            for action, name in ACTION_NAMES.items() if np.any(actions == action)}


def evaluate_protocol(pred, gt, actions, subjects, frames, protocol: int, root: int = 0,
                      frame_step: int = FRAME_STEP) -> Dict:
    """Evaluates camera-space predictions under a protocol, with the per-action table.

    Args:
      pred: `(N, K, 3)` predicted joints, camera space, millimetres (see `back_project`).
      gt: `(N, K, 3)` ground-truth joints, camera space, millimetres.
      actions: `(N,)` action ids 2..16.
      subjects: `(N,)` subject ids.
      frames: `(N,)` 0-based frame indices.
      protocol: 1 (PA-MPJPE on S11) or 2 (MPJPE on S9, S11).
      root: root joint for MPJPE alignment (pelvis = 0 in the package's H36M order).
      frame_step: frame subsampling.

    Returns:
      dict: `"protocol"`, `"metric"` (its name), `"mean"` (pooled over the selected frames and joints),
      `"action_average"` (mean of the per-action values, as the papers' tables), `"per_action"`, `"frames"`
      (count evaluated).
    """
    spec = _protocol(protocol)
    pred, gt = _as_pair(pred, gt)
    for key, values in (("actions", actions), ("subjects", subjects), ("frames", frames)):
        if np.shape(values) != pred.shape[:1]:
            raise ValueError(f"{key} must be ({pred.shape[0]},), one per frame; got shape {np.shape(values)}")
    mask = protocol_mask(subjects, frames, protocol, frame_step)
    if not mask.any():
        raise ValueError(f"No sample of subjects {spec.test_subjects} with frame % {frame_step} == 0 to evaluate")
    pred, gt = pred[mask], gt[mask]
    if spec.metric == "PA-MPJPE":
        errors = joint_errors(procrustes_align(pred, gt), gt, root=None)
    else:
        errors = joint_errors(pred, gt, root=root)
    per_action = per_action_means(errors.mean(axis=1), np.asarray(actions)[mask])
    return {
        "protocol": protocol,
        "metric": spec.metric,
        "mean": float(errors.mean()),
        "action_average": float(np.mean(list(per_action.values()))),
        "per_action": per_action,
        "frames": int(mask.sum()),
    }
