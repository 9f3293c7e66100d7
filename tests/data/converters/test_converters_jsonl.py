"""JSON-lines converter, and the shared converter loop (image checks, root confinement, per-reason counts)."""
import json
import logging
import pathlib
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from converter_fixtures import by_filename, read_shards, warnings_of, write_image
from integral_keras.data import writer
from integral_keras.data.converters import jsonl

COCO_K = 17


def _keypoints(seed, num=COCO_K):
    return np.random.default_rng(seed).uniform(2, 30, (num, 2)).round(2)


@pytest.fixture
def jsonl_files(tmp_path):
    images = tmp_path / "images"
    write_image(images / "a.png", 32, 40, seed=0)
    write_image(images / "sub" / "b.jpg", 36, 36, seed=1)
    write_image(images / "c.bmp", 20, 24, seed=2)
    jpeg = (images / "sub" / "b.jpg").read_bytes()
    (images / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    # OpenCV decodes a JPEG followed by junk, but the pipeline's decoder looks for the end marker near the end.
    (images / "trailing_junk.jpg").write_bytes(jpeg + b"\0" * 5000)
    (tmp_path / "outside.jpg").write_bytes(jpeg)
    full = {
        "image": "a.png", "keypoints": _keypoints(0).tolist(), "visible": [1] * 16 + [0],
        "box": [3.0, 4.0, 20.0, 10.0], "keypoints_3d": np.arange(COCO_K * 3.0).reshape(COCO_K, 3).tolist(),
        "camera": {"f": [500.0, 510.0], "c": [20.0, 16.0]}, "root_depth": 4200.0, "skeleton": "coco",
        "image_id": 42, "score": 0.5,
    }
    minimal = {"image": "sub/b.jpg", "keypoints": _keypoints(1).tolist()}
    nan_line = dict(minimal, keypoints=[[float("nan"), 1.0]] + _keypoints(2)[1:].tolist())
    lines = [
        json.dumps(full),
        json.dumps(minimal),
        "",
        '{"image": "a.png", "keypoints": [[1, 2]',                               # line 4: invalid JSON
        json.dumps(dict(minimal, boxx=[0, 0, 1, 1])),                            # line 5: unknown key
        json.dumps(dict(minimal, skeleton="mpii")),                              # line 6: 17 joints, not 16
        json.dumps(nan_line),                                                    # line 7: NaN
        json.dumps(dict(minimal, image="../outside.jpg")),                       # line 8: escapes the root
        json.dumps(dict(minimal, image="truncated.jpg")),                        # line 9: truncated JPEG
        json.dumps(dict(minimal, image="c.bmp")),                                # line 10: BMP, re-encoded
        json.dumps(dict(minimal, box=[1.0, 1.0, 0.0, 5.0])),                     # line 11: empty box
        json.dumps(dict(minimal, image="trailing_junk.jpg")),                    # line 12: no end marker
    ]
    jsonl_file = tmp_path / "people.jsonl"
    jsonl_file.write_text("\n".join(lines) + "\n")
    return jsonl_file, images, full, minimal


def test_jsonl_records(jsonl_files, tmp_path, caplog):
    jsonl_file, images, full, minimal = jsonl_files
    prefix = tmp_path / "out" / "custom"
    with caplog.at_level(logging.WARNING):
        summary = jsonl.convert_jsonl(jsonl_file, images, str(prefix), skeleton="coco", num_shards=3,
                                      progress=False)
    assert summary.written == 3
    assert summary.skipped == {"malformed_entry": 3, "non_finite_values": 1, "path_outside_root": 1,
                               "unreadable_image": 2, "empty_box": 1}
    records = by_filename(read_shards(prefix))

    first = records["a.png"]
    np.testing.assert_allclose(first["keypoints_2d"], full["keypoints"], rtol=1e-6)
    np.testing.assert_array_equal(first["visible"], full["visible"])
    np.testing.assert_allclose(first["keypoints_3d"], full["keypoints_3d"])
    assert first["has_3d"] == 1.0
    np.testing.assert_allclose(first["focal"], [500.0, 510.0])
    np.testing.assert_allclose(first["principal_point"], [20.0, 16.0])
    np.testing.assert_allclose(first["root_depth"], 4200.0)
    np.testing.assert_allclose(first["bbox"], [3.0, 4.0, 20.0, 10.0])
    np.testing.assert_allclose(first["center"], [13.0, 9.0])
    np.testing.assert_allclose(first["scale"], [25.0, 25.0])  # 20 x 10 -> 20 x 20 square, * 1.25
    assert first["image_id"] == 42 and first["score"] == 0.5 and first["dataset"] == b"jsonl"
    np.testing.assert_array_equal(first["image"], cv2.imread(str(images / "a.png"))[..., ::-1])  # PNG: lossless

    second = records["sub/b.jpg"]
    points = np.asarray(minimal["keypoints"])
    low, high = points.min(0), points.max(0)
    np.testing.assert_allclose(second["bbox"], [*low, *(high - low)], rtol=1e-5)
    np.testing.assert_allclose(second["center"], (low + high) / 2, rtol=1e-5)
    np.testing.assert_allclose(second["scale"], [1.25 * (high - low).max()] * 2, rtol=1e-5)
    np.testing.assert_array_equal(second["visible"], np.ones(COCO_K))
    assert second["has_3d"] == 0.0 and second["image_id"] == 1  # default: 0-based line number

    bmp = records["c.bmp"]
    assert bmp["valid"] and bmp["image"].shape == (20, 24, 3)

    logged = warnings_of(caplog)
    for line in (4, 5, 6, 7, 8, 9, 11, 12):
        assert f"line {line} " in logged
    assert "boxx" in logged and "mpii" in logged and "outside.jpg" in logged
    assert "trailing_junk.jpg has no end-of-image marker" in logged


def test_jpeg_and_png_bytes_are_stored_unchanged(jsonl_files, tmp_path):
    jsonl_file, images, _, _ = jsonl_files
    prefix = tmp_path / "raw"
    jsonl.convert_jsonl(jsonl_file, images, str(prefix), progress=False)
    stored = {}
    for serialized in tf.data.TFRecordDataset(writer.shard_paths(str(prefix), 1)):
        features = tf.train.Example.FromString(serialized.numpy()).features.feature
        stored[features["image/filename"].bytes_list.value[0].decode()] = features["image/encoded"].bytes_list.value[0]
    assert stored["a.png"] == (images / "a.png").read_bytes()
    assert stored["sub/b.jpg"] == (images / "sub" / "b.jpg").read_bytes()
    assert stored["c.bmp"].startswith(b"\xff\xd8\xff")  # re-encoded as JPEG


def test_unknown_skeleton_fails_early(jsonl_files, tmp_path):
    jsonl_file, images, _, _ = jsonl_files
    with pytest.raises(ValueError, match="Unknown skeleton 'body25'"):
        jsonl.convert_jsonl(jsonl_file, images, str(tmp_path / "x"), skeleton="body25", progress=False)


def test_missing_image_root_names_the_path(jsonl_files, tmp_path):
    jsonl_file, _, _, _ = jsonl_files
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        jsonl.convert_jsonl(jsonl_file, tmp_path / "no_such_dir", str(tmp_path / "x"), progress=False)


@pytest.mark.slow
def test_convert_jsonl_binary(tmp_path):
    images = tmp_path / "images"
    write_image(images / "a.jpg", 16, 16)
    jsonl_file = tmp_path / "one.jsonl"
    jsonl_file.write_text(json.dumps({"image": "a.jpg", "keypoints": _keypoints(0, num=16).tolist()}) + "\n")
    script = pathlib.Path(__file__).resolve().parents[3] / "scripts" / "convert_jsonl.py"
    prefix = tmp_path / "out" / "custom"
    result = subprocess.run(
        [sys.executable, str(script), f"--jsonl_file={jsonl_file}", f"--image_root={images}",
         f"--output_prefix={prefix}", "--skeleton=mpii", "--num_shards=2"],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "written 1, skipped 0" in result.stdout
    assert len(read_shards(prefix)) == 1


@pytest.mark.parametrize("arguments, name", [({"padding": 0.0}, "padding"), ({"aspect_ratio": -1.0}, "aspect_ratio"),
                                             ({"aspect_ratio": float("nan")}, "aspect_ratio")])
def test_crop_arguments_must_be_positive(jsonl_files, tmp_path, arguments, name):
    jsonl_file, images, _, _ = jsonl_files
    with pytest.raises(ValueError, match=f"{name} must be a positive number"):
        jsonl.convert_jsonl(jsonl_file, images, str(tmp_path / "x"), progress=False, **arguments)
