"""COCO converter on a small person_keypoints JSON + detections JSON written in the real formats."""
import json
import logging

import numpy as np
import pytest

from converter_fixtures import by_filename, read_shards, warnings_of, write_corrupt_image, write_image
from integral_keras.data.converters import coco

K = 17


def _keypoints(points, flags):
    """COCO flat [x1, y1, v1, ...] with the given (index -> (x, y)) and visibility flags, zeros elsewhere."""
    flat = np.zeros((K, 3))
    for index, (x, y) in points.items():
        flat[index] = (x, y, flags[index])
    return flat.ravel().tolist()


GOOD_1 = _keypoints({0: (10, 12), 5: (8, 20), 6: (20, 21)}, {0: 2, 5: 1, 6: 2})
GOOD_2 = _keypoints({11: (30, 40), 12: (41, 44)}, {11: 2, 12: 2})


def _annotation(ann_id, image_id, keypoints, bbox, iscrowd=0):
    num = int(np.sum(np.asarray(keypoints).reshape(-1, 3)[:, 2] > 0)) if len(keypoints) == K * 3 else 3
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "keypoints": keypoints, "num_keypoints": num,
            "bbox": bbox, "iscrowd": iscrowd, "area": 100.0}


@pytest.fixture
def coco_files(tmp_path):
    images = tmp_path / "val2017"
    write_image(images / "000000000001.jpg", 40, 60, seed=1)
    write_image(images / "000000000002.jpg", 50, 50, seed=2)
    write_corrupt_image(images / "000000000004.jpg")
    image_infos = [
        {"id": 1, "file_name": "000000000001.jpg", "height": 40, "width": 60},
        {"id": 2, "file_name": "000000000002.jpg", "height": 50, "width": 50},
        {"id": 3, "file_name": "000000000003.jpg", "height": 50, "width": 50},  # file missing
        {"id": 4, "file_name": "000000000004.jpg", "height": 50, "width": 50},  # not an image
        {"id": 5, "file_name": "../../etc/passwd", "height": 50, "width": 50},  # escapes the root
    ]
    nan_keypoints = list(GOOD_1)
    nan_keypoints[0] = float("nan")
    annotations = [
        _annotation(101, 1, GOOD_1, [5, 6, 20, 30]),
        _annotation(102, 1, GOOD_1, [0, 0, 10, 10], iscrowd=1),
        _annotation(103, 2, [0] * (K * 3), [1, 1, 5, 5]),
        _annotation(104, 2, GOOD_2, [25, 30, 40, 30]),  # extends past the right / bottom edges
        _annotation(105, 3, GOOD_1, [5, 6, 20, 30]),
        _annotation(106, 4, GOOD_1, [5, 6, 20, 30]),
        _annotation(107, 5, GOOD_1, [5, 6, 20, 30]),
        _annotation(108, 1, GOOD_1[:30], [5, 6, 20, 30]),  # 10 keypoints only
        _annotation(109, 1, nan_keypoints, [5, 6, 20, 30]),
        dict(_annotation(110, 2, GOOD_2, [25, 30, 40, 30]), category_id=2),
    ]
    categories = [{"id": 1, "name": "person", "supercategory": "person", "keypoints": [str(i) for i in range(K)],
                   "skeleton": []}, {"id": 2, "name": "bicycle", "supercategory": "vehicle"}]
    annotation_file = tmp_path / "person_keypoints_val2017.json"
    annotation_file.write_text(json.dumps({"images": image_infos, "annotations": annotations,
                                           "categories": categories}))
    detections = [
        {"image_id": 1, "category_id": 1, "bbox": [10.0, 4.0, 30.0, 20.0], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [10.0, 4.0, 30.0, 20.0], "score": 0.9},
        {"image_id": 2, "category_id": 1, "bbox": [10.0, 4.0, 30.0, 20.0], "score": 0.05},
        {"image_id": 999, "category_id": 1, "bbox": [10.0, 4.0, 30.0, 20.0], "score": 0.8},
        {"image_id": 2, "category_id": 1, "bbox": [0.0, 0.0, 10.0], "score": 0.8},
    ]
    detections_file = tmp_path / "COCO_val2017_detections_AP_H_56_person.json"
    detections_file.write_text(json.dumps(detections))
    return annotation_file, images, detections_file


