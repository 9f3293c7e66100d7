"""The converter loop shared by every data set: records in, sharded TFRecords out, bad records skipped and counted.

A data-set reader (coco.py, mpii.py, h36m.py, jsonl.py) turns its annotation files into an iterable of `Record`
(one person instance, image path relative to the image root, `make_example` fields) and `Skipped` (an entry that
cannot become a record, with the reason). `convert` reads each record's image, checks it, builds the Example and
writes it; any problem with one record is logged with the record's id and counted per reason, never raised.
"""
import collections
import dataclasses
import json
import os
import pathlib
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import numpy as np
from absl import logging

from integral_keras.data import decoder
from integral_keras.data import schema
from integral_keras.data import writer as writer_lib

#: Skip reasons raised by `convert` itself; readers add their own (e.g. `crowd`, `malformed_entry`).
MISSING_IMAGE = "missing_image"
UNREADABLE_IMAGE = "unreadable_image"
PATH_OUTSIDE_ROOT = "path_outside_root"
NON_FINITE_VALUES = "non_finite_values"
INVALID_FIELDS = "invalid_fields"
MALFORMED_ENTRY = "malformed_entry"

#: Exceptions that mean "this annotation entry is malformed" when a reader parses one entry.
ENTRY_ERRORS = (AttributeError, KeyError, IndexError, TypeError, ValueError)


@dataclasses.dataclass
class Record:
    """One person instance ready to be written.

    Attributes:
      record_id: a short human-readable id used in log messages (e.g. `ann 183126` or `valid.json[12]`).
      image_path: image file path relative to the image root (stored as `image/filename`).
      fields: `schema.make_example` fields except `image`, `filename`, `dataset`, `height` and `width`.
    """

    record_id: str
    image_path: str
    fields: Dict[str, Any]


@dataclasses.dataclass
class Skipped:
    """An annotation entry that is not written.

    Attributes:
      record_id: id of the entry, for the log.
      reason: short key counted in the summary (e.g. `malformed_entry`).
      detail: what was wrong.
      warn: log a warning (bad input) rather than a debug line (an entry filtered by design, e.g. a crowd box).
    """

    record_id: str
    reason: str
    detail: str = ""
    warn: bool = True


@dataclasses.dataclass
class ConversionSummary:
    """Outcome of `convert`.

    Attributes:
      written: records written.
      skipped: reason -> number of entries skipped for it.
      paths: the shard files.
    """

    written: int
    skipped: Dict[str, int]
    paths: List[str]

    @property
    def num_skipped(self) -> int:
        return sum(self.skipped.values())

    def __str__(self) -> str:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(self.skipped.items())) or "none"
        return f"written {self.written}, skipped {self.num_skipped} ({reasons}), {len(self.paths)} shard(s)"


def parse_entry(record_id: str, build: Callable[[], Union[Record, Skipped]]) -> Union[Record, Skipped]:
    """Runs a reader's per-entry parser; a malformed entry (`ENTRY_ERRORS`) becomes `Skipped(malformed_entry)`."""
    try:
        return build()
    except ENTRY_ERRORS as error:
        return Skipped(record_id, MALFORMED_ENTRY, f"{type(error).__name__}: {error}")


def check_positive(**values: float) -> None:
    """Raises ValueError naming the first argument that is not a positive finite number (e.g. `padding=0`)."""
    for name, value in values.items():
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number; got {value!r}")


