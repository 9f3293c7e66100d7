"""Tests for `model.head_init_stddev`: the paper's N(0, 1e-3) initialisation of the heads and the HourGlass.

Statistical checks: for `n` i.i.d. draws of N(0, s^2), the sample mean has standard error `s / sqrt(n)` and the
sample standard deviation has relative standard error `1 / sqrt(2 (n - 1))`. Every check allows 5 standard errors
of its own n (a false failure has probability below 1e-6 per check); per-layer checks use layers with n >= 1000
weights (plus one 192-weight logits layer, 26 %), so the tolerance on the std is mostly <= 11 %: far tighter than
the gap to the Keras default (`glorot_uniform`, std `sqrt(2 / (fan_in + fan_out))`, e.g. 0.06 for a 3x3 64->64
conv against 0.001 or 0.01).
"""
import math

import numpy as np
import pytest

import keras

from integral_keras.configs import ConfigError, ModelConfig
from integral_keras.models import build_pose_model

NUM_JOINTS = 3
SIGMAS = 5.0
MIN_WEIGHTS = 1000


def _config(backbone, **extra):
    values = dict(backbone=backbone, method="I1", num_joints=NUM_JOINTS, input_size=64)
    if backbone == "hourglass":
        values.update(num_deconv=0, heatmap_size=16, num_stages=2, hourglass_features=32)
    elif backbone == "multistage_resnet50":
        values.update(num_deconv=1, deconv_filters=64, heatmap_size=4, num_stages=2)
    else:
        values.update(num_deconv=2, deconv_filters=64, heatmap_size=8)
    values.update(extra)
    return ModelConfig.from_dict(values)


def _all_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def _convs(model, prefix=""):
    return {layer.name: layer for layer in _all_layers(model)
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))
            and layer.name.startswith(prefix)}


def _kernel(layer):
    return keras.ops.convert_to_numpy(layer.kernel).astype(np.float64).ravel()


def _assert_normal(layer, stddev):
    w = _kernel(layer)
    n = w.size
    assert abs(w.mean()) < SIGMAS * stddev / math.sqrt(n), layer.name
    assert abs(w.std() / stddev - 1.0) < SIGMAS / math.sqrt(2 * (n - 1)), (layer.name, w.std())
    if layer.use_bias:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.bias), 0.0)


def _assert_glorot_uniform(layer):
    # Keras' fan computation: receptive field * the last two kernel dimensions.
    shape = layer.kernel.shape
    receptive = int(np.prod(shape[:-2]))
    fan_in, fan_out = receptive * shape[-2], receptive * shape[-1]
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    w = _kernel(layer)
    assert np.abs(w).max() <= limit + 1e-7, layer.name
    # Uniform(-limit, limit): std limit / sqrt(3); the sample std's relative error is about 0.9 / sqrt(n).
    assert abs(w.std() / (limit / math.sqrt(3)) - 1.0) < SIGMAS * 0.9 / math.sqrt(w.size), layer.name


def _large(convs):
    return {name: layer for name, layer in convs.items() if np.prod(layer.kernel.shape) >= MIN_WEIGHTS}


@pytest.mark.parametrize("stddev", [0.001, 0.01])
@pytest.mark.parametrize("upsample", ["deconv", "resize_conv"])
def test_resnet_head_has_the_requested_normal_init(stddev, upsample):
    model = build_pose_model(_config("resnet18", head_init_stddev=stddev, upsample=upsample))
    head = _convs(model, "head_")
    assert sorted(head) == sorted([f"head_up1_{'deconv' if upsample == 'deconv' else 'conv'}",
                                   f"head_up2_{'deconv' if upsample == 'deconv' else 'conv'}", "head_logits"])
    for layer in _large(head).values():
        _assert_normal(layer, stddev)
    # The logits layer is small (64 * 3 weights): check it pooled with a tolerance for its own n.
    _assert_normal(model.get_layer("head_logits"), stddev)
    # The hand-built ResNet keeps its initialisers.
    backbone = _large(_convs(model.get_layer("resnet18")))
    assert backbone
    for layer in backbone.values():
        _assert_glorot_uniform(layer)


