"""PoseCodec x/y marginal targets of 3D heat maps (Strategy 2) against numpy references written in the test."""
import math

import numpy as np
import pytest

from integral_keras.codecs import PoseCodec
from integral_keras.codecs import pack_marginal_target
from integral_keras.codecs import unpack_marginal_target

METHOD_FOR_KIND = {"gaussian": "H1", "one_hot": "I2", "disc": "H3"}
# 64x48 crops, 16x12 heat maps (stride 4 on both axes), 8 depth bins over +-400 mm.
INPUT_HW, HEATMAP_HW, DEPTH, RANGE_MM = (64, 48), (16, 12), 8, 800.0


def _codec(**extra):
    return PoseCodec(3, input_size=INPUT_HW, heatmap_size=HEATMAP_HW, depth=DEPTH, depth_range_mm=RANGE_MM,
                     **extra)


def _numpy_1d(kind, coord, size, sigma=1.0, radius_cells=None):
    """The 1-D profile of `kind` for one coordinate (heat-map units) over `size` cells."""
    cells = np.arange(size, dtype=np.float64)
    if kind == "gaussian":
        return np.exp(-((cells - coord) ** 2) / (2 * sigma**2))
    if kind == "one_hot":
        return (cells == math.floor(coord + 0.5)).astype(np.float64)
    return (np.abs(cells - coord) <= radius_cells).astype(np.float64)


def _numpy_marginals(kind, xy_hm, weight, sigma=1.0, radius_px=15.0):
    """(K, W + H + 1) reference: x target, y target, weight (module conventions; stride 4)."""
    height, width = HEATMAP_HW
    rows = []
    for (x, y), w in zip(xy_hm, weight):
        tx = _numpy_1d(kind, x, width, sigma, radius_px / 4.0)
        ty = _numpy_1d(kind, y, height, sigma, radius_px / 4.0)
        if kind == "gaussian":  # Eq. 5 sums of the 3D Gaussian / (2 pi sigma^2), depth summed over all integers
            tx, ty = tx * ty.sum() / (sigma * math.sqrt(2 * math.pi)), ty * tx.sum() / (sigma * math.sqrt(2 * math.pi))
        rows.append(np.concatenate([tx * (w > 0), ty * (w > 0), [w]]))
    return np.array(rows)


def _px(xy_hm):
    return (np.asarray(xy_hm, np.float32) + 0.5) * 4.0 - 0.5


@pytest.mark.parametrize("kind", ["gaussian", "one_hot", "disc"])
def test_marginal_targets_of_2d_samples_match_numpy(kind):
    xy_hm = np.array([[3.3, 4.6], [7.5, 0.2], [10.9, 14.7]])
    visible = np.array([1.0, 0.0, 1.0])
    codec = _codec(sigma=1.5, disc_radius_px=9.0)
    targets = codec.encode(_px(xy_hm), visible, np.zeros(3), 0.0, method=METHOD_FOR_KIND[kind], marginals=True)
    marginals = targets["heatmap_marginals"].numpy()
    assert marginals.shape == (3, 12 + 16 + 1) == codec.target_shapes(METHOD_FOR_KIND[kind], marginals=True)[
        "heatmap_marginals"]
    expected = _numpy_marginals(kind, xy_hm, visible, sigma=1.5, radius_px=9.0)
    np.testing.assert_allclose(marginals, expected, atol=1e-5)
    # The volumetric target of a 2D sample has weight 0, whatever its kind.
    np.testing.assert_array_equal(targets["heatmaps"].numpy()[..., 3 * DEPTH:], 0.0)


