"""The converter loop shared by every data set: records in, sharded TFRecords out, bad records skipped and counted.

A data-set reader (coco.py, mpii.py, h36m.py, jsonl.py) turns its annotation files into an iterable of `Record`
(one person instance, image path relative to the image root, `make_example` fields) and `Skipped` (an entry that
cannot become a record, with the reason). `convert` reads each record's image, checks it, builds the Example and
writes it; any problem with one record is logged with the record's id and counted per reason, never raised.

Checks shared by every converter (`convert`):
- image paths: outside the image root (`path_outside_root`), holding a NUL byte or otherwise not a usable path
  (`invalid_path`), missing (`missing_image`);
- images must decode *fully*: OpenCV must decode them and, for JPEG, libjpeg must not report corrupt data
  ("Corrupt JPEG data: bad Huffman code", "premature end of data segment", "extraneous bytes before marker":
  flipped or lost bytes that a lenient decoder turns into garbage pixels); else `unreadable_image`;
- numbers are checked *after* the cast to the stored dtype (float32): a float64 keypoint of 1e39 is finite but
  stores as inf (`non_finite_values`); visibility must be finite and >= 0 and is normalised to the schema's 0 / 1
  (COCO's `2` -> 1, `invalid_fields` otherwise);
- one image id names one image: a record whose `image_id` was already written for a different image file is
  refused (`duplicate_image_id`); several people of one image share its id as usual.
"""
import collections
import concurrent.futures
import dataclasses
import functools
import json
import os
import pathlib
import sys
import tempfile
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

import numpy as np
from absl import logging

from integral_keras.data import schema
from integral_keras.data import writer as writer_lib

#: Skip reasons raised by `convert` itself; readers add their own (e.g. `crowd`, `malformed_entry`).
MISSING_IMAGE = "missing_image"
UNREADABLE_IMAGE = "unreadable_image"
PATH_OUTSIDE_ROOT = "path_outside_root"
INVALID_PATH = "invalid_path"
DUPLICATE_IMAGE_ID = "duplicate_image_id"
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


#: End markers the pipeline's decoder looks for within the last `_TAIL_BYTES` bytes of an image.
_END_MARKERS = {"jpeg": b"\xff\xd9", "png": b"IEND"}
_TAIL_BYTES = 4096


def is_complete_image(encoded: bytes) -> bool:
    """Whether JPEG/PNG bytes end with their end marker, the check `decoder.is_complete_image` applies in the
    input pipeline (in plain Python here: the TensorFlow version costs ~30 ms per call eagerly)."""
    try:
        image_format = schema.image_format_of(encoded)
    except ValueError:
        return False
    return _END_MARKERS[image_format] in encoded[-_TAIL_BYTES:]


#: What libjpeg prints (to standard error; it has no other channel through OpenCV) for data it decodes into garbage.
_LIBJPEG_CORRUPTION = (b"Corrupt JPEG data", b"Premature end of JPEG file", b"Invalid JPEG file structure")
_STDERR_LOCK = threading.Lock()


def _decode_watching_libjpeg(encoded: bytes):
    """`(cv2.imdecode(encoded), libjpeg's corruption messages as text)`.

    libjpeg reports recoverable damage only as warnings on file descriptor 2, so the decode runs with that
    descriptor redirected to a temporary file (under a lock: one decode at a time); any other output caught in
    that window is written back to standard error.
    """
    import cv2  # pylint: disable=import-outside-toplevel

    array = np.frombuffer(encoded, np.uint8)
    with _STDERR_LOCK, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(captured.fileno(), 2)
            decoded = cv2.imdecode(array, cv2.IMREAD_COLOR)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        output = captured.read()
    corrupt = [line for line in output.splitlines() if line.startswith(_LIBJPEG_CORRUPTION)]
    other = b"\n".join(line for line in output.splitlines() if not line.startswith(_LIBJPEG_CORRUPTION))
    if other:
        os.write(2, other + b"\n")
    return decoded, "; ".join(line.decode("utf-8", "replace") for line in corrupt)


