"""TFRecord schema: one `tf.train.Example` per person instance (docs/architecture.md, TFRecord schema).

Every feature is described once, in `FIELDS`; the parsing spec (`feature_spec`), the writer (`make_example`) and
the decoder (`integral_keras.data.decoder`) all read that table. All coordinates are 0-based pixels of the original
image, pixel `i` having its centre at `i`. `K` is the number of joints of the record's skeleton.

| field (make_example / decoder key) | feature key | type | shape | default | meaning |
|---|---|---|---|---|---|
| `image`           | `image/encoded`       | bytes | ()     | required | JPEG or PNG bytes |
| `image_format`    | `image/format`        | bytes | ()     | from the bytes | `jpeg` or `png` |
| `height`, `width` | `image/height`, `image/width` | int64 | () | from the image | image size |
| `image_id`        | `image/id`            | int64 | ()     | 0 | COCO image id / running index |
| `filename`        | `image/filename`      | bytes | ()     | `""` | original file name, relative to the image root |
| `dataset`         | `dataset`             | bytes | ()     | required | `synthetic`, `mpii`, `coco`, `h36m`, `jsonl` |
| `bbox`            | `person/bbox`         | float | (4,)   | tight box of the visible joints | `[x, y, w, h]` |
| `center`          | `person/center`       | float | (2,)   | centre of `bbox` | crop centre `[cx, cy]` |
| `scale`           | `person/scale`        | float | (2,)   | `bbox` size | crop size `[w, h]`, padded / aspect-fixed |
| `score`           | `person/score`        | float | ()     | 1.0 | detection score (1.0 for ground-truth boxes) |
| (from `keypoints_2d`) | `keypoints/num`   | int64 | ()     | required | K |
| `keypoints_2d`    | `keypoints/2d`        | float | (K*2,) | required | x, y per joint; given as `(K, 2)` |
| `visible`         | `keypoints/visible`   | float | (K,)   | all ones | 1 labelled/visible, 0 not |
| `has_3d`          | `keypoints/has_3d`    | int64 | ()     | 1 if `keypoints_3d` given | `keypoints/3d` is meaningful |
| `keypoints_3d`    | `keypoints/3d`        | float | (K*3,) | zeros | camera-space root-relative mm; given `(K, 3)` |
| `focal`           | `camera/focal`        | float | (2,)   | zeros | fx, fy in pixels (zeros if unknown) |
| `principal_point` | `camera/center`       | float | (2,)   | zeros | cx, cy in pixels |
| `root_depth`      | `camera/root_depth`   | float | ()     | 0.0 | absolute root depth in mm (for back-projection) |
| `headbox`         | `mpii/headbox`        | float | (4,)   | zeros | `[x1, y1, x2, y2]` |
| `subject`, `action`, `subaction`, `camera`, `frame` | `h36m/<name>` | int64 | () | 0 | Human3.6M ids |

A record missing an optional feature parses with its default, so one spec reads the records of every converter.
TensorFlow is imported only by the functions that build or parse protos, so the image helpers (`encode_image`,
`image_format_of`) and the field table serve TensorFlow-free processes such as the synthetic data workers.
"""
import dataclasses
from typing import Any, Dict, Optional, Tuple

import numpy as np

BYTES, INT64, FLOAT = "bytes", "int64", "float"
IMAGE_FORMATS = ("jpeg", "png")
DATASETS = ("synthetic", "mpii", "coco", "h36m", "jsonl")
DEFAULT_JPEG_QUALITY = 95

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclasses.dataclass(frozen=True)
class Field:
    """One feature of the schema.

    Attributes:
      name: keyword of `make_example` and key of the decoded dict.
      key: feature key inside the `tf.train.Example`.
      dtype: `bytes`, `int64` or `float`.
      shape: `()` for a scalar, `(n,)` for a fixed-length vector, `(None, d)` for `d` values per joint (stored
        flattened, `K*d` values).
      default: value used when the feature is absent from a record (None: the feature is required).
      doc: one-line meaning.
    """

    name: str
    key: str
    dtype: str
    shape: Tuple[Optional[int], ...]
    default: Any
    doc: str

    @property
    def per_joint(self) -> bool:
        return len(self.shape) == 2


