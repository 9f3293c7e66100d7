"""SavedModel export with two serving signatures, laid out for TF Serving.

`export_saved_model(model, config, "saved_models")` writes
`saved_models/<name>/<version>/` (the layout TF Serving watches) with:

- `serving_default`: `images` `(N, H, W, 3)` float32 RGB in [0, 255], already
  cropped to the model input -> `joints` `(N, K, 2)` in input pixels,
  `confidence` `(N, K)` and, for 3D models, `depth_mm` `(N, K)`.
- `serve_image_bytes`: `image_bytes` (string scalar or `(N,)` of encoded
  JPEG / PNG) and `box` (`(4,)` or `(N, 4)` float `[x, y, w, h]` person boxes in
  original-image pixels) -> the same outputs with `joints` in ORIGINAL-image
  pixels. Bad input (undecodable or empty bytes, wrong ranks, non-positive
  boxes) fails with InvalidArgumentError.

Neither signature returns numbers for numbers it cannot mean: `serving_default`
refuses crops holding NaN or infinity, and `serve_image_bytes` refuses boxes that
are not finite, that do not intersect the image, or whose sides exceed
`image_crop.MAX_BOX_TO_IMAGE` times the image's longer side (a box of 1e30 would
map joints back to about 1e30), all with InvalidArgumentError naming the input.
The `.tflite` export serves `predict_crops` without the check (LiteRT has no
CheckNumerics op); its callers check their crops.

`assets.extra/serving_spec.json` (ignored by TF Serving) records the
`ServingSpec`. The archive is built with `keras.export.ExportArchive`, which
stores every weight once.
"""
import os
import pathlib
import shutil
import uuid

import keras
import tensorflow as tf

from integral_keras.serving import image_crop
from integral_keras.serving.pose_decoder import PoseDecoder
from integral_keras.serving.pose_decoder import expose_heatmap_logits
from integral_keras.serving.spec import SPEC_FILENAME
from integral_keras.serving.spec import ServingSpec

SERVING_DEFAULT = "serving_default"
SERVE_IMAGE_BYTES = "serve_image_bytes"
SPEC_SUBDIR = "assets.extra"


class ServingFunctions:
    """The model and decoding composed into the functions each signature serves.

    Args:
      model: A pose model (input `(N, H, W, 3)`, dict output).
      spec: Its `ServingSpec`.
    """

    def __init__(self, model, spec):
        self.spec = spec
        self.model = expose_heatmap_logits(model, spec)
        self.decoder = PoseDecoder(spec)

    def images_signature(self, batch_size=None):
        height, width = self.spec.input_size
        return [tf.TensorSpec((batch_size, height, width, 3), tf.float32, name="images")]

    @staticmethod
    def bytes_signature():
        return [tf.TensorSpec(None, tf.string, name="image_bytes"), tf.TensorSpec(None, tf.float32, name="box")]

    def predict_crops(self, images):
        """`(N, H, W, 3)` crops -> dict of `joints` (crop pixels), `confidence` (, `depth_mm`)."""
        return self.decoder(self.model(images, training=False))

    def serve_crops(self, images):
        """`predict_crops` for the `serving_default` signature: InvalidArgumentError for non-finite pixels."""
        images = tf.debugging.assert_all_finite(images, message="images must be finite (no NaN or infinity)")
        return self.predict_crops(images)

    def predict_encoded(self, image_bytes, box):
        """Encoded images and person boxes -> the same dict with joints in original-image pixels."""
        image_bytes, boxes = image_crop.check_bytes_and_boxes(image_bytes, box)
        crops, matrices = image_crop.crop_batch(image_bytes, boxes, self.spec.input_size, self.spec.box_padding)
        result = self.predict_crops(crops)
        result["joints"] = image_crop.crop_to_image(result["joints"], matrices)
        return result


def _version_dir(model_dir, version):
    """Picks `model_dir/<version>`: the given version, or one above the highest existing one."""
    if version is None:
        existing = [int(p.name) for p in model_dir.glob("*") if p.is_dir() and p.name.isdigit()]
        version = max(existing, default=0) + 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive int (TF Serving's version directory); got {version!r}.")
    target = model_dir / str(version)
    if target.exists():
        raise FileExistsError(f"Export directory {target} already exists; pass another version or remove it.")
    return target


def export_saved_model(model, config_or_params, export_dir, version=None, name=None):
    """Exports `model` as a SavedModel that TF Serving can load.

    Args:
      model: A built pose model: input `(N, H, W, 3)` float32 RGB in [0, 255],
        output dict with `joints` (heat-map units) and/or `heatmaps` (logits).
      config_or_params: A `ModelConfig`, an experiment config, a dict of
        `ServingSpec` fields or a `ServingSpec`.
      export_dir: Base directory, e.g. `saved_models`; the model is written to
        `<export_dir>/<name>/<version>/`.
      version: Positive int; None picks one above the highest existing version.
      name: Model name; overrides the spec's.

    Returns:
      `pathlib.Path` of the written version directory.
    """
    spec = ServingSpec.from_config(config_or_params, name=name)
    target = _version_dir(pathlib.Path(export_dir) / spec.name, version)
    functions = ServingFunctions(model, spec)

    # No `archive.track(model)`: it would list the Keras variable wrappers next to the tf.Variables the
    # endpoints capture, and the checkpoint would then hold every weight twice.
    archive = keras.export.ExportArchive()
    archive.add_endpoint(SERVING_DEFAULT, functions.serve_crops, functions.images_signature())
    archive.add_endpoint(SERVE_IMAGE_BYTES, functions.predict_encoded, functions.bytes_signature())

    # Write next to the target and rename, so TF Serving never sees a half-written version.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".staging-{target.name}-{uuid.uuid4().hex[:8]}"
    try:
        archive.write_out(str(staging), verbose=False)
        (staging / SPEC_SUBDIR).mkdir(exist_ok=True)
        (staging / SPEC_SUBDIR / SPEC_FILENAME).write_text(spec.to_json(), encoding="utf-8")
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_serving_spec(saved_model_dir):
    """Reads the `ServingSpec` stored with an export by `export_saved_model`."""
    path = pathlib.Path(saved_model_dir) / SPEC_SUBDIR / SPEC_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"No serving spec at {path}; was {saved_model_dir} written by export_saved_model?")
    return ServingSpec.from_json(path.read_text(encoding="utf-8"))
