"""Benchmark protocols end to end: real-format files -> converters -> TFRecords -> parser -> predictions -> metrics.

Predictions come from oracles that know the ground truth of each record (by `image/id`) in original-image pixels,
optionally shifted by a known amount, and answer in crop pixels like a model's decoder, so they go back to the
image through the parser's crop matrices.
Expected numbers are computed here from the fixtures' own arrays with the benchmarks' formulas.
"""
import json

import cv2
import numpy as np
import pytest
import scipy.io
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.configs.model_config import ModelConfig
from integral_keras.data import skeletons
from integral_keras.data.converters import convert_coco, convert_h36m, convert_mpii
from integral_keras.data.parser import Parser
from integral_keras.evaluation import protocols
from integral_keras.serving import predict_fns
from integral_keras.evaluation.transforms import apply_affine

INPUT, HEATMAP = 64, 16
COCO_THRESHOLDS = np.linspace(0.5, 0.95, 10)


def _write_image(path, height, width, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), image)


def _dataset(prefix, skeleton, batch_size=2):
    codec = PoseCodec(skeletons.get_skeleton(skeleton).num_joints, INPUT, HEATMAP)
    return protocols.eval_dataset(f"{prefix}-*-of-*.tfrecord", Parser(codec, "I1", skeleton), batch_size)


def _oracle(truth_of, shift_px=(0.0, 0.0)):
    """Predicts `truth_of(image_ids)` (image pixels [, root-relative mm]) shifted by `shift_px`, in crop pixels."""

    def predict(images, meta):
        truth = truth_of(np.asarray(meta["image_id"]))
        image_px = truth["joints_px"] + np.asarray(shift_px)
        joints = apply_affine(image_px, np.linalg.inv(meta["crop_to_image"]))
        output = {"joints": joints, "confidence": np.ones(joints.shape[:2])}
        if "z_mm" in truth:
            output["depth_mm"] = truth["z_mm"]
        return output

    return predict


# MPII: valid.json (1-based, scale = height / 200 px) + gt_valid.mat.

MPII_NAMES = ["rank", "rkne", "rhip", "lhip", "lkne", "lank", "pelv", "thor", "neck", "head", "rwri", "relb",
              "rsho", "lsho", "lelb", "lwri"]


@pytest.fixture
def mpii_people(tmp_path):
    rng = np.random.default_rng(1)
    images = tmp_path / "images"
    entries, joints0, visible, headboxes0 = [], [], [], []
    # Head-box diagonals 40, 20 and 10 px: head sizes 24, 12, 6 px.
    for index, diagonal in enumerate((40.0, 20.0, 10.0)):
        name = f"{index:09d}.jpg"
        _write_image(images / name, 90, 110, seed=index)
        joints = rng.uniform(25, 65, (16, 2))
        vis = np.ones(16)
        vis[[3, 11]] = 0  # one hip and one elbow unlabelled
        box = np.array([[30.0, 10.0], [30.0 + diagonal / np.sqrt(2), 10.0 + diagonal / np.sqrt(2)]])
        entries.append({"image": name, "center": [46.0 + 1, 40.0 + 1], "scale": 0.3,
                        "joints": (joints + 1).tolist(), "joints_vis": vis.tolist()})
        joints0.append(joints)
        visible.append(vis > 0)
        headboxes0.append(box)
    (tmp_path / "valid.json").write_text(json.dumps(entries))
    names = np.empty((1, 16), dtype=object)
    names[0, :] = MPII_NAMES
    scipy.io.savemat(tmp_path / "gt_valid.mat", {
        "dataset_joints": names,
        "jnt_missing": np.transpose(~np.asarray(visible)).astype(np.uint8),
        "pos_gt_src": np.transpose(np.asarray(joints0) + 1, (1, 2, 0)),
        "headboxes_src": np.transpose(np.asarray(headboxes0) + 1, (1, 2, 0)),
    })
    summary = convert_mpii(tmp_path / "valid.json", images, str(tmp_path / "valid"),
                           gt_valid_file=str(tmp_path / "gt_valid.mat"), progress=False)
    assert summary.written == 3
    return {"prefix": tmp_path / "valid", "mat": tmp_path / "gt_valid.mat", "joints": np.asarray(joints0),
            "visible": np.asarray(visible), "head_sizes": np.array([24.0, 12.0, 6.0])}


