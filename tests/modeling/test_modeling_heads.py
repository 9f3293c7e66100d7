"""Tests for the heat-map (deconv) head and the R1 regression head."""
import numpy as np
import pytest

import keras

from integral_keras.modeling.heads import deconv_head, regression_head


def _head_model(num_deconv, upsample, filters=16, num_outputs=6):
    inputs = keras.Input((4, 5, 8))
    return keras.Model(inputs, deconv_head(inputs, num_outputs, num_deconv, filters, upsample))


@pytest.mark.parametrize("upsample", ["deconv", "resize_conv"])
@pytest.mark.parametrize("num_deconv", [0, 2, 3])
def test_deconv_head_shapes_and_layers(num_deconv, upsample):
    model = _head_model(num_deconv, upsample)
    scale = 2 ** num_deconv
    assert tuple(model.output.shape) == (None, 4 * scale, 5 * scale, 6)
    transposed = [l for l in model.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    resized = [l for l in model.layers if isinstance(l, keras.layers.UpSampling2D)]
    norms = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(norms) == num_deconv
    if upsample == "deconv":
        assert len(transposed) == num_deconv and not resized
        assert all(l.kernel_size == (4, 4) and l.strides == (2, 2) and not l.use_bias for l in transposed)
    else:
        assert len(resized) == num_deconv and not transposed
        assert all(l.interpolation == "bilinear" for l in resized)
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 8)).astype("float32")
    assert model(x).shape == (2, 4 * scale, 5 * scale, 6)


def test_deconv_head_initialisation_is_normal_0_001():
    model = _head_model(1, "deconv", filters=256, num_outputs=64)
    kernel = keras.ops.convert_to_numpy(model.get_layer("head_up1_deconv").kernel)
    assert abs(kernel.std() - 0.001) < 0.0001 and abs(kernel.mean()) < 0.0001
    logits = model.get_layer("head_logits")
    assert abs(keras.ops.convert_to_numpy(logits.kernel).std() - 0.001) < 0.0002
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(logits.bias), 0.0)


@pytest.mark.parametrize("depth", [1, 4])
def test_regression_head_maps_dense_output_to_heatmap_cells(depth):
    inputs = keras.Input((3, 3, 5))
    model = keras.Model(inputs, regression_head(inputs, num_joints=2, heatmap_size=(8, 6), depth=depth))
    coords = 2 if depth == 1 else 3
    assert tuple(model.output.shape) == (None, 2, coords)
    dense = model.get_layer("regression_dense")
    u = np.array([0.0, 0.0, 0.5, -0.25, 0.1, 0.2][: 2 * coords], dtype="float32")
    dense.set_weights([np.zeros_like(dense.get_weights()[0]), u])
    joints = keras.ops.convert_to_numpy(model(np.ones((1, 3, 3, 5), "float32")))[0]
    extents = np.array([6.0, 8.0, depth][:coords])  # (W, H, D)
    expected = u.reshape(2, coords) * extents + (extents - 1) / 2  # u = 0 is the heat-map centre
    np.testing.assert_allclose(joints, expected, rtol=1e-6)
    assert joints.dtype == np.float32