FIELDS = (
    Field("image", "image/encoded", BYTES, (), None, "JPEG or PNG bytes"),
    Field("image_format", "image/format", BYTES, (), b"", "`jpeg` or `png`"),
    Field("height", "image/height", INT64, (), 0, "image height in pixels"),
    Field("width", "image/width", INT64, (), 0, "image width in pixels"),
    Field("image_id", "image/id", INT64, (), 0, "COCO image id / running index"),
    Field("filename", "image/filename", BYTES, (), b"", "original file name, relative to the image root"),
    Field("dataset", "dataset", BYTES, (), b"", "source data set: " + ", ".join(DATASETS)),
    Field("bbox", "person/bbox", FLOAT, (4,), (0.0,) * 4, "person box [x, y, w, h]"),
    Field("center", "person/center", FLOAT, (2,), (0.0,) * 2, "crop centre [cx, cy]"),
    Field("scale", "person/scale", FLOAT, (2,), (0.0,) * 2, "crop size [w, h] in pixels"),
    Field("score", "person/score", FLOAT, (), 1.0, "detection score (1 for ground-truth boxes)"),
    Field("num_joints", "keypoints/num", INT64, (), None, "number of joints K"),
    Field("keypoints_2d", "keypoints/2d", FLOAT, (None, 2), None, "x, y per joint"),
    Field("visible", "keypoints/visible", FLOAT, (None, 1), (), "1 labelled/visible, 0 not"),
    Field("has_3d", "keypoints/has_3d", INT64, (), 0, "1 if keypoints/3d is meaningful"),
    Field("keypoints_3d", "keypoints/3d", FLOAT, (None, 3), (), "camera-space root-relative x, y, z in mm"),
    Field("focal", "camera/focal", FLOAT, (2,), (0.0,) * 2, "fx, fy in pixels (zeros if unknown)"),
    Field("principal_point", "camera/center", FLOAT, (2,), (0.0,) * 2, "cx, cy in pixels"),
    Field("root_depth", "camera/root_depth", FLOAT, (), 0.0, "absolute root depth in mm"),
    Field("headbox", "mpii/headbox", FLOAT, (4,), (0.0,) * 4, "MPII head box [x1, y1, x2, y2]"),
    Field("subject", "h36m/subject", INT64, (), 0, "Human3.6M subject id"),
    Field("action", "h36m/action", INT64, (), 0, "Human3.6M action id"),
    Field("subaction", "h36m/subaction", INT64, (), 0, "Human3.6M sub-action id"),
    Field("camera", "h36m/camera", INT64, (), 0, "Human3.6M camera id"),
    Field("frame", "h36m/frame", INT64, (), 0, "Human3.6M frame index"),
)
FIELDS_BY_NAME = {field.name: field for field in FIELDS}

# Keywords of `make_example`: every field except `num_joints`, which is K of `keypoints_2d`.
_REQUIRED_ARGS = ("image", "keypoints_2d", "dataset")
_ARGS = tuple(field.name for field in FIELDS if field.name != "num_joints") + ("jpeg_quality",)