def _expected_pckh(distance, head_sizes, visible, threshold):
    """Percent of visible joints (pelvis and thorax excluded) with distance / head size <= threshold."""
    counted = visible.copy()
    counted[:, [6, 7]] = False
    correct = (distance / head_sizes[:, None] <= threshold) & counted
    return 100.0 * correct.sum() / counted.sum()


@pytest.mark.parametrize("use_mat", [True, False])
def test_mpii_perfect_and_shifted_predictions(mpii_people, use_mat):
    dataset = _dataset(mpii_people["prefix"], "mpii")
    truth_of = lambda ids: {"joints_px": mpii_people["joints"][ids]}  # noqa: E731
    mat = mpii_people["mat"] if use_mat else None

    perfect = protocols.collect_predictions(_oracle(truth_of), dataset)
    metrics = protocols.evaluate_predictions(perfect, "mpii", gt_valid_mat=mat)
    assert metrics["Mean"] == 100.0 and metrics["Mean@0.1"] == 100.0
    # Zero distance passes every threshold but 0 itself, where float round-off may fail it: AUC in [99, 100].
    assert 99.0 <= metrics["AUC"] <= 100.0

    # A 4.5 px shift: within 0.5 head of person 0 (24 px) only at t >= 0.1875, of person 1 (12 px) at 0.375,
    # never of person 2 (6 px -> 0.75).
    shifted = protocols.collect_predictions(_oracle(truth_of, (3.6, 2.7)), dataset)
    metrics = protocols.evaluate_predictions(shifted, "mpii", gt_valid_mat=mat)
    distance = np.full((3, 16), 4.5)
    sizes, visible = mpii_people["head_sizes"], mpii_people["visible"]
    assert metrics["Mean"] == pytest.approx(_expected_pckh(distance, sizes, visible, 0.5))
    assert metrics["Mean@0.1"] == 0.0
    thresholds = np.linspace(0, 0.5, 51)
    curve = [_expected_pckh(distance, sizes, visible, t) for t in thresholds]
    assert metrics["AUC"] == pytest.approx(np.trapezoid(curve, thresholds / 0.5), abs=1e-6)
    assert metrics["per_joint"]["r_hip"] == pytest.approx(200.0 / 3)
    assert metrics["num_examples"] == 3


def test_mpii_gt_valid_needs_every_person(mpii_people):
    dataset = _dataset(mpii_people["prefix"], "mpii")
    predictions = protocols.collect_predictions(
        _oracle(lambda ids: {"joints_px": mpii_people["joints"][ids]}), dataset, max_batches=1)
    with pytest.raises(ValueError, match="missing \\[2\\]"):
        protocols.evaluate_predictions(predictions, "mpii", gt_valid_mat=mpii_people["mat"])


# COCO: person_keypoints JSON with two images + person detections JSON (one duplicate).

COCO_AREA = 2500.0


@pytest.fixture
def coco_files(tmp_path):
    rng = np.random.default_rng(2)
    labelled = np.zeros(17, bool)
    labelled[[0, 5, 6, 11, 12, 13, 15]] = True
    images, annotations, truth = [], [], {}
    for image_id, (height, width) in ((7, (80, 90)), (9, (70, 100))):
        name = f"{image_id:012d}.jpg"
        _write_image(tmp_path / "val2017" / name, height, width, seed=image_id)
        joints = rng.uniform(20, 60, (17, 2))
        flags = np.where(labelled, 2, 0)
        keypoints = np.concatenate([joints * labelled[:, None], flags[:, None]], axis=1)
        images.append({"id": image_id, "file_name": name, "height": height, "width": width})
        annotations.append({"id": image_id * 10, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                            "keypoints": keypoints.ravel().tolist(), "num_keypoints": int(labelled.sum()),
                            "bbox": [15.0, 15.0, 50.0, 50.0], "area": COCO_AREA})
        truth[image_id] = joints
    categories = [{"id": 1, "name": "person", "supercategory": "person",
                   "keypoints": list(skeletons.COCO.joint_names), "skeleton": []}]
    gt_json = tmp_path / "person_keypoints_val.json"
    gt_json.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    detections = [{"image_id": 7, "category_id": 1, "bbox": [14.0, 16.0, 52.0, 48.0], "score": 0.9},
                  {"image_id": 7, "category_id": 1, "bbox": [18.0, 12.0, 44.0, 50.0], "score": 0.6},
                  {"image_id": 9, "category_id": 1, "bbox": [16.0, 15.0, 50.0, 51.0], "score": 0.8}]
    (tmp_path / "detections.json").write_text(json.dumps(detections))
    summary = convert_coco(gt_json, tmp_path / "val2017", str(tmp_path / "dets"),
                           detections_file=str(tmp_path / "detections.json"), progress=False)
    assert summary.written == 3
    return {"prefix": tmp_path / "dets", "gt_json": gt_json, "truth": truth, "labelled": labelled}


