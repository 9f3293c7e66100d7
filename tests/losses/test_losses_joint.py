"""Joint losses against numpy references."""
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from integral_keras.losses import JointL1
from integral_keras.losses import JointL2

LOSSES = [JointL1, JointL2]


def _numpy_per_sample(loss_class, targets, predictions, weights, scale=1.0):
    difference = (predictions.astype(np.float64) - targets) * scale
    errors = np.abs(difference) if loss_class is JointL1 else difference**2
    return (errors * weights).sum(axis=(1, 2))


def _random_case(rng, batch, num_joints, num_coords):
    predictions = rng.normal(0, 8, (batch, num_joints, num_coords)).astype(np.float32)
    targets = rng.uniform(0, 63, (batch, num_joints, num_coords)).astype(np.float32)
    weights = rng.choice([0.0, 1.0], (batch, num_joints, num_coords)).astype(np.float32)
    return predictions, targets, weights


@pytest.mark.parametrize("loss_class", LOSSES)
@pytest.mark.parametrize("num_coords", [2, 3])
def test_matches_numpy_reference(loss_class, num_coords):
    rng = np.random.default_rng(0)
    predictions, targets, weights = _random_case(rng, 4, 5, num_coords)
    y_true = np.concatenate([targets, weights], axis=-1)
    expected = _numpy_per_sample(loss_class, targets, predictions, weights).sum() / 4
    result = loss_class()(y_true, predictions)
    assert result.dtype == "float32"
    np.testing.assert_allclose(float(result), expected, rtol=1e-5)


def test_hand_computed_values():
    predictions = np.array([[[1.0, 2.0], [4.0, 0.0]]], np.float32)
    y_true = np.array([[[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]]], np.float32)
    # L1: |1| + |2| + |3| (y of joint 1 has weight 0); L2: 1 + 4 + 9.
    assert float(JointL1()(y_true, predictions)) == pytest.approx(6.0)
    assert float(JointL2()(y_true, predictions)) == pytest.approx(14.0)
    # Scaled by (1/2, 1/4): |0.5| + |0.5| + |1.5|.
    assert float(JointL1(coordinate_scale=(0.5, 0.25))(y_true, predictions)) == pytest.approx(2.5)
    assert float(JointL1(coordinate_scale=0.5)(y_true, predictions)) == pytest.approx(3.0)


@pytest.mark.parametrize("loss_class", LOSSES)
def test_unpacked_target_means_weight_one(loss_class):
    rng = np.random.default_rng(1)
    predictions, targets, _ = _random_case(rng, 3, 4, 3)
    packed = np.concatenate([targets, np.ones_like(targets)], axis=-1)
    loss = loss_class()
    np.testing.assert_allclose(float(loss(targets, predictions)), float(loss(packed, predictions)), rtol=1e-6)


@pytest.mark.parametrize("loss_class", LOSSES)
def test_has_3d_weight_zeroes_depth(loss_class):
    rng = np.random.default_rng(2)
    predictions, targets, _ = _random_case(rng, 2, 4, 3)
    # Sample 0 is 2D-only: z weight 0 (as the codec writes for has_3d = 0).
    weights = np.ones_like(targets)
    weights[0, :, 2] = 0.0
    y_true = np.concatenate([targets, weights], axis=-1)
    loss = loss_class()
    before = float(loss(y_true, predictions))
    moved = predictions.copy()
    moved[0, :, 2] += 100.0
    assert float(loss(y_true, moved)) == pytest.approx(before, rel=1e-6)
    # Sample 1 is 3D: moving its z by 10 from the target adds 4 joints * err(10) / batch 2.
    moved[1, :, 2] = targets[1, :, 2]
    exact_z = float(loss(y_true, moved))
    moved[1, :, 2] += 10.0
    per_joint = 10.0 if loss_class is JointL1 else 100.0
    assert float(loss(y_true, moved)) == pytest.approx(exact_z + 4 * per_joint / 2, rel=1e-5)


@pytest.mark.parametrize("loss_class", LOSSES)
def test_reduction_is_sum_over_batch_and_sample_weight(loss_class):
    rng = np.random.default_rng(3)
    predictions, targets, weights = _random_case(rng, 4, 3, 2)
    y_true = np.concatenate([targets, weights], axis=-1)
    per_sample = _numpy_per_sample(loss_class, targets, predictions, weights)
    loss = loss_class()
    np.testing.assert_allclose(float(loss(y_true, predictions)), per_sample.sum() / 4, rtol=1e-5)
    sample_weight = np.array([0.0, 1.0, 3.0, 0.5], np.float32)
    np.testing.assert_allclose(
        float(loss(y_true, predictions, sample_weight=sample_weight)),
        (per_sample * sample_weight).sum() / 4,
        rtol=1e-5,
    )


@pytest.mark.parametrize("loss_class", LOSSES)
def test_mixed_precision_computes_in_float32(loss_class):
    rng = np.random.default_rng(4)
    predictions, targets, weights = _random_case(rng, 2, 3, 3)
    predictions16 = predictions.astype(np.float16)
    expected = _numpy_per_sample(loss_class, targets, predictions16.astype(np.float32), weights).sum() / 2
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        result = loss_class()(np.concatenate([targets, weights], -1), keras.ops.convert_to_tensor(predictions16))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert result.dtype == "float32"
    np.testing.assert_allclose(float(result), expected, rtol=1e-5)


@pytest.mark.parametrize("loss_class", LOSSES)
def test_config_round_trip(loss_class):
    loss = loss_class(coordinate_scale=(1 / 64, 1 / 48), name="joints_l", reduction="sum")
    config = loss.get_config()
    assert config["coordinate_scale"] == [1 / 64, 1 / 48]
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is loss_class
    assert restored.get_config() == config


def test_errors_name_the_mismatch():
    with pytest.raises(ValueError, match="coordinate_scale has 2 values but predictions have 3"):
        JointL1(coordinate_scale=[1.0, 1.0])(np.zeros((1, 2, 6)), np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="expected C = 2 .* 2\\*C = 4"):
        JointL2()(np.zeros((1, 2, 6)), np.zeros((1, 2, 2)))


def test_losses_run_on_jax_backend_without_tensorflow():
    pytest.importorskip("jax")
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from integral_keras.losses import HeatmapCrossEntropy, JointL1
        y_true = np.array([[[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]]], np.float32)
        pred = np.array([[[1.0, 2.0], [4.0, 0.0]]], np.float32)
        logits = np.array([[[[0.0], [np.log(3.0)]]]], np.float32)
        one_hot = np.array([[[[0.0], [1.0]]]], np.float32)
        print(float(JointL1()(y_true, pred)), float(HeatmapCrossEntropy(1)(one_hot, logits)),
              "tensorflow" in sys.modules)
        """
    )
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    joint, cross_entropy, imported_tf = result.stdout.split()
    assert float(joint) == pytest.approx(6.0)
    assert float(cross_entropy) == pytest.approx(-np.log(0.75), rel=1e-6)
    assert imported_tf == "False"