def load_json_list(path, description: str) -> list:
    """The JSON list in file `path`; FileNotFoundError / ValueError name the path and what was expected."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{description} file not found: {path}")
    with open(path) as handle:
        content = json.load(handle)
    if not isinstance(content, list):
        raise ValueError(f"{path}: expected a JSON list of {description} entries, got {type(content).__name__}")
    return content


def crop_box(center, size, aspect_ratio: float = 1.0, padding: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """Crop centre and size `[w, h]` of a box enlarged to `aspect_ratio` (w / h), then scaled by `padding`.

    The shorter side (relative to the aspect ratio) grows, so the box always contains the original one.

    Args:
      center: `(2,)` box centre `[cx, cy]`.
      size: `(2,)` box size `[w, h]`.
      aspect_ratio: target width / height of the crop (the model input's, 1.0 for square inputs).
      padding: factor applied to both sides after the aspect fix (e.g. 1.25).

    Returns:
      (`center (2,)`, `size (2,)`) as float64.
    """
    width, height = (float(v) for v in size)
    if width > aspect_ratio * height:
        height = width / aspect_ratio
    else:
        width = height * aspect_ratio
    return np.asarray(center, np.float64), np.array([width, height]) * padding


def resolve_image_path(image_root: pathlib.Path, relative: str) -> pathlib.Path:
    """`image_root / relative`, resolved; raises ValueError if it lies outside the (resolved) image root."""
    path = (image_root / relative).resolve()
    if not path.is_relative_to(image_root):
        raise ValueError(f"image path {relative!r} resolves to {path}, outside the image root {image_root}")
    return path


def _is_complete(encoded: bytes) -> bool:
    """The same whole-file check the decoder applies (signature and end marker), so written images decode."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return bool(decoder.is_complete_image(tf.constant(encoded)))


def read_image(path: pathlib.Path) -> Tuple[bytes, int, int]:
    """Reads an image file as JPEG/PNG bytes and its size.

    JPEG and PNG bytes are kept as they are (after checking that they are whole and decode); any other format
    OpenCV reads (BMP, TIFF, ...) is re-encoded as JPEG.

    Returns:
      (encoded bytes, height, width).

    Raises:
      OSError: the file cannot be read. ValueError: the bytes are not a whole, decodable image.
    """
    import cv2  # pylint: disable=import-outside-toplevel

    encoded = path.read_bytes()
    decoded = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise ValueError(f"OpenCV cannot decode {path} ({len(encoded)} bytes)")
    try:
        schema.image_format_of(encoded)
    except ValueError:
        encoded = schema.encode_image(np.ascontiguousarray(decoded[..., ::-1]), "jpeg")
    if not _is_complete(encoded):
        raise ValueError(f"{path} has no end-of-image marker near its end (truncated, or followed by junk)")
    return encoded, decoded.shape[0], decoded.shape[1]


def non_finite_fields(fields: Mapping[str, Any]) -> List[str]:
    """Names of the numeric fields holding NaN or infinity."""
    bad = []
    for name, value in fields.items():
        if isinstance(value, (str, bytes)) or value is None:
            continue
        array = np.asarray(value)
        if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
            bad.append(name)
    return bad


class _ImageCache:
    """Remembers the last image read (or the error it gave): consecutive records of one image read it once."""

    def __init__(self):
        self._path = None
        self._result = None

    def get(self, path: pathlib.Path):
        if path != self._path:
            self._path = path
            try:
                self._result = read_image(path)
            except (OSError, ValueError) as error:
                self._result = error
        return self._result


def _example_or_skip(record: Record, image_root: pathlib.Path, dataset: str, images: _ImageCache):
    """The serialized Example of `record`, or the `Skipped` that says why it cannot be written."""
    try:
        path = resolve_image_path(image_root, record.image_path)
    except ValueError as error:
        return Skipped(record.record_id, PATH_OUTSIDE_ROOT, str(error))
    if not path.is_file():
        return Skipped(record.record_id, MISSING_IMAGE, f"image file not found: {path}")
    bad = non_finite_fields(record.fields)
    if bad:
        return Skipped(record.record_id, NON_FINITE_VALUES, f"NaN or infinite values in {bad}")
    image = images.get(path)
    if isinstance(image, Exception):
        return Skipped(record.record_id, UNREADABLE_IMAGE, str(image))
    encoded, height, width = image
    try:
        example = schema.make_example(image=encoded, height=height, width=width, dataset=dataset,
                                      filename=record.image_path, **record.fields)
    except (TypeError, ValueError) as error:
        return Skipped(record.record_id, INVALID_FIELDS, str(error))
    return example.SerializeToString()


def convert(records: Iterable[Union[Record, Skipped]], image_root, output_prefix: str, dataset: str,
            num_shards: int = 1, progress: bool = True, total: Optional[int] = None) -> ConversionSummary:
    """Writes the records as sharded TFRecords, skipping (and counting) every bad one.

    Args:
      records: `Record`s and `Skipped`s from a data-set reader.
      image_root: directory the records' image paths are relative to; no image may resolve outside it.
      output_prefix: shard path prefix, e.g. `/data/coco/val` (-> `/data/coco/val-00000-of-00004.tfrecord`).
      dataset: the `dataset` feature (`coco`, `mpii`, `h36m`, `jsonl`).
      num_shards: number of output files.
      progress: show a progress bar over the input entries.
      total: number of input entries, for the progress bar.

    Returns:
      The `ConversionSummary`, also logged.

    Raises:
      FileNotFoundError: `image_root` is not a directory.
    """
    image_root = pathlib.Path(image_root).resolve()
    if not image_root.is_dir():
        raise FileNotFoundError(f"image root is not a directory: {image_root}")
    skipped = collections.Counter()
    images = _ImageCache()
    if progress:
        from tqdm import tqdm  # pylint: disable=import-outside-toplevel

        records = tqdm(records, total=total, unit="entry", desc=f"{dataset} -> {output_prefix}")
    with writer_lib.ShardedWriter(output_prefix, num_shards) as writer:
        for record in records:
            result = record if isinstance(record, Skipped) else _example_or_skip(record, image_root, dataset, images)
            if isinstance(result, Skipped):
                skipped[result.reason] += 1
                log = logging.warning if result.warn else logging.debug
                log("Skipping %s (%s): %s", result.record_id, result.reason, result.detail)
                continue
            writer.write(result)
        summary = ConversionSummary(writer.count, dict(skipped), writer.paths)
    logging.info("%s conversion: %s", dataset, summary)
    if summary.written == 0:
        logging.warning("No %s record was written to %s; check the annotation and image paths.", dataset,
                        output_prefix)
    return summary
