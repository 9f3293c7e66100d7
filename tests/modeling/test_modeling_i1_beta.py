"""Tests for the method-dependent default of `model.beta` (I1 trained from scratch, docs/training_notes.md)."""
import numpy as np
import pytest

import keras

from integral_keras import layers as pose_layers
from integral_keras.configs import ConfigError, ModelConfig
from integral_keras.models import build_pose_model


def _gaussian_logits(shape, joints, sigma=1.0):
    """The H1 target (peak-1 Gaussian, sigma in cells) as logits `(N, H, W, K*D)` (channel k*D + d): the minimum
    of I1's MSE heat-map loss. `joints` `(N, K, C)` in cell units, C = 2 or 3."""
    n, k, c = joints.shape
    grids = np.meshgrid(*[np.arange(size) for size in shape], indexing="ij")  # (D,) H, W
    coords = grids[::-1]  # x, y(, z) grids
    d2 = sum((g[None, None] - joints[:, :, i].reshape(n, k, *([1] * len(shape)))) ** 2
             for i, g in enumerate(coords))
    maps = np.exp(-d2 / (2 * sigma ** 2))  # (N, K, (D,) H, W)
    if len(shape) == 2:
        return maps.transpose(0, 2, 3, 1).astype("float32")
    return maps.transpose(0, 3, 4, 1, 2).reshape(n, shape[1], shape[2], k * shape[0]).astype("float32")


@pytest.mark.parametrize("shape", [(16, 16), (64, 64), (16, 32, 32)])
def test_i1_default_beta_integrates_the_mse_optimum_to_the_joint(shape):
    # With beta 1 the softmax of logits in [0, 1] is almost flat and the integral sits near the map centre, so the
    # joint loss fights the heat-map loss; with I1's default the MSE's optimum integrates to the joint.
    rng = np.random.default_rng(0)
    num_joints, depth = 4, (shape[0] if len(shape) == 3 else 1)
    hw = shape[-2:]
    extent = np.array([hw[1], hw[0]] + ([depth] if depth > 1 else []), dtype=float)
    joints = rng.uniform(2, extent - 3, size=(2, num_joints, len(extent)))
    logits = _gaussian_logits(shape, joints)
    beta = ModelConfig(method="I1").softmax_beta
    errors = {}
    for b in (1.0, beta):
        layer = pose_layers.IntegralRegression(num_joints, depth=depth, beta=b)
        got = keras.ops.convert_to_numpy(layer(logits))
        errors[b] = np.abs(got - joints).max()
    assert errors[beta] < 0.75, errors
    assert errors[1.0] > 2.0, errors


@pytest.mark.parametrize("method, beta", [("I1", 20.0), ("I2", 1.0), ("I3", 1.0), ("Istar", 1.0), ("R1", 1.0)])
def test_default_beta_by_method_and_explicit_value_wins(method, beta):
    assert ModelConfig(method=method).beta is None
    assert ModelConfig(method=method).softmax_beta == beta
    assert ModelConfig(method=method, beta=3.0).softmax_beta == 3.0
    assert ModelConfig().override([f"method={method}", "beta=null"]).softmax_beta == beta


def test_built_i1_model_uses_the_resolved_beta():
    config = ModelConfig.from_dict(dict(backbone="resnet18", method="I1", num_joints=2, input_size=64, heatmap_size=8,
                                        num_deconv=2, deconv_filters=8))
    assert build_pose_model(config).get_layer("integral").beta == 20.0
    config.beta = 2.5
    assert build_pose_model(config).get_layer("integral").beta == 2.5


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "inf"])
def test_bad_beta_names_the_key(bad):
    with pytest.raises(ConfigError) as info:
        ModelConfig().override([f"beta={bad}"])
    assert info.value.key == "beta"