def read_image(path: pathlib.Path) -> Tuple[bytes, int, int]:
    """Reads an image file as JPEG/PNG bytes and its size.

    JPEG and PNG bytes are kept as they are (after checking that they are whole and decode); any other format
    OpenCV reads (BMP, TIFF, ...) is re-encoded as JPEG.

    Returns:
      (encoded bytes, height, width).

    Raises:
      OSError: the file cannot be read. ValueError: the bytes are not a whole, decodable image (libjpeg's
      corrupt-data warnings count as not decodable).
    """
    import cv2  # pylint: disable=import-outside-toplevel

    encoded = path.read_bytes()
    decoded, corruption = _decode_watching_libjpeg(encoded)
    if decoded is None:
        raise ValueError(f"OpenCV cannot decode {path} ({len(encoded)} bytes)")
    if corruption:
        raise ValueError(f"{path} does not decode fully: libjpeg reports {corruption}")
    try:
        schema.image_format_of(encoded)
    except ValueError:
        encoded = schema.encode_image(np.ascontiguousarray(decoded[..., ::-1]), "jpeg")
    if not is_complete_image(encoded):
        raise ValueError(f"{path} has no end-of-image marker near its end (truncated, or followed by junk)")
    return encoded, decoded.shape[0], decoded.shape[1]


def non_finite_fields(fields: Mapping[str, Any]) -> List[str]:
    """Names of the numeric fields holding NaN or infinity once stored (float fields are float32 in the schema,
    so a float64 value beyond float32's range, e.g. 1e39, counts as infinite)."""
    bad = []
    for name, value in fields.items():
        if isinstance(value, (str, bytes)) or value is None:
            continue
        array = np.asarray(value)
        if array.dtype.kind in "fc":
            with np.errstate(over="ignore", invalid="ignore"):
                stored = array.astype(np.float32)
            if not np.all(np.isfinite(stored)):
                bad.append(name)
    return bad


def normalize_visibility(fields: Dict[str, Any]) -> Dict[str, Any]:
    """`fields` with `visible` as the schema's 0 / 1 (any value > 0 is 1: COCO's 1 and 2, MPII's 1).

    Raises:
      ValueError: a visibility that is negative (or not finite), naming the joints.
    """
    if fields.get("visible") is None:
        return fields
    visible = np.asarray(fields["visible"], np.float64)
    bad = np.flatnonzero(~np.isfinite(visible) | (visible < 0))
    if bad.size:
        raise ValueError(f"'visible' must be >= 0 (0 not labelled, > 0 labelled); joints {bad.tolist()} have "
                         f"{visible[bad].tolist()}")
    return dict(fields, visible=(visible > 0).astype(np.float64))


def refuse_duplicate_image_ids(items: Iterable[Union[Record, Skipped]]) -> Iterator[Union[Record, Skipped]]:
    """Passes the items through, turning a `Record` whose `image_id` was first seen with a different image file
    into `Skipped(duplicate_image_id)` (the first image keeps the id)."""
    owners = {}
    for item in items:
        if isinstance(item, Record) and "image_id" in item.fields:
            image_id = int(item.fields["image_id"])
            owner = owners.setdefault(image_id, item.image_path)
            if owner != item.image_path:
                item = Skipped(item.record_id, DUPLICATE_IMAGE_ID,
                               f"image_id {image_id} already names image {owner!r}, not {item.image_path!r}")
        yield item


def _image_groups(items: Iterable[Union[Record, Skipped]]) -> Iterator[List[Union[Record, Skipped]]]:
    """Runs of consecutive records of one image, so that it is read once for all of them (`Skipped` items stay
    in the run they arrive in)."""
    group, image_path = [], None
    for item in items:
        if isinstance(item, Record):
            if image_path is not None and item.image_path != image_path:
                yield group
                group = []
            image_path = item.image_path
        group.append(item)
    if group:
        yield group


def _load_image(image_path: str, image_root: pathlib.Path):
    """`((encoded, height, width), None)`, or `(None, (skip reason, detail))` when the image cannot be used."""
    if not isinstance(image_path, str) or not image_path or "\x00" in image_path:
        return None, (INVALID_PATH, f"image path {image_path!r} is empty or holds a NUL byte")
    try:
        path = resolve_image_path(image_root, image_path)
    except ValueError as error:
        return None, (PATH_OUTSIDE_ROOT, str(error))
    except OSError as error:  # a name the file system refuses (too long, ...)
        return None, (INVALID_PATH, f"image path {image_path!r}: {error}")
    if not path.is_file():
        return None, (MISSING_IMAGE, f"image file not found: {path}")
    try:
        return read_image(path), None
    except (OSError, ValueError) as error:
        return None, (UNREADABLE_IMAGE, str(error))


