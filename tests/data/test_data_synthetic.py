"""Tests for integral_keras.data.synthetic: determinism, label geometry, anatomy, rendering, records, script."""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from integral_keras.data import skeletons
from integral_keras.data.decoder import decode_example
from integral_keras.data.synthetic import SyntheticPoseGenerator, file_pattern, write_dataset
from integral_keras.data.synthetic import body_model, camera as camera_lib, contact_sheet, render

SIZE = 64
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Plausible adult bone lengths in mm (anthropometric ranges, wider than the generator's variation).
BONE_RANGES = {("hip", "knee"): (330, 570), ("knee", "ankle"): (320, 560), ("shoulder", "elbow"): (200, 360),
               ("elbow", "wrist"): (180, 330)}


def _index(skeleton_name, joint):
    return skeletons.get_skeleton(skeleton_name).index(joint)


@pytest.fixture(scope="module", params=["h36m", "mpii"])
def samples(request):
    generator = SyntheticPoseGenerator(request.param, SIZE, seed=3)
    return [generator.sample(index, "train") for index in range(12)]


def test_same_seed_same_bytes_and_order_independence():
    first, second = SyntheticPoseGenerator("h36m", SIZE, seed=5), SyntheticPoseGenerator("h36m", SIZE, seed=5)
    late = second.example(2, "val").SerializeToString()
    assert [first.example(i, "val").SerializeToString() for i in range(3)][2] == late
    assert first.example(0).SerializeToString() == second.example(0).SerializeToString()
    other_seed = SyntheticPoseGenerator("h36m", SIZE, seed=6).example(0).SerializeToString()
    assert other_seed != first.example(0).SerializeToString()
    assert first.example(0, "train").SerializeToString() != first.example(0, "val").SerializeToString()


def test_same_seed_writes_identical_files_with_or_without_workers(tmp_path):
    contents = []
    for folder, workers in (("a", 0), ("b", 0), ("c", 2)):
        paths = write_dataset(os.path.join(tmp_path, folder), num_train=20, num_val=0, image_size=32, seed=9,
                              num_shards=2, num_workers=workers)["train"]
        contents.append([open(path, "rb").read() for path in paths])
    assert contents[0] == contents[1] == contents[2] and all(contents[0])


def test_2d_labels_are_the_pinhole_projection_of_the_3d_labels(samples):
    for sample in samples:
        root = _index(sample.skeleton, "pelvis")
        (fx, fy), (cx, cy) = sample.focal, sample.principal_point
        z_root = sample.root_depth
        # Back-project the root's label, then project every joint with x = f * X / Z + c.
        root_cam = np.array([(sample.keypoints_2d[root, 0] - cx) * z_root / fx,
                             (sample.keypoints_2d[root, 1] - cy) * z_root / fy, z_root])
        joints = sample.keypoints_3d + root_cam
        expected = np.stack([fx * joints[:, 0] / joints[:, 2] + cx, fy * joints[:, 1] / joints[:, 2] + cy], axis=1)
        np.testing.assert_allclose(sample.keypoints_2d, expected, atol=1e-6)
        assert np.all(joints[:, 2] > 0)


def test_labels_are_sub_pixel(samples):
    fractions = np.concatenate([np.modf(sample.keypoints_2d)[0].ravel() for sample in samples])
    assert np.std(fractions) > 0.1


def test_3d_labels_root_relative_with_plausible_symmetric_bones(samples):
    for sample in samples:
        root = _index(sample.skeleton, "pelvis")
        np.testing.assert_array_equal(sample.keypoints_3d[root], np.zeros(3))
        for (start, end), (low, high) in BONE_RANGES.items():
            lengths = [np.linalg.norm(sample.keypoints_3d[_index(sample.skeleton, f"{side}_{start}")]
                                      - sample.keypoints_3d[_index(sample.skeleton, f"{side}_{end}")])
                       for side in ("l", "r")]
            assert low <= lengths[0] <= high, (start, end, lengths)
            assert lengths[0] == pytest.approx(lengths[1], rel=1e-9)  # one length per bone and person


def test_hinges_stay_within_limits(samples):
    """Knee / elbow flexion measured from the 3D labels (angle between the two bones) respects the limits."""
    for sample in samples:
        for first, middle, last, limit in (("hip", "knee", "ankle", "knee_flexion"),
                                           ("shoulder", "elbow", "wrist", "elbow_flexion")):
            for side in ("l", "r"):
                a, b, c = (sample.keypoints_3d[_index(sample.skeleton, f"{side}_{name}")]
                           for name in (first, middle, last))
                upper, lower = b - a, c - b
                flexion = np.degrees(np.arccos(upper @ lower / np.linalg.norm(upper) / np.linalg.norm(lower)))
                low, high = body_model.ANGLE_LIMITS[limit]
                assert low - 1e-6 <= flexion <= high + 1e-6


def test_sampled_angles_respect_the_limit_table():
    rng = np.random.default_rng(0)
    for _ in range(200):
        for name, value in body_model.sample_angles(rng).items():
            low, high = body_model.angle_limits(name)
            assert low <= value <= high, name


def _rest_pose_with(**angles):
    shape = body_model.BodyShape(dict(body_model.MEAN_BONE_LENGTHS))
    values = dict.fromkeys(body_model.ANGLE_NAMES, 0.0)
    values.update(angles)
    joints = body_model.forward_kinematics(shape, values)
    return {name: joints[i] for i, name in enumerate(body_model.JOINTS)}, shape.lengths


def test_hinges_bend_the_anatomical_way():
    """Body frame: x = person's left, y = up, z = forward. Knees bend backwards, elbows forwards."""
    joints, length = _rest_pose_with(r_knee_flexion=90.0, l_elbow_flexion=90.0, l_hip_flexion=90.0,
                                     r_shoulder_abduction=90.0)
    np.testing.assert_allclose(joints["r_ankle"] - joints["r_knee"], [0, 0, -length["shin"]], atol=1e-9)
    np.testing.assert_allclose(joints["l_wrist"] - joints["l_elbow"], [0, 0, length["forearm"]], atol=1e-9)
    np.testing.assert_allclose(joints["l_knee"] - joints["l_hip"], [0, 0, length["thigh"]], atol=1e-9)
    np.testing.assert_allclose(joints["r_elbow"] - joints["r_shoulder"], [-length["upper_arm"], 0, 0], atol=1e-9)
    assert joints["l_hip"][0] > 0 > joints["r_hip"][0]
    assert joints["head"][1] > joints["neck"][1] > joints["thorax"][1] > joints["pelvis"][1] > joints["r_knee"][1]


def test_person_facing_the_camera_shows_its_left_on_the_image_right():
    rotation = camera_lib.global_rotation(0.0, 0.0, 0.0)
    joints, _ = _rest_pose_with()
    left, right = rotation @ joints["l_shoulder"], rotation @ joints["r_shoulder"]
    head, pelvis = rotation @ joints["head"], rotation @ joints["pelvis"]
    assert left[0] > right[0] and head[1] < pelvis[1]  # image x grows to the right, y downwards
    assert (rotation @ np.array([0.0, 0.0, 1.0]))[2] < 0  # facing the camera


def test_visibility_box_and_headbox(samples):
    for sample in samples:
        inside = np.all((sample.keypoints_2d >= 0) & (sample.keypoints_2d <= SIZE - 1), axis=1)
        np.testing.assert_array_equal(sample.visible, inside.astype(float))
        x, y, w, h = sample.bbox
        assert np.all(sample.keypoints_2d >= [x, y]) and np.all(sample.keypoints_2d <= [x + w, y + h])
        np.testing.assert_allclose(sample.center, [x + w / 2, y + h / 2])
        np.testing.assert_allclose(sample.scale, [max(w, h)] * 2)
        if sample.skeleton == "mpii":
            x1, y1, x2, y2 = sample.headbox
            for joint in ("upper_neck", "head_top"):
                px, py = sample.keypoints_2d[_index("mpii", joint)]
                assert x1 <= px <= x2 and y1 <= py <= y2
            assert x2 - x1 == pytest.approx(y2 - y1)
            # PCKh head size (0.6 * box diagonal) back in mm near the root depth: an adult head, ~15-26 cm.
            head_mm = 0.6 * np.hypot(x2 - x1, y2 - y1) * sample.root_depth / sample.focal[0]
            assert 150 < head_mm < 260
        else:
            np.testing.assert_array_equal(sample.headbox, np.zeros(4))
    # Persons are large in the image and mostly inside it.
    assert np.mean([sample.visible.mean() for sample in samples]) > 0.9
    assert np.median([sample.scale[0] for sample in samples]) > 0.5 * SIZE


def test_rendered_body_covers_its_projected_joints():
    """On a black canvas every projected joint inside the image lands on drawn pixels; far corners stay black."""
    shape = body_model.BodyShape(dict(body_model.MEAN_BONE_LENGTHS))
    angles = dict.fromkeys(body_model.ANGLE_NAMES, 0.0)
    angles.update(l_shoulder_abduction=60.0, r_knee_flexion=45.0, r_hip_flexion=30.0)
    rotation = camera_lib.global_rotation(30.0, 0.0, 0.0)
    joints_cam = body_model.forward_kinematics(shape, angles) @ rotation.T + [0.0, 0.0, 4000.0]
    camera = camera_lib.Camera(np.array([200.0, 200.0]), np.array([63.5, 63.5]))
    appearance = render.sample_appearance(np.random.default_rng(0))
    image = np.zeros((128, 128, 3), np.uint8)
    render.render_person(image, joints_cam, camera, rotation @ body_model.head_rotation(angles), appearance)
    # Independent projection of the joints.
    points = 200.0 * joints_cam[:, :2] / joints_cam[:, 2:] + 63.5
    for point in points:
        x, y = np.round(point).astype(int)
        assert image[y, x].max() > 0, point
    assert image[:3, :3].max() == 0 and image[-3:, -3:].max() == 0


def test_left_limbs_differ_from_right_limbs():
    appearance = render.sample_appearance(np.random.default_rng(4))
    assert appearance.left_shirt != appearance.shirt and appearance.left_trousers != appearance.trousers


def test_records_written_decode_with_labels_inside_the_image(tmp_path):
    written = write_dataset(str(tmp_path), num_train=3, num_val=2, image_size=SIZE, skeleton="mpii", seed=1,
                            num_shards=2, image_format="png")
    assert sorted(written) == ["train", "val"] and len(written["train"]) == 2
    files = sorted(glob.glob(file_pattern(str(tmp_path), "train")))
    generator = SyntheticPoseGenerator("mpii", SIZE, seed=1)
    decoded = list(tf.data.TFRecordDataset(files).map(decode_example))
    assert len(decoded) == 3
    for record in decoded:
        index = int(record["image_id"])
        sample = generator.sample(index, "train")
        assert bool(record["valid"]) and record["image"].shape == (SIZE, SIZE, 3)
        np.testing.assert_array_equal(record["image"].numpy(), sample.image)  # PNG is lossless
        np.testing.assert_allclose(record["keypoints_2d"].numpy(), sample.keypoints_2d, atol=1e-4)
        np.testing.assert_allclose(record["keypoints_3d"].numpy(), sample.keypoints_3d, atol=1e-2)
        kept = record["visible"].numpy() > 0
        assert np.all((record["keypoints_2d"].numpy()[kept] >= 0) & (record["keypoints_2d"].numpy()[kept] <= SIZE - 1))
        assert record["dataset"].numpy() == b"synthetic" and float(record["has_3d"]) == 1.0
        assert record["keypoints_2d"].shape == (16, 2) and np.any(record["headbox"].numpy())


@pytest.mark.parametrize("num_workers", [0, 1])
def test_2d_only_records_have_no_3d_labels_and_the_same_2d_labels(tmp_path, num_workers):
    """`with_3d=False` (the 2D half of a Strategy 2 mix): has_3d 0, 3D joints / camera / root depth read back as
    zeros, while image and 2D labels equal those of the 3D records of the same seed."""
    dirs = {flag: os.path.join(tmp_path, str(flag)) for flag in (True, False)}
    for flag, folder in dirs.items():
        write_dataset(folder, num_train=3, num_val=1, image_size=SIZE, skeleton="mpii", seed=4, num_shards=1,
                      image_format="png", with_3d=flag, num_workers=0 if flag else num_workers)
    for split in ("train", "val"):
        records = {flag: list(tf.data.TFRecordDataset(sorted(glob.glob(file_pattern(folder, split))))
                              .map(decode_example)) for flag, folder in dirs.items()}
        assert len(records[False]) == len(records[True]) == (3 if split == "train" else 1)
        for with_3d, only_2d in zip(records[True], records[False]):
            assert float(with_3d["has_3d"]) == 1.0 and float(only_2d["has_3d"]) == 0.0
            assert np.any(with_3d["keypoints_3d"].numpy()) and float(with_3d["root_depth"]) > 0
            assert only_2d["keypoints_3d"].shape == (16, 3)
            for key in ("keypoints_3d", "focal", "principal_point", "root_depth"):
                assert not np.any(only_2d[key].numpy()), key
            for key in ("image", "keypoints_2d", "visible", "bbox", "center", "scale", "headbox", "image_id"):
                np.testing.assert_array_equal(only_2d[key].numpy(), with_3d[key].numpy(), err_msg=key)


def test_contact_sheet_tiles_and_colours_left_joints():
    generator = SyntheticPoseGenerator("h36m", SIZE, seed=2)
    samples = list(generator.samples(5, "val"))
    sheet = contact_sheet.contact_sheet(samples, columns=4)
    assert sheet.shape == (2 * SIZE + 2, 4 * SIZE + 6, 3)
    np.testing.assert_array_equal(sheet[SIZE + 2:, SIZE + 2:], 255)  # empty cells of the second row
    labelled = contact_sheet.draw_labels(samples[0])
    wrist = _index("h36m", "l_wrist")
    if samples[0].visible[wrist]:
        x, y = np.round(samples[0].keypoints_2d[wrist]).astype(int)
        np.testing.assert_array_equal(labelled[y, x], contact_sheet.LEFT_COLOUR)


def test_bad_arguments_name_the_valid_values():
    with pytest.raises(ValueError, match="valid: \\['h36m', 'mpii'\\]"):
        SyntheticPoseGenerator("coco")
    with pytest.raises(ValueError, match="split"):
        SyntheticPoseGenerator("h36m", SIZE).sample(0, "test")


def _run_script(output_dir, *extra_flags):
    subprocess.run([sys.executable, os.path.join(REPO, "scripts", "make_synthetic.py"), f"--output_dir={output_dir}",
                    "--num_train=4", "--num_val=1", "--image_size=48", "--num_shards=2", "--skeleton=h36m",
                    "--noprogress", *extra_flags], check=True, cwd=REPO, capture_output=True)
    return {os.path.basename(path): open(path, "rb").read()
            for path in glob.glob(os.path.join(output_dir, "*.tfrecord"))}


@pytest.mark.slow
def test_script_writes_shards_identical_across_runs_and_a_contact_sheet(tmp_path):
    sheet = os.path.join(tmp_path, "sheet.png")
    first = _run_script(os.path.join(tmp_path, "a"), f"--contact_sheet={sheet}", "--contact_sheet_size=2")
    # A second process (different hash seeds, protobuf map order) must write the same bytes.
    second = _run_script(os.path.join(tmp_path, "b"), "--num_workers=1")
    assert sorted(first) == ["train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord",
                             "val-00000-of-00001.tfrecord"]
    assert first == second
    records = list(tf.data.TFRecordDataset(glob.glob(file_pattern(os.path.join(tmp_path, "a"), "train")))
                   .map(decode_example))
    assert len(records) == 4 and all(bool(r["valid"]) for r in records)
    assert os.path.getsize(sheet) > 0
