"""Tests for integral_keras.ops.affine against cv2 and hand-computed references."""
import cv2
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.ops import affine


def _reference_matrix(center, box_w, out_w, out_h, angle, flip):
    """Image->crop matrix built with cv2.getRotationMatrix2D (positive angle = counter-clockwise)."""
    scale = out_w / box_w
    m = np.vstack([cv2.getRotationMatrix2D(tuple(map(float, center)), angle, scale), [0, 0, 1]])
    m[0, 2] += (out_w - 1) / 2 - center[0]
    m[1, 2] += (out_h - 1) / 2 - center[1]
    if flip:
        m = np.array([[-1, 0, out_w - 1], [0, 1, 0], [0, 0, 1]]) @ m
    return m


def test_fit_box_to_aspect_pads_the_short_side():
    np.testing.assert_allclose(affine.fit_box_to_aspect([100.0, 100.0], (200, 100)).numpy(), [100, 200])
    np.testing.assert_allclose(affine.fit_box_to_aspect([60.0, 200.0], (64, 48)).numpy(), [150, 200])
    np.testing.assert_allclose(affine.fit_box_to_aspect([300.0, 100.0], 64).numpy(), [300, 300])


@pytest.mark.parametrize("angle,flip", [(0.0, False), (25.0, False), (-30.0, True), (90.0, True)])
def test_crop_transform_matches_cv2_reference(angle, flip):
    center, box = np.array([120.3, 80.7]), np.array([90.0, 60.0])
    got = affine.crop_transform(center, box, (48, 64), angle, flip).numpy()
    want = _reference_matrix(center, box_w=90.0, out_w=64, out_h=48, angle=angle, flip=flip)
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_box_edges_land_on_crop_edges():
    m = affine.crop_transform([50.0, 40.0], [20.0, 20.0], 10)
    pts = affine.transform_points(m, [[40.0, 30.0], [60.0, 50.0], [50.0, 40.0]]).numpy()
    np.testing.assert_allclose(pts, [[-0.5, -0.5], [9.5, 9.5], [4.5, 4.5]], atol=1e-5)


def test_flip_mirrors_x_as_width_minus_one_minus_x():
    args = ([50.0, 40.0], [32.0, 32.0], 16, 12.0)
    plain = affine.transform_points(affine.crop_transform(*args, flip=False), [[47.0, 33.0]]).numpy()
    flipped = affine.transform_points(affine.crop_transform(*args, flip=True), [[47.0, 33.0]]).numpy()
    np.testing.assert_allclose(flipped, [[16 - 1 - plain[0, 0], plain[0, 1]]], atol=1e-5)


def test_invert_affine_matches_numpy():
    m = affine.crop_transform([10.0, 20.0], [30.0, 40.0], (64, 48), 17.0, True)
    np.testing.assert_allclose(affine.invert_affine(m).numpy(), np.linalg.inv(m.numpy()), atol=1e-5)