def test_coco_perfect_and_shifted_predictions(coco_files, tmp_path):
    dataset = _dataset(coco_files["prefix"], "coco")
    truth_of = lambda ids: {"joints_px": np.stack([coco_files["truth"][int(i)] for i in ids])}  # noqa: E731

    perfect = protocols.collect_predictions(_oracle(truth_of), dataset)
    metrics = protocols.evaluate_predictions(perfect, "coco", coco_gt_json=coco_files["gt_json"],
                                             output_dir=tmp_path / "perfect")
    # The duplicate detection of image 7 predicts the same pose: OKS-NMS removes it, so nothing is a false positive.
    assert metrics["num_examples"] == 3 and metrics["num_results"] == 2
    assert metrics["AP"] == pytest.approx(100.0) and metrics["AR"] == pytest.approx(100.0)
    assert metrics["APM"] == pytest.approx(100.0) and metrics["APL"] is None  # area 2500 is "medium"
    with open(metrics["results_file"]) as f:
        results = json.load(f)
    assert sorted(r["image_id"] for r in results) == [7, 9]
    assert {round(r["score"], 6) for r in results} == {0.9, 0.8}  # box score x mean joint confidence (1)

    shift = np.array([2.4, 1.8])  # 3 px
    shifted = protocols.collect_predictions(_oracle(truth_of, shift), dataset)
    metrics = protocols.evaluate_predictions(shifted, "coco", coco_gt_json=coco_files["gt_json"],
                                             output_dir=tmp_path / "shifted")
    # OKS = mean over the labelled joints of exp(-d^2 / (2 s^2 (2 sigma)^2)), the same for both people.
    sigmas = np.asarray(skeletons.COCO.oks_sigmas)[coco_files["labelled"]]
    oks = np.mean(np.exp(-9.0 / (2.0 * COCO_AREA * (2.0 * sigmas) ** 2)))
    assert np.min(np.abs(oks - COCO_THRESHOLDS)) > 0.01  # not on a threshold
    assert metrics["AP"] == pytest.approx(100.0 * np.mean(oks >= COCO_THRESHOLDS))
    assert 0.0 < metrics["AP"] < 100.0


# Human3.6M: sequence folders with matlab_meta.txt in the seed's layout.

FOCAL = np.array([1000.0, 1100.0])
CENTER = np.array([101.0, 99.0])
CAMERA_DISTANCE = 5000.0
H36M_FRAMES = 65  # the test split keeps frames 0 and 64


def _write_sequence(root, name, world):
    fmt = lambda values: " ".join(repr(float(v)) for v in values)  # noqa: E731
    lines = [str(len(world)), "size 200 200", "R " + fmt(np.eye(3).ravel(order="F")),
             "T " + fmt([0.0, 0.0, -CAMERA_DISTANCE]), "f " + fmt(FOCAL), "c " + fmt(CENTER), "k 0 0 0", "p 0 0",
             "joints " + " ".join(str(j) for j in range(1, 18))]
    lines += [f"{i + 1} " + fmt(frame.ravel()) for i, frame in enumerate(world)]
    meta = root / "annot" / name / "matlab_meta.txt"
    meta.parent.mkdir(parents=True)
    meta.write_text("\n".join(lines) + "\n")
    for frame in (0, 64):
        _write_image(root / "images" / name / f"{name}_{frame + 1:06d}.jpg", 200, 200, seed=frame)


@pytest.fixture
def h36m_records(tmp_path):
    rng = np.random.default_rng(3)
    root = tmp_path / "hm36"
    worlds = {}
    for name in ("s_11_act_02_subact_01_ca_01", "s_09_act_03_subact_02_ca_02"):
        # With R = I and T = (0, 0, -5000) camera coordinates are world + (0, 0, 5000).
        worlds[name] = rng.uniform(-500, 500, (H36M_FRAMES, 32, 3))
        _write_sequence(root, name, worlds[name])
    summary = convert_h36m(root, str(tmp_path / "test"), split="test", protocol=2, progress=False)
    assert summary.written == 4
    # Records are written sequence by sequence in sorted order, frames 0 then 64: image/id 0..3.
    camera = np.stack([worlds[name][frame, :17] + [0.0, 0.0, CAMERA_DISTANCE]
                       for name in sorted(worlds) for frame in (0, 64)])
    return {"prefix": tmp_path / "test", "camera": camera, "subjects": np.array([9, 9, 11, 11])}


