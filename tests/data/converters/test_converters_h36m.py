"""Human3.6M converter on sequence folders with matlab_meta.txt and tiny JPEGs, in the seed's layout."""
import logging

import numpy as np
import pytest

from converter_fixtures import read_shards, warnings_of, write_image
from integral_keras.data.converters import h36m

# The 17 of the 32 mocap joints used by the seed (1-based), in the H36M skeleton order.
JOINT_LIST = [1, 2, 3, 4, 7, 8, 9, 13, 14, 15, 16, 18, 19, 20, 26, 27, 28]
FOCAL = np.array([1145.0, 1143.8])
CENTER = np.array([51.2, 51.5])
SIZE = (100, 100)  # width, height


def _rotation(yaw, pitch):
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    return rx @ rz


ROTATION = _rotation(0.3, -1.4)
TRANSLATION = np.array([1800.0, -4000.0, 1500.0])  # camera position, world mm


def _world_joints(num_frames, seed):
    """(F, 32, 3) world joints around a point 5 m in front of the camera."""
    target_camera = np.array([40.0, -20.0, 5000.0])
    target_world = ROTATION.T @ target_camera + TRANSLATION
    offsets = np.random.default_rng(seed).uniform(-400, 400, (num_frames, 32, 3))
    return target_world + offsets


