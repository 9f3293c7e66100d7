"""Decodes one serialized person-instance Example (`integral_keras.data.schema`) into a dict of tensors.

Output keys (docs/architecture.md): `image` uint8 `(H, W, 3)`, `image_id`, `filename`, `dataset`, `bbox (4,)`,
`center (2,)`, `scale (2,)`, `score`, `keypoints_2d (K, 2)`, `visible (K,)`, `has_3d` (float32 scalar),
`keypoints_3d (K, 3)`, `focal (2,)`, `principal_point (2,)`, `root_depth`, `headbox (4,)`, `subject`, `action`,
`subaction`, `camera`, `frame` (int64) and `valid` (bool). Floats are float32.

Two kinds of bad record, told apart so the input reader can count them:
- Undecodable image: `valid` is False and `image` is a `(1, 1, 3)` zero dummy, all other keys as usual. The
  image bytes are checked with graph ops *before* decoding, so the pipeline never fails on them: they must start
  with the JPEG (`FF D8 FF`) or PNG signature and must hold the end marker (JPEG `FF D9`, PNG `IEND`) within their
  last `_TAIL_BYTES` bytes, which catches empty, foreign and truncated files. An image whose decoded size differs
  from a non-zero `image/height` / `image/width` is invalid too (its labels would not fit it).
- Corrupt record: bytes that are not an Example, a missing required feature (`image/encoded`, `keypoints/num`,
  `keypoints/2d`), per-joint features of the wrong length, and image bytes that pass the checks above but still
  fail inside the image decoder (damage in the middle of the data) raise `InvalidArgumentError`; the input reader
  drops those with `Dataset.ignore_errors` and counts them.
"""
from typing import Dict

import tensorflow as tf

from integral_keras.data import schema

_TAIL_BYTES = 4096
_JPEG_MAGIC = b"\xff\xd8\xff"
_JPEG_END = b"\xff\xd9"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND"
_ID_KEYS = ("image_id", "subject", "action", "subaction", "camera", "frame")


def _contains(haystack: tf.Tensor, needle: bytes) -> tf.Tensor:
    """True where the scalar byte string `haystack` contains `needle` (byte-wise split, not a regex)."""
    return tf.size(tf.strings.split(haystack, sep=needle)) > 1


def is_complete_image(encoded: tf.Tensor) -> tf.Tensor:
    """Bool scalar: `encoded` looks like a whole JPEG or PNG file (signature and end marker present)."""
    length = tf.strings.length(encoded)
    tail = tf.strings.substr(encoded, tf.maximum(length - _TAIL_BYTES, 0), _TAIL_BYTES)
    head = tf.strings.substr(encoded, 0, len(_PNG_MAGIC))
    is_jpeg = tf.strings.substr(head, 0, len(_JPEG_MAGIC)) == _JPEG_MAGIC
    is_png = tf.equal(head, _PNG_MAGIC)
    # Each branch is evaluated only when its format matched, so only one tail split runs.
    return tf.cond(is_jpeg, lambda: _contains(tail, _JPEG_END),
                   lambda: tf.logical_and(is_png, _contains(tail, _PNG_END)))


def _decode_image(encoded: tf.Tensor, height: tf.Tensor, width: tf.Tensor):
    """(image uint8 (H, W, 3), valid bool); a (1, 1, 3) zero dummy when invalid."""
    dummy = lambda: tf.zeros([1, 1, 3], tf.uint8)  # noqa: E731

    def decode():
        image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
        image.set_shape([None, None, 3])
        return image

    complete = is_complete_image(encoded)
    image = tf.cond(complete, decode, dummy)
    shape = tf.cast(tf.shape(image)[:2], tf.int64)
    size_ok = tf.logical_and(tf.logical_or(height <= 0, shape[0] == height),
                             tf.logical_or(width <= 0, shape[1] == width))
    valid = tf.logical_and(complete, size_ok)
    image = tf.cond(valid, lambda: image, dummy)
    return image, valid


def _per_joint(parsed, field: schema.Field, num_joints: tf.Tensor, default: float) -> tf.Tensor:
    """Dense `(K, d)` (or `(K,)` when d = 1) of a per-joint feature; `default` everywhere if absent."""
    values = tf.sparse.to_dense(parsed[field.key])
    size = field.shape[1]
    values = tf.cond(tf.size(values) == 0,
                     lambda: tf.fill([num_joints * size], tf.constant(default, values.dtype)),
                     lambda: values)
    check = tf.debugging.assert_equal(
        tf.size(values), num_joints * size, message=f"feature {field.key!r} must hold keypoints/num * {size} values")
    with tf.control_dependencies([check]):
        values = tf.identity(values)
    return values if size == 1 else tf.reshape(values, [num_joints, size])


def decode_example(serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Parses and decodes one serialized `tf.train.Example` (graph-safe; use inside `Dataset.map`).

    Args:
      serialized: scalar string tensor.

    Returns:
      The dict described in the module docstring.

    Raises:
      tf.errors.InvalidArgumentError: for a corrupt record (see the module docstring), at run time.
    """
    parsed = tf.io.parse_single_example(serialized, schema.feature_spec())
    check = tf.debugging.assert_positive(parsed["keypoints/num"], message="feature 'keypoints/num' must be positive")
    with tf.control_dependencies([check]):
        num_joints = tf.cast(parsed["keypoints/num"], tf.int32)
    fields = schema.FIELDS_BY_NAME
    image, valid = _decode_image(parsed["image/encoded"], parsed["image/height"], parsed["image/width"])
    decoded = {
        "image": image,
        "filename": parsed["image/filename"],
        "dataset": parsed["dataset"],
        "keypoints_2d": _per_joint(parsed, fields["keypoints_2d"], num_joints, 0.0),
        "visible": _per_joint(parsed, fields["visible"], num_joints, 1.0),
        "has_3d": tf.cast(parsed["keypoints/has_3d"], tf.float32),
        "keypoints_3d": _per_joint(parsed, fields["keypoints_3d"], num_joints, 0.0),
        "valid": valid,
    }
    for name in ("bbox", "center", "scale", "score", "focal", "principal_point", "root_depth", "headbox"):
        decoded[name] = parsed[fields[name].key]
    for name in _ID_KEYS:
        decoded[name] = parsed[fields[name].key]
    return decoded
