"""COCO keypoints: ground-truth person annotations and person-detection results as converter records.

Conventions (docs/datasets.md):
- Keypoints: COCO stores integer-like pixel indices; like most top-down code we read `(x, y)` as the 0-based
  pixel-centre coordinates of the package (no shift). `v > 0` (1 labelled but occluded, 2 visible) -> visible 1.
- Boxes: COCO `[x, y, w, h]` is continuous (pixel `i` covers `[i, i + 1)`); in the package's pixel-centre
  convention the box is `[x - 0.5, y - 0.5, w, h]` (stored in `person/bbox`). The box is clipped to the image
  first; an empty box is skipped.
- Crop: the box centre, its size enlarged to `aspect_ratio` (w / h, default 1) and scaled by `padding`
  (default 1.25), as in the seed's and Simple Baselines' COCO pipelines.
- `image/id` is the COCO image id; `person/score` is 1 for ground truth, the detector's score for detections.
"""
import contextlib
import io
import os
from typing import Iterator, Optional, Union

import numpy as np

from integral_keras.core import skeletons
from integral_keras.data.converters import common

#: COCO category id of "person".
PERSON_CATEGORY = 1
DEFAULT_PADDING = 1.25


def load_coco(annotation_file):
    """`pycocotools.coco.COCO` of `annotation_file`, without its prints; FileNotFoundError names a missing path."""
    from pycocotools.coco import COCO  # pylint: disable=import-outside-toplevel

    if not os.path.isfile(annotation_file):
        raise FileNotFoundError(f"COCO annotation file not found: {annotation_file}")
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(os.fspath(annotation_file))


def _box_fields(box, image_info, aspect_ratio: float, padding: float):
    """Clipped pixel-centre bbox, crop centre and crop size of a COCO `[x, y, w, h]` box, or None if empty."""
    if len(box) != 4:
        raise ValueError(f"bbox must have 4 values, got {box}")
    x, y, w, h = (float(v) for v in box)
    if not np.all(np.isfinite([x, y, w, h])):
        return {"bbox": np.array([x, y, w, h])}  # reported by the converter as non-finite
    x1, y1 = max(x, 0.0), max(y, 0.0)
    x2, y2 = min(x + w, float(image_info["width"])), min(y + h, float(image_info["height"]))
    if x2 <= x1 or y2 <= y1:
        return None
    bbox = np.array([x1 - 0.5, y1 - 0.5, x2 - x1, y2 - y1])
    center, scale = common.crop_box(bbox[:2] + bbox[2:] / 2, bbox[2:], aspect_ratio, padding)
    return {"bbox": bbox, "center": center, "scale": scale}


def _keypoint_record(coco, annotation, aspect_ratio, padding) -> Union[common.Record, common.Skipped]:
    record_id = f"annotation {annotation.get('id')} (image {annotation.get('image_id')})"
    if annotation.get("category_id", PERSON_CATEGORY) != PERSON_CATEGORY:
        return common.Skipped(record_id, "not_person", f"category {annotation['category_id']}", warn=False)
    if annotation.get("iscrowd", 0):
        return common.Skipped(record_id, "crowd", "iscrowd annotation", warn=False)
    if annotation.get("num_keypoints", 0) == 0:
        return common.Skipped(record_id, "no_keypoints", "num_keypoints is 0", warn=False)
    image_info = coco.imgs[annotation["image_id"]]
    keypoints = np.asarray(annotation["keypoints"], np.float64)
    if keypoints.shape != (skeletons.COCO.num_joints * 3,):
        raise ValueError(f"keypoints must hold {skeletons.COCO.num_joints} x 3 values, got {keypoints.shape}")
    keypoints = keypoints.reshape(-1, 3)
    box = _box_fields(annotation["bbox"], image_info, aspect_ratio, padding)
    if box is None:
        return common.Skipped(record_id, "empty_box", f"bbox {annotation['bbox']} is empty inside the image")
    fields = dict(box, keypoints_2d=keypoints[:, :2], visible=(keypoints[:, 2] > 0).astype(np.float64),
                  image_id=int(annotation["image_id"]), score=1.0)
    return common.Record(record_id, image_info["file_name"], fields)


