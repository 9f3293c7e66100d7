"""Predictor adapters: a Keras model, a SavedModel or a `.tflite` export as a `PredictFn` for the evaluation.

A `PredictFn` (`evaluation.predictions.PredictFn`) maps `(images (N, H, W, 3), meta)` to what the exported models'
`serving_default` signature returns: `joints` `(N, K, 2)` crop pixels, `confidence` `(N, K)` and, for 3D models,
`depth_mm` `(N, K)`. All three decode through the same path (`ServingFunctions` -> `PoseDecoder` -> the config's
`PoseCodec`), so a Keras model is scored exactly like its export:

    predictions = collect_predictions(model_predict_fn(model, config.model), dataset)
"""
import os

import numpy as np
import tensorflow as tf

from integral_keras.evaluation.predictions import PredictFn
from integral_keras.serving.saved_model import SERVING_DEFAULT
from integral_keras.serving.saved_model import ServingFunctions
from integral_keras.serving.spec import ServingSpec
from integral_keras.serving.tflite import LiteRTPoseModel


def model_predict_fn(model, model_config, confidence_radius: int = 1) -> PredictFn:
    """Wraps a Keras pose model as a `PredictFn` that decodes exactly like its exported `serving_default`.

    Joints come from the `joints` output (regression / integral methods) or the arg-max of `heatmaps` (H1-H3),
    mapped to crop pixels (and mm) by the model's codec, with the serving confidence
    (`serving.ServingFunctions.predict_crops`).

    Args:
      model: a `build_pose_model` network (or one loaded from `.keras`).
      model_config: its `ModelConfig` (method, joints, sizes, depth, beta).
      confidence_radius: window half-width of the integral confidence.

    Returns:
      callable `(images, meta) -> {"joints": (N, K, 2), "confidence": (N, K)[, "depth_mm": (N, K)]}` numpy arrays
      (meta unused).
    """
    spec = ServingSpec.from_config(model_config, confidence_radius=confidence_radius)
    predict = tf.function(ServingFunctions(model, spec).predict_crops, reduce_retracing=True)

    def predict_fn(images, meta=None):
        del meta
        return {key: value.numpy() for key, value in predict(tf.convert_to_tensor(images, tf.float32)).items()}

    return predict_fn


def saved_model_predict_fn(saved_model_dir) -> PredictFn:
    """A `PredictFn` running the `serving_default` signature of a SavedModel written by `export_saved_model`."""
    path = os.fspath(saved_model_dir)
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise FileNotFoundError(f"No SavedModel at {path} (expected saved_model.pb); pass the version directory")
    loaded = tf.saved_model.load(path)
    signature = loaded.signatures[SERVING_DEFAULT]

    def predict_fn(images, meta=None):
        del meta
        outputs = signature(images=tf.convert_to_tensor(images, tf.float32))
        return {key: value.numpy() for key, value in outputs.items()}

    predict_fn.saved_model = loaded  # keeps the loaded object (and its variables) alive with the function
    return predict_fn


def tflite_predict_fn(tflite_path, num_threads: int = 1) -> PredictFn:
    """A `PredictFn` running a `.tflite` export with LiteRT; batches are split / padded to its fixed batch size."""
    runner = LiteRTPoseModel(tflite_path, num_threads=num_threads)
    batch_size = runner.input_shape[0]

    def predict_fn(images, meta=None):
        del meta
        images = np.asarray(images, np.float32)
        chunks = []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            padding = batch_size - len(chunk)
            if padding:  # repeat the last crop; its copies are dropped below
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], padding, axis=0)])
            chunks.append({key: value[:batch_size - padding] for key, value in runner(chunk).items()})
        return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}

    return predict_fn
