"""Decodes one serialized person-instance Example (`integral_keras.data.schema`) into a dict of tensors.

Output keys (docs/architecture.md): `image` uint8 `(H, W, 3)`, `image_id`, `filename`, `dataset`, `bbox (4,)`,
`center (2,)`, `scale (2,)`, `score`, `keypoints_2d (K, 2)`, `visible (K,)`, `has_3d` (float32 scalar),
`keypoints_3d (K, 3)`, `focal (2,)`, `principal_point (2,)`, `root_depth`, `headbox (4,)`, `subject`, `action`,
`subaction`, `camera`, `frame` (int64), `valid` (bool: the image decoded) and `skip_reason` (int32: 0 for a usable
example, else the index of its reason in `SKIP_REASONS`). Floats are float32.

A *usable example* (what training and evaluation keep; `check_labels`): the image decodes; the required features
(`image/encoded`, `keypoints/num`, `keypoints/2d`) are present; every float feature (keypoints, visibility, 3D joints,
box, centre, scale, camera, head box, score, root depth) is finite; both `person/scale` sides are positive; and every
2D keypoint lies within the image enlarged by `KEYPOINT_MARGIN` times its longer side on each side (COCO's
unlabelled joints at (0, 0) pass; a 1e6-pixel joint does not). Anything else decodes as usual with a non-zero
`skip_reason`, which the input reader counts per reason and drops (`SKIP_REASONS[skip_reason]`, first failing
check in that order).

Bad images and corrupt records, told apart so the input reader can count them:
- Undecodable image: `valid` is False and `image` is a `(1, 1, 3)` zero dummy, all other keys as usual. The
  image bytes are checked with graph ops *before* decoding, so the pipeline never fails on them: they must start
  with the JPEG (`FF D8 FF`) or PNG signature and must hold the end marker (JPEG `FF D9`, PNG `IEND`) within their
  last `_TAIL_BYTES` bytes, which catches empty, foreign and truncated files. An image whose decoded size differs
  from a non-zero `image/height` / `image/width` is invalid too (its labels would not fit it).
- Corrupt record: bytes that are not an Example, a missing `image/encoded` or `keypoints/num` (the parsing spec
  requires them), per-joint features of the wrong length, and image bytes that pass the checks above but still
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
_FLOAT_KEYS = ("keypoints_2d", "visible", "keypoints_3d", "bbox", "center", "scale", "score", "focal",
               "principal_point", "root_depth", "headbox")

#: Why a decoded example is not usable, indexed by `decoded["skip_reason"]` (0: usable). These names are the
#: input reader's skip counters.
SKIP_REASONS = ("", "undecodable_images", "missing_features", "non_finite_labels", "non_positive_scale",
                "keypoints_out_of_range")
#: Keypoints may lie this many times the image's longer side outside the image (truncated people, COCO's
#: unlabelled joints at (0, 0)); farther ones are label errors.
KEYPOINT_MARGIN = 1.0


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


def check_labels(decoded: Dict[str, tf.Tensor], keypoints_present: tf.Tensor = True) -> tf.Tensor:
    """int32 scalar `skip_reason` of a decoded example: 0 if usable, else the index of the first failed check in
    `SKIP_REASONS` (module docstring).

    Args:
      decoded: a `decode_example` dict (its `skip_reason` is ignored).
      keypoints_present: bool scalar, whether the record held `keypoints/2d`.
    """
    finite = tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(decoded[key])) for key in _FLOAT_KEYS]))
    scale_ok = tf.reduce_all(decoded["scale"] > 0.0)
    size = tf.cast(tf.shape(decoded["image"])[:2], tf.float32)
    margin = KEYPOINT_MARGIN * tf.reduce_max(size)
    low = -margin
    high = tf.stack([size[1], size[0]]) - 1.0 + margin  # (x, y) limits
    joints = decoded["keypoints_2d"]
    # NaN fails every comparison, so `in_range` is False for it; `finite` is checked first anyway.
    in_range = tf.reduce_all((joints >= low) & (joints <= high))
    checks = [decoded["valid"], keypoints_present, finite, scale_ok, in_range]
    reason = tf.constant(0, tf.int32)
    for index in reversed(range(len(checks))):  # the first failing check wins
        reason = tf.where(checks[index], reason, tf.constant(index + 1, tf.int32))
    return reason


def decode_example(serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Parses and decodes one serialized `tf.train.Example` (graph-safe; use inside `Dataset.map`).

    Args:
      serialized: scalar string tensor.

    Returns:
      The dict described in the module docstring; `skip_reason` says whether the example is usable.

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
    keypoints_present = tf.size(parsed[fields["keypoints_2d"].key].values) > 0
    decoded["skip_reason"] = check_labels(decoded, keypoints_present)
    return decoded
