"""Percentage of Correct Keypoints (PCK) with a per-sample normaliser, and the area under its curve.

A joint is correct when `||pred - gt|| / normalizer <= threshold`. Percentages are pooled over the visible
joints of all samples (every visible joint counts once), as the MPII evaluation does. The same core serves
PCKh on MPII (normaliser = head size, `integral_keras.evaluation.mpii`) and torso-normalised PCK on the
synthetic data used during training (`torso_pck`).

Torso size (`torso_size`): the mean of the two torso diagonals of the ground truth,
`(||l_shoulder - r_hip|| + ||r_shoulder - l_hip||) / 2`. All supported skeletons (MPII, COCO, Human3.6M)
name these four joints the same way, so one definition covers them; a sample whose four torso joints are not
all visible has no torso size and is left out of the pool.
"""
from typing import Sequence, Union

import numpy as np

from integral_keras.core import skeletons

#: Thresholds of the PCK curve: 0, 0.01, ..., 0.5 (51 steps).
DEFAULT_THRESHOLDS = np.linspace(0.0, 0.5, 51)

TORSO_JOINTS = (("l_shoulder", "r_hip"), ("r_shoulder", "l_hip"))


def _check_shapes(pred, gt, visible):
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    visible = np.asarray(visible).astype(bool)
    if pred.shape != gt.shape or pred.ndim != 3:
        raise ValueError(f"pred and gt must both be (N, K, C); got pred {pred.shape} and gt {gt.shape}")
    if visible.shape != pred.shape[:2]:
        raise ValueError(f"visible must be (N, K) = {pred.shape[:2]}; got {visible.shape}")
    return pred, gt, visible


def normalized_distances(pred, gt, normalizer):
    """Euclidean joint errors divided by a per-sample length.

    Args:
      pred: `(N, K, C)` predicted coordinates.
      gt: `(N, K, C)` ground-truth coordinates.
      normalizer: `(N,)` positive per-sample lengths, same units as the coordinates.

    Returns:
      `(N, K)` float64 normalised distances.
    """
    normalizer = np.asarray(normalizer, np.float64)
    distances = np.linalg.norm(np.asarray(pred, np.float64) - np.asarray(gt, np.float64), axis=-1)
    if normalizer.shape != distances.shape[:1]:
        raise ValueError(f"normalizer must be (N,) = ({distances.shape[0]},); got {normalizer.shape}")
    return distances / normalizer[:, None]


def correct_counts(distances, visible, thresholds):
    """Counts of correct visible joints per threshold and joint.

    Args:
      distances: `(N, K)` normalised distances.
      visible: `(N, K)` bool, joints that take part.
      thresholds: `(T,)` thresholds.

    Returns:
      `(correct, total)`: `(T, K)` int counts of visible joints with `distance <= threshold`, and `(K,)` int
      counts of visible joints.
    """
    thresholds = np.asarray(thresholds, np.float64).reshape(-1)
    hits = (distances[None] <= thresholds[:, None, None]) & visible[None]
    return hits.sum(axis=1), visible.sum(axis=0)


def area_under_curve(thresholds, values):
    """Trapezoidal area under a PCK curve with the threshold axis rescaled to `[0, 1]`.

    Args:
      thresholds: `(T,)` increasing thresholds.
      values: `(T,)` PCK values (percent gives an AUC in percent).

    Returns:
      float; equals `values[0]` for a constant curve.
    """
    thresholds = np.asarray(thresholds, np.float64)
    span = thresholds[-1] - thresholds[0]
    if thresholds.ndim != 1 or thresholds.size < 2 or span <= 0:
        raise ValueError(f"thresholds must be 1-D, increasing, with at least 2 values; got {thresholds}")
    return float(np.trapezoid(np.asarray(values, np.float64), (thresholds - thresholds[0]) / span))


def pck(pred, gt, visible, normalizer, thresholds=DEFAULT_THRESHOLDS):
    """PCK in percent, pooled over the visible joints of all samples.

    Args:
      pred: `(N, K, C)` predicted coordinates (any C, e.g. 2D pixels or 3D millimetres).
      gt: `(N, K, C)` ground truth, same units.
      visible: `(N, K)` bool, joints that take part.
      normalizer: `(N,)` positive per-sample lengths.
      thresholds: scalar or `(T,)` thresholds on `distance / normalizer`.

    Returns:
      float64 array shaped like `thresholds`: percent of visible joints within each threshold
      (NaN when no joint is visible).
    """
    pred, gt, visible = _check_shapes(pred, gt, visible)
    correct, total = correct_counts(normalized_distances(pred, gt, normalizer), visible, thresholds)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = 100.0 * correct.sum(axis=1) / total.sum()
    return values.reshape(np.shape(thresholds))


