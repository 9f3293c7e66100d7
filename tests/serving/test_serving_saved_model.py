"""SavedModel export: layout, size, signatures (saved_model_cli), both signatures' numbers, bad input."""
import pathlib
import subprocess
import sys

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

import serving_test_models as stm
from integral_keras.serving import export_saved_model
from integral_keras.serving import load_serving_spec

SAVED_MODEL_CLI = pathlib.Path(sys.executable).parent / "saved_model_cli"
PADDING = 1.25


def _to_px(joints_hm):
    """Heat-map cells -> input pixels for stride 4, written out by hand: cell i spans pixels 4i .. 4i+3."""
    return (np.asarray(joints_hm) + 0.5) * stm.STRIDE - 0.5


def _crop_matrix(box, padding=PADDING, size=stm.INPUT_SIZE):
    """Independent 2x3 image->crop matrix of the evaluation crop (square input, no rotation)."""
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    side = max(w, h) * padding  # square input: the longer side fits the crop
    s = size / side
    out_c = (size - 1) / 2.0
    return np.array([[s, 0.0, out_c - s * cx], [0.0, s, out_c - s * cy]], np.float64)


def _crop_to_image(points, matrix):
    return (points - matrix[:, 2]) / matrix[0, 0]


@pytest.fixture(scope="module")
def random_export(tmp_path_factory):
    model = stm.random_pose_model("I1", num_joints=2)
    path = export_saved_model(model, stm.spec_params("I1"), tmp_path_factory.mktemp("sm") / "saved_models")
    return model, path, tf.saved_model.load(str(path))


@pytest.fixture(scope="module")
def bright_export(tmp_path_factory):
    model = stm.bright_spot_model()
    path = export_saved_model(model, stm.spec_params("I1"), tmp_path_factory.mktemp("bright"))
    return model, tf.saved_model.load(str(path))


def test_layout_versions_and_spec(tmp_path):
    model = stm.random_pose_model("I1")
    first = export_saved_model(model, stm.spec_params("I1", name="pose"), tmp_path)
    second = export_saved_model(model, stm.spec_params("I1", name="pose"), tmp_path)
    assert first == tmp_path / "pose" / "1" and second == tmp_path / "pose" / "2"
    assert (first / "saved_model.pb").is_file() and (first / "variables").is_dir()
    assert sorted(p.name for p in (tmp_path / "pose").iterdir()) == ["1", "2"]  # no staging leftovers
    assert load_serving_spec(second).num_joints == 2
    with pytest.raises(FileExistsError, match="already exists"):
        export_saved_model(model, stm.spec_params("I1", name="pose"), tmp_path, version=2)


def test_each_weight_is_stored_once(tmp_path):
    model = stm.wide_model()
    path = export_saved_model(model, stm.spec_params("I1"), tmp_path)
    stored = sum(f.stat().st_size for f in (path / "variables").glob("variables.data-*"))
    expected = stm.weight_bytes(model)
    assert expected > 500_000
    assert abs(stored - expected) <= 0.1 * expected, (stored, expected)


def test_saved_model_cli_shows_both_signatures(random_export):
    _, path, _ = random_export
    shown = subprocess.run([str(SAVED_MODEL_CLI), "show", "--all", "--dir", str(path)], check=True,
                           capture_output=True, text=True).stdout
    default = shown[shown.index("signature_def['serving_default']"):]
    default = default[:default.index("Method name")]
    encoded = shown[shown.index("signature_def['serve_image_bytes']"):]
    encoded = encoded[:encoded.index("Method name")]
    assert "inputs['images']" in default and "shape: (-1, 64, 64, 3)" in default
    assert "inputs['image_bytes']" in encoded and "DT_STRING" in encoded and "inputs['box']" in encoded
    for signature in (default, encoded):
        outputs = signature[signature.index("outputs"):]
        assert "outputs['joints']" in outputs and "outputs['confidence']" in outputs
        assert "depth_mm" not in outputs


def test_serving_default_matches_keras(random_export):
    model, _, loaded = random_export
    images = np.random.default_rng(1).uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    got = loaded.signatures["serving_default"](images=tf.constant(images))
    want = model(images)
    np.testing.assert_allclose(got["joints"].numpy(), _to_px(want["joints"]), atol=1e-4)
    assert got["confidence"].shape == (3, 2)
    assert np.all((got["confidence"].numpy() > 0) & (got["confidence"].numpy() <= 1))


def test_image_bytes_finds_a_bright_square(bright_export):
    _, loaded = bright_export
    height, width, square = 240, 320, (201.0, 87.0)
    image = stm.image_with_square(height, width, square, side=9)
    box = np.array([150, 40, 90, 120], np.float32)  # the square lies inside, off-centre
    encoded = stm.encode(image, ".jpg")
    out = loaded.signatures["serve_image_bytes"](image_bytes=tf.constant(encoded), box=tf.constant(box))
    joints = out["joints"].numpy()
    assert joints.shape == (1, 2, 2)
    # One heat-map cell covers 4 * 150 / 64 ~ 9.4 original pixels; the square is located to a fraction of it.
    np.testing.assert_allclose(joints[0], [square, square], atol=3.0)
    assert np.all(out["confidence"].numpy() > 0.5)


