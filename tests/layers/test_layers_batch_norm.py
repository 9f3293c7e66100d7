"""FusedBatchNormalization: a training step equals Keras' BatchNormalization and a numpy reference (outputs,
gradients, moving statistics), bfloat16 stays close to float32, every other call is Keras' own, the networks use
it, and it round-trips through `.keras`."""
import numpy as np
import pytest
import tensorflow as tf

import keras

from integral_keras.configs import ModelConfig
from integral_keras.layers import FusedBatchNormalization
from integral_keras.modeling.backbones.resnet import build_applications_resnet
from integral_keras.models import build_pose_model

MOMENTUM, EPSILON = 0.9, 1e-5
CHANNEL_WEIGHTS = np.arange(1.0, 8.0, dtype=np.float32)  # a loss that weighs the channels differently


def _inputs(shape=(4, 5, 6, 7)):
    return np.random.default_rng(0).normal(2.0, 3.0, shape).astype(np.float32)


def _layer(layer_class, channels=7, **kwargs):
    layer = layer_class(momentum=MOMENTUM, epsilon=EPSILON, **kwargs)
    layer.build((None, 5, 6, channels))
    layer.gamma.assign(np.linspace(0.5, 2.0, channels))
    layer.beta.assign(np.linspace(-1.0, 1.0, channels))
    return layer


def _training_step(layer, inputs):
    """Outputs, loss gradients (inputs, gamma, beta) and the moving statistics after one training call."""
    tensor = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        outputs = tf.cast(layer(tensor, training=True), tf.float32)
        loss = tf.reduce_sum(tf.square(outputs) * CHANNEL_WEIGHTS)
    gradients = tape.gradient(loss, [tensor, layer.gamma, layer.beta])
    return [outputs.numpy()] + [g.numpy() for g in gradients] + [layer.moving_mean.numpy(),
                                                                  layer.moving_variance.numpy()]


def test_a_training_step_matches_numpy_and_keras():
    inputs = _inputs()
    fused = _training_step(_layer(FusedBatchNormalization), inputs)
    # numpy: batch statistics over N, H, W (biased variance), then the moving averages from mean 0 / variance 1.
    mean, variance = inputs.mean(axis=(0, 1, 2)), inputs.var(axis=(0, 1, 2))
    gamma, beta = np.linspace(0.5, 2.0, 7), np.linspace(-1.0, 1.0, 7)
    expected = (inputs - mean) / np.sqrt(variance + EPSILON) * gamma + beta
    np.testing.assert_allclose(fused[0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fused[4], (1 - MOMENTUM) * mean, rtol=1e-5)
    np.testing.assert_allclose(fused[5], MOMENTUM + (1 - MOMENTUM) * variance, rtol=1e-5)
    # d loss / d beta = sum over N, H, W of 2 * w_c * y; d loss / d gamma = the same times the normalised input.
    np.testing.assert_allclose(fused[3], 2 * CHANNEL_WEIGHTS * expected.sum(axis=(0, 1, 2)), rtol=1e-4, atol=1e-3)
    normalised = (inputs - mean) / np.sqrt(variance + EPSILON)
    np.testing.assert_allclose(fused[2], (2 * CHANNEL_WEIGHTS * expected * normalised).sum(axis=(0, 1, 2)),
                               rtol=1e-4, atol=1e-3)
    plain = _training_step(_layer(keras.layers.BatchNormalization), inputs)
    for got, want in zip(fused, plain):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_a_bfloat16_training_step_stays_close_to_float32():
    inputs = _inputs()
    full = _training_step(_layer(FusedBatchNormalization), inputs)
    half = _layer(FusedBatchNormalization, dtype="mixed_bfloat16")
    low = _training_step(half, inputs.astype(np.float32))
    assert half(tf.constant(inputs), training=True).dtype == tf.bfloat16
    np.testing.assert_allclose(low[0], full[0], atol=0.05)  # bfloat16 activations: 8 bits of mantissa
    np.testing.assert_allclose(low[4], full[4], rtol=1e-2)  # statistics and parameters stay float32
    assert half.moving_mean.dtype == "float32" and half.gamma.dtype == "float32"


@pytest.mark.parametrize("case", ["inference", "rank_3", "renorm", "no_scale"])
def test_every_other_call_is_keras_own(case, monkeypatch):
    called = []
    monkeypatch.setattr(tf.raw_ops, "FusedBatchNormV3", lambda **kwargs: called.append(kwargs))
    kwargs = {"renorm": case == "renorm", "scale": case != "no_scale"}
    inputs = _inputs((4, 6, 7)) if case == "rank_3" else _inputs()
    fused, plain = FusedBatchNormalization(**kwargs), keras.layers.BatchNormalization(**kwargs)
    for layer in (fused, plain):
        layer.build(inputs.shape)
        layer.moving_mean.assign(np.full(7, 1.5))
    training = case != "inference"
    np.testing.assert_array_equal(fused(inputs, training=training), plain(inputs, training=training))
    assert not called


def test_the_networks_normalise_with_the_fused_layer():
    for backbone in ("resnet18", "resnet50", "hourglass"):
        hourglass = backbone == "hourglass"
        sizes = dict(heatmap_size=16, num_deconv=0, hourglass_features=16) if hourglass else dict(
            heatmap_size=8, num_deconv=2, deconv_filters=16)
        config = ModelConfig.from_dict(dict(backbone=backbone, method="I1", num_joints=3, input_size=64, **sizes))
        model = build_pose_model(config)
        norms = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
        assert norms and all(type(layer) is FusedBatchNormalization for layer in norms), backbone
    # keras.applications' ResNet-50 keeps its layer names and weights, so its weight files load unchanged.
    backbone = build_applications_resnet(50, input_shape=(64, 64, 3))
    names = {layer.name for layer in _all_layers(backbone)}
    assert {"conv1_bn", "conv2_block1_0_bn", "conv5_block3_3_bn"} <= names


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def test_keras_round_trip(tmp_path):
    inputs = keras.Input((5, 6, 7))
    model = keras.Model(inputs, FusedBatchNormalization(momentum=0.8, epsilon=1e-4, name="bn")(inputs))
    model.layers[-1].moving_variance.assign(np.full(7, 2.0))
    path = tmp_path / "bn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    layer = loaded.get_layer("bn")
    assert type(layer) is FusedBatchNormalization and (layer.momentum, layer.epsilon) == (0.8, 1e-4)
    np.testing.assert_array_equal(loaded.predict(_inputs(), verbose=0), model.predict(_inputs(), verbose=0))
