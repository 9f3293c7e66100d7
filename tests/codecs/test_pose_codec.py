"""PoseCodec: coordinate transforms, target encoding and decoding against numpy references."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.codecs import METHODS
from integral_keras.codecs import PoseCodec

# (input_size, heatmap_size) pairs, sizes as (height, width) when tuples.
SIZES = [
    (256, 64),
    (128, 32),
    ((256, 192), (64, 48)),
    ((100, 60), (25, 20)),  # strides 4 (y) and 3 (x)
]


def _stride_xy(input_size, heatmap_size):
    in_hw = np.broadcast_to(input_size, 2)
    hm_hw = np.broadcast_to(heatmap_size, 2)
    return np.array([in_hw[1] / hm_hw[1], in_hw[0] / hm_hw[0]])


def _hw(size):
    return tuple(np.broadcast_to(size, 2))


def _random_inside_px(rng, num, input_size):
    """Sub-pixel keypoints well inside a crop of `input_size`, shape (num, 2)."""
    height, width = _hw(input_size)
    return np.stack(
        [rng.uniform(0, width - 1, num), rng.uniform(0, height - 1, num)], axis=-1
    ).astype(np.float32)


def _numpy_heatmap_coords(xy_px, stride_xy):
    return (xy_px + 0.5) / stride_xy - 0.5


def _numpy_depth_bins(z_mm, depth, depth_range_mm=2000.0):
    return (z_mm / depth_range_mm + 0.5) * depth - 0.5


# ---------------------------------------------------------------- transforms


def test_transforms_match_hand_computed_values():
    codec = PoseCodec(1, input_size=256, heatmap_size=64, depth=64)
    # Cell 0 covers pixels 0..3, so its centre is pixel 1.5.
    np.testing.assert_allclose(codec.px_to_heatmap(np.array([1.5, 5.5])), [0.0, 1.0])
    np.testing.assert_allclose(codec.heatmap_to_px(np.array([-0.5, 63.5])), [-0.5, 255.5])
    # Bin 0 of 64 bins over [-1000, 1000) mm has its centre at -1000 + 2000 / 128.
    np.testing.assert_allclose(codec.depth_to_mm(np.array([0.0, 31.5])), [-984.375, 0.0])
    np.testing.assert_allclose(codec.mm_to_depth(np.array([-1000.0, 1000.0])), [-0.5, 63.5])
    assert codec.stride == (4.0, 4.0)
    non_square = PoseCodec(1, input_size=(100, 60), heatmap_size=(25, 20))
    assert non_square.stride == (4.0, 3.0)
    np.testing.assert_allclose(non_square.px_to_heatmap(np.array([1.0, 1.5])), [0.0, 0.0])


@pytest.mark.parametrize("input_size,heatmap_size", SIZES)
def test_transforms_round_trip(input_size, heatmap_size):
    codec = PoseCodec(5, input_size=input_size, heatmap_size=heatmap_size, depth=16)
    rng = np.random.default_rng(1)
    xy_px = _random_inside_px(rng, 50, input_size).astype(np.float64)
    xy_hm = codec.px_to_heatmap(xy_px)
    np.testing.assert_allclose(
        xy_hm, _numpy_heatmap_coords(xy_px, _stride_xy(input_size, heatmap_size)), atol=1e-6
    )
    np.testing.assert_allclose(codec.heatmap_to_px(xy_hm), xy_px, atol=1e-6)
    z_mm = rng.uniform(-1000, 1000, 50)
    np.testing.assert_allclose(codec.depth_to_mm(codec.mm_to_depth(z_mm)), z_mm, atol=1e-6)


def test_transforms_work_on_tf_keras_and_jax_arrays():
    codec = PoseCodec(3, input_size=(256, 192), heatmap_size=(64, 48))
    xy_px = np.array([[10.25, 20.5], [100.0, 7.75], [0.0, 255.0]], np.float32)
    expected = _numpy_heatmap_coords(xy_px, np.array([4.0, 4.0]))

    graph_fn = tf.function(codec.px_to_heatmap)
    np.testing.assert_allclose(graph_fn(tf.constant(xy_px)).numpy(), expected, atol=1e-5)

    inputs = keras.Input((3, 2))
    symbolic = codec.heatmap_to_px(codec.px_to_heatmap(inputs))
    assert tuple(symbolic.shape) == (None, 3, 2)

    jnp = pytest.importorskip("jax.numpy")
    np.testing.assert_allclose(np.asarray(codec.px_to_heatmap(jnp.asarray(xy_px))), expected, atol=1e-5)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("input_size,heatmap_size", SIZES)
def test_encode_decode_round_trip_2d(input_size, heatmap_size):
    num_joints = 7
    codec = PoseCodec(num_joints, input_size=input_size, heatmap_size=heatmap_size)
    rng = np.random.default_rng(2)
    xy_px = _random_inside_px(rng, num_joints, input_size)
    joints = codec.encode(xy_px, np.ones(num_joints), method="Istar")["joints"].numpy()
    assert joints.shape == (num_joints, 4)
    np.testing.assert_array_equal(joints[:, 2:], 1.0)
    np.testing.assert_allclose(
        joints[:, :2], _numpy_heatmap_coords(xy_px, _stride_xy(input_size, heatmap_size)), atol=1e-5
    )
    decoded = codec.decode(joints[None, :, :2])
    assert set(decoded) == {"joints_px"}
    np.testing.assert_allclose(decoded["joints_px"][0], xy_px, atol=1e-4)


@pytest.mark.parametrize("input_size,heatmap_size", SIZES[:3])
@pytest.mark.parametrize("depth", [8, 64])
def test_encode_decode_round_trip_3d(input_size, heatmap_size, depth):
    num_joints = 6
    codec = PoseCodec(num_joints, input_size=input_size, heatmap_size=heatmap_size, depth=depth)
    rng = np.random.default_rng(3)
    xy_px = _random_inside_px(rng, num_joints, input_size)
    z_mm = rng.uniform(-990.0, 990.0, num_joints).astype(np.float32)
    joints = codec.encode(xy_px, np.ones(num_joints), z_mm, 1.0, method="I1")["joints"].numpy()
    assert joints.shape == (num_joints, 6)
    np.testing.assert_array_equal(joints[:, 3:], 1.0)
    np.testing.assert_allclose(joints[:, 2], _numpy_depth_bins(z_mm, depth), atol=1e-4)
    decoded = codec.decode(tf.constant(joints[None, :, :3]))
    np.testing.assert_allclose(decoded["joints_px"].numpy()[0], xy_px, atol=1e-4)
    # 1e-4 of the 2000 mm range, the float32 resolution of the bin arithmetic.
    np.testing.assert_allclose(decoded["z_mm"].numpy()[0], z_mm, atol=1e-3)


# ---------------------------------------------------------------- heat-map targets


def _numpy_grids(heatmap_size, depth):
    """Cell-centre coordinates broadcastable to (H, W, D)."""
    height, width = _hw(heatmap_size)
    ys, xs, zs = np.meshgrid(np.arange(height), np.arange(width), np.arange(depth), indexing="ij")
    return xs, ys, zs


def _numpy_target(kind, xyz_hm, weights, heatmap_size, depth, stride_xy, sigma=1.0, radius_px=15.0):
    """Reference target maps (H, W, K*D) written cell by cell from the definitions."""
    xs, ys, zs = _numpy_grids(heatmap_size, depth)
    maps = []
    for (x, y, z), weight in zip(xyz_hm, weights):
        if kind == "gaussian":
            squared = (xs - x) ** 2 + (ys - y) ** 2 + (zs - z) ** 2
            joint_map = np.exp(-squared / (2 * sigma**2))
        elif kind == "one_hot":
            joint_map = (
                (xs == np.floor(x + 0.5)) & (ys == np.floor(y + 0.5)) & (zs == np.floor(z + 0.5))
            ).astype(float)
        else:
            squared_px = (
                ((xs - x) * stride_xy[0]) ** 2
                + ((ys - y) * stride_xy[1]) ** 2
                + ((zs - z) * stride_xy[0]) ** 2
            )
            joint_map = (squared_px <= radius_px**2).astype(float)
        maps.append(joint_map * (weight > 0))
    return np.concatenate(maps, axis=-1)  # (H, W, D) per joint -> channel k*D + d


def _method_for(kind):
    return {"gaussian": "H1", "one_hot": "H2", "disc": "H3"}[kind]


@pytest.mark.parametrize("kind", ["gaussian", "one_hot", "disc"])
@pytest.mark.parametrize("input_size,heatmap_size", [(64, 16), ((100, 60), (25, 20))])
def test_2d_targets_match_numpy(kind, input_size, heatmap_size):
    num_joints = 4
    codec = PoseCodec(num_joints, input_size=input_size, heatmap_size=heatmap_size, disc_radius_px=9.0)
    stride_xy = _stride_xy(input_size, heatmap_size)
    height, width = _hw(heatmap_size)
    # Sub-pixel joints, one exactly on a cell boundary (x_hm = 2.5 rounds up to 3),
    # one invisible.
    xy_hm = np.array([[3.3, 4.6], [2.5, 1.0], [width - 1.2, height - 2.7], [5.0, 5.0]])
    visible = np.array([1.0, 1.0, 1.0, 0.0])
    xy_px = (xy_hm + 0.5) * stride_xy - 0.5
    heatmaps = codec.encode(xy_px, visible, method=_method_for(kind))["heatmaps"].numpy()
    assert heatmaps.shape == (height, width, 2 * num_joints)
    xyz_hm = np.concatenate([xy_hm, np.zeros((num_joints, 1))], axis=-1)
    expected = _numpy_target(kind, xyz_hm, visible, heatmap_size, 1, stride_xy, radius_px=9.0)
    np.testing.assert_allclose(heatmaps[..., :num_joints], expected, atol=1e-5)
    np.testing.assert_array_equal(heatmaps[..., num_joints:], np.broadcast_to(visible, (height, width, 4)))


@pytest.mark.parametrize("kind", ["gaussian", "one_hot", "disc"])
def test_3d_targets_match_numpy(kind):
    num_joints, depth = 3, 8
    codec = PoseCodec(num_joints, input_size=64, heatmap_size=16, depth=depth, sigma=1.5, depth_range_mm=800.0)
    xyz_hm = np.array([[3.3, 4.6, 2.2], [12.5, 8.0, 5.5], [7.0, 1.25, 6.9]])
    xy_px = (xyz_hm[:, :2] + 0.5) * 4.0 - 0.5
    z_mm = ((xyz_hm[:, 2] + 0.5) / depth - 0.5) * 800.0
    heatmaps = codec.encode(xy_px, np.ones(3), z_mm, 1.0, method=_method_for(kind))["heatmaps"].numpy()
    assert heatmaps.shape == (16, 16, num_joints * depth + num_joints)
    expected = _numpy_target(kind, xyz_hm, np.ones(3), 16, depth, np.array([4.0, 4.0]), sigma=1.5)
    np.testing.assert_allclose(heatmaps[..., : num_joints * depth], expected, atol=1e-5)
    np.testing.assert_array_equal(heatmaps[..., num_joints * depth :], 1.0)
    if kind == "one_hot":
        np.testing.assert_array_equal(expected.reshape(16, 16, 3, 8).sum(axis=(0, 1, 3)), 1.0)


def test_gaussian_peak_is_one_at_cell_centred_joint():
    codec = PoseCodec(1, input_size=64, heatmap_size=16)
    heatmaps = codec.encode(codec.heatmap_to_px(np.array([[5.0, 9.0]])), [1.0], method="H1")["heatmaps"].numpy()
    assert heatmaps[9, 5, 0] == pytest.approx(1.0)
    assert heatmaps[9, 6, 0] == pytest.approx(np.exp(-0.5))


# ---------------------------------------------------------------- weights


def test_weights_zero_outside_crop_and_for_invisible_joints():
    codec = PoseCodec(6, input_size=64, heatmap_size=16)
    # In heat-map units: inside, inside on the lower edge (-0.5), on the upper edge
    # (15.5, outside), far left, below, and a visible-but-NaN joint.
    xy_hm = np.array([[3.0, 3.0], [-0.5, 4.0], [15.5, 2.0], [-4.0, 3.0], [3.0, 30.0], [np.nan, 1.0]])
    xy_px = (xy_hm + 0.5) * 4.0 - 0.5
    targets = codec.encode(xy_px, np.ones(6), method="I1")
    joints = targets["joints"].numpy()
    np.testing.assert_array_equal(joints[:, 2], [1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(joints[:, 3], [1, 1, 0, 0, 0, 0])
    assert np.isfinite(joints).all()
    heatmaps = targets["heatmaps"].numpy()
    np.testing.assert_array_equal(heatmaps[0, 0, 6:], [1, 1, 0, 0, 0, 0])
    # Maps of zero-weight joints are empty.
    np.testing.assert_array_equal(heatmaps[..., 2:6], 0.0)
    assert heatmaps[..., 1].max() > 0.5


def test_invisible_joint_gets_zero_weight_and_empty_map():
    codec = PoseCodec(2, input_size=64, heatmap_size=16)
    targets = codec.encode(np.array([[20.0, 20.0], [30.0, 30.0]]), np.array([True, False]), method="I2")
    np.testing.assert_array_equal(targets["joints"].numpy()[:, 2:], [[1, 1], [0, 0]])
    heatmaps = targets["heatmaps"].numpy()
    assert heatmaps[..., 0].sum() == 1.0
    assert heatmaps[..., 1].sum() == 0.0
    np.testing.assert_array_equal(heatmaps[3, 4, 2:], [1.0, 0.0])


def test_depth_weights():
    codec = PoseCodec(4, input_size=64, heatmap_size=16, depth=8, depth_range_mm=2000.0)
    xy_px = np.full((4, 2), 30.0)
    # In range, just below the range (zeroed, not clipped), at the upper bound, in range.
    z_mm = np.array([100.0, -1000.5, 1000.0, -999.0])
    visible = np.array([1.0, 1.0, 1.0, 0.0])
    targets = codec.encode(xy_px, visible, z_mm, 1.0, method="I1")
    joints = targets["joints"].numpy()
    np.testing.assert_array_equal(joints[:, 3:5], np.stack([visible, visible], -1))
    np.testing.assert_array_equal(joints[:, 5], [1, 0, 0, 0])
    # 3D heat maps use the z weight per joint.
    np.testing.assert_array_equal(targets["heatmaps"].numpy()[0, 0, 32:], [1, 0, 0, 0])

    no_3d = codec.encode(xy_px, visible, z_mm, 0.0, method="I1")
    np.testing.assert_array_equal(no_3d["joints"].numpy()[:, 5], 0.0)
    np.testing.assert_array_equal(no_3d["joints"].numpy()[:, 3], visible)
    np.testing.assert_array_equal(no_3d["heatmaps"].numpy()[..., :32], 0.0)

    without_z = codec.encode(xy_px, visible, method="Istar")["joints"].numpy()
    np.testing.assert_array_equal(without_z[:, 5], 0.0)
    np.testing.assert_allclose(without_z[:, 2], 3.5)


def test_depth_ignored_for_2d_codec():
    codec = PoseCodec(2, input_size=64, heatmap_size=16)
    with_z = codec.encode(np.full((2, 2), 9.0), np.ones(2), np.array([5.0, 7.0]), 1.0, method="I1")
    without_z = codec.encode(np.full((2, 2), 9.0), np.ones(2), method="I1")
    for key in ("heatmaps", "joints"):
        np.testing.assert_array_equal(with_z[key].numpy(), without_z[key].numpy())


# ---------------------------------------------------------------- methods, batching, tf.data


@pytest.mark.parametrize("method", METHODS)
def test_method_selects_targets(method):
    codec = PoseCodec(3, input_size=32, heatmap_size=8, depth=4)
    targets = codec.encode(np.full((3, 2), 10.0), np.ones(3), np.zeros(3), 1.0, method=method)
    expected_keys = {
        "R1": {"joints"},
        "Istar": {"joints"},
        "H1": {"heatmaps"},
        "H2": {"heatmaps"},
        "H3": {"heatmaps"},
        "I1": {"heatmaps", "joints"},
        "I2": {"heatmaps", "joints"},
        "I3": {"heatmaps", "joints"},
    }[method]
    assert set(targets) == expected_keys
    assert {key: tuple(value.shape) for key, value in targets.items()} == codec.target_shapes(method)
    if "heatmaps" in targets:
        assert targets["heatmaps"].shape == (8, 8, 3 * 4 + 3)
    if "joints" in targets:
        assert targets["joints"].shape == (3, 6)


def test_unknown_method_is_rejected():
    codec = PoseCodec(2)
    with pytest.raises(ValueError, match="Unknown method 'I4'.*Istar"):
        codec.encode(np.zeros((2, 2)), np.ones(2), method="I4")


@pytest.mark.parametrize("method", ["I1", "I2", "I3"])
def test_batched_encode_matches_per_instance(method):
    codec = PoseCodec(3, input_size=32, heatmap_size=8, depth=4)
    rng = np.random.default_rng(4)
    xy_px = rng.uniform(-4, 36, (5, 3, 2))
    visible = rng.integers(0, 2, (5, 3))
    z_mm = rng.uniform(-1100, 1100, (5, 3))
    has_3d = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    batched = codec.encode(xy_px, visible, z_mm, has_3d, method=method)
    for i in range(5):
        single = codec.encode(xy_px[i], visible[i], z_mm[i], has_3d[i], method=method)
        for key in single:
            np.testing.assert_allclose(batched[key].numpy()[i], single[key].numpy(), atol=1e-6)


def test_encode_inside_tf_data_map():
    codec = PoseCodec(3, input_size=(64, 48), heatmap_size=(16, 12), depth=4)
    rng = np.random.default_rng(5)
    xy_px = rng.uniform(0, 47, (4, 3, 2)).astype(np.float32)
    z_mm = rng.uniform(-500, 500, (4, 3))  # float64 on purpose
    visible = np.ones((4, 3), np.int64)
    has_3d = np.ones(4, np.int64)

    def encode(keypoints, vis, z, flag):
        return codec.encode(keypoints, vis, z, flag, method="I3")

    dataset = tf.data.Dataset.from_tensor_slices((xy_px, visible, z_mm, has_3d)).map(encode).batch(2)
    assert dataset.element_spec["heatmaps"].shape.as_list() == [None, 16, 12, 15]
    assert dataset.element_spec["joints"].shape.as_list() == [None, 3, 6]
    eager = codec.encode(xy_px, visible, z_mm, has_3d, method="I3")
    batches = list(dataset)
    for key in ("heatmaps", "joints"):
        np.testing.assert_allclose(
            np.concatenate([batch[key].numpy() for batch in batches]), eager[key].numpy(), atol=1e-6
        )


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_joints": 0}, "num_joints"),
        ({"num_joints": 2.5}, "num_joints"),
        ({"num_joints": 2, "input_size": (256,)}, "input_size"),
        ({"num_joints": 2, "input_size": -8}, "input_size"),
        ({"num_joints": 2, "heatmap_size": (64, 0)}, "heatmap_size"),
        ({"num_joints": 2, "depth": 0}, "depth"),
        ({"num_joints": 2, "depth_range_mm": 0.0}, "depth_range_mm"),
        ({"num_joints": 2, "sigma": -1.0}, "sigma"),
        ({"num_joints": 2, "disc_radius_px": "15"}, "disc_radius_px"),
    ],
)
def test_constructor_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PoseCodec(**kwargs)


def test_shape_errors():
    codec = PoseCodec(3, depth=4)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, 2\)"):
        codec.encode(np.zeros((4, 2)), np.ones(4), method="I1")
    with pytest.raises(ValueError, match=r"visible must have shape \(3,\)"):
        codec.encode(np.zeros((3, 2)), np.ones(4), method="I1")
    with pytest.raises(ValueError, match="3 coordinates"):
        codec.decode(np.zeros((1, 3, 2)))
