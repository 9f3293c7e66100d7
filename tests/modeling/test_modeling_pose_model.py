"""Tests for integral_keras.models.build_pose_model: outputs, wiring, saving and training."""
import numpy as np
import pytest

import keras

from integral_keras.configs import ConfigError, ModelConfig
from integral_keras.losses import losses_for_method
from integral_keras.models import build_pose_model

NUM_JOINTS = 3
DEPTH_3D = 4
METHODS = ("R1", "H1", "H2", "H3", "I1", "I2", "I3", "Istar")
WITH_HEATMAPS = {"H1", "H2", "H3", "I1", "I2", "I3"}
WITH_JOINTS = {"R1", "I1", "I2", "I3", "Istar"}

# Small settings per backbone family: overrides and (heat-map size, stages).
FAMILIES = {
    "resnet18": (dict(backbone="resnet18", num_deconv=2, deconv_filters=32), 8, 1),
    "resnet50": (dict(backbone="resnet50", num_deconv=3, deconv_filters=32), 16, 1),
    "hourglass": (dict(backbone="hourglass", num_deconv=0, num_stages=2), 16, 2),
    "multistage_resnet50": (dict(backbone="multistage_resnet50", num_deconv=1, deconv_filters=16, num_stages=2),
                            4, 2),
}


