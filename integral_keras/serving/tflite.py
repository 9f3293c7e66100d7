"""TFLite export of the `serving_default` computation, and a LiteRT runner for it.

The `.tflite` file takes `images` `(B, H, W, 3)` float32 RGB in [0, 255] (crops
at the model input size, fixed batch `B`, 1 by default) and returns `joints`
`(B, K, 2)` in input pixels, `confidence` `(B, K)` and, for 3D models,
`depth_mm` `(B, K)` — the same decode as the SavedModel.

Quantization:
- `float32`: no quantization.
- `float16`: weights stored as float16 (half the size); CPU kernels compute in
  float32 after dequantizing them.
- `dynamic_int8`: weights stored as int8, activations quantized on the fly
  (dynamic-range quantization, no calibration data needed); the least accurate.

Inference uses `ai_edge_litert.interpreter.Interpreter` (`tf.lite.Interpreter`
is deprecated).
"""
import pathlib
import tempfile

import keras
import numpy as np
import tensorflow as tf

from integral_keras.serving.saved_model import SERVING_DEFAULT
from integral_keras.serving.saved_model import ServingFunctions
from integral_keras.serving.spec import ServingSpec

QUANTIZATIONS = ("float32", "float16", "dynamic_int8")


def _configure_quantization(converter, quantization):
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "dynamic_int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantization != "float32":
        raise ValueError(f"Unknown quantization {quantization!r}; expected one of {', '.join(QUANTIZATIONS)}.")


def tflite_paths(export_dir, name, quantizations):
    """`{quantization: <export_dir>/<name>/tflite/<name>_<quantization>.tflite}`, beside the SavedModel versions."""
    return {q: pathlib.Path(export_dir) / name / "tflite" / f"{name}_{q}.tflite" for q in quantizations}


def export_tflite(model, path, quantization="float32", config_or_params=None, batch_size=1):
    """Converts a pose model, with its serving decode, to a `.tflite` file.

    Args:
      model: A pose model (input `(N, H, W, 3)`, dict output).
      path: Output file path (parent directories are created).
      quantization: One of `QUANTIZATIONS`.
      config_or_params: Anything `ServingSpec.from_config` accepts; required.
      batch_size: Fixed batch size of the converted model.

    Returns:
      `pathlib.Path` of the written file.
    """
    return export_tflite_files(model, {quantization: path}, config_or_params, batch_size)[quantization]


def export_tflite_files(model, paths, config_or_params=None, batch_size=1):
    """Converts a pose model to several `.tflite` files, one per quantization.

    The model is traced and written to an intermediate SavedModel once, and each quantization is converted from
    it (cheaper than one `export_tflite` call per file).

    Args:
      model: A pose model (input `(N, H, W, 3)`, dict output).
      paths: `{quantization: output path}`, quantizations from `QUANTIZATIONS`.
      config_or_params: Anything `ServingSpec.from_config` accepts; required.
      batch_size: Fixed batch size of the converted models.

    Returns:
      `{quantization: pathlib.Path}` of the written files.
    """
    unknown = [q for q in paths if q not in QUANTIZATIONS]
    if unknown:
        raise ValueError(f"Unknown quantization {unknown[0]!r}; expected one of {', '.join(QUANTIZATIONS)}.")
    if config_or_params is None:
        raise ValueError("export_tflite needs config_or_params (a ModelConfig or ServingSpec fields).")
    spec = ServingSpec.from_config(config_or_params)
    functions = ServingFunctions(model, spec)
    # Through a SavedModel, as keras' own LiteRT export does: converting the concrete function directly
    # loses the Keras variables' values (the .tflite then returns NaN).
    archive = keras.export.ExportArchive()
    archive.add_endpoint(SERVING_DEFAULT, functions.predict_crops, functions.images_signature(batch_size))
    written = {}
    with tempfile.TemporaryDirectory() as saved_model_dir:
        archive.write_out(saved_model_dir, verbose=False)
        for quantization, path in paths.items():
            converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[SERVING_DEFAULT])
            _configure_quantization(converter, quantization)
            path = pathlib.Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(converter.convert())
            written[quantization] = path
    return written


class LiteRTPoseModel:
    """Runs an exported `.tflite` pose model with LiteRT.

    Args:
      path: The `.tflite` file from `export_tflite`.
      num_threads: Interpreter threads.
    """

    def __init__(self, path, num_threads=1):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise ImportError("Running .tflite models needs `ai-edge-litert` "
                              "(pip install 'integral_keras[litert]').") from error
        path = pathlib.Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"TFLite model not found: {path}")
        self.path = path
        self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self._runner = self.interpreter.get_signature_runner(self._signature_key())
        self.input_details = self._runner.get_input_details()

    def _signature_key(self):
        keys = list(self.interpreter.get_signature_list())
        if not keys:
            raise ValueError(f"{self.path} has no signature; export it with export_tflite.")
        return SERVING_DEFAULT if SERVING_DEFAULT in keys else keys[0]

    @property
    def input_shape(self):
        """`(B, H, W, 3)` the model expects."""
        (details,) = self.input_details.values()
        return tuple(int(d) for d in details["shape"])

    def __call__(self, images):
        """`(B, H, W, 3)` float32 crops -> dict of numpy outputs (`joints`, `confidence`[, `depth_mm`])."""
        (name,) = self.input_details
        images = np.asarray(images, np.float32)
        if images.shape != self.input_shape:
            raise ValueError(f"{self.path} expects images of shape {self.input_shape}; got {images.shape}.")
        return {key: np.asarray(value) for key, value in self._runner(**{name: images}).items()}
