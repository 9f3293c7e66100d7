"""A codec Gaussian target decoded by the layers: integral regression is sub-cell, argmax is not."""
import numpy as np
import pytest

from integral_keras.codecs import PoseCodec
from integral_keras.layers import HeatmapArgmax
from integral_keras.layers import IntegralRegression


def _log_target(targets, num_channels):
    """Logits whose per-joint softmax is the normalised Gaussian target."""
    return np.log(np.maximum(targets.numpy()[None, ..., :num_channels], 1e-30))


def test_2d_gaussian_target_decodes_to_sub_cell_location():
    codec = PoseCodec(3, input_size=(128, 96), heatmap_size=(32, 24), sigma=1.5)
    # Off the cell grid (cell centres are pixels 1.5, 5.5, 9.5, ...) and 6 sigma
    # from the border, so the truncated Gaussian keeps its mean.
    keypoints_px = np.array([[40.2, 30.9], [30.7, 90.35], [60.0, 64.4]])
    targets = codec.encode(keypoints_px, np.ones(3), method="H1")["heatmaps"]
    logits = _log_target(targets, 3)

    integral = codec.decode(IntegralRegression(3)(logits).numpy())["joints_px"][0]
    np.testing.assert_allclose(integral, keypoints_px, atol=1e-3)

    argmax = codec.decode(HeatmapArgmax(3)(logits).numpy())["joints_px"][0]
    nearest_cell = np.floor(codec.px_to_heatmap(keypoints_px) + 0.5)
    np.testing.assert_allclose(argmax, codec.heatmap_to_px(nearest_cell), atol=1e-5)
    assert np.abs(argmax - keypoints_px).max() > 1.0  # quantised to the 4-pixel cell grid


def test_3d_gaussian_target_decodes_to_sub_bin_depth():
    codec = PoseCodec(2, input_size=64, heatmap_size=16, depth=16, depth_range_mm=2000.0)
    keypoints_px = np.array([[30.3, 22.8], [41.1, 35.6]])
    z_mm = np.array([-131.0, 287.0])  # bins are 125 mm wide, centres at -937.5 + 125 i
    targets = codec.encode(keypoints_px, np.ones(2), z_mm, 1.0, method="H1")["heatmaps"]
    logits = _log_target(targets, 2 * 16)

    decoded = codec.decode(IntegralRegression(2, depth=16)(logits).numpy())
    np.testing.assert_allclose(decoded["joints_px"][0], keypoints_px, atol=1e-3)
    np.testing.assert_allclose(decoded["z_mm"][0], z_mm, atol=0.05)

    quantised = codec.decode(HeatmapArgmax(2, depth=16)(logits).numpy())
    np.testing.assert_allclose(quantised["z_mm"][0], [-187.5, 312.5])
    assert quantised["z_mm"][0] == pytest.approx(codec.depth_to_mm(np.floor(codec.mm_to_depth(z_mm) + 0.5)))