def test_image_bytes_equals_keras_on_an_independent_crop(random_export):
    model, _, loaded = random_export
    images = [stm.textured_image(120, 90, seed=2), stm.textured_image(70, 150, seed=3)]
    boxes = np.array([[10.0, 25.0, 50.0, 80.0], [60.0, 5.0, 70.0, 40.0]], np.float32)
    out = loaded.signatures["serve_image_bytes"](
        image_bytes=tf.constant([stm.encode(image) for image in images]), box=tf.constant(boxes))
    for i, (image, box) in enumerate(zip(images, boxes)):
        matrix = _crop_matrix(box)
        crop = cv2.warpAffine(image.astype(np.float32), matrix, (64, 64), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        want = _crop_to_image(_to_px(model(crop[None])["joints"])[0], matrix)
        np.testing.assert_allclose(out["joints"].numpy()[i], want, atol=0.05)


def test_three_d_outputs_depth_in_mm(tmp_path):
    model = stm.random_pose_model("I1", num_joints=2, depth=4)
    path = export_saved_model(model, stm.spec_params("I1", depth=4, depth_range_mm=1000.0), tmp_path)
    images = np.random.default_rng(2).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    got = tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant(images))
    joints_hm = np.asarray(model(images)["joints"])
    np.testing.assert_allclose(got["joints"].numpy(), _to_px(joints_hm[..., :2]), atol=1e-4)
    np.testing.assert_allclose(got["depth_mm"].numpy(), ((joints_hm[..., 2] + 0.5) / 4 - 0.5) * 1000.0, atol=1e-2)


def test_heatmap_method_decodes_the_argmax(tmp_path):
    model = stm.random_pose_model("H1", num_joints=2)
    path = export_saved_model(model, stm.spec_params("H1"), tmp_path)
    images = np.random.default_rng(6).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    got = tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant(images))
    heatmaps = np.asarray(model(images)["heatmaps"])  # (N, 16, 16, K)
    flat = heatmaps.reshape(2, 256, 2)
    index = flat.argmax(axis=1)
    want_hm = np.stack([index % 16, index // 16], axis=-1).astype(np.float32)
    np.testing.assert_allclose(got["joints"].numpy(), _to_px(want_hm), atol=1e-4)
    np.testing.assert_allclose(got["confidence"].numpy(), flat.max(axis=1), rtol=1e-5)


def test_istar_confidence_uses_the_integral_logits(tmp_path):
    model = stm.random_pose_model("Istar", num_joints=2)
    assert "heatmaps" not in model.output
    path = export_saved_model(model, stm.spec_params("Istar"), tmp_path)
    images = np.random.default_rng(7).uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)
    got = tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant(images))
    logits = keras.Model(model.input, model.get_layer("integral").input)(images)
    joints_hm = np.asarray(model(images)["joints"])
    np.testing.assert_allclose(got["confidence"].numpy(), stm.window_mass_reference(np.asarray(logits), joints_hm, 2),
                               rtol=1e-5)


@pytest.mark.parametrize("image_bytes,box,message", [
    (b"", [0.0, 0.0, 10.0, 10.0], "empty"),
    (b"certainly not an image", [0.0, 0.0, 10.0, 10.0], "image"),
    ([[b"a"]], [0.0, 0.0, 10.0, 10.0], "scalar or a 1-D"),
    (None, [0.0, 0.0, 10.0], r"\(4,\) or \(N, 4\)"),
    (None, [0.0, 0.0, -5.0, 10.0], "width and height"),
    (None, [[0.0, 0.0, 5.0, 10.0]] * 2, "same batch size"),
])
def test_bad_input_is_invalid_argument(random_export, image_bytes, box, message):
    _, _, loaded = random_export
    if image_bytes is None:
        image_bytes = stm.encode(stm.textured_image(32, 32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        loaded.signatures["serve_image_bytes"](image_bytes=tf.constant(image_bytes),
                                               box=tf.constant(box, tf.float32))


def test_grayscale_png_is_read_as_rgb(random_export):
    _, _, loaded = random_export
    gray = stm.textured_image(40, 50, seed=8)[..., 0]
    ok, single_channel = cv2.imencode(".png", gray)
    assert ok
    box = tf.constant([3.0, 4.0, 30.0, 30.0])
    signature = loaded.signatures["serve_image_bytes"]
    got = signature(image_bytes=tf.constant(single_channel.tobytes()), box=box)
    want = signature(image_bytes=tf.constant(stm.encode(np.repeat(gray[..., None], 3, axis=-1))), box=box)
    np.testing.assert_allclose(got["joints"].numpy(), want["joints"].numpy(), atol=1e-5)