def test_only_joints_without_a_volumetric_target_get_marginal_weight():
    xy_hm = np.array([[3.0, 4.0], [6.0, 8.0], [9.0, 2.0]])
    z_mm = np.array([0.0, 500.0, -100.0])  # joint 1 lies outside +-400 mm
    targets = _codec().encode(_px(xy_hm), np.array([1.0, 1.0, 0.0]), z_mm, 1.0, method="I1", marginals=True)
    np.testing.assert_array_equal(targets["heatmap_marginals"].numpy()[:, -1], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(targets["heatmaps"].numpy()[0, 0, 3 * DEPTH:], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(targets["joints"].numpy()[:, 3:], [[1, 1, 1], [1, 1, 0], [0, 0, 0]])


def test_marginal_targets_of_a_2d_sample_do_not_depend_on_its_z_label():
    xy_px = _px([[3.3, 4.6], [7.5, 9.2], [10.9, 14.7]])
    codec = _codec()
    for method in ("H1", "I2", "I3"):
        first = codec.encode(xy_px, np.ones(3), np.array([0.0, 50.0, -300.0]), 0.0, method=method, marginals=True)
        second = codec.encode(xy_px, np.ones(3), np.array([999.0, -2.0, 7.0]), 0.0, method=method, marginals=True)
        for key in first:
            a, b = first[key].numpy(), second[key].numpy()
            if key == "joints":  # the z target is carried with weight 0: compare x, y and every weight
                np.testing.assert_array_equal(a[:, 5], 0.0)
                a, b = np.delete(a, 2, axis=-1), np.delete(b, 2, axis=-1)
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["gaussian", "one_hot"])
def test_marginal_targets_are_the_eq5_sums_of_the_3d_target(kind):
    """For a 3D joint well inside the volume, the (H, D) / (W, D) sums of its volumetric target are the marginal
    targets (one-hot: exactly; Gaussian: scaled by 2 pi sigma^2, with the depth sum of the grid ~ sigma sqrt(2 pi))."""
    codec = PoseCodec(1, input_size=64, heatmap_size=16, depth=32, depth_range_mm=RANGE_MM)
    xy_px, z_mm = _px([[7.3, 8.6]]), np.array([13.0])
    method = METHOD_FOR_KIND[kind]
    volume = codec.encode(xy_px, np.ones(1), z_mm, 1.0, method=method)["heatmaps"].numpy()[..., :32]
    as_2d = codec.encode(xy_px, np.ones(1), z_mm, 0.0, method=method, marginals=True)["heatmap_marginals"].numpy()
    scale = 2 * math.pi if kind == "gaussian" else 1.0
    np.testing.assert_allclose(volume.sum(axis=(0, 2)) / scale, as_2d[0, :16], atol=1e-5)
    np.testing.assert_allclose(volume.sum(axis=(1, 2)) / scale, as_2d[0, 16:32], atol=1e-5)


def test_marginals_only_on_request_and_only_for_3d_heatmap_methods():
    xy_px, z_mm = _px([[3.0, 4.0], [6.0, 8.0], [9.0, 2.0]]), np.zeros(3)
    codec = _codec()
    assert set(codec.encode(xy_px, np.ones(3), z_mm, 0.0, method="I1")) == {"heatmaps", "joints"}
    assert set(codec.encode(xy_px, np.ones(3), z_mm, 0.0, method="Istar", marginals=True)) == {"joints"}
    flat = PoseCodec(3, input_size=INPUT_HW, heatmap_size=HEATMAP_HW)
    assert set(flat.encode(xy_px, np.ones(3), method="H2", marginals=True)) == {"heatmaps"}
    assert "heatmap_marginals" not in flat.target_shapes("H2", marginals=True)


def test_batched_marginals_equal_per_instance_ones():
    rng = np.random.default_rng(4)
    xy_px = rng.uniform(0, 47, (5, 3, 2)).astype(np.float32)
    visible = rng.integers(0, 2, (5, 3)).astype(np.float32)
    has_3d = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    z_mm = rng.uniform(-500, 500, (5, 3)).astype(np.float32)
    codec = _codec()
    batched = codec.encode(xy_px, visible, z_mm, has_3d, method="I3", marginals=True)["heatmap_marginals"].numpy()
    for n in range(5):
        single = codec.encode(xy_px[n], visible[n], z_mm[n], has_3d[n], method="I3", marginals=True)
        np.testing.assert_array_equal(batched[n], single["heatmap_marginals"].numpy())


def test_pack_and_unpack_marginal_target():
    rng = np.random.default_rng(0)
    tx, ty, weights = rng.random((2, 3, 5)), rng.random((2, 3, 4)), rng.random((2, 3))
    packed = pack_marginal_target(tx, ty, weights).numpy()
    assert packed.shape == (2, 3, 10)
    for got, want in zip(unpack_marginal_target(packed, width=5, height=4), (tx, ty, weights)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match="W \\+ H \\+ 1 = 9"):
        unpack_marginal_target(packed, width=4, height=4)
