"""Tests for `model.stage_depths`: staged networks whose stages have different depths (the paper's Table 8)."""
import numpy as np
import pytest
import tensorflow as tf

import keras

from integral_keras.configs import ConfigError, ModelConfig
from integral_keras.models import build_pose_model
from integral_keras.modeling.validation import check_model_config
from integral_keras.serving import export_saved_model

NUM_JOINTS = 3
STAGED = {
    "hourglass": dict(backbone="hourglass", num_deconv=0, heatmap_size=16, hourglass_features=32),
    "multistage_resnet50": dict(backbone="multistage_resnet50", num_deconv=1, deconv_filters=16, heatmap_size=4),
}


def _config(family, method="I1", stage_depths=(1, 4), **extra):
    values = dict(STAGED[family], method=method, num_joints=NUM_JOINTS, input_size=64, num_stages=len(stage_depths),
                  depth=stage_depths[-1], stage_depths=list(stage_depths))
    values.update(extra)
    return ModelConfig.from_dict(values)


def _image(batch=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, size=(batch, 64, 64, 3)).astype("float32")


def _expectation(logits, depth, beta):
    """Numpy Eq. 2-4 over one stage's `(N, H, W, K*D)` logits (channel k*D + d), softmax of `beta * logits`."""
    n, h, w, _ = logits.shape
    volume = beta * logits.reshape(n, h, w, NUM_JOINTS, depth).transpose(0, 3, 4, 1, 2).astype(np.float64)
    flat = volume.reshape(n, NUM_JOINTS, -1)
    p = np.exp(flat - flat.max(-1, keepdims=True))
    p = (p / p.sum(-1, keepdims=True)).reshape(volume.shape)
    zz, yy, xx = np.meshgrid(np.arange(depth), np.arange(h), np.arange(w), indexing="ij")
    coords = [(p * xx).sum((2, 3, 4)), (p * yy).sum((2, 3, 4))] + ([(p * zz).sum((2, 3, 4))] if depth > 1 else [])
    return np.stack(coords, axis=-1)


@pytest.mark.parametrize("family, stage_depths", [
    ("hourglass", (1, 4)), ("hourglass", (2, 1, 4)), ("multistage_resnet50", (1, 4))])
def test_each_stage_has_its_own_depth(family, stage_depths):
    config = _config(family, stage_depths=stage_depths, head_init_stddev=0.05)
    model = build_pose_model(config)
    size = STAGED[family]["heatmap_size"]
    expected = {}
    for s, depth in enumerate(stage_depths):
        suffix = "" if s == len(stage_depths) - 1 else f"_stage{s}"
        expected["heatmaps" + suffix] = (None, size, size, NUM_JOINTS * depth)
        expected["joints" + suffix] = (None, NUM_JOINTS, 2 if depth == 1 else 3)
    assert {k: tuple(v.shape) for k, v in model.output.items()} == expected
    assert f"_{len(stage_depths)}stages_depths{'-'.join(map(str, stage_depths))}" in model.name
    # Every stage's joints are the integral of that stage's heat maps with that stage's depth.
    out = {k: keras.ops.convert_to_numpy(v) for k, v in model(_image(), training=True).items()}
    for s, depth in enumerate(stage_depths):
        suffix = "" if s == len(stage_depths) - 1 else f"_stage{s}"
        expected = _expectation(out["heatmaps" + suffix], depth, config.softmax_beta)
        np.testing.assert_allclose(out["joints" + suffix], expected, atol=1e-4)


def test_multistage_next_stage_sees_the_previous_stage_channels():
    model = build_pose_model(_config("multistage_resnet50"))
    backbone = model.get_layer("multistage_resnet50_2")
    # Stage 1's first block sees conv3 features (512) + stage 0's K * 1 heat maps.
    assert backbone.get_layer("stage1_conv4_block1_1_conv").kernel.shape == (1, 1, 512 + NUM_JOINTS, 256)


