"""Reader of the official MPII validation ground truth (`gt_valid.mat`), in the package's convention.

The converter (`data.converters.mpii`, head boxes of the records) and the PCKh protocol (`evaluation.mpii`) both
read it; it lives in the data layer so that the converter does not import the evaluation.
"""
import os
from typing import Dict

import numpy as np
import scipy.io

from integral_keras.core import skeletons

#: Joint names used by the official `gt_valid.mat` (`dataset_joints`) -> the package's MPII names.
OFFICIAL_JOINT_NAMES = {
    "rank": "r_ankle", "rkne": "r_knee", "rhip": "r_hip", "lhip": "l_hip", "lkne": "l_knee", "lank": "l_ankle",
    "pelv": "pelvis", "thor": "thorax", "neck": "upper_neck", "head": "head_top", "rwri": "r_wrist",
    "relb": "r_elbow", "rsho": "r_shoulder", "lsho": "l_shoulder", "lelb": "l_elbow", "lwri": "l_wrist",
}


def _joint_names_from_mat(dataset_joints) -> list:
    """Reads `dataset_joints` (a MATLAB cell or char array) into a list of strings."""
    return [str(np.squeeze(entry)).strip() for entry in np.asarray(dataset_joints, dtype=object).ravel()]


def load_gt_valid(path) -> Dict[str, np.ndarray]:
    """Loads the official MPII validation ground truth (`gt_valid.mat`) into the package's convention.

    The file holds `dataset_joints` (16 names), `jnt_missing` `(16, N)`, `pos_gt_src` `(16, 2, N)` and
    `headboxes_src` `(2, 2, N)`, in 1-based MATLAB pixel coordinates. Joints are reordered by name into the
    package's MPII order (the official order is the same).

    Args:
      path: path of `gt_valid.mat`.

    Returns:
      dict: `"joints"` `(N, 16, 2)` float64 0-based pixels, `"visible"` `(N, 16)` bool (`jnt_missing == 0`),
      `"headboxes"` `(N, 2, 2)` float64 0-based `[[x1, y1], [x2, y2]]`.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"MPII ground-truth file not found: {path}")
    content = scipy.io.loadmat(path)
    required = ("dataset_joints", "jnt_missing", "pos_gt_src", "headboxes_src")
    missing = [key for key in required if key not in content]
    if missing:
        raise KeyError(f"{path} lacks the variables {missing}; an official gt_valid.mat holds {list(required)}")
    names = _joint_names_from_mat(content["dataset_joints"])
    unknown = [name for name in names if name not in OFFICIAL_JOINT_NAMES]
    if unknown or sorted(names) != sorted(OFFICIAL_JOINT_NAMES):
        raise ValueError(f"{path}: dataset_joints {names} do not match the official MPII names "
                         f"{list(OFFICIAL_JOINT_NAMES)}")
    file_index = {OFFICIAL_JOINT_NAMES[name]: i for i, name in enumerate(names)}
    order = [file_index[name] for name in skeletons.MPII.joint_names]

    missing_flags = np.asarray(content["jnt_missing"])
    positions = np.asarray(content["pos_gt_src"], np.float64)
    headboxes = np.asarray(content["headboxes_src"], np.float64)
    num = positions.shape[-1]
    expected = {"jnt_missing": (16, num), "pos_gt_src": (16, 2, num), "headboxes_src": (2, 2, num)}
    for key, array in (("jnt_missing", missing_flags), ("pos_gt_src", positions), ("headboxes_src", headboxes)):
        if array.shape != expected[key]:
            raise ValueError(f"{path}: {key} has shape {array.shape}; expected {expected[key]}")
    return {
        "joints": np.transpose(positions, (2, 0, 1))[:, order] - 1.0,
        "visible": np.transpose(missing_flags == 0)[:, order],
        "headboxes": np.transpose(headboxes, (2, 0, 1)) - 1.0,
    }
