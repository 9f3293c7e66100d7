"""Heat-map losses against numpy references written cell by cell."""
import keras
import numpy as np
import pytest

from integral_keras.losses import HeatmapBinaryCrossEntropy
from integral_keras.losses import HeatmapCrossEntropy
from integral_keras.losses import HeatmapMSE

LOSSES = [HeatmapMSE, HeatmapCrossEntropy, HeatmapBinaryCrossEntropy]


def _numpy_per_sample(loss_class, targets, logits, weights, num_joints, depth):
    """Per-sample loss (N,) in float64: sum over joints of weight * joint term."""
    targets = targets.astype(np.float64)
    logits = logits.astype(np.float64)
    batch = logits.shape[0]
    result = np.zeros(batch)
    for n in range(batch):
        for k in range(num_joints):
            channels = slice(k * depth, (k + 1) * depth)
            x = logits[n, :, :, channels].ravel()
            t = targets[n, :, :, channels].ravel()
            if loss_class is HeatmapMSE:
                term = np.sum((x - t) ** 2)
            elif loss_class is HeatmapCrossEntropy:
                shifted = x - x.max()
                log_softmax = shifted - np.log(np.sum(np.exp(shifted)))
                term = -np.sum(t * log_softmax)
            else:
                sigmoid = 1.0 / (1.0 + np.exp(-x))
                term = -np.sum(t * np.log(sigmoid) + (1 - t) * np.log(1 - sigmoid))
            result[n] += weights[n, k] * term
    return result


def _pack(targets, weights):
    maps = np.broadcast_to(weights[:, None, None, :], targets.shape[:3] + weights.shape[-1:])
    return np.concatenate([targets, maps], axis=-1).astype(np.float32)


def _random_case(rng, batch, height, width, num_joints, depth):
    logits = rng.normal(0.0, 2.0, (batch, height, width, num_joints * depth)).astype(np.float32)
    targets = rng.random((batch, height, width, num_joints * depth)).astype(np.float32)
    weights = rng.choice([0.0, 0.5, 1.0], (batch, num_joints)).astype(np.float32)
    return logits, targets, weights


@pytest.mark.parametrize("loss_class", LOSSES)
@pytest.mark.parametrize("depth", [1, 3])
def test_matches_numpy_reference(loss_class, depth):
    rng = np.random.default_rng(0)
    logits, targets, weights = _random_case(rng, 3, 5, 4, 2, depth)
    loss = loss_class(num_joints=2, depth=depth)
    expected = _numpy_per_sample(loss_class, targets, logits, weights, 2, depth).sum() / 3
    result = loss(_pack(targets, weights), logits)
    assert result.dtype == "float32"
    np.testing.assert_allclose(float(result), expected, rtol=1e-5)


def test_hand_computed_values():
    # One sample, a 1x2 map, one joint with logits (0, log 3), one-hot target on cell 1:
    # softmax = (1/4, 3/4), so cross-entropy = -log(3/4).
    logits = np.array([[[[0.0], [np.log(3.0)]]]], np.float32)
    one_hot = np.array([[[[0.0], [1.0]]]], np.float32)
    assert float(HeatmapCrossEntropy(1)(one_hot, logits)) == pytest.approx(-np.log(0.75), rel=1e-6)
    # MSE: (0 - 0)^2 + (log 3 - 1)^2.
    assert float(HeatmapMSE(1)(one_hot, logits)) == pytest.approx((np.log(3.0) - 1) ** 2, rel=1e-6)
    # BCE: cell 0 -log(1 - sigmoid(0)) = log 2; cell 1 -log(sigmoid(log 3)) = -log(3/4).
    assert float(HeatmapBinaryCrossEntropy(1)(one_hot, logits)) == pytest.approx(
        np.log(2.0) - np.log(0.75), rel=1e-6
    )


@pytest.mark.parametrize("loss_class", LOSSES)
def test_unpacked_target_means_weight_one(loss_class):
    rng = np.random.default_rng(1)
    logits, targets, _ = _random_case(rng, 2, 4, 4, 3, 2)
    loss = loss_class(3, depth=2)
    packed = _pack(targets, np.ones((2, 3), np.float32))
    np.testing.assert_allclose(float(loss(targets, logits)), float(loss(packed, logits)), rtol=1e-6)