def _pinhole(camera):
    return camera[..., :2] / camera[..., 2:] * FOCAL + CENTER


def test_h36m_protocols_with_perfect_and_shifted_predictions(h36m_records, tmp_path):
    dataset = _dataset(h36m_records["prefix"], "h36m")
    camera = h36m_records["camera"]
    root_relative = camera - camera[:, :1]
    truth_of = lambda ids: {"joints_px": _pinhole(camera[ids]), "z_mm": root_relative[ids, :, 2]}  # noqa: E731

    perfect = protocols.collect_predictions(_oracle(truth_of), dataset)
    metrics = protocols.evaluate_predictions(perfect, "h36m")
    assert metrics["protocol2"]["metric"] == "MPJPE" and metrics["protocol2"]["frames"] == 4
    assert metrics["protocol1"]["metric"] == "PA-MPJPE" and metrics["protocol1"]["frames"] == 2
    assert metrics["protocol2"]["mean"] == pytest.approx(0.0, abs=0.05)
    assert metrics["protocol1"]["mean"] == pytest.approx(0.0, abs=0.05)

    # u + d with the true depth Z moves X by d * Z / fx; aligned at the pelvis the error is d * |z_rel| / fx.
    shift = 6.0
    shifted = protocols.collect_predictions(_oracle(truth_of, (shift, 0.0)), dataset)
    metrics = protocols.evaluate_predictions(shifted, "h36m")
    errors = shift * np.abs(root_relative[..., 2]) / FOCAL[0]
    assert metrics["protocol2"]["mean"] == pytest.approx(errors.mean(), rel=1e-4)
    assert metrics["protocol2"]["per_action"] == pytest.approx(
        {"Directions": errors[2:].mean(), "Discussion": errors[:2].mean()}, rel=1e-4)
    assert list(metrics["protocol1"]["per_action"]) == ["Directions"]  # S11 only
    assert 0.0 < metrics["protocol1"]["mean"] <= errors[2:].mean() + 1e-6  # Procrustes can only reduce it

    table = open(protocols.write_outputs(metrics, tmp_path, label="shifted")["markdown"]).read()
    assert f"| shifted | {metrics['protocol1']['mean']:.1f} |" in table
    action_rows = [line for line in table.splitlines() if line.startswith("| Protocol 2 (MPJPE)")]
    assert action_rows == [f"| Protocol 2 (MPJPE) | {errors[2:].mean():.1f} | {errors[:2].mean():.1f} | "
                           + " | ".join(["-"] * 13) + " |"]


def test_h36m_needs_a_3d_model(h36m_records):
    dataset = _dataset(h36m_records["prefix"], "h36m")
    predictions = protocols.collect_predictions(
        lambda images, meta: {"joints": np.zeros((len(images), 17, 2))}, dataset)
    with pytest.raises(ValueError, match="3D model"):
        protocols.evaluate_predictions(predictions, "h36m")


# Flip test, predictor contract, reports.

def _batches(images, num_joints):
    meta = {"image_id": np.arange(len(images)), "crop_to_image": np.tile(np.eye(3), (len(images), 1, 1))}
    return [(images, meta)]


def test_flip_test_averages_with_the_unflipped_mirror_prediction():
    permutation = skeletons.MPII.flip_permutation()
    rng = np.random.default_rng(4)
    constant, depth, score = rng.uniform(0, 15, (16, 2)), rng.uniform(-500, 500, 16), rng.uniform(0, 1, 16)
    predict = lambda images, meta: {"joints": np.tile(constant, (len(images), 1, 1)),  # noqa: E731
                                    "depth_mm": np.tile(depth, (len(images), 1)),
                                    "confidence": np.tile(score, (len(images), 1))}
    images = np.zeros((2, 8, 12, 3), np.float32)
    result = protocols.collect_predictions(predict, _batches(images, 16), permutation)
    expected_x = (constant[:, 0] + 11.0 - constant[permutation, 0]) / 2.0  # mirror of x in a 12 px wide crop
    expected_y = (constant[:, 1] + constant[permutation, 1]) / 2.0
    np.testing.assert_allclose(result.joints[1], np.stack([expected_x, expected_y], axis=-1))
    np.testing.assert_allclose(result.depth_mm[1], (depth + depth[permutation]) / 2.0)
    np.testing.assert_allclose(result.confidence[0], (score + score[permutation]) / 2.0)