def test_every_hourglass_convolution_has_the_requested_normal_init():
    model = build_pose_model(_config("hourglass", head_init_stddev=0.01))
    convs = _convs(model.get_layer("hourglass2"))
    # Stem, residual convs and skips, lin, logits and the remaps between stacks: every conv of the network.
    assert {"stem1_conv", "stem2_skip", "stack0_lin_conv", "stack0_logits", "stack0_remap_features",
            "stack0_remap_heatmaps", "stack1_logits"} <= set(convs)
    # stem 1 + 4 + 3 + 4 (stem2/stem4 change width: a skip conv); per stack 13 hourglass residuals * 3 + the
    # residual after it (3) + lin + logits; 2 remaps between the stacks.
    assert len(convs) == 12 + 2 * (13 * 3 + 3 + 2) + 2
    pooled = np.concatenate([_kernel(layer) for layer in convs.values()])
    assert abs(pooled.mean()) < SIGMAS * 0.01 / math.sqrt(pooled.size)
    assert abs(pooled.std() / 0.01 - 1.0) < SIGMAS / math.sqrt(2 * (pooled.size - 1))
    large = _large(convs)
    assert len(large) >= 40
    for layer in large.values():
        _assert_normal(layer, 0.01)


def test_multistage_heads_are_normal_and_the_resnet_keeps_its_init():
    model = build_pose_model(_config("multistage_resnet50"))
    backbone = model.get_layer("multistage_resnet50_2")
    heads = _convs(backbone, "stage0_head") | _convs(backbone, "stage1_head")
    assert len(heads) == 4
    for layer in heads.values():
        _assert_normal(layer, 0.001)
    # keras.applications layers (trunk and per-stage conv4/conv5) keep glorot_uniform.
    for name in ("conv2_block1_1_conv", "conv3_block4_3_conv", "stage1_conv4_block2_2_conv"):
        _assert_glorot_uniform(backbone.get_layer(name))


@pytest.mark.parametrize("backbone", ["resnet18", "hourglass"])
def test_null_gives_the_keras_default(backbone):
    config = _config(backbone, head_init_stddev=None)
    model = build_pose_model(config)
    prefix = "head_" if backbone == "resnet18" else ""
    root = model if backbone == "resnet18" else model.get_layer("hourglass2")
    convs = _large(_convs(root, prefix))
    assert convs
    for layer in convs.values():
        assert isinstance(layer.kernel_initializer, keras.initializers.GlorotUniform), layer.name
        _assert_glorot_uniform(layer)


def test_init_is_reproducible_under_the_keras_seed():
    def weights(seed):
        keras.utils.set_random_seed(seed)  # what the trainer does with train.seed
        model = build_pose_model(_config("hourglass", num_stages=1))
        return {layer.name: _kernel(layer) for layer in _convs(model).values()}

    first, again, other = weights(3), weights(3), weights(4)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert not any(np.array_equal(first[name], other[name]) for name in first)
    # One fresh initialiser per layer: layers of the same shape get different draws.
    same_shape = [first[f"stack0_hg_{part}_conv2"] for part in ("up", "low1", "low3")]
    assert not np.array_equal(same_shape[0], same_shape[1]) and not np.array_equal(same_shape[1], same_shape[2])


@pytest.mark.parametrize("stddev", [0.01, None])
def test_keras_round_trip_keeps_weights_and_initialisers(tmp_path, stddev):
    model = build_pose_model(_config("hourglass", num_stages=1, head_init_stddev=stddev))
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).uniform(0, 255, size=(1, 64, 64, 3)).astype("float32")
    before, after = model(x, training=False), restored(x, training=False)
    for key in before:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(after[key]), keras.ops.convert_to_numpy(before[key]))
    logits = restored.get_layer("hourglass1").get_layer("stack0_logits")
    if stddev is None:
        assert isinstance(logits.kernel_initializer, keras.initializers.GlorotUniform)
    else:
        assert isinstance(logits.kernel_initializer, keras.initializers.RandomNormal)
        assert logits.kernel_initializer.stddev == stddev


def test_config_field_default_null_and_errors():
    assert ModelConfig().head_init_stddev == 0.001
    assert ModelConfig().override(["head_init_stddev=null"]).head_init_stddev is None
    assert ModelConfig().override(["head_init_stddev=0.02"]).head_init_stddev == 0.02
    for bad in ("0", "-0.001", "nan", "inf"):
        with pytest.raises(ConfigError) as info:
            ModelConfig().override([f"head_init_stddev={bad}"])
        assert info.value.key == "head_init_stddev"
