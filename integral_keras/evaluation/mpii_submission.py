"""MPII test-set prediction files: the `.mat` layout the MPII evaluation server and the MATLAB evaluation read.

The file holds one variable, `preds`, of shape `(N, 16, 2)` float64: for the `n`-th person of the annotation list
(the entry's index in the converter's JSON list, `image/id` of the records), the 16 joints in the official MPII
joint order (the package's MPII order: 0 r_ankle ... 15 l_wrist) as `(x, y)` in **original-image pixels, 1-based**
(MATLAB: pixel `i`'s centre at `i`; the package's 0-based `x` is written as `x + 1`). This is the layout of the
`pred.mat` files of common MPII evaluation code (compared with `pos_gt_src` `(16, 2, N)` of `gt_valid.mat` after
a transpose); `load_gt_valid` reads that file with the same `- 1`.

    joints_px, image_ids = predict_people(predict_fn, dataset, flip_permutation=...)
    write_predictions("pred_test.mat", joints_px, image_ids)
    preds = read_predictions("pred_test.mat")   # back to 0-based (N, 16, 2)

Numpy / scipy only; `predict_people` runs a predictor through `evaluation.protocols` (no metrics: the test set
has no public labels).
"""
import os
from typing import Optional, Sequence, Tuple

import numpy as np
import scipy.io

NUM_JOINTS = 16
VARIABLE = "preds"


def place_by_id(joints_px, image_ids, num_people: Optional[int] = None) -> np.ndarray:
    """Orders predictions by person index: row `image_ids[i]` gets `joints_px[i]`.

    Args:
      joints_px: `(N, 16, 2)` predictions, 0-based original-image pixels.
      image_ids: `(N,)` each prediction's index in the annotation list.
      num_people: people in the annotation list (default N); every one must be predicted exactly once.

    Returns:
      `(num_people, 16, 2)` float64, in annotation order.
    """
    joints_px = np.asarray(joints_px, np.float64)
    if joints_px.ndim != 3 or joints_px.shape[1:] != (NUM_JOINTS, 2):
        raise ValueError(f"MPII predictions must have shape (N, {NUM_JOINTS}, 2); got {joints_px.shape}")
    if not np.all(np.isfinite(joints_px)):
        raise ValueError("MPII predictions contain NaN or infinite coordinates")
    ids = np.asarray(image_ids).astype(np.int64).ravel()
    if ids.shape[0] != joints_px.shape[0]:
        raise ValueError(f"{ids.shape[0]} image ids for {joints_px.shape[0]} predictions")
    num_people = joints_px.shape[0] if num_people is None else int(num_people)
    expected = set(range(num_people))
    missing = sorted(expected - set(ids.tolist()))
    outside = sorted(set(ids.tolist()) - expected)
    values, counts = np.unique(ids, return_counts=True)
    duplicates = values[counts > 1].tolist()
    if missing or outside or duplicates:
        raise ValueError(f"the annotation list has {num_people} people; the predictions' image ids miss "
                         f"{missing[:10]}, fall outside it {outside[:10]} or repeat {duplicates[:10]} (convert the "
                         f"test JSON without skipping entries)")
    placed = np.empty((num_people, NUM_JOINTS, 2), np.float64)
    placed[ids] = joints_px
    return placed


def write_predictions(path, joints_px, image_ids: Optional[Sequence[int]] = None,
                      num_people: Optional[int] = None) -> str:
    """Writes an MPII prediction file (`preds`, `(N, 16, 2)`, 1-based original-image pixels).

    Args:
      path: output `.mat` file (folders are created).
      joints_px: `(N, 16, 2)` predictions, 0-based original-image pixels (`protocols.image_joints`).
      image_ids: each prediction's index in the annotation list; None: already in annotation order.
      num_people: see `place_by_id`.

    Returns:
      the path written.
    """
    ids = np.arange(np.asarray(joints_px).shape[0]) if image_ids is None else image_ids
    placed = place_by_id(joints_px, ids, num_people)
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    scipy.io.savemat(path, {VARIABLE: placed + 1.0}, do_compression=False)
    return path


def read_predictions(path) -> np.ndarray:
    """Reads a prediction file back: `(N, 16, 2)` float64, 0-based original-image pixels."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"MPII prediction file not found: {path}")
    content = scipy.io.loadmat(path)
    if VARIABLE not in content:
        raise KeyError(f"{path} has no variable {VARIABLE!r}; variables: "
                       f"{sorted(k for k in content if not k.startswith('__'))}")
    preds = np.asarray(content[VARIABLE], np.float64)
    if preds.ndim != 3 or preds.shape[1:] != (NUM_JOINTS, 2):
        raise ValueError(f"{path}: {VARIABLE} has shape {preds.shape}; expected (N, {NUM_JOINTS}, 2)")
    return preds - 1.0


def predict_people(predict_fn, dataset, flip_permutation: Optional[Sequence[int]] = None,
                   max_batches: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Runs a predictor over evaluation batches and maps its joints to original-image pixels.

    Args:
      predict_fn, dataset, flip_permutation, max_batches: as `protocols.collect_predictions` (the dataset yields
        `(images, meta)` with `crop_to_image` and `image_id`).

    Returns:
      `(joints_px (N, 16, 2) 0-based original-image pixels, image_ids (N,))`.
    """
    from integral_keras.evaluation import protocols

    predictions = protocols.collect_predictions(predict_fn, dataset, flip_permutation, max_batches)
    return protocols.image_joints(predictions), np.asarray(predictions.meta["image_id"]).astype(np.int64).ravel()


def write_test_predictions(config, predict_fn, path, file_pattern=None, flip_test: bool = False,
                           max_batches: Optional[int] = None) -> str:
    """Predicts every person of MPII records (e.g. the test set) and writes the server's prediction file.

    Args:
      config: the `ExperimentConfig` (model sizes, data skeleton `mpii`, eval batch size).
      predict_fn: see `protocols.collect_predictions`.
      path: output `.mat` file.
      file_pattern: TFRecord glob(s); default `config.data.val_file_pattern`.
      flip_test: average with the mirrored crops.
      max_batches: only the first batches (a quick check: the ids must then still be 0..n-1).

    Returns:
      the path written.
    """
    from integral_keras.core import skeletons
    from integral_keras.data.parser import build_parser
    from integral_keras.evaluation import protocols

    if config.data.skeleton != "mpii":
        raise ValueError(f"MPII prediction files need an MPII model; data.skeleton is {config.data.skeleton!r}")
    file_pattern = file_pattern or config.data.val_file_pattern
    if not file_pattern:
        raise ValueError("No records to predict: set data.val_file_pattern or pass file_pattern")
    parser = build_parser(config.model, config.data)
    batches = protocols.eval_dataset(file_pattern, parser, config.data.eval_batch_size)
    permutation = skeletons.get_skeleton("mpii").flip_permutation() if flip_test else None
    joints_px, image_ids = predict_people(predict_fn, batches, permutation, max_batches)
    return write_predictions(path, joints_px, image_ids)
