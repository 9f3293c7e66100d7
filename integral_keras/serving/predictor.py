"""One-image inference from an exported SavedModel or an in-memory Keras model, with the same crop."""
import pathlib

import keras
import numpy as np
import tensorflow as tf

from integral_keras.errors import InputError
from integral_keras.errors import tf_error_cause
from integral_keras.serving.client import whole_image_box
from integral_keras.serving.saved_model import SERVE_IMAGE_BYTES
from integral_keras.serving.saved_model import ServingFunctions
from integral_keras.serving.saved_model import load_serving_spec
from integral_keras.serving.spec import ServingSpec


class PosePredictor:
    """Predicts joints in original-image pixels from encoded images and person boxes.

    Build it with `from_saved_model` (runs the `serve_image_bytes` signature) or
    `from_keras` (runs the same decode / crop / inverse-map graph around a Keras
    model), so both paths give the same numbers.

    Args:
      predict_encoded: Callable `(image_bytes (N,), box (N, 4)) -> dict of tensors`.
      spec: The model's `ServingSpec`.
      keep_alive: An object the callable needs alive (the loaded SavedModel).
    """

    def __init__(self, predict_encoded, spec, keep_alive=None):
        self._predict_encoded = predict_encoded
        self.spec = spec
        self._keep_alive = keep_alive

    @classmethod
    def from_saved_model(cls, saved_model_dir):
        """Loads a version directory written by `export_saved_model`."""
        path = pathlib.Path(saved_model_dir)
        if not (path / "saved_model.pb").is_file():
            raise FileNotFoundError(f"No SavedModel at {path} (expected {path / 'saved_model.pb'}); pass the "
                                    f"version directory, e.g. saved_models/<name>/1.")
        loaded = tf.saved_model.load(str(path))
        signature = loaded.signatures[SERVE_IMAGE_BYTES]
        return cls(lambda image_bytes, box: signature(image_bytes=image_bytes, box=box),
                   load_serving_spec(path), keep_alive=loaded)

    @classmethod
    def from_keras(cls, model, config_or_params):
        spec = ServingSpec.from_config(config_or_params)
        functions = ServingFunctions(model, spec)
        return cls(tf.function(functions.predict_encoded, autograph=False), spec)

    def predict(self, image_bytes, box=None):
        """Runs one image.

        Args:
          image_bytes: Encoded JPEG / PNG bytes.
          box: `[x, y, w, h]` person box in image pixels; None uses the whole image.

        Returns:
          Dict of numpy arrays: `joints` `(K, 2)` image pixels, `confidence`
          `(K,)` and, for 3D models, `depth_mm` `(K,)`.

        Raises:
          InputError: the image cannot be decoded or the box is unusable; the message is TensorFlow's cause
            (e.g. `Unknown image file format. One of JPEG, PNG, GIF, BMP required.`), not "Graph execution error".
        """
        box = whole_image_box(image_bytes) if box is None else [float(v) for v in box]
        try:
            outputs = self._predict_encoded(tf.constant([image_bytes]), tf.constant([box], tf.float32))
        except tf.errors.InvalidArgumentError as error:
            raise InputError(f"{tf_error_cause(error.message)} (model input: the image and box "
                             f"{[round(v, 1) for v in box]})") from error
        return {key: np.asarray(value)[0] for key, value in outputs.items()}


def load_pose_model(config=None, model_path=None, checkpoint=None):
    """Builds or loads the Keras model to export or run.

    Args:
      config: An experiment config (with `.model`) or a `ModelConfig`; used to
        build the network when `model_path` is None.
      model_path: A `.keras` file (loaded with `safe_mode=True`).
      checkpoint: Optional weights to restore: a `.weights.h5` file, or a
        TensorFlow checkpoint prefix / directory holding the model as `model`.

    Returns:
      A `keras.Model`.
    """
    if model_path is not None:
        if not pathlib.Path(model_path).is_file():
            raise FileNotFoundError(f"Model file not found: {model_path}")
        model = keras.saving.load_model(model_path, safe_mode=True)
    elif config is not None:
        from integral_keras.models import build_pose_model

        model = build_pose_model(getattr(config, "model", config))
    else:
        raise ValueError("load_pose_model needs a config or a model_path.")
    if checkpoint is not None:
        restore_weights(model, checkpoint)
    return model


def restore_weights(model, checkpoint):
    """Restores `model`'s weights from a `.weights.h5` file or a TensorFlow checkpoint (see `load_pose_model`)."""
    checkpoint = str(checkpoint)
    if checkpoint.endswith(".weights.h5"):
        if not pathlib.Path(checkpoint).is_file():
            raise FileNotFoundError(f"Weights file not found: {checkpoint}")
        model.load_weights(checkpoint)
        return
    prefix = tf.train.latest_checkpoint(checkpoint) if pathlib.Path(checkpoint).is_dir() else checkpoint
    if prefix is None or not tf.io.gfile.glob(prefix + ".index"):
        raise FileNotFoundError(f"No TensorFlow checkpoint at {checkpoint}")
    tf.train.Checkpoint(model=model).restore(prefix).expect_partial().assert_existing_objects_matched()
