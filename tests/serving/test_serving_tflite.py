"""TFLite export run with LiteRT: parity with the Keras model per quantization."""
import numpy as np
import pytest

import serving_test_models as stm
from integral_keras.serving import LiteRTPoseModel
from integral_keras.serving import export_tflite
from integral_keras.serving import export_tflite_files


def _keras_reference_px(model, images):
    joints_hm = np.asarray(model(images)["joints"])
    return (joints_hm[..., :2] + 0.5) * stm.STRIDE - 0.5, joints_hm


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(11).uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)


@pytest.mark.parametrize("quantization,tolerance_px", [("float32", 1e-3), ("float16", 0.05)])
def test_float_parity_with_keras(tmp_path, images, quantization, tolerance_px):
    model = stm.random_pose_model("I1", num_joints=3, depth=2, seed=5)
    params = stm.spec_params("I1", num_joints=3, depth=2)
    runner = LiteRTPoseModel(export_tflite(model, tmp_path / f"{quantization}.tflite", quantization, params))
    assert runner.input_shape == (1, 64, 64, 3)
    got = runner(images)
    want_px, joints_hm = _keras_reference_px(model, images)
    np.testing.assert_allclose(got["joints"], want_px, atol=tolerance_px)
    want_mm = ((joints_hm[..., 2] + 0.5) / 2 - 0.5) * 2000.0
    np.testing.assert_allclose(got["depth_mm"], want_mm, atol=tolerance_px * 2000.0 / 16)
    assert got["confidence"].shape == (1, 3)


def test_dynamic_int8_is_smaller_and_close(tmp_path, images):
    model = stm.wide_model(num_joints=2)
    params = stm.spec_params("I1")
    float_path = export_tflite(model, tmp_path / "f32.tflite", "float32", params)
    int8_path = export_tflite(model, tmp_path / "int8.tflite", "dynamic_int8", params)
    assert int8_path.stat().st_size < 0.5 * float_path.stat().st_size  # the wide conv's weights became int8
    got = LiteRTPoseModel(int8_path)(images)
    want_px, _ = _keras_reference_px(model, images)
    error = float(np.abs(got["joints"] - want_px).max())
    print(f"dynamic_int8 max joint error vs Keras: {error:.4f} px (64x64 input)")
    assert error < 3.0


def test_several_quantizations_from_one_trace(tmp_path, images):
    model = stm.wide_model(num_joints=2)
    targets = {"float32": tmp_path / "a" / "f32.tflite", "float16": tmp_path / "b" / "f16.tflite"}
    written = export_tflite_files(model, targets, stm.spec_params("I1"))
    assert written == targets
    assert targets["float16"].stat().st_size < 0.6 * targets["float32"].stat().st_size
    want_px, _ = _keras_reference_px(model, images)
    for quantization, tolerance_px in (("float32", 1e-3), ("float16", 0.05)):
        np.testing.assert_allclose(LiteRTPoseModel(written[quantization])(images)["joints"], want_px,
                                   atol=tolerance_px)
    with pytest.raises(ValueError, match="'int4'"):
        export_tflite_files(model, {"float32": tmp_path / "c.tflite", "int4": tmp_path / "d.tflite"},
                            stm.spec_params("I1"))
    assert not (tmp_path / "c.tflite").exists()  # checked before anything is written


def test_regression_model_and_batch(tmp_path):
    model = stm.random_pose_model("R1", num_joints=2)
    runner = LiteRTPoseModel(export_tflite(model, tmp_path / "r1.tflite", "float32", stm.spec_params("R1"),
                                           batch_size=2))
    batch = np.random.default_rng(12).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    got = runner(batch)
    np.testing.assert_allclose(got["joints"], _keras_reference_px(model, batch)[0], atol=1e-3)
    np.testing.assert_array_equal(got["confidence"], np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"expects images of shape \(2, 64, 64, 3\)"):
        runner(batch[:1])


def test_heatmap_method_decodes_the_argmax(tmp_path, images):
    model = stm.random_pose_model("H2", num_joints=2, seed=3)
    got = LiteRTPoseModel(export_tflite(model, tmp_path / "h2.tflite", "float32", stm.spec_params("H2")))(images)
    logits = np.asarray(model(images)["heatmaps"]).reshape(1, 256, 2)
    index = logits.argmax(axis=1)
    want_hm = np.stack([index % 16, index // 16], axis=-1)
    np.testing.assert_allclose(got["joints"], (want_hm + 0.5) * stm.STRIDE - 0.5, atol=1e-3)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(got["confidence"], (probs / probs.sum(axis=1, keepdims=True)).max(axis=1), rtol=1e-4)


def test_bad_arguments(tmp_path):
    model = stm.random_pose_model("I1")
    with pytest.raises(ValueError, match="quantization"):
        export_tflite(model, tmp_path / "x.tflite", "int4", stm.spec_params())
    with pytest.raises(FileNotFoundError, match="missing.tflite"):
        LiteRTPoseModel(tmp_path / "missing.tflite")
