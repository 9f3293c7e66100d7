"""Tests of HeatmapArgmax (TF backend)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import layers_reference as ref
from integral_keras.layers import HeatmapArgmax, IntegralRegression


@pytest.mark.parametrize("num_joints,depth,height,width", [(4, 1, 12, 10), (3, 5, 8, 10)])
def test_matches_numpy_reference(num_joints, depth, height, width):
    logits = np.random.randn(2, height, width, num_joints * depth).astype(np.float32)
    joints = HeatmapArgmax(num_joints, depth)(logits)
    assert joints.dtype == tf.float32
    np.testing.assert_array_equal(joints, ref.argmax(logits, num_joints, depth))


def test_ties_resolve_to_the_first_cell_in_row_major_order():
    logits = np.zeros((1, 6, 6, 3), np.float32)  # one joint, D = 3
    logits[0, 4, 1, 2] = logits[0, 2, 5, 1] = logits[0, 2, 5, 2] = 7.0
    np.testing.assert_array_equal(HeatmapArgmax(1, 3)(logits)[0, 0], [5.0, 2.0, 1.0])
    np.testing.assert_array_equal(HeatmapArgmax(1, 3)(logits)[0], ref.argmax(logits, 1, 3)[0])


def test_off_grid_blob_decodes_to_the_nearest_cell_while_integral_recovers_it():
    logits = ref.log_gaussian_logits(32, 32, centre_xy=(10.3, 20.6), sigma=1.5)
    np.testing.assert_array_equal(HeatmapArgmax(1)(logits)[0, 0], [10.0, 21.0])
    np.testing.assert_allclose(IntegralRegression(1)(logits)[0, 0], [10.3, 20.6], atol=1e-3)


@pytest.mark.parametrize("policy,input_dtype", [("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")])
def test_mixed_precision_outputs_float32(policy, input_dtype):
    logits = np.random.randn(2, 8, 8, 6).astype(np.float32)
    low = tf.cast(logits, input_dtype)
    joints = HeatmapArgmax(3, 2, dtype=policy)(low)
    assert joints.dtype == tf.float32
    np.testing.assert_array_equal(joints, ref.argmax(tf.cast(low, tf.float32).numpy(), 3, 2))


def test_extreme_logits_decode_the_peak():
    logits = np.full((1, 8, 8, 4), -1e4, np.float32)
    logits[0, 6, 1, 0] = logits[0, 2, 3, 3] = 1e4
    np.testing.assert_array_equal(HeatmapArgmax(2, 2)(logits)[0], [[1.0, 6.0, 0.0], [3.0, 2.0, 1.0]])


def test_dynamic_batch_and_keras_round_trip(tmp_path):
    inputs = keras.Input((10, 8, 6))
    model = keras.Model(inputs, HeatmapArgmax(2, depth=3)(keras.layers.Conv2D(6, 1)(inputs)))
    assert model.output.shape == (None, 2, 3)
    path = tmp_path / "argmax.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    for batch in (1, 3):
        images = np.random.randn(batch, 10, 8, 6).astype(np.float32)
        expected = ref.argmax(model.layers[1](images).numpy(), 2, 3)
        np.testing.assert_array_equal(model.predict(images, verbose=0), expected)
        np.testing.assert_array_equal(loaded.predict(images, verbose=0), expected)


def test_config_and_errors():
    clone = HeatmapArgmax.from_config(HeatmapArgmax(7, depth=4, name="argmax").get_config())
    assert (clone.num_joints, clone.depth, clone.name) == (7, 4, "argmax")
    with pytest.raises(ValueError, match="num_joints"):
        HeatmapArgmax(0)
    with pytest.raises(ValueError, match="depth"):
        HeatmapArgmax(3, depth=-2)
    with pytest.raises(ValueError, match=r"expects 8 channels.*got 6"):
        HeatmapArgmax(4, depth=2)(np.zeros((1, 4, 4, 6), np.float32))