def feature_spec() -> Dict[str, Any]:
    """The `tf.io.parse_single_example` spec: fixed features with their defaults, per-joint features VarLen."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    dtypes = {BYTES: tf.string, INT64: tf.int64, FLOAT: tf.float32}
    spec = {}
    for field in FIELDS:
        dtype = dtypes[field.dtype]
        if field.per_joint:
            spec[field.key] = tf.io.VarLenFeature(dtype)
        else:
            spec[field.key] = tf.io.FixedLenFeature(field.shape, dtype, default_value=field.default)
    return spec


def image_format_of(encoded: bytes) -> str:
    """`jpeg` or `png` from the magic bytes; raises ValueError for anything else."""
    if encoded.startswith(_JPEG_MAGIC):
        return "jpeg"
    if encoded.startswith(_PNG_MAGIC):
        return "png"
    raise ValueError(f"Field 'image': bytes are neither JPEG nor PNG (start {encoded[:8]!r}).")


def encode_image(image: np.ndarray, image_format: str = "jpeg", jpeg_quality: int = DEFAULT_JPEG_QUALITY) -> bytes:
    """Encodes an RGB uint8 image `(H, W, 3)` as JPEG or PNG bytes."""
    import cv2  # pylint: disable=import-outside-toplevel

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"Field 'image': expected a uint8 (H, W, 3) RGB array, got {image.dtype} {image.shape}.")
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"Field 'image_format': {image_format!r} is not one of {IMAGE_FORMATS}.")
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if image_format == "jpeg" else []
    ok, buffer = cv2.imencode("." + ("jpg" if image_format == "jpeg" else "png"), image[..., ::-1], params)
    if not ok:
        raise ValueError(f"Field 'image': OpenCV could not encode the image as {image_format}.")
    return buffer.tobytes()


def _image_size(encoded: bytes) -> Tuple[int, int]:
    """(height, width) of encoded image bytes (decodes them)."""
    import cv2  # pylint: disable=import-outside-toplevel

    decoded = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ValueError("Field 'image': the encoded bytes could not be decoded to find the image size.")
    return decoded.shape[0], decoded.shape[1]


def _finite_array(name: str, value, shape: Tuple[Optional[int], ...]) -> np.ndarray:
    """`value` as float64 of `shape` (None matches any size); raises ValueError naming the field."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        expected = "(" + ", ".join("K" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"Field {name!r}: expected shape {expected}, got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Field {name!r}: contains NaN or infinite values: {array.tolist()}.")
    return array


def _integer(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not float(value).is_integer():
        raise ValueError(f"Field {name!r}: expected an integer, got {value!r}.")
    return int(value)


def _text(name: str, value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ValueError(f"Field {name!r}: expected str or bytes, got {type(value).__name__}.")


def default_bbox(keypoints_2d: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Tight `[x, y, w, h]` box of the visible joints; zeros when none is visible."""
    points = keypoints_2d[visible > 0]
    if not len(points):
        return np.zeros(4)
    low, high = points.min(axis=0), points.max(axis=0)
    return np.concatenate([low, high - low])


def _feature(dtype: str, values) -> "tf.train.Feature":
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    if dtype == BYTES:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[values]))
    flat = np.ravel(values)
    if dtype == INT64:
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in flat]))
    return tf.train.Feature(float_list=tf.train.FloatList(value=flat.astype(np.float32).tolist()))


def make_example(**fields) -> "tf.train.Example":
    """Builds one person-instance `tf.train.Example`, validating every field.

    Args:
      **fields: the fields of the module table by name. Required: `image` (encoded JPEG/PNG bytes, or a uint8
        `(H, W, 3)` RGB array that is encoded as `image_format`, default `jpeg`, with `jpeg_quality`, default 95),
        `keypoints_2d` `(K, 2)` and `dataset`. Per-joint arrays: `visible (K,)`, `keypoints_3d (K, 3)`.
        Omitted optional fields take the defaults of the table.

    Returns:
      The `tf.train.Example`; serialise it with `.SerializeToString()`.

    Raises:
      TypeError: a missing required field or an unknown field (names it and the valid ones).
      ValueError: a field of the wrong shape or type, or a float field holding NaN/inf (names the field).
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    unknown = sorted(set(fields) - set(_ARGS))
    if unknown:
        raise TypeError(f"make_example got unknown field(s) {unknown}; valid: {sorted(_ARGS)}.")
    missing = [name for name in _REQUIRED_ARGS if fields.get(name) is None]
    if missing:
        raise TypeError(f"make_example is missing required field(s) {missing}.")
    values: Dict[str, Any] = {name: value for name, value in fields.items() if value is not None}

    image = values["image"]
    if isinstance(image, (bytes, bytearray)):
        image = bytes(image)
        detected = image_format_of(image)
        given = values.get("image_format")
        if given is not None and _text("image_format", given).decode() != detected:
            raise ValueError(f"Field 'image_format': {given!r} but the bytes are {detected}.")
        values["image_format"] = detected
        if "height" not in values or "width" not in values:
            values["height"], values["width"] = _image_size(image)
    else:
        array = np.asarray(image)
        values.setdefault("image_format", "jpeg")
        image = encode_image(array, values["image_format"], values.get("jpeg_quality", DEFAULT_JPEG_QUALITY))
        for name, size in (("height", array.shape[0]), ("width", array.shape[1])):
            if values.setdefault(name, size) != size:
                raise ValueError(f"Field {name!r}: {values[name]} but the image array has {size}.")
    values["image"] = image
    values.pop("jpeg_quality", None)

    keypoints_2d = _finite_array("keypoints_2d", values["keypoints_2d"], (None, 2))
    num_joints = len(keypoints_2d)
    values["keypoints_2d"] = keypoints_2d
    values["num_joints"] = num_joints
    values["visible"] = _finite_array("visible", values.get("visible", np.ones(num_joints)), (num_joints,))
    if "keypoints_3d" in values:
        values["keypoints_3d"] = _finite_array("keypoints_3d", values["keypoints_3d"], (num_joints, 3))
        values.setdefault("has_3d", 1)
    else:
        values["keypoints_3d"] = np.zeros((num_joints, 3))
    bbox = values["bbox"] if "bbox" in values else default_bbox(keypoints_2d, values["visible"])
    bbox = _finite_array("bbox", bbox, (4,))
    values["bbox"] = bbox
    values.setdefault("center", bbox[:2] + bbox[2:] / 2)
    values.setdefault("scale", bbox[2:])

    features = {}
    for field in FIELDS:
        value = values.get(field.name, field.default)
        if field.dtype == BYTES:
            value = _text(field.name, value)
        elif field.dtype == INT64:
            value = _integer(field.name, value)
        elif not field.per_joint:
            value = _finite_array(field.name, value, field.shape)
        features[field.key] = _feature(field.dtype, value)
    return tf.train.Example(features=tf.train.Features(feature=features))