def _write_meta(path, world, rotation_line=None):
    """matlab_meta.txt: the rotation written column-major (MATLAB), one labelled item per line."""
    fmt = lambda values: " ".join(repr(float(v)) for v in values)  # noqa: E731
    rotation_line = rotation_line or "R " + fmt(ROTATION.ravel(order="F"))
    lines = [f"{len(world)}", f"size {SIZE[0]} {SIZE[1]}", rotation_line, "T " + fmt(TRANSLATION),
             "f " + fmt(FOCAL), "c " + fmt(CENTER), "k 0.1 -0.2 0.01", "p 0.001 -0.002",
             "joints " + " ".join(str(j) for j in JOINT_LIST)]
    lines += [f"{i + 1} " + fmt(frame.ravel()) for i, frame in enumerate(world)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _sequence(root, name, world, frames_with_images):
    _write_meta(root / "annot" / name / "matlab_meta.txt", world)
    for frame in frames_with_images:
        write_image(root / "images" / name / f"{name}_{frame + 1:06d}.jpg", SIZE[1], SIZE[0], seed=frame)


@pytest.fixture
def h36m_root(tmp_path):
    root = tmp_path / "hm36"
    s11 = _world_joints(7, seed=0)
    s11[4, 3, 1] = np.nan
    _sequence(root, "s_11_act_02_subact_01_ca_01", s11, frames_with_images=range(6))  # frame 6 has no image
    _sequence(root, "s_09_act_05_subact_02_ca_03", _world_joints(3, seed=1), frames_with_images=range(3))
    _sequence(root, "s_01_act_02_subact_01_ca_01", _world_joints(3, seed=2), frames_with_images=range(3))
    broken = root / "annot" / "s_11_act_03_subact_01_ca_01" / "matlab_meta.txt"
    broken.parent.mkdir(parents=True)
    broken.write_text("3\nsize 100 100\nR 1 0 0\n")
    return root, s11


def _expected(world_frame):
    """Independent pinhole reference: camera = R (X - T), u = f x / z + c; pelvis = mocap joint 1."""
    selected = world_frame[np.asarray(JOINT_LIST) - 1]
    camera = np.stack([ROTATION @ (point - TRANSLATION) for point in selected])
    pixels = np.stack([FOCAL * point[:2] / point[2] + CENTER for point in camera])
    return pixels, camera - camera[0], camera[0, 2]


def test_protocol_1_test_split(h36m_root, tmp_path, caplog):
    root, s11 = h36m_root
    prefix = tmp_path / "out" / "p1_test"
    with caplog.at_level(logging.WARNING):
        summary = h36m.convert_h36m(root, str(prefix), split="test", protocol=1, frame_step=2, progress=False)
    # S11 only; frames 0, 2, 4, 6: frame 4 holds NaN, frame 6 has no image; the act_03 sequence is broken.
    assert summary.written == 2
    assert summary.skipped == {"non_finite_values": 1, "missing_image": 1, "malformed_sequence": 1}

    records = sorted(read_shards(prefix), key=lambda record: record["frame"])
    assert [record["frame"] for record in records] == [0, 2]
    for record in records:
        frame = int(record["frame"])
        pixels, relative, root_depth = _expected(s11[frame])
        np.testing.assert_allclose(record["keypoints_2d"], pixels, rtol=1e-5)
        np.testing.assert_allclose(record["keypoints_3d"], relative, atol=1e-2)
        np.testing.assert_allclose(record["root_depth"], root_depth, rtol=1e-6)
        np.testing.assert_allclose(record["focal"], FOCAL)
        np.testing.assert_allclose(record["principal_point"], CENTER)
        np.testing.assert_array_equal(record["visible"], np.ones(17))
        assert record["has_3d"] == 1.0
        assert (record["subject"], record["action"], record["subaction"], record["camera"]) == (11, 2, 1, 1)
        assert record["filename"].decode() == f"s_11_act_02_subact_01_ca_01/s_11_act_02_subact_01_ca_01_" \
                                              f"{frame + 1:06d}.jpg"
        # Crop: the projected pelvis, 2000 mm at the pelvis depth, made square (the larger of fx, fy).
        np.testing.assert_allclose(record["center"], pixels[0], rtol=1e-5)
        np.testing.assert_allclose(record["scale"], [2000 * FOCAL.max() / root_depth] * 2, rtol=1e-5)
        np.testing.assert_allclose(record["bbox"], [*pixels.min(0), *(pixels.max(0) - pixels.min(0))], rtol=1e-4)
    logged = warnings_of(caplog)
    assert "s_11_act_02_subact_01_ca_01 frame 4" in logged
    assert "s_11_act_02_subact_01_ca_01 frame 6" in logged
    assert "s_11_act_03_subact_01_ca_01" in logged and "line" in logged


@pytest.mark.parametrize("split, protocol, subjects", [
    ("test", 2, {9, 11}), ("train", 1, {1, 9}), ("train", 2, {1}),
])
def test_subject_splits(h36m_root, tmp_path, split, protocol, subjects):
    root, _ = h36m_root
    prefix = tmp_path / f"{split}{protocol}"
    h36m.convert_h36m(root, str(prefix), split=split, protocol=protocol, progress=False)
    assert {int(record["subject"]) for record in read_shards(prefix)} == subjects


def test_test_split_keeps_every_64th_frame_by_default(h36m_root, tmp_path):
    root, _ = h36m_root
    prefix = tmp_path / "p2"
    summary = h36m.convert_h36m(root, str(prefix), split="test", protocol=2, progress=False)
    assert summary.written == 2  # frame 0 of the S9 and of the good S11 sequence
    assert {int(record["frame"]) for record in read_shards(prefix)} == {0}


def test_parse_meta_reads_the_rotation_column_major(tmp_path):
    path = tmp_path / "matlab_meta.txt"
    _write_meta(path, _world_joints(1, seed=3))
    meta = h36m.parse_meta(path)
    np.testing.assert_allclose(meta.rotation, ROTATION)
    np.testing.assert_array_equal(meta.joint_list, np.asarray(JOINT_LIST) - 1)
    assert (meta.width, meta.height) == SIZE and meta.world_joints.shape == (1, 32, 3)


def test_parse_meta_names_the_bad_line(tmp_path):
    path = tmp_path / "matlab_meta.txt"
    _write_meta(path, _world_joints(1, seed=3), rotation_line="R 1 0 0 0 1 0 0 0 x")
    with pytest.raises(ValueError, match="line 3"):
        h36m.parse_meta(path)


def test_unknown_split_and_protocol_are_rejected(h36m_root, tmp_path):
    root, _ = h36m_root
    with pytest.raises(ValueError, match="split"):
        h36m.convert_h36m(root, str(tmp_path / "x"), split="val", progress=False)
    with pytest.raises(ValueError, match="protocol"):
        h36m.convert_h36m(root, str(tmp_path / "x"), protocol=3, progress=False)