def test_hourglass_remap_takes_the_stage_channels():
    model = build_pose_model(_config("hourglass"))
    backbone = model.get_layer("hourglass2")
    assert backbone.get_layer("stack0_remap_heatmaps").kernel.shape == (1, 1, NUM_JOINTS, 32)
    assert backbone.get_layer("stack1_logits").kernel.shape == (1, 1, 32, NUM_JOINTS * 4)


def test_two_step_marginals_and_r1_follow_the_stage_depth():
    model = build_pose_model(_config("hourglass", integral="two_step"))
    shapes = {k: tuple(v.shape) for k, v in model.output.items()}
    assert shapes["marginal_z"] == (None, NUM_JOINTS, 4) and shapes["joints_stage0"] == (None, NUM_JOINTS, 2)
    assert not any(k.startswith("marginal") and k.endswith("stage0") for k in shapes)
    r1 = build_pose_model(_config("hourglass", method="R1"))
    assert {k: tuple(v.shape) for k, v in r1.output.items()} == {
        "joints_stage0": (None, NUM_JOINTS, 2), "joints": (None, NUM_JOINTS, 3)}


def test_default_null_is_depth_for_every_stage():
    config = ModelConfig.from_dict(dict(STAGED["hourglass"], num_joints=NUM_JOINTS, input_size=64, num_stages=2,
                                        depth=4))
    assert config.stage_depths is None and config.depth_per_stage == (4, 4)
    shapes = {k: tuple(v.shape) for k, v in build_pose_model(config).output.items()}
    assert shapes["heatmaps_stage0"] == shapes["heatmaps"] == (None, 16, 16, NUM_JOINTS * 4)
    assert build_pose_model(config).name == "hourglass_I1_3d_2stages_32features"


@pytest.mark.parametrize("overrides, fragment", [
    (dict(stage_depths=[1, 4, 4]), "one depth per stage"),
    (dict(stage_depths=[4, 1]), "must equal depth 4"),
    (dict(stage_depths=[0, 4]), ">= 1"),
    (dict(backbone="resnet18", num_stages=1, num_deconv=2, heatmap_size=8, stage_depths=[4],
          hourglass_features=256), "staged backbones"),
])
def test_bad_stage_depths_name_the_key(overrides, fragment):
    values = dict(STAGED["hourglass"], num_joints=NUM_JOINTS, input_size=64, num_stages=2, depth=4)
    values.update(overrides)
    with pytest.raises(ConfigError) as info:
        check_model_config(ModelConfig.from_dict(values))  # the backbone-dependent check runs at build time
    assert info.value.key == "stage_depths"
    assert fragment in str(info.value)


def test_override_from_the_command_line_form():
    config = ModelConfig.from_dict(dict(STAGED["hourglass"], num_joints=NUM_JOINTS, input_size=64, num_stages=2,
                                        depth=4)).override(["stage_depths=[1,4]"])
    assert config.stage_depths == (1, 4) and config.depth_per_stage == (1, 4)


@pytest.mark.parametrize("family", ["hourglass", pytest.param("multistage_resnet50", marks=pytest.mark.slow)])
def test_keras_round_trip_safe_mode(tmp_path, family):
    model = build_pose_model(_config(family, head_init_stddev=0.05))
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    x = _image(batch=1)
    before = model(x, training=False)
    after = restored(x, training=False)
    assert restored.name == model.name and sorted(after) == sorted(before)
    for key in before:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(after[key]), keras.ops.convert_to_numpy(before[key]))


@pytest.mark.slow
def test_saved_model_export_serves_the_last_stage(tmp_path):
    config = _config("hourglass", head_init_stddev=0.05)
    model = build_pose_model(config)
    path = export_saved_model(model, config, tmp_path)
    loaded = tf.saved_model.load(str(path))
    images = _image()
    got = loaded.signatures["serving_default"](images=tf.constant(images))
    joints_hm = keras.ops.convert_to_numpy(model(images, training=False)["joints"])
    assert joints_hm.shape == (2, NUM_JOINTS, 3)
    np.testing.assert_allclose(got["joints"].numpy(), (joints_hm[..., :2] + 0.5) * 4 - 0.5, atol=1e-3)
    assert got["depth_mm"].shape == (2, NUM_JOINTS)
