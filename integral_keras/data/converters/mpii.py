"""MPII Human Pose from the widely used JSON annotations (`train.json` / `valid.json`) as converter records.

Each JSON entry is `{"image": "015601864.jpg", "center": [x, y], "scale": s, "joints": [[x, y] * 16],
"joints_vis": [16]}`, one person. As in the original release, `center` and `joints` are 1-based MATLAB pixel
coordinates and `scale` is the person height / 200 px. The converter (docs/datasets.md):
- shifts `center` and `joints` by -1 to 0-based pixel centres (the same shift `data.mpii_gt_valid.load_gt_valid`
  applies to `gt_valid.mat`);
- moves the centre down by `15 * scale` px and enlarges the scale by 1.25 (the usual adjustment of top-down
  MPII code, keeping feet and head inside the crop): crop size `scale * 200 * 1.25` px, square, then enlarged
  to `aspect_ratio`;
- keeps the joint order (the package's MPII order is the official one) and `joints_vis` as `keypoints/visible`;
- writes `image/id` = the entry's index in the JSON list, which is its column in `gt_valid.mat`;
- stores the head box of `gt_valid.mat` (when given) as `mpii/headbox` `[x1, y1, x2, y2]`, 0-based.
"""
from typing import Iterator, Optional, Union

import numpy as np
from absl import logging

from integral_keras.core import skeletons
from integral_keras.data.converters import common
from integral_keras.data.mpii_gt_valid import load_gt_valid

#: Person height in pixels of `scale == 1`.
SCALE_UNIT_PX = 200.0
#: Crop enlargement and downward centre shift (in `scale` units) of common top-down MPII code.
DEFAULT_PADDING = 1.25
CENTER_SHIFT = 15.0


def _record(index: int, entry: dict, headbox, aspect_ratio: float, padding: float):
    record_id = f"entry {index} ({entry.get('image')})"
    num_joints = skeletons.MPII.num_joints
    joints = np.asarray(entry["joints"], np.float64)
    visible = np.asarray(entry["joints_vis"], np.float64)
    if joints.shape != (num_joints, 2) or visible.shape != (num_joints,):
        raise ValueError(f"joints must be ({num_joints}, 2) and joints_vis ({num_joints},); "
                         f"got {joints.shape} and {visible.shape}")
    center = np.asarray(entry["center"], np.float64)
    scale = float(entry["scale"])
    if center.shape != (2,):
        raise ValueError(f"center must be [x, y], got {entry['center']}")
    if center[0] == -1 or not scale > 0:
        return common.Skipped(record_id, "no_person_box", f"center {center.tolist()}, scale {scale}")
    center = center + np.array([0.0, CENTER_SHIFT * scale]) - 1.0
    size = SCALE_UNIT_PX * scale
    center, crop = common.crop_box(center, (size, size), aspect_ratio, padding)
    fields = {"keypoints_2d": joints - 1.0, "visible": (visible > 0).astype(np.float64), "center": center,
              "scale": crop, "image_id": index}
    if headbox is not None:
        fields["headbox"] = np.asarray(headbox, np.float64).reshape(4)
    return common.Record(record_id, entry["image"], fields)


def records(entries: list, headboxes: Optional[np.ndarray] = None, aspect_ratio: float = 1.0,
            padding: float = DEFAULT_PADDING) -> Iterator[Union[common.Record, common.Skipped]]:
    """One record per JSON entry.

    Args:
      entries: the JSON list of person entries.
      headboxes: `(N, 2, 2)` 0-based head boxes in the order of `entries` (from `gt_valid.mat`), or None.
      aspect_ratio: crop width / height.
      padding: crop enlargement of `scale * 200`.

    Yields:
      `common.Record` / `common.Skipped`.
    """
    for index, entry in enumerate(entries):
        headbox = None if headboxes is None else headboxes[index]
        yield common.parse_entry(f"entry {index}", lambda: _record(index, entry, headbox, aspect_ratio, padding))


def load_headboxes(gt_valid_file, num_entries: int) -> np.ndarray:
    """`(N, 2, 2)` 0-based head boxes of `gt_valid.mat`; raises ValueError if N differs from the JSON's."""
    headboxes = load_gt_valid(gt_valid_file)["headboxes"]
    if len(headboxes) != num_entries:
        raise ValueError(f"{gt_valid_file} holds {len(headboxes)} people but the annotation JSON {num_entries}; "
                         "gt_valid.mat goes with valid.json")
    return headboxes


def convert_mpii(json_file, image_root, output_prefix: str, gt_valid_file: Optional[str] = None,
                 aspect_ratio: float = 1.0, padding: float = DEFAULT_PADDING, num_shards: int = 1,
                 progress: bool = True, num_workers: int = 1) -> common.ConversionSummary:
    """Converts an MPII JSON annotation file (and optionally `gt_valid.mat` head boxes) to TFRecords.

    Args:
      json_file: `train.json` or `valid.json`.
      image_root: the MPII `images/` folder.
      output_prefix: shard path prefix.
      gt_valid_file: optional `gt_valid.mat` (goes with `valid.json`) for `mpii/headbox`.
      aspect_ratio: crop width / height.
      padding: crop enlargement.
      num_shards: output files.
      progress: show a progress bar.
      num_workers: threads reading images.

    Returns:
      The `common.ConversionSummary`.
    """
    common.check_positive(aspect_ratio=aspect_ratio, padding=padding)
    entries = common.load_json_list(json_file, "MPII person")
    headboxes = None
    if gt_valid_file is not None:
        headboxes = load_headboxes(gt_valid_file, len(entries))
        logging.info("Head boxes of %d people read from %s", len(headboxes), gt_valid_file)
    return common.convert(records(entries, headboxes, aspect_ratio, padding), image_root, output_prefix, "mpii",
                          num_shards, progress, len(entries), num_workers=num_workers)