@pytest.mark.parametrize("loss_class", LOSSES)
def test_zero_weight_joint_is_ignored(loss_class):
    rng = np.random.default_rng(2)
    logits, targets, _ = _random_case(rng, 2, 4, 4, 3, 1)
    weights = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]], np.float32)
    loss = loss_class(3)
    before = float(loss(_pack(targets, weights), logits))
    perturbed = logits.copy()
    perturbed[0, ..., 1] += 5.0
    perturbed[1, ..., 2] = rng.normal(0, 10, (4, 4))
    assert float(loss(_pack(targets, weights), perturbed)) == pytest.approx(before, rel=1e-6)
    perturbed[0, 0, 0, 0] += 1.0  # a weighted joint changes the loss
    assert float(loss(_pack(targets, weights), perturbed)) != pytest.approx(before, rel=1e-3)


@pytest.mark.parametrize("loss_class", LOSSES)
def test_reduction_is_sum_over_batch_and_sample_weight(loss_class):
    rng = np.random.default_rng(3)
    logits, targets, weights = _random_case(rng, 4, 3, 3, 2, 1)
    y_true = _pack(targets, weights)
    loss = loss_class(2)
    per_sample = np.array([float(loss(y_true[i : i + 1], logits[i : i + 1])) for i in range(4)])
    np.testing.assert_allclose(float(loss(y_true, logits)), per_sample.sum() / 4, rtol=1e-5)
    sample_weight = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
    np.testing.assert_allclose(
        float(loss(y_true, logits, sample_weight=sample_weight)),
        (per_sample * sample_weight).sum() / 4,
        rtol=1e-5,
    )
    unreduced = loss_class(2, reduction=None)(y_true, logits)
    np.testing.assert_allclose(np.asarray(unreduced), per_sample, rtol=1e-5)


def test_large_logits_stay_finite():
    logits = np.zeros((1, 4, 4, 1), np.float32)
    logits[0, 1, 2, 0] = 1e4
    logits[0, 3, 3, 0] = -1e4
    one_hot = np.zeros_like(logits)
    one_hot[0, 0, 0, 0] = 1.0
    # log-softmax at cell (0, 0) is 0 - 1e4 (every other cell contributes nothing).
    assert float(HeatmapCrossEntropy(1)(one_hot, logits)) == pytest.approx(1e4, rel=1e-6)
    # BCE: cell (1, 2) with target 0 costs ~1e4; cell (3, 3) with target 0 ~0;
    # cell (0, 0) with target 1 at logit 0 costs log 2, the 13 others log 2 each too.
    assert float(HeatmapBinaryCrossEntropy(1)(one_hot, logits)) == pytest.approx(
        1e4 + 14 * np.log(2.0), rel=1e-6
    )


@pytest.mark.parametrize("loss_class", LOSSES)
def test_mixed_precision_computes_in_float32(loss_class):
    rng = np.random.default_rng(4)
    logits, targets, weights = _random_case(rng, 2, 4, 4, 2, 1)
    logits16 = logits.astype(np.float16)
    expected = _numpy_per_sample(loss_class, targets, logits16.astype(np.float32), weights, 2, 1).sum() / 2
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        loss = loss_class(2)
        result = loss(_pack(targets, weights), keras.ops.convert_to_tensor(logits16))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert result.dtype == "float32"
    np.testing.assert_allclose(float(result), expected, rtol=1e-5)


@pytest.mark.parametrize("loss_class", LOSSES)
def test_config_round_trip(loss_class):
    loss = loss_class(5, depth=4, name="custom", reduction="sum")
    config = loss.get_config()
    assert config["num_joints"] == 5 and config["depth"] == 4 and config["reduction"] == "sum"
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is loss_class
    assert restored.get_config() == config


def test_wrong_channel_count_is_reported():
    with pytest.raises(ValueError, match="K\\*D = 6 channels .*num_joints=3, depth=2"):
        HeatmapMSE(3, depth=2)(np.zeros((1, 4, 4, 9)), np.zeros((1, 4, 4, 5)))