def _convert_group(group: List[Union[Record, Skipped]], image_root: pathlib.Path, dataset: str
                   ) -> List[Union[bytes, Skipped]]:
    """Serialized Examples of the records of one image, or the `Skipped`s saying why they cannot be written."""
    records = [item for item in group if isinstance(item, Record)]
    image, problem = _load_image(records[0].image_path, image_root) if records else (None, None)
    results = []
    for item in group:
        if isinstance(item, Skipped):
            results.append(item)
        elif problem is not None:
            results.append(Skipped(item.record_id, *problem))
        elif non_finite_fields(item.fields):
            detail = f"NaN or infinite values in {non_finite_fields(item.fields)}"
            results.append(Skipped(item.record_id, NON_FINITE_VALUES, detail))
        else:
            encoded, height, width = image
            try:
                example = schema.make_example(image=encoded, height=height, width=width, dataset=dataset,
                                              filename=item.image_path, **normalize_visibility(item.fields))
                results.append(example.SerializeToString())
            except (TypeError, ValueError) as error:
                results.append(Skipped(item.record_id, INVALID_FIELDS, str(error)))
    return results


def _ordered_map(function: Callable, items: Iterable, num_workers: int) -> Iterator:
    """`map(function, items)` on `num_workers` threads (OpenCV decoding releases the GIL), results in input order,
    at most `4 * num_workers` items in flight."""
    if num_workers <= 1:
        yield from map(function, items)
        return
    with concurrent.futures.ThreadPoolExecutor(num_workers) as pool:
        pending = collections.deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= 4 * num_workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def convert(records: Iterable[Union[Record, Skipped]], image_root, output_prefix: str, dataset: str,
            num_shards: int = 1, progress: bool = True, total: Optional[int] = None,
            num_workers: int = 1) -> ConversionSummary:
    """Writes the records as sharded TFRecords, skipping (and counting) every bad one.

    Args:
      records: `Record`s and `Skipped`s from a data-set reader.
      image_root: directory the records' image paths are relative to; no image may resolve outside it.
      output_prefix: shard path prefix, e.g. `/data/coco/val` (-> `/data/coco/val-00000-of-00004.tfrecord`).
      dataset: the `dataset` feature (`coco`, `mpii`, `h36m`, `jsonl`).
      num_shards: number of output files.
      progress: show a progress bar over the input entries.
      total: number of input entries, for the progress bar.
      num_workers: threads reading and encoding images; the output order does not depend on it.

    Returns:
      The `ConversionSummary`, also logged.

    Raises:
      FileNotFoundError: `image_root` is not a directory.
    """
    image_root = pathlib.Path(image_root).resolve()
    if not image_root.is_dir():
        raise FileNotFoundError(f"image root is not a directory: {image_root}")
    skipped = collections.Counter()
    if progress:
        from tqdm import tqdm  # pylint: disable=import-outside-toplevel

        records = tqdm(records, total=total, unit="entry", desc=f"{dataset} -> {output_prefix}")
    convert_group = functools.partial(_convert_group, image_root=image_root, dataset=dataset)
    with writer_lib.ShardedWriter(output_prefix, num_shards) as writer:
        for results in _ordered_map(convert_group, _image_groups(refuse_duplicate_image_ids(records)), num_workers):
            for result in results:
                if isinstance(result, Skipped):
                    skipped[result.reason] += 1
                    log = logging.warning if result.warn else logging.debug
                    log("Skipping %s (%s): %s", result.record_id, result.reason, result.detail)
                else:
                    writer.write(result)
        summary = ConversionSummary(writer.count, dict(skipped), writer.paths)
    logging.info("%s conversion: %s", dataset, summary)
    if summary.written == 0:
        logging.warning("No %s record was written to %s; check the annotation and image paths.", dataset,
                        output_prefix)
    return summary