def test_warp_matches_cv2_warp_affine():
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.uniform(0, 255, (90, 120, 3)).astype(np.float32), (0, 0), 2.0)
    m = affine.crop_transform([60.0, 45.0], [50.0, 70.0], (40, 32), 20.0, True).numpy()
    got = affine.warp_image(image, m, (40, 32)).numpy()
    want = cv2.warpAffine(image, m[:2], (32, 40), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    # Interior only: the two libraries blend the border with the fill value differently.
    np.testing.assert_allclose(got[2:-2, 2:-2], want[2:-2, 2:-2], atol=0.5)


@pytest.mark.parametrize("backend", affine.WARP_BACKENDS)
def test_warp_puts_a_mark_on_its_transformed_point(backend):
    image = np.zeros((100, 140, 1), np.float32)
    mark = np.array([81.0, 37.0])
    image[36:39, 80:83] = 255.0
    m = affine.crop_transform([70.0, 50.0], [60.0, 60.0], 64, -30.0, True)
    crop = affine.warp_image(image, m, 64, backend=backend).numpy()[..., 0]
    ys, xs = np.mgrid[:64, :64]
    centroid = np.array([(crop * xs).sum(), (crop * ys).sum()]) / crop.sum()
    expected = affine.transform_points(m, mark[None]).numpy()[0]
    np.testing.assert_allclose(centroid, expected, atol=0.25)


@pytest.mark.parametrize("backend", affine.WARP_BACKENDS)
def test_warp_returns_float32_and_fills_outside(backend):
    image = tf.fill([10, 10, 3], tf.constant(200, tf.uint8))
    m = affine.crop_transform([5.0, 5.0], [40.0, 40.0], 20)  # box far larger than the image
    crop = tf.function(affine.warp_image, autograph=False)(image, m, 20, backend=backend).numpy()
    assert crop.dtype == np.float32 and crop.shape == (20, 20, 3)
    assert crop[0, 0, 0] == 0.0 and crop[10, 10, 0] == pytest.approx(200.0)


def test_opencv_backend_matches_tensorflow_backend_on_uint8():
    rng = np.random.default_rng(1)
    image = cv2.GaussianBlur(rng.integers(0, 255, (70, 90, 3)).astype(np.uint8), (0, 0), 2.0)
    m = affine.crop_transform([45.0, 35.0], [40.0, 50.0], (48, 40), -12.0, False)
    tf_crop = affine.warp_image(image, m, (48, 40)).numpy()
    cv_crop = affine.warp_image(image, m, (48, 40), backend="opencv").numpy()
    assert cv_crop.shape == (48, 40, 3)
    np.testing.assert_allclose(cv_crop[2:-2, 2:-2], tf_crop[2:-2, 2:-2], atol=1.0)  # uint8 rounding


@pytest.mark.parametrize("backend", affine.WARP_BACKENDS)
@pytest.mark.parametrize("scale", [(0.8, 1.0, 1.25), (1.5, -0.5, 2.0)])
def test_warp_channel_scale_is_clipped_colour_scaling(backend, scale):
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    m = affine.crop_transform([20.0, 15.0], [24.0, 24.0], 16, 20.0, True)
    warp = tf.function(affine.warp_image, autograph=False)
    plain = warp(image, m, 16, backend=backend).numpy()
    scaled = warp(image, m, 16, backend=backend, channel_scale=tf.constant(scale)).numpy()
    expected = np.clip(plain.astype(np.float64) * np.array(scale), 0.0, 255.0)
    assert scaled.dtype == np.float32 and (expected == 255.0).any()  # the clip is exercised
    np.testing.assert_allclose(scaled, expected, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("backend", affine.WARP_BACKENDS)
@pytest.mark.parametrize("scale", [None, (0.8, 1.0, 1.25), (1.5, -0.5, 2.0)])
def test_uint8_warp_is_the_float_warp_rounded_and_saturated(backend, scale):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    m = affine.crop_transform([20.0, 15.0], [24.0, 24.0], 16, -15.0, False)
    warp = tf.function(affine.warp_image, autograph=False)
    channel_scale = None if scale is None else tf.constant(scale)
    as_float = warp(image, m, 16, backend=backend, channel_scale=channel_scale).numpy()
    as_uint8 = warp(image, m, 16, backend=backend, channel_scale=channel_scale, dtype="uint8").numpy()
    assert as_uint8.dtype == np.uint8 and as_uint8.shape == (16, 16, 3)
    assert np.abs(as_uint8 - as_float.astype(np.float64)).max() <= 0.5 + 1e-3


@pytest.mark.parametrize("backend", affine.WARP_BACKENDS)
def test_uint8_warp_of_a_float_image_clips_to_the_uint8_range(backend):
    image = np.full((12, 12, 3), 300.0, np.float32)
    image[:, :6] = -40.0
    image[:, :, 1] = 99.6
    m = affine.crop_transform([5.5, 5.5], [12.0, 12.0], 12)  # identity
    crop = affine.warp_image(image, m, 12, backend=backend, dtype="uint8").numpy()
    assert crop.dtype == np.uint8
    np.testing.assert_array_equal(crop[:, 8:, 0], 255)
    np.testing.assert_array_equal(crop[:, :4, 0], 0)
    np.testing.assert_array_equal(crop[:, :, 1], 100)


@pytest.mark.parametrize("dtype", affine.WARP_DTYPES)
def test_opencv_rgba_fast_path_gives_the_three_channel_warp(monkeypatch, dtype):
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    m = affine.crop_transform([25.0, 20.0], [80.0, 96.0], (24, 20), 25.0, True)  # corners outside
    scale = tf.constant([0.7, 1.0, 1.3])

    def warp():
        return affine.warp_image(image, m, (24, 20), fill_value=17.0, backend="opencv", channel_scale=scale,
                                 dtype=dtype).numpy()

    monkeypatch.setattr(affine, "_RGBA_WARP_MAX_SOURCE_RATIO", 100)
    via_rgba = warp()
    monkeypatch.setattr(affine, "_RGBA_WARP_MAX_SOURCE_RATIO", 0)
    three_channel = warp()
    np.testing.assert_array_equal(via_rgba, three_channel)
    assert via_rgba[0, 0, 1] == 17  # the fill value, outside the image


def test_unknown_warp_dtype_is_named():
    with pytest.raises(ValueError, match="int16"):
        affine.warp_image(np.zeros((4, 4, 3), np.uint8), np.eye(3, dtype=np.float32), 4, dtype="int16")


def test_unknown_warp_backend_is_named():
    with pytest.raises(ValueError, match="pillow"):
        affine.warp_image(np.zeros((4, 4, 3), np.uint8), np.eye(3, dtype=np.float32), 4, backend="pillow")


def test_batched_crop_transforms_and_points_equal_one_at_a_time():
    centers = np.array([[120.3, 80.7], [40.0, 30.0], [64.0, 64.0]])
    boxes = np.array([[90.0, 60.0], [30.0, 50.0], [100.0, 100.0]])
    angles, flips = np.array([25.0, -30.0, 0.0]), np.array([False, True, True])
    points = np.random.default_rng(2).uniform(0, 128, (3, 5, 2))
    matrices = affine.crop_transform(centers, boxes, (48, 64), angles, flips)
    moved = affine.transform_points(matrices, points).numpy()
    assert matrices.shape == (3, 3, 3) and moved.shape == (3, 5, 2)
    inverse = affine.invert_affine(matrices).numpy()
    for i in range(3):
        one = affine.crop_transform(centers[i], boxes[i], (48, 64), angles[i], flips[i]).numpy()
        np.testing.assert_allclose(matrices[i].numpy(), one, atol=1e-5)
        np.testing.assert_allclose(moved[i], (points[i] @ one[:2, :2].T) + one[:2, 2], atol=1e-3)
        np.testing.assert_allclose(inverse[i], np.linalg.inv(one), atol=1e-5)


@pytest.mark.parametrize("backend", ["opencv", "tensorflow"])
def test_warp_images_reads_only_each_images_own_size(backend):
    rng = np.random.default_rng(4)
    small = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    large = rng.integers(0, 256, (50, 60, 3)).astype(np.uint8)
    slots = np.full((2, 50, 60, 3), 99, np.uint8)  # padding that must never show
    slots[0, :30, :40], slots[1] = small, large
    matrices = np.stack([affine.crop_transform([20.0, 15.0], [50.0, 50.0], 24, 20.0, True).numpy(),
                         affine.crop_transform([30.0, 25.0], [40.0, 40.0], 24, -10.0, False).numpy()])
    scale = np.array([[1.1, 0.9, 1.0], [1.0, 1.2, 0.8]], np.float32)
    crops = affine.warp_images(slots, matrices, 24, image_sizes=[[30, 40], [50, 60]], fill_value=5.0,
                               backend=backend, channel_scale=scale, dtype="uint8").numpy()
    assert crops.shape == (2, 24, 24, 3) and crops.dtype == np.uint8
    for i, image in enumerate((small, large)):
        alone = affine.warp_image(image, matrices[i], 24, fill_value=5.0, backend=backend, channel_scale=scale[i],
                                  dtype="uint8").numpy()
        np.testing.assert_array_equal(crops[i], alone)
