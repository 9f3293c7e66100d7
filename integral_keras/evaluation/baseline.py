"""The mean-pose baseline: the floor every accuracy is read against (DESIGN.md, "Every reported accuracy stands
next to its floor").

A model that ignores the image and predicts one fixed pose, the training set's mean, scores:
- 2D: the mean over the training records of each joint's position normalised by the record's crop box,
  `(x - center) / scale` per axis (pooled over the records where that joint is visible), placed in every validation
  box (`center + mean * scale`) and scored with the torso PCK of `training/evaluator.py`
  (`evaluation.torso_pck`: "PCK@0.5", "PCK@0.1", "AUC", percent, original-image pixels);
- 3D: the training records' mean root-relative pose (`keypoints_3d - keypoints_3d[root_joint]`, over the records
  with `has_3d`) for every validation record with 3D labels: "MPJPE" (`evaluation.mpjpe(..., root=root_joint)`)
  and "PA-MPJPE" (`evaluation.pa_mpjpe`), millimetres. As in the evaluator, only validation records with
  `has_3d` and a camera (positive focal lengths) count.

Records are read with the package's decoder (`integral_keras.data.decoder.decode_example`), as the training and
evaluation pipelines read them: corrupt records and undecodable images are skipped, as they are there. Everything
after decoding is numpy.
"""
from typing import Dict, Sequence, Union

import numpy as np

from integral_keras.core import skeletons
from integral_keras.evaluation.h36m import mpjpe
from integral_keras.evaluation.h36m import pa_mpjpe
from integral_keras.evaluation.pck_metrics import torso_pck

FilePatterns = Union[str, Sequence[str]]
_KEYS = ("keypoints_2d", "visible", "center", "scale", "has_3d", "keypoints_3d", "focal")


def _files(file_pattern: FilePatterns, what: str):
    """`data.input_reader.list_files`, its errors prefixed with `what` (the config key)."""
    from integral_keras.data.input_reader import list_files  # pylint: disable=import-outside-toplevel

    try:
        return list_files(file_pattern)
    except (ValueError, FileNotFoundError) as error:
        raise type(error)(f"{what}: {error}") from None