def pck_summary(pred, gt, visible, normalizer, joint_names: Sequence[str],
                thresholds=DEFAULT_THRESHOLDS, main_threshold=0.5, low_threshold=0.1):
    """The PCK numbers reported for one run: two operating points, the AUC, the curve and per-joint values.

    Args:
      pred, gt: `(N, K, C)` coordinates.
      visible: `(N, K)` bool, joints that take part (pooled for the means, per joint for the table).
      normalizer: `(N,)` positive per-sample lengths.
      joint_names: K names for the per-joint table.
      thresholds: `(T,)` increasing thresholds of the curve, from which the AUC is taken.
      main_threshold: threshold of the headline number and of the per-joint table.
      low_threshold: the stricter operating point.

    Returns:
      dict: `"main"` and `"low"` (pooled percent at the two thresholds), `"AUC"` (percent), `"thresholds"` and
      `"curve"` (lists, percent), `"per_joint"` (name -> percent at `main_threshold`; NaN for a joint never
      visible).
    """
    pred, gt, visible = _check_shapes(pred, gt, visible)
    if len(joint_names) != pred.shape[1]:
        raise ValueError(f"{len(joint_names)} joint names for {pred.shape[1]} joints")
    thresholds = np.asarray(thresholds, np.float64)
    distances = normalized_distances(pred, gt, normalizer)
    curve_correct, total = correct_counts(distances, visible, thresholds)
    points_correct, _ = correct_counts(distances, visible, [main_threshold, low_threshold])
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = 100.0 * curve_correct.sum(axis=1) / total.sum()
        main, low = 100.0 * points_correct.sum(axis=1) / total.sum()
        per_joint = 100.0 * points_correct[0] / total
    return {
        "main": float(main),
        "low": float(low),
        "AUC": area_under_curve(thresholds, curve),
        "thresholds": thresholds.tolist(),
        "curve": curve.tolist(),
        "per_joint": {name: float(value) for name, value in zip(joint_names, per_joint)},
    }


def _resolve_skeleton(skeleton: Union[str, skeletons.Skeleton]) -> skeletons.Skeleton:
    return skeletons.get_skeleton(skeleton) if isinstance(skeleton, str) else skeleton


def torso_size(gt, visible, skeleton: Union[str, skeletons.Skeleton]):
    """Per-sample torso size: mean of `||l_shoulder - r_hip||` and `||r_shoulder - l_hip||` of the ground truth.

    Args:
      gt: `(N, K, C)` ground-truth coordinates.
      visible: `(N, K)` bool.
      skeleton: `Skeleton` or its name; must name the four torso joints.

    Returns:
      `(N,)` float64; NaN where any of the four torso joints is not visible.
    """
    skeleton = _resolve_skeleton(skeleton)
    gt = np.asarray(gt, np.float64)
    visible = np.asarray(visible).astype(bool)
    missing = [name for pair in TORSO_JOINTS for name in pair if name not in skeleton.joint_names]
    if missing:
        raise ValueError(f"Skeleton {skeleton.name!r} lacks torso joints {missing}")
    diagonals, ok = [], np.ones(gt.shape[0], bool)
    for first, second in TORSO_JOINTS:
        a, b = skeleton.index(first), skeleton.index(second)
        diagonals.append(np.linalg.norm(gt[:, a] - gt[:, b], axis=-1))
        ok &= visible[:, a] & visible[:, b]
    return np.where(ok, np.mean(diagonals, axis=0), np.nan)


def torso_pck(pred, gt, visible, skeleton: Union[str, skeletons.Skeleton], thresholds=DEFAULT_THRESHOLDS):
    """PCK normalised by the torso size (`torso_size`), for synthetic data and quick checks.

    Samples without a positive torso size are left out (their count is returned as `"samples_skipped"`).

    Args:
      pred: `(N, K, C)` predicted coordinates.
      gt: `(N, K, C)` ground truth, same units.
      visible: `(N, K)` bool.
      skeleton: `Skeleton` or its name (`mpii`, `coco`, `h36m`).
      thresholds: `(T,)` increasing thresholds of the curve (default 0..0.5 in 51 steps).

    Returns:
      dict with `"PCK@0.5"`, `"PCK@0.1"`, `"AUC"` (percent), `"thresholds"`, `"curve"`, `"per_joint"` (at 0.5)
      and `"samples_skipped"`.
    """
    skeleton = _resolve_skeleton(skeleton)
    pred, gt, visible = _check_shapes(pred, gt, visible)
    size = torso_size(gt, visible, skeleton)
    usable = np.isfinite(size) & (size > 0)
    summary = pck_summary(pred[usable], gt[usable], visible[usable], size[usable], skeleton.joint_names,
                          thresholds=thresholds)
    return {
        "PCK@0.5": summary.pop("main"),
        "PCK@0.1": summary.pop("low"),
        **summary,
        "samples_skipped": int((~usable).sum()),
    }

