"""Marginal heat-map losses of 3D maps (Strategy 2) against numpy references written cell by cell."""
import math

import keras
import numpy as np
import pytest

from integral_keras.codecs import PoseCodec
from integral_keras.layers import TwoStepIntegral
from integral_keras.losses import HeatmapMarginalBinaryCrossEntropy
from integral_keras.losses import HeatmapMarginalCrossEntropy
from integral_keras.losses import HeatmapMarginalMSE
from integral_keras.losses import marginal_loss_for_method

LOSSES = [HeatmapMarginalMSE, HeatmapMarginalCrossEntropy, HeatmapMarginalBinaryCrossEntropy]


def _numpy_per_sample(loss_class, packed, logits, num_joints, depth, sigma=1.0):
    """Per-sample loss (N,) in float64, from each joint's (H, W, D) volume."""
    batch, height, width, _ = logits.shape
    result = np.zeros(batch)
    for n in range(batch):
        for k in range(num_joints):
            volume = logits[n, :, :, k * depth:(k + 1) * depth].astype(np.float64)  # (H, W, D)
            tx, ty, weight = packed[n, k, :width], packed[n, k, width:width + height], packed[n, k, -1]
            if loss_class is HeatmapMarginalMSE:
                mx, my = volume.sum(axis=(0, 2)), volume.sum(axis=(1, 2))
                scale = 2 * math.pi * sigma**2
                term = np.sum((mx / scale - tx) ** 2) + np.sum((my / scale - ty) ** 2)
            elif loss_class is HeatmapMarginalCrossEntropy:
                p = np.exp(volume - volume.max())
                p /= p.sum()
                term = -np.sum(tx * np.log(p.sum(axis=(0, 2)))) - np.sum(ty * np.log(p.sum(axis=(1, 2))))
            else:
                off = 1.0 / (1.0 + np.exp(volume))  # 1 - sigmoid
                vx, vy = 1.0 - off.prod(axis=(0, 2)), 1.0 - off.prod(axis=(1, 2))
                term = sum(-np.sum(t * np.log(v) + (1 - t) * np.log(1 - v)) for t, v in ((tx, vx), (ty, vy)))
            result[n] += weight * term
    return result


def _random_case(rng, batch=3, height=5, width=4, num_joints=2, depth=3):
    logits = rng.normal(0.0, 1.0, (batch, height, width, num_joints * depth)).astype(np.float32)
    targets = rng.random((batch, num_joints, width + height)).astype(np.float32)
    weights = rng.choice([0.0, 0.5, 1.0], (batch, num_joints, 1)).astype(np.float32)
    return logits, np.concatenate([targets, weights], axis=-1)


@pytest.mark.parametrize("loss_class", LOSSES)
def test_matches_numpy_reference(loss_class):
    rng = np.random.default_rng(0)
    logits, packed = _random_case(rng)
    loss = loss_class(num_joints=2, depth=3)
    expected = _numpy_per_sample(loss_class, packed, logits, 2, 3).sum() / 3
    result = loss(packed, logits)
    assert result.dtype == "float32"
    np.testing.assert_allclose(float(result), expected, rtol=1e-5)


def test_mse_sigma_scales_the_sums():
    logits, packed = _random_case(np.random.default_rng(1))
    expected = _numpy_per_sample(HeatmapMarginalMSE, packed, logits, 2, 3, sigma=1.7).sum() / 3
    np.testing.assert_allclose(float(HeatmapMarginalMSE(2, 3, sigma=1.7)(packed, logits)), expected, rtol=1e-5)


def test_cross_entropy_marginals_are_the_two_step_integral_marginals():
    """The H2 / I2 marginal loss reads exactly the Eq. 5 marginals that TwoStepIntegral (beta 1) outputs."""
    rng = np.random.default_rng(2)
    logits, packed = _random_case(rng, batch=2)
    marginals = TwoStepIntegral(2, depth=3)(logits)
    target_x = np.zeros((2, 2, 4), np.float32)
    target_x[:, :, 1] = 1.0
    only_x = np.concatenate([target_x, np.zeros((2, 2, 5), np.float32), np.ones((2, 2, 1), np.float32)], axis=-1)
    per_sample = HeatmapMarginalCrossEntropy(2, 3, reduction="none")(only_x, logits)
    expected = -np.log(keras.ops.convert_to_numpy(marginals["marginal_x"])[:, :, 1]).sum(axis=-1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(per_sample), expected, rtol=1e-5)


@pytest.mark.parametrize("method", ["H1", "H2", "I3"])
def test_the_3d_target_of_any_depth_has_the_lowest_marginal_loss(method):
    """A map equal to the volumetric target (logits: the target itself for H1, large logits where it is on for
    H2 / H3) beats the same map shifted by one cell in x, at every depth: the marginal targets are z-free."""
    codec = PoseCodec(1, input_size=64, heatmap_size=16, depth=16, depth_range_mm=1600.0)
    loss = marginal_loss_for_method(method, 1, 16)
    xy_px = (np.array([[6.2, 9.4]]) + 0.5) * 4.0 - 0.5
    for z_mm in (-500.0, 0.0, 420.0):
        volume = codec.encode(xy_px, np.ones(1), np.array([z_mm]), 1.0, method=method)["heatmaps"][..., :16]
        target = codec.encode(xy_px, np.ones(1), np.array([z_mm]), 0.0, method=method, marginals=True)
        logits = volume if method == "H1" else 20.0 * volume - 10.0
        right = float(loss(target["heatmap_marginals"][None], logits[None]))
        shifted = float(loss(target["heatmap_marginals"][None], np.roll(logits, 1, axis=1)[None]))
        assert right < shifted
        if method == "H1":  # the Eq. 5 sums of the 3D Gaussian are its marginal target
            assert right < 1e-4 < shifted


def test_large_logits_stay_finite():
    logits = np.full((1, 4, 4, 2), -200.0, np.float32)
    logits[0, 1, 2, :] = 200.0
    packed = np.zeros((1, 1, 9), np.float32)
    packed[0, 0, [2, 4 + 1, 8]] = 1.0  # x = 2, y = 1, weight 1
    for loss_class in LOSSES:
        value = float(loss_class(1, 2)(packed, logits))
        assert np.isfinite(value), loss_class.__name__


def test_factory_and_serialization():
    assert isinstance(marginal_loss_for_method("I1", 3, 4), HeatmapMarginalMSE)
    assert isinstance(marginal_loss_for_method("H2", 3, 4), HeatmapMarginalCrossEntropy)
    assert isinstance(marginal_loss_for_method("I3", 3, 4), HeatmapMarginalBinaryCrossEntropy)
    assert marginal_loss_for_method("Istar", 3, 4) is None and marginal_loss_for_method("H1", 3, 1) is None
    loss = HeatmapMarginalMSE(3, 4, sigma=2.0, name="m")
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, HeatmapMarginalMSE) and restored.get_config() == loss.get_config()


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="depth > 1"):
        HeatmapMarginalCrossEntropy(3, 1)
    with pytest.raises(ValueError, match="K\\*D = 6"):
        HeatmapMarginalMSE(2, 3)(np.zeros((1, 2, 10), np.float32), np.zeros((1, 5, 4, 4), np.float32))