def read_labels(file_pattern: FilePatterns, num_joints: int, what: str = "records") -> Dict[str, np.ndarray]:
    """The labels of every decodable record matching `file_pattern`, stacked as numpy arrays.

    Args:
      file_pattern: glob or sequence of globs of TFRecord files of the package schema.
      num_joints: K every record must have (the skeleton's joint count).
      what: name used in error messages (e.g. "train_file_pattern").

    Returns:
      dict of float64 arrays: `keypoints_2d (N, K, 2)`, `visible (N, K)`, `center (N, 2)`, `scale (N, 2)`,
      `has_3d (N,)`, `keypoints_3d (N, K, 3)`, `focal (N, 2)`.

    Raises:
      FileNotFoundError: a pattern that matches no file (named).
      ValueError: no decodable record, or a file whose records have another number of joints (named).
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from integral_keras.data.decoder import decode_example  # pylint: disable=import-outside-toplevel

    columns = {key: [] for key in _KEYS}
    for path in _files(file_pattern, what):
        dataset = tf.data.TFRecordDataset(path).map(decode_example).ignore_errors()
        for record in dataset.filter(lambda record: record["valid"]).as_numpy_iterator():
            count = len(record["keypoints_2d"])
            if count != num_joints:
                raise ValueError(f"{what}: {path!r} holds records with {count} joints; the skeleton has "
                                 f"{num_joints}.")
            for key in _KEYS:
                columns[key].append(np.asarray(record[key], np.float64))
    if not columns["keypoints_2d"]:
        raise ValueError(f"{what}: no decodable record in {file_pattern!r}.")
    return {key: np.stack(values) for key, values in columns.items()}


def mean_normalised_pose(keypoints_2d, visible, center, scale) -> np.ndarray:
    """Per-joint mean of `(x - center) / scale` over the records where the joint is visible.

    Args:
      keypoints_2d: `(N, K, 2)` pixels.
      visible: `(N, K)`, > 0 where labelled.
      center: `(N, 2)` crop centres, pixels.
      scale: `(N, 2)` crop sizes, pixels (records with a non-positive size are left out).

    Returns:
      `(K, 2)` float64 box-normalised mean; 0 (the box centre) for a joint never visible.
    """
    keypoints_2d, center, scale = (np.asarray(a, np.float64) for a in (keypoints_2d, center, scale))
    usable = (np.asarray(visible) > 0) & np.all(scale > 0, axis=-1)[:, None]
    safe_scale = np.where(scale > 0, scale, 1.0)
    normalised = (keypoints_2d - center[:, None]) / safe_scale[:, None]
    counts = usable.sum(axis=0)
    sums = np.where(usable[..., None], normalised, 0.0).sum(axis=0)
    return np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)


def mean_root_relative_pose(keypoints_3d, has_3d, root_joint: int = 0) -> np.ndarray:
    """`(K, 3)` mean of `keypoints_3d - keypoints_3d[root_joint]` over the records with `has_3d > 0`."""
    keypoints_3d = np.asarray(keypoints_3d, np.float64)[np.asarray(has_3d) > 0]
    if not len(keypoints_3d):
        raise ValueError("No record with 3D labels (has_3d) to average.")
    return (keypoints_3d - keypoints_3d[:, root_joint : root_joint + 1]).mean(axis=0)


def mean_pose_metrics(train_file_pattern: FilePatterns, val_file_pattern: FilePatterns,
                      skeleton: Union[str, skeletons.Skeleton], root_joint: int = 0) -> Dict[str, float]:
    """Scores the training set's mean pose, predicted for every validation record.

    Args:
      train_file_pattern: glob or sequence of globs of the training TFRecords (the mean is taken there).
      val_file_pattern: glob or sequence of globs of the validation TFRecords (scored there).
      skeleton: skeleton name (`h36m`, `mpii`, `coco`) or `Skeleton` of both sets' joints.
      root_joint: joint at which 3D poses are aligned, as `eval.root_joint` of the run.

    Returns:
      `{"PCK@0.5", "PCK@0.1", "AUC"}` (percent, torso PCK of the box-placed 2D mean pose) and `"num_examples"`
      (validation records read); plus `"MPJPE"` and `"PA-MPJPE"` (mm) when the training records have 3D labels and
      some validation records have 3D labels and a camera.
    """
    skeleton = skeletons.get_skeleton(skeleton) if isinstance(skeleton, str) else skeleton
    if not 0 <= root_joint < skeleton.num_joints:
        raise ValueError(f"root_joint must be in [0, {skeleton.num_joints}) for skeleton {skeleton.name!r}; "
                         f"got {root_joint}.")
    train = read_labels(train_file_pattern, skeleton.num_joints, "train_file_pattern")
    val = read_labels(val_file_pattern, skeleton.num_joints, "val_file_pattern")

    mean_2d = mean_normalised_pose(train["keypoints_2d"], train["visible"], train["center"], train["scale"])
    pred_2d = val["center"][:, None] + mean_2d[None] * val["scale"][:, None]
    pck = torso_pck(pred_2d, val["keypoints_2d"], val["visible"] > 0, skeleton)
    metrics = {"PCK@0.5": pck["PCK@0.5"], "PCK@0.1": pck["PCK@0.1"], "AUC": pck["AUC"],
               "num_examples": float(len(pred_2d))}

    usable = (val["has_3d"] > 0) & np.all(val["focal"] > 0, axis=-1)
    if np.any(train["has_3d"] > 0) and usable.any():
        mean_3d = mean_root_relative_pose(train["keypoints_3d"], train["has_3d"], root_joint)
        gt = val["keypoints_3d"][usable]
        pred = np.broadcast_to(mean_3d, gt.shape)
        metrics["MPJPE"] = mpjpe(pred, gt, root=root_joint)
        metrics["PA-MPJPE"] = pa_mpjpe(pred, gt)
    return metrics