def keypoint_records(coco, aspect_ratio: float = 1.0, padding: float = DEFAULT_PADDING
                     ) -> Iterator[Union[common.Record, common.Skipped]]:
    """One record per person annotation with keypoints, grouped by image (sorted image ids).

    Crowd annotations, annotations with `num_keypoints == 0` and other categories than person are skipped quietly
    (`crowd`, `no_keypoints`, `not_person`).

    Args:
      coco: a `pycocotools.coco.COCO` of a `person_keypoints_*.json` file (see `load_coco`).
      aspect_ratio: crop width / height.
      padding: crop enlargement after the aspect fix.

    Yields:
      `common.Record` / `common.Skipped`.
    """
    for image_id in sorted(coco.imgs):
        for annotation in coco.imgToAnns.get(image_id, ()):
            record_id = f"annotation {annotation.get('id')} (image {image_id})"
            yield common.parse_entry(record_id, lambda: _keypoint_record(coco, annotation, aspect_ratio, padding))


def _detection_record(coco, index, detection, score_threshold, aspect_ratio, padding):
    record_id = f"detection {index} (image {detection.get('image_id')})"
    if detection["category_id"] != PERSON_CATEGORY:
        return common.Skipped(record_id, "not_person", f"category {detection['category_id']}", warn=False)
    score = float(detection["score"])
    if score < score_threshold:
        return common.Skipped(record_id, "low_score", f"score {score} < {score_threshold}", warn=False)
    image_info = coco.imgs.get(detection["image_id"])
    if image_info is None:
        return common.Skipped(record_id, "unknown_image", f"image id {detection['image_id']} not in the annotations")
    box = _box_fields(detection["bbox"], image_info, aspect_ratio, padding)
    if box is None:
        return common.Skipped(record_id, "empty_box", f"bbox {detection['bbox']} is empty inside the image")
    num_joints = skeletons.COCO.num_joints
    fields = dict(box, keypoints_2d=np.zeros((num_joints, 2)), visible=np.zeros(num_joints),
                  image_id=int(detection["image_id"]), score=score)
    return common.Record(record_id, image_info["file_name"], fields)


def detection_records(coco, detections, score_threshold: float = 0.0, aspect_ratio: float = 1.0,
                      padding: float = DEFAULT_PADDING) -> Iterator[Union[common.Record, common.Skipped]]:
    """Records for evaluation from person detections: detection box and score, zero keypoints (visible 0).

    Args:
      coco: `COCO` of the annotation (or image-info) file that lists the detections' images.
      detections: list of `{image_id, category_id, bbox [x, y, w, h], score}` (a COCO results JSON).
      score_threshold: detections scoring below it are skipped quietly (`low_score`).
      aspect_ratio: crop width / height.
      padding: crop enlargement after the aspect fix.

    Yields:
      `common.Record` / `common.Skipped` (non-person categories: `not_person`, quietly).
    """
    for index, detection in enumerate(detections):
        record_id = f"detection {index}"
        yield common.parse_entry(record_id, lambda: _detection_record(
            coco, index, detection, score_threshold, aspect_ratio, padding))


def convert_coco(annotation_file, image_root, output_prefix: str, detections_file: Optional[str] = None,
                 score_threshold: float = 0.0, aspect_ratio: float = 1.0, padding: float = DEFAULT_PADDING,
                 num_shards: int = 1, progress: bool = True, num_workers: int = 1) -> common.ConversionSummary:
    """Converts COCO ground truth (or, with `detections_file`, person detections) to TFRecords.

    Args:
      annotation_file: `person_keypoints_{train,val}2017.json` (an image-info file suffices for detections).
      image_root: folder holding the images named by `file_name` (e.g. `val2017/`).
      output_prefix: shard path prefix.
      detections_file: optional COCO results JSON of person detections; if given, one record per detection.
      score_threshold: minimum detection score.
      aspect_ratio: crop width / height.
      padding: crop enlargement.
      num_shards: output files.
      progress: show a progress bar.
      num_workers: threads reading images.

    Returns:
      The `common.ConversionSummary`.
    """
    common.check_positive(aspect_ratio=aspect_ratio, padding=padding)
    coco = load_coco(annotation_file)
    if detections_file is None:
        records = keypoint_records(coco, aspect_ratio, padding)
        total = len(coco.anns)
    else:
        detections = common.load_json_list(detections_file, "COCO person detections")
        records = detection_records(coco, detections, score_threshold, aspect_ratio, padding)
        total = len(detections)
    return common.convert(records, image_root, output_prefix, "coco", num_shards, progress, total, num_workers)