def _expected_crop(x, y, w, h, aspect=1.0, padding=1.25):
    """Pixel-centre box, centre and aspect-fixed padded size, written out for a box inside the image."""
    bbox = np.array([x - 0.5, y - 0.5, w, h])
    center = np.array([x - 0.5 + w / 2, y - 0.5 + h / 2])
    if w / h > aspect:
        size = np.array([w, w / aspect])
    else:
        size = np.array([h * aspect, h])
    return bbox, center, size * padding


def test_ground_truth_records(coco_files, tmp_path, caplog):
    annotation_file, images, _ = coco_files
    prefix = tmp_path / "out" / "val"
    with caplog.at_level(logging.WARNING):
        summary = coco.convert_coco(annotation_file, images, str(prefix), num_shards=2, progress=False)
    assert summary.written == 2
    assert summary.skipped == {"crowd": 1, "no_keypoints": 1, "not_person": 1, "missing_image": 1,
                               "unreadable_image": 1, "path_outside_root": 1, "malformed_entry": 1,
                               "non_finite_values": 1}
    assert len(summary.paths) == 2

    records = by_filename(read_shards(prefix))
    first = records["000000000001.jpg"]
    expected_2d = np.asarray(GOOD_1).reshape(K, 3)
    np.testing.assert_allclose(first["keypoints_2d"], expected_2d[:, :2])
    np.testing.assert_array_equal(first["visible"], (expected_2d[:, 2] > 0).astype(np.float32))
    bbox, center, size = _expected_crop(5, 6, 20, 30)
    np.testing.assert_allclose(first["bbox"], bbox)
    np.testing.assert_allclose(first["center"], center)
    np.testing.assert_allclose(first["scale"], size)  # 30 x 30 square, * 1.25
    assert first["image_id"] == 1 and first["score"] == 1.0 and first["valid"]
    assert first["dataset"] == b"coco" and first["image"].shape == (40, 60, 3)

    second = records["000000000002.jpg"]
    # The box [25, 30, 40, 30] is clipped to the 50 x 50 image: [25, 30, 25, 20].
    bbox, center, size = _expected_crop(25, 30, 25, 20)
    np.testing.assert_allclose(second["bbox"], bbox)
    np.testing.assert_allclose(second["center"], center)
    np.testing.assert_allclose(second["scale"], size)
    assert second["image_id"] == 2

    logged = warnings_of(caplog)
    for offender in ("annotation 105", "annotation 106", "annotation 107", "annotation 108", "annotation 109",
                     "etc/passwd"):
        assert offender in logged
    assert "annotation 102" not in logged  # crowd boxes are filtered quietly


def test_aspect_ratio_and_padding(coco_files, tmp_path):
    annotation_file, images, _ = coco_files
    prefix = tmp_path / "wide"
    coco.convert_coco(annotation_file, images, str(prefix), aspect_ratio=0.75, padding=1.0, progress=False)
    first = by_filename(read_shards(prefix))["000000000001.jpg"]
    # 20 x 30 box: width / height = 0.667 < 0.75, so the width grows to 30 * 0.75.
    np.testing.assert_allclose(first["scale"], [22.5, 30.0])


def test_detection_records(coco_files, tmp_path, caplog):
    annotation_file, images, detections_file = coco_files
    prefix = tmp_path / "det"
    with caplog.at_level(logging.WARNING):
        summary = coco.convert_coco(annotation_file, images, str(prefix), detections_file=str(detections_file),
                                    score_threshold=0.1, progress=False)
    assert summary.written == 1
    assert summary.skipped == {"not_person": 1, "low_score": 1, "unknown_image": 1, "malformed_entry": 1}
    (record,) = read_shards(prefix)
    bbox, center, size = _expected_crop(10, 4, 30, 20)
    np.testing.assert_allclose(record["bbox"], bbox)
    np.testing.assert_allclose(record["center"], center)
    np.testing.assert_allclose(record["scale"], size)
    np.testing.assert_allclose(record["score"], 0.9)
    np.testing.assert_array_equal(record["keypoints_2d"], np.zeros((K, 2)))
    np.testing.assert_array_equal(record["visible"], np.zeros(K))
    assert record["image_id"] == 1
    logged = warnings_of(caplog)
    assert "detection 3" in logged and "999" in logged and "detection 4" in logged


def test_missing_annotation_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        coco.convert_coco(tmp_path / "nope.json", tmp_path, str(tmp_path / "out"), progress=False)
