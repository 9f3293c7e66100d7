"""MPII PCKh: the official protocol of the MPII Human Pose benchmark, on arrays in the package's convention.

Protocol (as in the benchmark's `evaluatePCKh` and its widely used Python port):
- head size = `0.6 * ||headbox[1] - headbox[0]||` (the head box diagonal);
- a joint is correct when `||pred - gt|| / head_size <= threshold`;
- `Mean` pools every visible joint except pelvis and thorax (14 joints) over all samples, at threshold 0.5;
  `Mean@0.1` is the same at 0.1; `AUC` is the trapezoidal area under the pooled curve over the thresholds
  0, 0.01, ..., 0.5 with the threshold axis rescaled to [0, 1] (percent);
- the per-part table of the papers averages the left and right percentages of each part; `Head` is the head top.

Coordinates are 0-based pixels of the original image (the official files are 1-based; `load_gt_valid`, the
reader of `gt_valid.mat` in `data.mpii_gt_valid`, converts; re-exported here).
"""
from typing import Dict

import numpy as np

from integral_keras.core import skeletons
from integral_keras.data.mpii_gt_valid import OFFICIAL_JOINT_NAMES  # noqa: F401  (re-export)
from integral_keras.data.mpii_gt_valid import load_gt_valid
from integral_keras.evaluation import pck_metrics

#: Head-size factor of the official protocol (SC_BIAS).
HEAD_SIZE_FACTOR = 0.6

#: Joints that enter the means: all but pelvis and thorax.
EVAL_JOINTS = tuple(i for i, name in enumerate(skeletons.MPII.joint_names) if name not in ("pelvis", "thorax"))

#: Part name -> joint names averaged in the papers' per-part table.
PARTS = {
    "Head": ("head_top",),
    "Shoulder": ("l_shoulder", "r_shoulder"),
    "Elbow": ("l_elbow", "r_elbow"),
    "Wrist": ("l_wrist", "r_wrist"),
    "Hip": ("l_hip", "r_hip"),
    "Knee": ("l_knee", "r_knee"),
    "Ankle": ("l_ankle", "r_ankle"),
}

def head_sizes(headboxes):
    """Per-sample head size `0.6 * ||headbox diagonal||`.

    Args:
      headboxes: `(N, 2, 2)` head boxes `[[x1, y1], [x2, y2]]`.

    Returns:
      `(N,)` float64.
    """
    headboxes = np.asarray(headboxes, np.float64)
    if headboxes.ndim != 3 or headboxes.shape[1:] != (2, 2):
        raise ValueError(f"headboxes must be (N, 2, 2) [[x1, y1], [x2, y2]]; got {headboxes.shape}")
    return HEAD_SIZE_FACTOR * np.linalg.norm(headboxes[:, 1] - headboxes[:, 0], axis=-1)


def mpii_pckh(pred, gt, visible, headboxes, thresholds=pck_metrics.DEFAULT_THRESHOLDS) -> Dict:
    """MPII PCKh in percent.

    Args:
      pred: `(N, 16, 2)` predicted joints, 0-based pixels, MPII joint order.
      gt: `(N, 16, 2)` ground-truth joints, same convention.
      visible: `(N, 16)` bool, annotated joints (`1 - jnt_missing`).
      headboxes: `(N, 2, 2)` head boxes `[[x1, y1], [x2, y2]]`.
      thresholds: `(T,)` increasing thresholds of the curve and the AUC (default 0..0.5 in 51 steps).

    Returns:
      dict: `"Mean"` (PCKh@0.5 over the 14 joints), `"Mean@0.1"`, `"AUC"`, `"per_joint"` (all 16 joint names ->
      PCKh@0.5), `"per_part"` (`PARTS` -> PCKh@0.5, left/right averaged), `"thresholds"` and `"curve"` (the
      pooled 14-joint PCKh at every threshold).
    """
    pred = np.asarray(pred, np.float64)
    num_joints = skeletons.MPII.num_joints
    if pred.ndim != 3 or pred.shape[1:] != (num_joints, 2):
        raise ValueError(f"pred must be (N, {num_joints}, 2) in MPII joint order; got {pred.shape}")
    visible = np.asarray(visible).astype(bool)
    sizes = head_sizes(headboxes)
    if not np.all(sizes > 0):
        raise ValueError(f"head boxes with zero size at samples {np.flatnonzero(~(sizes > 0)).tolist()}")
    joint_names = skeletons.MPII.joint_names
    all_joints = pck_metrics.pck_summary(pred, gt, visible, sizes, joint_names, thresholds=thresholds)
    eval_visible = np.zeros_like(visible)
    eval_visible[:, list(EVAL_JOINTS)] = visible[:, list(EVAL_JOINTS)]
    pooled = pck_metrics.pck_summary(pred, gt, eval_visible, sizes, joint_names, thresholds=thresholds)
    per_joint = all_joints["per_joint"]
    return {
        "Mean": pooled["main"],
        "Mean@0.1": pooled["low"],
        "AUC": pooled["AUC"],
        "per_joint": per_joint,
        "per_part": {part: float(np.mean([per_joint[name] for name in names])) for part, names in PARTS.items()},
        "thresholds": pooled["thresholds"],
        "curve": pooled["curve"],
    }


def evaluate_gt_valid(pred, path) -> Dict:
    """PCKh of `(N, 16, 2)` 0-based predictions against the official `gt_valid.mat` at `path`."""
    gt = load_gt_valid(path)
    pred = np.asarray(pred)
    if pred.shape[0] != gt["joints"].shape[0]:
        raise ValueError(f"{pred.shape[0]} predictions for {gt['joints'].shape[0]} samples in {path}")
    return mpii_pckh(pred, gt["joints"], gt["visible"], gt["headboxes"])