def _config(family, method, depth=1, input_size=64, **extra):
    overrides, heatmap_size, _ = FAMILIES[family]
    values = dict(overrides, method=method, depth=depth, num_joints=NUM_JOINTS, input_size=input_size,
                  heatmap_size=heatmap_size * input_size // 64)
    values.update(extra)
    return ModelConfig.from_dict(values)


def _expected_outputs(method, depth, heatmap_size, num_stages, two_step=False):
    """Output keys and shapes as docs/architecture.md specifies them."""
    coords = 2 if depth == 1 else 3
    expected = {}
    for stage in range(num_stages):
        suffix = "" if stage == num_stages - 1 else f"_stage{stage}"
        if method in WITH_HEATMAPS:
            expected["heatmaps" + suffix] = (None, heatmap_size, heatmap_size, NUM_JOINTS * depth)
        if method in WITH_JOINTS:
            expected["joints" + suffix] = (None, NUM_JOINTS, coords)
    if two_step:
        expected["marginal_x"] = (None, NUM_JOINTS, heatmap_size)
        expected["marginal_y"] = (None, NUM_JOINTS, heatmap_size)
        if depth > 1:
            expected["marginal_z"] = (None, NUM_JOINTS, depth)
    return expected


def _shape_cases():
    fast = {("resnet18", m, d) for m in METHODS for d in (1, DEPTH_3D)}
    fast |= {("resnet50", "I3", DEPTH_3D), ("resnet50", "H1", 1), ("hourglass", "I1", DEPTH_3D),
             ("hourglass", "R1", 1), ("multistage_resnet50", "H2", 1), ("multistage_resnet50", "Istar", DEPTH_3D)}
    for family in FAMILIES:
        for method in METHODS:
            for depth in (1, DEPTH_3D):
                marks = () if (family, method, depth) in fast else (pytest.mark.slow,)
                yield pytest.param(family, method, depth, marks=marks, id=f"{family}-{method}-{depth}")


@pytest.mark.parametrize("family, method, depth", _shape_cases())
def test_output_keys_and_shapes(family, method, depth):
    config = _config(family, method, depth)
    model = build_pose_model(config)
    _, heatmap_size, num_stages = FAMILIES[family]
    got = {key: tuple(tensor.shape) for key, tensor in model.output.items()}
    assert got == _expected_outputs(method, depth, heatmap_size, num_stages)
    assert tuple(model.input.shape) == (None, 64, 64, 3)
    assert model.name == f"{family}_{method}_{'3d' if depth > 1 else '2d'}" + (
        f"_{num_stages}stages" if num_stages > 1 else "")


@pytest.mark.parametrize("method, depth", [("I2", DEPTH_3D), ("Istar", 1)])
def test_two_step_outputs(method, depth):
    model = build_pose_model(_config("resnet18", method, depth, integral="two_step"))
    got = {key: tuple(tensor.shape) for key, tensor in model.output.items()}
    assert got == _expected_outputs(method, depth, 8, 1, two_step=True)
    assert model.name.endswith("_two_step")


@pytest.mark.parametrize("input_size, overrides, heatmap_size", [
    (128, dict(num_deconv=0, heatmap_size=4), 4),  # low-resolution settings of the paper's Table 2
    (128, dict(num_deconv=3, heatmap_size=32), 32),
    (256, dict(num_deconv=3, heatmap_size=64), 64),
])
def test_input_and_heatmap_sizes(input_size, overrides, heatmap_size):
    config = ModelConfig.from_dict(dict(backbone="resnet18", method="I1", num_joints=NUM_JOINTS,
                                        input_size=input_size, deconv_filters=16, **overrides))
    model = build_pose_model(config)
    assert tuple(model.output["heatmaps"].shape) == (None, heatmap_size, heatmap_size, NUM_JOINTS)


def _softmax_expectation(logits, num_joints, depth):
    """Numpy Eq. 2-4: expected (x, y[, z]) cell of each joint's softmax over D*H*W."""
    n, h, w, _ = logits.shape
    volume = logits.reshape(n, h, w, num_joints, depth).transpose(0, 3, 4, 1, 2)  # (N, K, D, H, W)
    flat = volume.reshape(n, num_joints, -1).astype(np.float64)
    p = np.exp(flat - flat.max(-1, keepdims=True))
    p = (p / p.sum(-1, keepdims=True)).reshape(volume.shape)
    zz, yy, xx = np.meshgrid(np.arange(depth), np.arange(h), np.arange(w), indexing="ij")
    coords = [(p * xx).sum((2, 3, 4)), (p * yy).sum((2, 3, 4))]
    if depth > 1:
        coords.append((p * zz).sum((2, 3, 4)))
    return np.stack(coords, axis=-1), p


def _image(batch=2, size=64, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, size=(batch, size, size, 3)).astype("float32")


def _predict(model, x):
    return {k: keras.ops.convert_to_numpy(v) for k, v in model(x, training=False).items()}


@pytest.mark.parametrize("integral, depth", [("direct", DEPTH_3D), ("two_step", DEPTH_3D), ("direct", 1)])
def test_joints_are_the_integral_of_the_heatmaps(integral, depth):
    # beta 1 explicitly: I1's default beta is 20 (test_modeling_i1_beta.py); the numpy reference is Eq. 2-4 at beta 1.
    model = build_pose_model(_config("resnet18", "I1", depth, integral=integral, beta=1.0))
    # Scale the freshly initialised (near-zero) logits to std 3 so that the
    # expectation moves away from the map centre.
    logits_layer = model.get_layer("head_logits")
    kernel, bias = logits_layer.get_weights()
    scale = 3.0 / _predict(model, _image())["heatmaps"].std()
    logits_layer.set_weights([kernel * scale, bias])
    out = _predict(model, _image())
    expected, p = _softmax_expectation(out["heatmaps"], NUM_JOINTS, depth)
    assert np.abs(expected - 3.5).max() > 0.1
    np.testing.assert_allclose(out["joints"], expected, atol=1e-4)
    if integral == "two_step":
        np.testing.assert_allclose(out["marginal_x"], p.sum((2, 3)), atol=1e-5)  # Eq. 5
        np.testing.assert_allclose(out["marginal_y"], p.sum((2, 4)), atol=1e-5)
        np.testing.assert_allclose(out["marginal_z"], p.sum((3, 4)), atol=1e-5)


def test_every_stage_is_integrated():
    # Keras-default init: with the paper's N(0, 1e-3) on every conv, a fresh HourGlass in inference mode (BN moving
    # statistics still 0 / 1) emits logits of order 1e-9, too small for np.allclose to tell the stages apart.
    model = build_pose_model(_config("hourglass", "I1", 1, head_init_stddev=None, beta=1.0))
    out = _predict(model, _image(batch=1))
    for suffix in ("_stage0", ""):
        expected, _ = _softmax_expectation(out["heatmaps" + suffix], NUM_JOINTS, 1)
        np.testing.assert_allclose(out["joints" + suffix], expected, atol=1e-4)
    assert not np.allclose(out["heatmaps_stage0"], out["heatmaps"])


def test_hourglass_features_set_the_backbone_width():
    config = _config("hourglass", "Istar", 1, num_stages=1, hourglass_features=32)
    model = build_pose_model(config)
    assert model.name == "hourglass_Istar_2d_32features"
    backbone = model.get_layer("hourglass1")
    assert tuple(backbone.output["features_stage0"].shape) == (None, 16, 16, 32)
    assert model.get_layer("hourglass1").get_layer("stack0_logits").kernel.shape == (1, 1, 32, NUM_JOINTS)


def test_input_is_normalised_with_imagenet_statistics():
    model = build_pose_model(_config("resnet18", "H1"))
    x = _image(batch=1)
    normalised = keras.ops.convert_to_numpy(model.get_layer("input_normalization")(x))
    mean = np.array([0.485, 0.456, 0.406]) * 255
    std = np.array([0.229, 0.224, 0.225]) * 255
    np.testing.assert_allclose(normalised, (x - mean) / std, rtol=1e-4, atol=1e-4)


def test_applications_resnets_get_their_caffe_preprocessing():
    # keras.applications ResNet weights expect BGR with the channel means subtracted.
    model = build_pose_model(_config("resnet50", "H1"))
    x = _image(batch=1)
    normalised = keras.ops.convert_to_numpy(model.get_layer("input_normalization")(x))
    expected = x[..., ::-1] - np.array([103.939, 116.779, 123.68])
    np.testing.assert_allclose(normalised, expected, rtol=1e-5, atol=1e-3)


def _round_trip(tmp_path, config):
    model = build_pose_model(config)
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    x = _image(batch=1)
    before, after = _predict(model, x), _predict(restored, x)
    assert restored.name == model.name and sorted(after) == sorted(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


@pytest.mark.parametrize("family, method, depth, extra", [
    ("resnet18", "I2", DEPTH_3D, dict(integral="two_step")),
    ("resnet18", "R1", DEPTH_3D, {}),
    ("resnet18", "H3", 1, dict(upsample="resize_conv")),
    ("hourglass", "I1", 1, {}),
    pytest.param("resnet50", "Istar", 1, dict(debias=True), marks=pytest.mark.slow),
    pytest.param("multistage_resnet50", "I3", DEPTH_3D, {}, marks=pytest.mark.slow),
])
def test_keras_round_trip_safe_mode(tmp_path, family, method, depth, extra):
    _round_trip(tmp_path, _config(family, method, depth, **extra))


def _targets(model, config, batch, rng):
    """Random packed-free targets for every output the method supervises."""
    targets = {}
    for key, tensor in model.output.items():
        shape = (batch,) + tuple(tensor.shape[1:])
        if key.startswith("heatmaps"):
            targets[key] = rng.uniform(0, 1, size=shape).astype("float32")
        elif key.startswith("joints"):
            extents = np.array([config.heatmap_hw[1], config.heatmap_hw[0], config.depth][: shape[-1]])
            targets[key] = (rng.uniform(0, 1, size=shape) * (extents - 1)).astype("float32")
    return targets


@pytest.mark.parametrize("method", METHODS)
def test_fit_step_with_the_method_losses(method):
    config = ModelConfig.from_dict(dict(backbone="resnet18", method=method, num_joints=2, input_size=32,
                                        heatmap_size=4, num_deconv=2, deconv_filters=8))
    model = build_pose_model(config)
    losses = losses_for_method(method, config.num_joints, config.depth)
    assert sorted(losses) == sorted(model.output)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses, run_eagerly=True)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, size=(4, 32, 32, 3)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, _targets(model, config, 4, rng), batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    changed = sum(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert changed > len(before) // 2


def test_staged_model_trains_every_stage():
    config = ModelConfig.from_dict(dict(backbone="hourglass", method="I1", num_joints=2, input_size=64,
                                        heatmap_size=16, num_deconv=0, num_stages=2, depth=2))
    model = build_pose_model(config)
    base = losses_for_method("I1", 2, 2)
    losses = {key: base[key.split("_stage")[0]] for key in model.output}
    model.compile(optimizer="adam", loss=losses, run_eagerly=True)
    rng = np.random.default_rng(2)
    history = model.fit(_image(batch=2), _targets(model, config, 2, rng), batch_size=2, epochs=1, verbose=0)
    assert {"heatmaps_stage0_loss", "joints_stage0_loss", "heatmaps_loss", "joints_loss"} <= set(history.history)


def test_mixed_precision_outputs_are_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        for family, method in (("resnet18", "I1"), ("hourglass", "H1")):
            model = build_pose_model(_config(family, method, DEPTH_3D))
            assert {t.dtype for t in model.output.values()} == {"float32"}
        model = build_pose_model(_config("resnet18", "R1"))
        assert model.output["joints"].dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_builder_pretrained_and_errors(tmp_path):
    source = build_pose_model(_config("resnet18", "I1"))
    path = str(tmp_path / "backbone.weights.h5")
    source.get_layer("resnet18").save_weights(path)
    loaded = build_pose_model(_config("resnet18", "I1", pretrained=path))
    for a, b in zip(source.get_layer("resnet18").get_weights(), loaded.get_layer("resnet18").get_weights()):
        np.testing.assert_array_equal(a, b)

    config = _config("resnet18", "I1")
    config.heatmap_size = 32  # mutated after validation: the builder re-validates
    with pytest.raises(ConfigError) as info:
        build_pose_model(config)
    assert info.value.key == "heatmap_size"
    missing = str(tmp_path / "missing.weights.h5")
    with pytest.raises(FileNotFoundError, match="missing.weights.h5"):
        build_pose_model(_config("resnet18", "I1", pretrained=missing))


@pytest.mark.slow
def test_fit_step_in_graph_mode():
    config = ModelConfig.from_dict(dict(backbone="resnet18", method="I1", num_joints=2, input_size=32, depth=2,
                                        heatmap_size=4, num_deconv=2, deconv_filters=8, integral="two_step"))
    model = build_pose_model(config)
    losses = losses_for_method("I1", config.num_joints, config.depth)
    model.compile(optimizer="adam", loss=losses)  # default: compiled train step
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    targets = {k: v for k, v in _targets(model, config, 2, rng).items() if k in losses}
    history = model.fit(x, targets, batch_size=2, epochs=2, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
