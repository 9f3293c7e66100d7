"""MPII converter on a small valid.json + gt_valid.mat written in the real formats (1-based MATLAB coordinates)."""
import json
import logging

import numpy as np
import pytest
import scipy.io

from converter_fixtures import read_shards, warnings_of, write_image
from integral_keras.data.converters import mpii

OFFICIAL_NAMES = ("rank", "rkne", "rhip", "lhip", "lkne", "lank", "pelv", "thor", "neck", "head", "rwri", "relb",
                  "rsho", "lsho", "lelb", "lwri")


def _entry(image, center, scale, seed):
    rng = np.random.default_rng(seed)
    joints = rng.uniform(1, 60, (16, 2)).round(1)
    visible = (rng.uniform(size=16) > 0.3).astype(int)
    return {"image": image, "center": center, "scale": scale, "joints": joints.tolist(),
            "joints_vis": visible.tolist()}


def _write_gt_valid(path, headboxes_1_based):
    """gt_valid.mat in the official layout: headboxes_src (2, 2, N), 1-based."""
    num = len(headboxes_1_based)
    names = np.empty((1, 16), dtype=object)
    names[0, :] = OFFICIAL_NAMES
    scipy.io.savemat(path, {
        "dataset_joints": names,
        "jnt_missing": np.zeros((16, num), np.uint8),
        "pos_gt_src": np.ones((16, 2, num)),
        "headboxes_src": np.transpose(np.asarray(headboxes_1_based, np.float64), (1, 2, 0)),
    })


@pytest.fixture
def mpii_files(tmp_path):
    images = tmp_path / "images"
    write_image(images / "015601864.jpg", 64, 80, seed=3)
    write_image(images / "015599452.jpg", 48, 48, seed=4)
    short = _entry("015601864.jpg", [30.0, 31.0], 0.2, seed=2)
    short["joints"] = short["joints"][:15]
    entries = [
        _entry("015601864.jpg", [40.0, 32.0], 0.25, seed=0),
        _entry("015599452.jpg", [20.0, 18.5], 0.18, seed=1),
        short,                                                  # 15 joints: malformed
        _entry("000000000.jpg", [40.0, 32.0], 0.25, seed=3),   # image missing
        {"image": "015601864.jpg", "center": [40.0, 32.0]},    # no joints at all
    ]
    json_file = tmp_path / "valid.json"
    json_file.write_text(json.dumps(entries))
    headboxes = [[[10 + i, 5 + i], [30 + i, 25 + 2 * i]] for i in range(len(entries))]
    gt_valid = tmp_path / "gt_valid.mat"
    _write_gt_valid(gt_valid, headboxes)
    return json_file, images, gt_valid, entries, headboxes


def test_valid_json_with_headboxes(mpii_files, tmp_path, caplog):
    json_file, images, gt_valid, entries, headboxes = mpii_files
    prefix = tmp_path / "out" / "valid"
    with caplog.at_level(logging.WARNING):
        summary = mpii.convert_mpii(json_file, images, str(prefix), gt_valid_file=str(gt_valid), progress=False)
    assert summary.written == 2
    assert summary.skipped == {"malformed_entry": 2, "missing_image": 1}

    records = sorted(read_shards(prefix), key=lambda record: record["image_id"])
    assert [record["image_id"] for record in records] == [0, 1]  # index in valid.json = column of gt_valid.mat
    for index, record in enumerate(records):
        entry = entries[index]
        np.testing.assert_allclose(record["keypoints_2d"], np.asarray(entry["joints"]) - 1.0, atol=1e-5)
        np.testing.assert_array_equal(record["visible"], np.asarray(entry["joints_vis"], np.float32))
        cx, cy = entry["center"]
        s = entry["scale"]
        np.testing.assert_allclose(record["center"], [cx - 1.0, cy + 15.0 * s - 1.0], atol=1e-5)
        np.testing.assert_allclose(record["scale"], [s * 200 * 1.25] * 2, rtol=1e-6)
        (x1, y1), (x2, y2) = headboxes[index]
        np.testing.assert_allclose(record["headbox"], [x1 - 1, y1 - 1, x2 - 1, y2 - 1])
        assert record["filename"].decode() == entry["image"] and record["dataset"] == b"mpii"
    logged = warnings_of(caplog)
    assert "entry 2" in logged and "entry 3" in logged and "entry 4" in logged and "000000000.jpg" in logged


def test_without_gt_valid_headbox_is_zero(mpii_files, tmp_path):
    json_file, images, _, _, _ = mpii_files
    prefix = tmp_path / "train"
    mpii.convert_mpii(json_file, images, str(prefix), progress=False)
    for record in read_shards(prefix):
        np.testing.assert_array_equal(record["headbox"], np.zeros(4))


def test_gt_valid_of_another_size_is_rejected(mpii_files, tmp_path):
    json_file, images, _, _, _ = mpii_files
    other = tmp_path / "other.mat"
    _write_gt_valid(other, [[[1, 1], [2, 2]]] * 3)
    with pytest.raises(ValueError, match="holds 3 people but the annotation JSON 5"):
        mpii.convert_mpii(json_file, images, str(tmp_path / "x"), gt_valid_file=str(other), progress=False)


def test_annotation_file_that_is_not_a_list_is_rejected(tmp_path):
    json_file = tmp_path / "valid.json"
    json_file.write_text(json.dumps({"image": "a.jpg"}))
    with pytest.raises(ValueError, match="expected a JSON list of MPII person entries, got dict"):
        mpii.convert_mpii(json_file, tmp_path, str(tmp_path / "x"), progress=False)
