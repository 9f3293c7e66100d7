"""Predictions of a whole evaluation set: run a predictor over `(images, meta)` batches, with the flip test.

The dataset yields `(images (N, H, W, 3), meta)` batches of `Parser.parse_eval` (`eval_dataset`). A predictor
(`PredictFn`) returns what the exported models' signatures return (`serving_default`): joints in crop pixels,
root-relative depth in mm for 3D models and per-joint confidences; `integral_keras.serving.predict_fns` adapts a
Keras model, a SavedModel or a `.tflite` file. The parser's `crop_to_image` matrix maps crop pixels to the
original image (`image_joints`), where every benchmark is scored.

Flip test (`flip_permutation`): each batch is also predicted mirrored; the mirrored joints are mapped back in
crop pixels (`x -> W - 1 - x`, left/right swapped, `evaluation.flip.unflip_joints`) and averaged with the direct
ones; depths and confidences are left/right swapped and averaged.
"""
import dataclasses
from typing import Callable, Dict, Mapping, Optional, Sequence

import numpy as np

from integral_keras.core.crop_mapping import apply_affine
from integral_keras.evaluation import flip

PredictFn = Callable[[np.ndarray, Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


@dataclasses.dataclass
class Predictions:
    """Predictions of a whole evaluation set, with the evaluation metadata of every example.

    Attributes:
      joints: `(N, K, 2)` joints in crop pixels.
      confidence: `(N, K)` per-joint confidences.
      meta: the `Parser.parse_eval` metadata, each value an `(N, ...)` numpy array.
      depth_mm: `(N, K)` root-relative depths in mm (3D models), else None.
    """

    joints: np.ndarray
    confidence: np.ndarray
    meta: Dict[str, np.ndarray]
    depth_mm: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return self.joints.shape[0]


def eval_dataset(file_pattern, parser, batch_size: int, counters=None):
    """One deterministic pass over TFRecords as `(images, meta)` batches (`Parser.parse_eval`).

    Unusable records (damaged, corrupt, undecodable image, bad labels: `integral_keras.data.decoder`) are not
    scored; pass `counters` (`PipelineCounters`) to read how many were skipped, by reason and shard.
    """
    from integral_keras.data.input_reader import InputReader

    return InputReader(file_pattern, parser, batch_size, is_training=False, eval_output="meta",
                       deterministic=True, counters=counters)()


def _run(predict_fn: PredictFn, images: np.ndarray, meta) -> Dict[str, np.ndarray]:
    outputs = predict_fn(images, meta)
    if "joints" not in outputs:
        raise KeyError(f"predict_fn must return a dict with 'joints' (N, K, 2) crop pixels; got keys "
                       f"{sorted(outputs)}")
    joints = np.asarray(outputs["joints"], np.float64)
    if joints.ndim != 3 or joints.shape[0] != images.shape[0] or joints.shape[-1] != 2:
        raise ValueError(f"predict_fn returned joints of shape {joints.shape} for {images.shape[0]} images; "
                         f"expected (N, K, 2) crop pixels")
    scores = outputs.get("confidence")
    result = {"joints": joints,
              "confidence": np.ones(joints.shape[:2]) if scores is None else np.asarray(scores, np.float64)}
    if outputs.get("depth_mm") is not None:
        result["depth_mm"] = np.asarray(outputs["depth_mm"], np.float64)
    return result


def collect_predictions(predict_fn: PredictFn, dataset, flip_permutation: Optional[Sequence[int]] = None,
                        max_batches: Optional[int] = None) -> Predictions:
    """Runs `predict_fn` over every `(images, meta)` batch of `dataset`.

    Args:
      predict_fn: `(images (N, H, W, 3), meta) -> {"joints": (N, K, 2) crop pixels, "confidence": (N, K),
        "depth_mm": (N, K)}` (confidence optional, default 1; depth for 3D models). `meta` lets precomputed or
        oracle predictors be evaluated through the same path; `model_predict_fn` ignores it.
      dataset: iterable of `(images, meta)` batches (`eval_dataset`).
      flip_permutation: `(K,)` left/right permutation; enables the flip test.
      max_batches: stop after this many batches (None: the whole set).

    Returns:
      `Predictions`.
    """
    outputs, metas = [], []
    for index, (images, meta) in enumerate(dataset):
        if max_batches is not None and index >= max_batches:
            break
        images = np.asarray(images)
        meta = {key: np.asarray(value) for key, value in meta.items()}
        output = _run(predict_fn, images, meta)
        if flip_permutation is not None:
            permutation = list(flip_permutation)
            mirrored = _run(predict_fn, flip.flip_images(images), meta)
            mirrored["joints"] = flip.unflip_joints(mirrored["joints"], images.shape[2], permutation)
            for key in ("confidence", "depth_mm"):
                if key in mirrored:
                    mirrored[key] = mirrored[key][:, permutation]
            output = {key: (value + mirrored[key]) / 2.0 for key, value in output.items()}
        outputs.append(output)
        metas.append(meta)
    if not outputs:
        raise ValueError("The evaluation dataset yielded no examples; check the file pattern and the records")
    joined = {key: np.concatenate([output[key] for output in outputs]) for key in outputs[0]}
    return Predictions(joined["joints"], joined["confidence"],
                       {key: np.concatenate([meta[key] for meta in metas]) for key in metas[0]},
                       joined.get("depth_mm"))


def image_joints(predictions: Predictions) -> np.ndarray:
    """`(N, K, 2)` predicted joints in original-image pixels (through each crop's `crop_to_image`)."""
    return apply_affine(predictions.joints, predictions.meta["crop_to_image"])
