"""A generic JSON-lines format for custom data sets: one person instance per line (docs/datasets.md).

```
{"image": "clips/0001.jpg",                  required: path relative to the image root
 "keypoints": [[x, y], ...],                 required: K joints, 0-based pixels (pixel i's centre at i)
 "visible": [1, 0, ...],                     optional: K flags, default all 1
 "box": [x, y, w, h],                        optional: person box, same convention; default: tight box of the
                                                       visible joints
 "keypoints_3d": [[x, y, z], ...],           optional: camera space, root-relative, mm
 "camera": {"f": [fx, fy], "c": [cx, cy]},   optional: intrinsics in pixels
 "root_depth": 4500.0,                       optional: absolute root depth, mm
 "skeleton": "coco",                         optional: mpii | coco | h36m; K must match it
 "image_id": 17,                             optional: integer, default the 0-based line number
 "score": 0.9}                               optional: detection score, default 1
```
Blank lines are ignored; an unknown key, a wrong shape or invalid JSON skips the line (`malformed_entry`).
The crop is the box centre with the box size enlarged to `aspect_ratio` and scaled by `padding` (default 1.25).
"""
import json
import os
from typing import Iterable, Iterator, Optional, Union

import numpy as np

from integral_keras.data import schema
from integral_keras.core import skeletons
from integral_keras.data.converters import common

DEFAULT_PADDING = 1.25
REQUIRED_KEYS = ("image", "keypoints")
OPTIONAL_KEYS = ("visible", "box", "keypoints_3d", "camera", "root_depth", "skeleton", "image_id", "score")


def _array(entry: dict, key: str, shape) -> np.ndarray:
    array = np.asarray(entry[key], np.float64)
    if array.shape != shape:
        raise ValueError(f"{key!r} must have shape {shape}, got {array.shape}")
    return array


def _record(line_index: int, entry, skeleton: Optional[str], aspect_ratio: float, padding: float):
    record_id = f"line {line_index + 1}"
    if not isinstance(entry, dict):
        raise TypeError(f"expected a JSON object, got {type(entry).__name__}")
    unknown = sorted(set(entry) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise KeyError(f"unknown key(s) {unknown}; valid: {list(REQUIRED_KEYS + OPTIONAL_KEYS)}")
    if not isinstance(entry["image"], str):
        raise TypeError(f"'image' must be a path string, got {entry['image']!r}")
    keypoints = np.asarray(entry["keypoints"], np.float64)
    if keypoints.ndim != 2 or keypoints.shape[1] != 2 or not len(keypoints):
        raise ValueError(f"'keypoints' must be [[x, y], ...], got shape {keypoints.shape}")
    num_joints = len(keypoints)
    for name in (entry.get("skeleton"), skeleton):
        if name is not None and skeletons.get_skeleton(name).num_joints != num_joints:
            raise ValueError(f"{num_joints} keypoints, but skeleton {name!r} has "
                             f"{skeletons.get_skeleton(name).num_joints}")
    fields = {"keypoints_2d": keypoints, "image_id": int(entry.get("image_id", line_index)),
              "score": float(entry.get("score", 1.0))}
    fields["visible"] = _array(entry, "visible", (num_joints,)) if "visible" in entry else np.ones(num_joints)
    if "keypoints_3d" in entry:
        fields["keypoints_3d"] = _array(entry, "keypoints_3d", (num_joints, 3))
    if "camera" in entry:
        camera = entry["camera"]
        fields["focal"] = _array(camera, "f", (2,))
        fields["principal_point"] = _array(camera, "c", (2,))
    if "root_depth" in entry:
        fields["root_depth"] = float(entry["root_depth"])
    box = _array(entry, "box", (4,)) if "box" in entry else schema.default_bbox(keypoints, fields["visible"])
    if np.all(np.isfinite(box)) and (box[2] <= 0 or box[3] <= 0):  # non-finite ones are reported by the loop
        return common.Skipped(record_id, "empty_box", f"box {box.tolist()} has no area")
    fields["bbox"] = box
    fields["center"], fields["scale"] = common.crop_box(box[:2] + box[2:] / 2, box[2:], aspect_ratio, padding)
    return common.Record(record_id, entry["image"], fields)


def records(lines: Iterable[str], skeleton: Optional[str] = None, aspect_ratio: float = 1.0,
            padding: float = DEFAULT_PADDING) -> Iterator[Union[common.Record, common.Skipped]]:
    """One record per non-blank line.

    Args:
      lines: the lines of a JSON-lines file.
      skeleton: if given (`mpii`, `coco`, `h36m`), every line must have its number of joints.
      aspect_ratio: crop width / height.
      padding: crop enlargement after the aspect fix.

    Yields:
      `common.Record` / `common.Skipped`.
    """
    if skeleton is not None:
        skeletons.get_skeleton(skeleton)  # fails early, naming the valid skeletons
    for line_index, line in enumerate(lines):
        if not line.strip():
            continue
        record_id = f"line {line_index + 1}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            yield common.Skipped(record_id, common.MALFORMED_ENTRY, f"invalid JSON: {error}")
            continue
        yield common.parse_entry(record_id, lambda: _record(line_index, entry, skeleton, aspect_ratio, padding))


def convert_jsonl(jsonl_file, image_root, output_prefix: str, skeleton: Optional[str] = None,
                  aspect_ratio: float = 1.0, padding: float = DEFAULT_PADDING, num_shards: int = 1,
                  progress: bool = True, num_workers: int = 1) -> common.ConversionSummary:
    """Converts a JSON-lines file (module docstring) to TFRecords.

    Args:
      jsonl_file: the `.jsonl` file.
      image_root: folder the `image` paths are relative to.
      output_prefix: shard path prefix.
      skeleton: optional skeleton name every line must match.
      aspect_ratio: crop width / height.
      padding: crop enlargement.
      num_shards: output files.
      progress: show a progress bar.
      num_workers: threads reading images.

    Returns:
      The `common.ConversionSummary`.
    """
    common.check_positive(aspect_ratio=aspect_ratio, padding=padding)
    if not os.path.isfile(jsonl_file):
        raise FileNotFoundError(f"JSON-lines file not found: {jsonl_file}")
    with open(jsonl_file) as handle:
        lines = handle.readlines()
    return common.convert(records(lines, skeleton, aspect_ratio, padding), image_root, output_prefix, "jsonl",
                          num_shards, progress, len(lines), num_workers=num_workers)
