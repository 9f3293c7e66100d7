"""Fault injection into the converters (shared loop `converters.common.convert`, driven through the JSON-lines
reader): each bad entry is skipped with its own reason and counted exactly; nothing bad is written."""
import json
import logging

import cv2
import numpy as np
import tensorflow as tf

from integral_keras.data import decoder
from integral_keras.data.converters import common, jsonl


def _jpeg(path, seed):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), image)


def _flip_middle(path):
    data = bytearray(path.read_bytes())
    start = int(len(data) * 0.6)  # inside the entropy-coded scan, past the headers
    for index in range(start, start + 4):
        data[index] ^= 0xFF
    path.write_bytes(bytes(data))


def _line(image, image_id, **extra):
    keypoints = np.random.default_rng(image_id).uniform(4, 28, (16, 2)).round(2).tolist()
    return json.dumps(dict(image=image, keypoints=keypoints, image_id=image_id, **extra))


def _read(prefix):
    records = []
    for serialized in tf.data.TFRecordDataset(tf.io.gfile.glob(f"{prefix}-*")):
        records.append({k: v.numpy() for k, v in decoder.decode_example(serialized).items()})
    return records


def test_jsonl_faults_are_each_refused_with_their_own_reason(tmp_path, caplog):
    images = tmp_path / "images"
    for name, seed in (("a.jpg", 0), ("b.jpg", 1), ("c.jpg", 2), ("flipped.jpg", 3)):
        _jpeg(images / name, seed)
    _flip_middle(images / "flipped.jpg")
    huge = np.random.default_rng(9).uniform(4, 28, (16, 2)).tolist()
    huge[3][0] = 1e39  # finite as float64, inf as the stored float32
    lines = [
        _line("a.jpg", 1, visible=[2] * 8 + [1] * 4 + [0] * 4),  # COCO-style 2 / 1 / 0
        _line("a.jpg", 1),                  # a second person of the same image shares its id
        _line("b.jpg", 1),                  # the same id on another image: refused
        _line("b.jpg", 1),                  # and again
        _line("c.jpg", 3),
        _line("flipped.jpg", 4),            # decodes to garbage with libjpeg warnings: refused
        json.dumps(dict(image="c.jpg", keypoints=huge, image_id=5)),
        _line("c\x00.jpg", 6),              # a NUL byte in the path
        _line("../outside.jpg", 7),
        _line("c.jpg", 8, visible=[-1] + [1] * 15),
    ]
    (tmp_path / "people.jsonl").write_text("\n".join(lines) + "\n")

    with caplog.at_level(logging.WARNING):
        summary = jsonl.convert_jsonl(tmp_path / "people.jsonl", images, str(tmp_path / "out" / "p"),
                                      progress=False)

    assert summary.skipped == {"duplicate_image_id": 2, "unreadable_image": 1, "non_finite_values": 1,
                               "invalid_path": 1, "path_outside_root": 1, "invalid_fields": 1}
    assert summary.written == 3
    records = _read(tmp_path / "out" / "p")
    assert sorted((r["filename"].decode(), int(r["image_id"])) for r in records) == [
        ("a.jpg", 1), ("a.jpg", 1), ("c.jpg", 3)]
    first = next(r for r in records if r["filename"] == b"a.jpg" and r["visible"].sum() != 16)
    np.testing.assert_array_equal(first["visible"], [1.0] * 12 + [0.0] * 4)
    assert all(int(r["skip_reason"]) == 0 for r in records)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "flipped.jpg does not decode fully: libjpeg reports Corrupt JPEG data" in logged
    assert "image_id 1 already names image 'a.jpg', not 'b.jpg'" in logged
    assert "line 8 (invalid_path)" in logged and "line 7 (non_finite_values)" in logged


def test_non_finite_fields_checks_the_stored_float32_value():
    assert common.non_finite_fields({"keypoints_2d": np.array([[1e39, 0.0]]), "score": 1.0}) == ["keypoints_2d"]
    assert common.non_finite_fields({"keypoints_2d": np.array([[3e38, 0.0]]), "name": "x"}) == []


def test_shared_loop_applies_the_checks_to_any_reader(tmp_path):
    """The COCO / MPII / H36M readers yield `Record`s into the same loop: the checks hold for them too."""
    _jpeg(tmp_path / "img" / "x.jpg", 0)
    _jpeg(tmp_path / "img" / "y.jpg", 1)
    fields = dict(keypoints_2d=np.full((16, 2), 10.0), visible=np.full(16, 2.0), center=[16.0, 16.0],
                  scale=[20.0, 20.0], image_id=11)
    records = [common.Record("mpii 0", "x.jpg", dict(fields)), common.Record("mpii 1", "y.jpg", dict(fields)),
               common.Record("mpii 2", "y.jpg", dict(fields, image_id=12, scale=[1e39, 20.0]))]
    summary = common.convert(records, tmp_path / "img", str(tmp_path / "o" / "m"), "mpii", progress=False)
    assert summary.written == 1 and summary.skipped == {"duplicate_image_id": 1, "non_finite_values": 1}
    (record,) = _read(tmp_path / "o" / "m")
    np.testing.assert_array_equal(record["visible"], np.ones(16))