def test_flip_test_keeps_an_equivariant_prediction():
    # Every joint at the brightest pixel: mirroring moves it to W - 1 - x, which unflips back exactly.
    images = np.zeros((3, 6, 10, 3), np.float32)
    for index, (y, x) in enumerate(((1, 2), (4, 7), (0, 9))):
        images[index, y, x] = 255.0

    def brightest(images, meta):
        flat = images[..., 0].reshape(len(images), -1).argmax(axis=1)
        points = np.stack([flat % images.shape[2], flat // images.shape[2]], axis=-1).astype(float)
        return {"joints": np.repeat(points[:, None], 16, axis=1)}

    direct = protocols.collect_predictions(brightest, _batches(images, 16))
    flipped = protocols.collect_predictions(brightest, _batches(images, 16), skeletons.MPII.flip_permutation())
    np.testing.assert_allclose(flipped.joints, direct.joints)
    np.testing.assert_allclose(direct.joints[:, 0], [[2, 1], [7, 4], [9, 0]])


def test_predictor_and_dataset_errors_are_clear():
    images = np.zeros((2, 8, 8, 3), np.float32)
    with pytest.raises(KeyError, match="'joints'"):
        protocols.collect_predictions(lambda images, meta: {"heatmaps": images}, _batches(images, 16))
    with pytest.raises(ValueError, match="no examples"):
        protocols.collect_predictions(lambda images, meta: {}, [])
    with pytest.raises(ValueError, match="expected \\(N, K, 2\\) crop pixels"):
        protocols.collect_predictions(lambda images, meta: {"joints": np.zeros((2, 16, 3))}, _batches(images, 16))
    with pytest.raises(ValueError, match="Unknown benchmark 'lsp'"):
        protocols.resolve_dataset_name("lsp")


def test_synthetic_metrics_and_outputs(tmp_path):
    rng = np.random.default_rng(5)
    num = 4
    keypoints = rng.uniform(5, 55, (num, 17, 2))
    z_mm = rng.uniform(-300, 300, (num, 17))
    z_mm[:, 0] = 0.0
    focal, center, root_depth = np.array([500.0, 500.0]), np.array([32.0, 32.0]), np.full(num, 4000.0)
    depth = z_mm + root_depth[:, None]
    camera = np.concatenate([(keypoints - center) * depth[..., None] / focal, depth[..., None]], axis=-1)
    meta = {"crop_to_image": np.tile(np.eye(3), (num, 1, 1)), "keypoints_2d": keypoints,
            "visible": np.ones((num, 17)), "has_3d": np.ones(num), "focal": np.tile(focal, (num, 1)),
            "principal_point": np.tile(center, (num, 1)), "root_depth": root_depth,
            "keypoints_3d": camera - camera[:, :1], "dataset": np.array([b"synthetic"] * num)}
    predictions = protocols.Predictions(keypoints, np.ones((num, 17)), meta, depth_mm=z_mm)
    assert protocols.dataset_of_records(meta) == "synthetic"
    metrics = protocols.evaluate_predictions(predictions, "synthetic")
    assert metrics["PCK@0.5"] == 100.0 and metrics["MPJPE"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["PA-MPJPE"] == pytest.approx(0.0, abs=1e-6)
    # The benchmark adds the error split of a 3D prediction (evaluation.error_split): nothing to split here.
    assert metrics["MPJPE (true 2D)"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["MPJPE (true depth)"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["depth correlation"] == pytest.approx(1.0)

    writer = tf.summary.create_file_writer(str(tmp_path / "tb"))
    paths = protocols.write_outputs(metrics, tmp_path / "out", label="oracle", summary_writer=writer, step=3)
    with open(paths["json"]) as f:
        assert json.load(f)["PCK@0.5"] == 100.0
    with open(paths["markdown"]) as f:
        table = f.read()
    assert table.splitlines()[0] == "| Run | PCK@0.5 | PCK@0.1 | AUC | MPJPE | PA-MPJPE |"
    assert table.splitlines()[2].startswith("| oracle | 100.0 | 100.0 |")
    assert cv2.imread(paths["plot"]) is not None
    scalars = {}
    for event_file in (tmp_path / "tb").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                scalars[value.tag] = (event.step, float(tf.make_ndarray(value.tensor)))
    assert scalars["benchmark/synthetic/PCK@0.5"] == (3, 100.0)
    assert "benchmark/synthetic/MPJPE" in scalars

    shifted = dict(metrics, curve=[0.0] * len(metrics["curve"]), AUC=0.0)
    other = protocols.write_outputs(shifted, tmp_path / "other")
    figure = protocols.compare_runs([paths["json"], other["json"]], tmp_path / "fig2.png")
    assert cv2.imread(figure).shape[2] == 3
    with pytest.raises(ValueError, match="2 labels for 1"):
        protocols.compare_runs([paths["json"]], tmp_path / "x.png", labels=["a", "b"])


def _tiny_model_and_crops(method, num_crops, seed):
    """A ResNet-18 pose model at 64x64 with thin heads, and random crops for it."""
    import keras

    from integral_keras.models import build_pose_model

    config = ModelConfig(backbone="resnet18", method=method, num_joints=16, input_size=INPUT, heatmap_size=HEATMAP,
                         num_deconv=3, deconv_filters=8)
    keras.utils.set_random_seed(seed)
    images = np.random.default_rng(seed).uniform(0, 255, (num_crops, INPUT, INPUT, 3)).astype(np.float32)
    return config, build_pose_model(config), images


@pytest.mark.parametrize("method", ["H1", "Istar"])
def test_model_predict_fn_decodes_like_the_method(method):
    config, model, images = _tiny_model_and_crops(method, num_crops=2, seed=0)
    output = predict_fns.model_predict_fn(model, config)(images, None)
    raw = model(images, training=False)
    stride = INPUT / HEATMAP
    if method == "H1":
        # Arg-max of each joint's map in cells, then x_px = (x_hm + 0.5) * stride - 0.5.
        maps = np.asarray(raw["heatmaps"]).transpose(0, 3, 1, 2).reshape(2, 16, -1)
        flat = maps.argmax(axis=-1)
        cells = np.stack([flat % HEATMAP, flat // HEATMAP], axis=-1)
        np.testing.assert_allclose(output["joints"], (cells + 0.5) * stride - 0.5)
        # H1's confidence is the raw map's peak.
        np.testing.assert_allclose(output["confidence"], maps.max(axis=-1), rtol=1e-5)
    else:
        np.testing.assert_allclose(output["joints"], (np.asarray(raw["joints"]) + 0.5) * stride - 0.5, rtol=1e-5,
                                   atol=1e-4)
        assert output["confidence"].shape == (2, 16)
        assert np.all((output["confidence"] > 0) & (output["confidence"] <= 1))


def test_exported_models_predict_like_the_keras_model(tmp_path):
    from integral_keras import serving

    config, model, images = _tiny_model_and_crops("I1", num_crops=3, seed=1)
    expected = predict_fns.model_predict_fn(model, config)(images, None)
    assert expected["joints"].shape == (3, 16, 2) and expected["confidence"].shape == (3, 16)

    saved = serving.export_saved_model(model, config, tmp_path / "saved", name="tiny")
    from_saved = predict_fns.saved_model_predict_fn(saved)(images, None)
    # Three crops through a fixed batch of two: the second call is padded and trimmed.
    tflite = serving.export_tflite(model, tmp_path / "tiny.tflite", config_or_params=config, batch_size=2)
    from_tflite = predict_fns.tflite_predict_fn(tflite)(images, None)
    for outputs in (from_saved, from_tflite):
        assert sorted(outputs) == sorted(expected)
        np.testing.assert_allclose(outputs["joints"], expected["joints"], atol=1e-2)
        np.testing.assert_allclose(outputs["confidence"], expected["confidence"], atol=1e-3)


def test_coco_needs_its_annotation_file_and_an_output_dir(coco_files, tmp_path):
    predictions = protocols.collect_predictions(
        lambda images, meta: {"joints": np.zeros((len(images), 17, 2))}, _dataset(coco_files["prefix"], "coco"))
    with pytest.raises(ValueError, match="coco_gt_json"):
        protocols.evaluate_predictions(predictions, "coco", output_dir=tmp_path)
    with pytest.raises(ValueError, match="output_dir"):
        protocols.evaluate_predictions(predictions, "coco", coco_gt_json=coco_files["gt_json"])
