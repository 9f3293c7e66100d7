"""Tests for integral_keras.data.parser: warped marks land on their labels, flips, weights, eval path."""
import math

import numpy as np
import pytest
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.data import skeletons
from integral_keras.configs import DataConfig, ModelConfig, data_config
from integral_keras.data.parser import EVAL_META_KEYS, Parser, build_parser
from integral_keras.ops import affine

INPUT, HEATMAP = 64, 16
STRIDE = INPUT / HEATMAP
NO_AUGMENTATION = dict(scale_factor=0.0, rotation_factor=0.0, rotation_prob=0.0, translation_factor=0.0,
                       flip_prob=0.0, color_factor=0.0)


def _decoded(image, keypoints, visible=None, keypoints_3d=None, has_3d=0.0, center=(80.0, 60.0),
             scale=(64.0, 64.0)):
    """A decode_example-style dict for one instance."""
    num_joints = len(keypoints)
    values = {
        "image": tf.constant(image, tf.uint8), "image_id": tf.constant(7, tf.int64),
        "filename": tf.constant("a.jpg"), "dataset": tf.constant("synthetic"),
        "bbox": tf.constant([48.0, 28.0, 64.0, 64.0]), "center": tf.constant(center, tf.float32),
        "scale": tf.constant(scale, tf.float32), "score": tf.constant(0.9),
        "keypoints_2d": tf.constant(keypoints, tf.float32),
        "visible": tf.constant(np.ones(num_joints) if visible is None else visible, tf.float32),
        "has_3d": tf.constant(has_3d, tf.float32),
        "keypoints_3d": tf.constant(np.zeros((num_joints, 3)) if keypoints_3d is None else keypoints_3d,
                                    tf.float32),
        "focal": tf.constant([1000.0, 1000.0]), "principal_point": tf.constant([80.0, 60.0]),
        "root_depth": tf.constant(5000.0), "headbox": tf.constant([70.0, 30.0, 90.0, 45.0]),
        "valid": tf.constant(True),
    }
    for key in ("subject", "action", "subaction", "camera", "frame"):
        values[key] = tf.constant(1, tf.int64)
    return values


def _joints_px(labels):
    """Crop-pixel x, y of the packed joint target (independent of the codec: x_px = (x_hm + 0.5) * s - 0.5)."""
    return (labels["joints"].numpy()[:, :2] + 0.5) * STRIDE - 0.5


def _reference_crop_matrix(center, box, out, angle_deg, flip):
    """Image->crop matrix composed step by step: centre, rotate (counter-clockwise on screen), scale, flip."""
    s = out / box
    t = math.radians(angle_deg)
    to_origin = np.array([[1, 0, -center[0]], [0, 1, -center[1]], [0, 0, 1.0]])
    rotate = np.array([[math.cos(t), math.sin(t), 0], [-math.sin(t), math.cos(t), 0], [0, 0, 1.0]])
    zoom = np.diag([s, s, 1.0])
    to_crop = np.array([[1, 0, (out - 1) / 2], [0, 1, (out - 1) / 2], [0, 0, 1.0]])
    mirror = np.array([[-1, 0, out - 1], [0, 1, 0], [0, 0, 1.0]]) if flip else np.eye(3)
    return mirror @ to_crop @ zoom @ rotate @ to_origin


def _parser(skeleton="mpii", method="Istar", depth=1, **kwargs):
    codec = PoseCodec(skeletons.get_skeleton(skeleton).num_joints, INPUT, HEATMAP, depth=depth)
    return Parser(codec, method, skeleton, **kwargs)


@pytest.mark.parametrize("seed,warp_backend", [((1, 2), "opencv"), ((3, 4), "tensorflow"), ((5, 6), "opencv")])
def test_training_warp_puts_the_mark_on_its_flipped_joint(seed, warp_backend):
    rng = np.random.default_rng(seed[0])
    keypoints = rng.uniform([60, 45], [100, 75], size=(16, 2)).round()
    image = np.zeros((120, 160, 3), np.uint8)
    x, y = keypoints[0].astype(int)  # joint 0 = r_ankle, becomes l_ankle (5) after the flip
    image[y - 1:y + 2, x - 1:x + 2] = 255
    parser = _parser(rotation_prob=1.0, flip_prob=1.0, color_factor=0.0, warp_backend=warp_backend)
    decoded = _decoded(image, keypoints)

    crop, labels = parser.parse_train(decoded, seed=tf.constant(seed))

    params = {k: v.numpy() for k, v in parser.sample_augmentation(tf.constant(seed)).items()}
    assert params["flip"] and params["rotation"] != 0.0 and params["scale"] != 1.0
    box = 64.0 * params["scale"]
    center = np.array([80.0, 60.0]) + params["shift"] * box
    matrix = _reference_crop_matrix(center, box, INPUT, params["rotation"], flip=True)
    expected = (matrix @ [x, y, 1.0])[:2]

    mask = crop.numpy()[..., 0]
    ys, xs = np.nonzero(mask > 20)
    weights = mask[ys, xs]
    centroid = np.array([np.sum(xs * weights), np.sum(ys * weights)]) / weights.sum()
    np.testing.assert_allclose(centroid, expected, atol=1.0)
    np.testing.assert_allclose(_joints_px(labels)[5], expected, atol=1e-3)


def test_flip_mirrors_x_and_swaps_pairs():
    keypoints = np.stack([np.linspace(55, 105, 16), np.linspace(35, 85, 16)], axis=1)
    visible = np.ones(16)
    visible[3] = 0.0  # l_hip invisible -> after the flip r_hip (2) carries weight 0
    decoded = _decoded(np.zeros((120, 160, 3), np.uint8), keypoints, visible)
    plain = _parser(**NO_AUGMENTATION).parse_train(decoded)[1]
    flipped = _parser(**{**NO_AUGMENTATION, "flip_prob": 1.0}).parse_train(decoded)[1]

    perm = skeletons.MPII.flip_permutation()
    plain_px, flipped_px = _joints_px(plain), _joints_px(flipped)
    np.testing.assert_allclose(flipped_px[:, 0], INPUT - 1 - plain_px[perm, 0], atol=1e-3)
    np.testing.assert_allclose(flipped_px[:, 1], plain_px[perm, 1], atol=1e-3)
    weights = flipped["joints"].numpy()[:, 2:]
    np.testing.assert_array_equal(weights[:, 0], visible[perm])
    assert weights[2, 0] == 0.0 and weights[3, 0] == 1.0


def test_flip_swaps_depth_targets_with_their_pairs():
    keypoints = np.full((17, 2), 80.0) + np.arange(17)[:, None]
    keypoints_3d = np.zeros((17, 3))
    keypoints_3d[:, 2] = np.linspace(-500, 500, 17)
    decoded = _decoded(np.zeros((120, 160, 3), np.uint8), keypoints - [0, 20], keypoints_3d=keypoints_3d,
                       has_3d=1.0)
    parser = _parser("h36m", depth=8, **{**NO_AUGMENTATION, "flip_prob": 1.0})
    joints = parser.parse_train(decoded)[1]["joints"].numpy()
    z_mm = ((joints[:, 2] + 0.5) / 8 - 0.5) * 2000.0
    np.testing.assert_allclose(z_mm, keypoints_3d[skeletons.H36M.flip_permutation(), 2], atol=1e-2)


def test_joints_leaving_the_crop_or_invisible_get_weight_zero():
    keypoints = np.tile([[80.0, 60.0]], (16, 1))
    keypoints[4] = [150.0, 60.0]  # 70 px right of a 64 px box centre: outside the crop
    keypoints[7] = [80.0, 20.0]  # 40 px above: outside
    visible = np.ones(16)
    visible[9] = 0.0
    decoded = _decoded(np.zeros((120, 160, 3), np.uint8), keypoints, visible)
    labels = _parser("mpii", method="I1", **NO_AUGMENTATION).parse_train(decoded)[1]
    expected = np.ones(16)
    expected[[4, 7, 9]] = 0.0
    np.testing.assert_array_equal(labels["joints"].numpy()[:, 2], expected)
    np.testing.assert_array_equal(labels["heatmaps"].numpy()[0, 0, 16:], expected)
    assert labels["heatmaps"].numpy()[..., 4].max() == 0.0


def test_color_jitter_scales_each_channel_within_bounds():
    decoded = _decoded(np.full((120, 160, 3), 100, np.uint8), np.tile([[80.0, 60.0]], (16, 1)))
    parser = _parser(**{**NO_AUGMENTATION, "color_factor": 0.2})
    for seed in range(5):
        crop = parser.parse_train(decoded, seed=tf.constant([seed, 0]))[0].numpy()
        means = crop[20:40, 20:40].reshape(-1, 3).mean(axis=0)
        assert np.all((means >= 80.0 - 1e-3) & (means <= 120.0 + 1e-3))
        assert np.ptp(crop[20:40, 20:40].reshape(-1, 3), axis=0).max() < 1e-3  # one factor per channel
    assert crop.dtype == np.uint8 and crop.shape == (INPUT, INPUT, 3)  # training crops are uint8 by default


@pytest.mark.parametrize("warp_backend", ["opencv", "tensorflow"])
def test_uint8_training_crop_is_the_float32_crop_rounded(warp_backend):
    rng = np.random.default_rng(5)
    decoded = _decoded(rng.integers(0, 256, (120, 160, 3)).astype(np.uint8), rng.uniform(50, 110, (16, 2)))
    settings = dict(rotation_prob=1.0, color_factor=0.4, warp_backend=warp_backend)
    as_float = _parser(train_image_dtype="float32", **settings).parse_train(decoded, seed=tf.constant([6, 1]))
    as_uint8 = _parser(**settings).parse_train(decoded, seed=tf.constant([6, 1]))
    assert as_float[0].dtype == tf.float32 and as_uint8[0].dtype == tf.uint8
    assert (as_float[0].numpy() >= 254.5).any()  # the jitter saturates somewhere
    np.testing.assert_allclose(as_uint8[0].numpy(), as_float[0].numpy(), atol=0.5 + 1e-3)
    np.testing.assert_array_equal(as_uint8[1]["joints"].numpy(), as_float[1]["joints"].numpy())


def _prepared_batch(parser, examples):
    """`prepare_train_example` of each decoded example, zero-padded and stacked as `Dataset.padded_batch` does."""
    prepared = [parser.prepare_train_example(decoded) for decoded in examples]
    return next(iter(tf.data.Dataset.from_tensor_slices([0]).flat_map(
        lambda _: tf.data.Dataset.from_generator(lambda: iter(prepared), output_signature=tf.nest.map_structure(
            lambda v: tf.TensorSpec([None] * v.shape.rank, v.dtype), prepared[0]))).padded_batch(len(prepared))))


def test_model_gives_the_same_output_for_the_uint8_and_the_float32_batch():
    import keras  # pylint: disable=import-outside-toplevel

    from integral_keras.models import build_pose_model  # pylint: disable=import-outside-toplevel

    rng = np.random.default_rng(6)
    decoded = _decoded(rng.integers(0, 256, (120, 160, 3)).astype(np.uint8), rng.uniform(50, 110, (16, 2)))
    parser = _parser(method="I1")
    images, _ = parser.parse_train_batch(_prepared_batch(parser, [decoded, decoded]), tf.constant([1, 0]))
    assert images.dtype == tf.uint8 and images.shape == (2, INPUT, INPUT, 3)
    config = ModelConfig(backbone="resnet18", method="I1", num_joints=16, input_size=INPUT, heatmap_size=HEATMAP,
                         num_deconv=3, deconv_filters=8)
    keras.utils.set_random_seed(0)
    model = build_pose_model(config)
    from_uint8 = model(images, training=False)
    from_float = model(tf.cast(images, tf.float32), training=False)
    for key in ("joints", "heatmaps"):
        np.testing.assert_array_equal(from_uint8[key].numpy(), from_float[key].numpy())


def test_unknown_train_image_dtype_is_named():
    with pytest.raises(ValueError, match="float64"):
        _parser(train_image_dtype="float64")


def test_training_augmentation_is_reproducible_from_the_seed():
    rng = np.random.default_rng(0)
    decoded = _decoded(rng.integers(0, 255, (120, 160, 3)).astype(np.uint8), rng.uniform(50, 110, (16, 2)))
    parser = _parser()
    a = parser.parse_train(decoded, seed=tf.constant([4, 2]))
    b = parser.parse_train(decoded, seed=tf.constant([4, 2]))
    c = parser.parse_train(decoded, seed=tf.constant([4, 3]))
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert not np.allclose(a[1]["joints"].numpy(), c[1]["joints"].numpy())


@pytest.mark.parametrize("method,warp_backend", [("I1", "opencv"), ("Istar", "opencv"), ("I1", "tensorflow")])
def test_padded_batch_of_different_sizes_equals_each_example_alone(method, warp_backend):
    """The reader's path (prepare per example, padded batch, parse per batch) gives each example what its own
    parameters give it alone: the padding of the smaller image never reaches its crop."""
    rng = np.random.default_rng(3)
    small = _decoded(rng.integers(0, 255, (90, 100, 3)).astype(np.uint8), rng.uniform(30, 70, (16, 2)),
                     center=(50.0, 45.0), scale=(80.0, 80.0))  # the crop reaches past the image: fill, not padding
    large = _decoded(rng.integers(0, 255, (120, 160, 3)).astype(np.uint8), rng.uniform(50, 110, (16, 2)))
    parser = _parser(method=method, rotation_prob=1.0, flip_prob=0.5, color_factor=0.0, fill_value=7.0,
                     warp_backend=warp_backend)
    batch = _prepared_batch(parser, [small, large])
    sizes = batch["image_size"].numpy()
    assert (sizes[0] != sizes[1]).any() and tuple(batch["image"].shape[1:3]) == tuple(sizes.max(axis=0))
    params = parser.sample_augmentation(tf.constant([5, 1]), batch_size=2)
    images, joints = parser.augment_batch(batch, params)
    labels = parser._labels(joints)  # pylint: disable=protected-access
    for index, decoded in enumerate((small, large)):
        one = {key: value[None] for key, value in parser.prepare_train_example(decoded).items()}
        own = {key: value[index:index + 1] for key, value in params.items()}
        image, expected = parser.augment_batch(one, own)
        np.testing.assert_array_equal(images[index].numpy(), image[0].numpy())
        for key, value in parser._labels(expected).items():  # pylint: disable=protected-access
            np.testing.assert_allclose(labels[key][index].numpy(), value[0].numpy(), atol=1e-6)
    assert (images[0].numpy() == 7).all(axis=-1).any()  # fill value where the crop leaves the small image


def test_first_example_of_a_batch_gets_the_unbatched_parameters():
    parser = _parser(rotation_prob=1.0, flip_prob=0.5)
    single = parser.sample_augmentation(tf.constant([3, 9]))
    batched = parser.sample_augmentation(tf.constant([3, 9]), batch_size=4)
    for key, value in single.items():
        assert batched[key].shape[0] == 4
        np.testing.assert_array_equal(batched[key][0].numpy(), value.numpy())
    assert len(set(batched["rotation"].numpy().tolist())) == 4


def test_can_share_batches_only_with_parsers_that_augment_and_encode_alike():
    parser = _parser("h36m", method="I1")
    assert parser.can_share_batches_with(_parser("h36m", method="I1", source_skeleton="mpii"))
    assert not parser.can_share_batches_with(_parser("h36m", method="I1", source_skeleton="mpii", flip_prob=0.0))
    assert not parser.can_share_batches_with(_parser("h36m", method="I2"))
    assert not parser.can_share_batches_with(_parser("h36m", method="I1", warp_backend="tensorflow"))
    other_codec = PoseCodec(skeletons.get_skeleton("h36m").num_joints, INPUT, HEATMAP, sigma=2.0)
    assert not parser.can_share_batches_with(Parser(other_codec, "I1", "h36m"))


def test_multi_stage_labels_duplicate_every_target():
    decoded = _decoded(np.zeros((120, 160, 3), np.uint8), np.tile([[80.0, 60.0]], (16, 1)))
    parser = _parser(method="I2", num_stages=3)
    labels = parser.parse_train(decoded, seed=tf.constant([1, 1]))[1]
    assert set(labels) == set(parser.target_keys()) == {
        "heatmaps", "joints", "heatmaps_stage0", "joints_stage0", "heatmaps_stage1", "joints_stage1"}
    np.testing.assert_array_equal(labels["heatmaps_stage1"].numpy(), labels["heatmaps"].numpy())


def test_two_d_source_maps_to_a_three_d_skeleton_with_zero_depth_weight():
    keypoints = np.stack([np.linspace(60, 100, 16), np.full(16, 60.0)], axis=1)
    decoded = _decoded(np.zeros((120, 160, 3), np.uint8), keypoints)
    parser = _parser("h36m", depth=8, source_skeleton="mpii", **NO_AUGMENTATION)
    joints = parser.parse_train(decoded)[1]["joints"].numpy()
    assert joints.shape == (17, 6)
    np.testing.assert_array_equal(joints[:, 5], 0.0)  # z weight
    spine, l_wrist = skeletons.H36M.index("spine"), skeletons.H36M.index("l_wrist")
    assert joints[spine, 3] == 0.0 and joints[l_wrist, 3] == 1.0
    np.testing.assert_allclose(_joints_px({"joints": tf.constant(joints)})[l_wrist],
                               [keypoints[15, 0] - 48.5, 60.0 - 28.5], atol=1e-3)  # box corner at (48, 28)


def test_wrong_joint_count_names_the_key():
    decoded = _decoded(np.zeros((120, 160, 3), np.uint8), np.zeros((17, 2)))
    with pytest.raises(ValueError, match="keypoints_2d"):
        _parser("mpii").parse_train(decoded)
    # Inside tf.data the joint count is only known at run time.
    decoded = _decoded(np.zeros((120, 160, 3), np.uint8), np.zeros((16, 2)))
    dynamic = tf.function(lambda kp: _parser("mpii", **NO_AUGMENTATION).parse_val(dict(decoded, keypoints_2d=kp)),
                          input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="keypoints_2d.*16 joints"):
        dynamic(tf.zeros([17, 2]))


def test_eval_is_deterministic_and_maps_back_to_the_image():
    rng = np.random.default_rng(1)
    keypoints = rng.uniform(50, 110, (16, 2))
    decoded = _decoded(rng.integers(0, 255, (120, 160, 3)).astype(np.uint8), keypoints, center=(79.5, 59.5),
                       scale=(40.0, 64.0))
    parser = _parser()  # default augmentation must not reach the eval path
    image_a, meta_a = parser.parse_eval(decoded)
    image_b, _ = parser.parse_eval(decoded)
    np.testing.assert_array_equal(image_a.numpy(), image_b.numpy())
    assert set(EVAL_META_KEYS) <= set(meta_a)
    np.testing.assert_array_equal(meta_a["keypoints_2d"].numpy(), keypoints.astype(np.float32))
    # The 40x64 box pads to 64x64 around (79.5, 59.5) at scale 1: crop pixel 0 is image pixel (48, 28).
    crop_points = keypoints - [48.0, 28.0]
    back = affine.transform_points(meta_a["crop_to_image"], crop_points).numpy()
    np.testing.assert_allclose(back, keypoints, atol=1e-3)
    np.testing.assert_array_equal(image_a.numpy(), decoded["image"].numpy()[28:92, 48:112].astype(np.float32))
    _, labels = parser.parse_val(decoded)
    np.testing.assert_allclose(_joints_px(labels), crop_points, atol=1e-3)


def test_build_parser_reads_model_and_data_configs():
    model = ModelConfig(backbone="resnet18", method="I1", num_joints=17, input_size=64, heatmap_size=16, depth=4,
                        num_stages=1, num_deconv=3)
    data = DataConfig(skeleton="h36m").override(["augmentation.flip_prob=0.0", "augmentation.rotation_factor=10",
                                                 "warp_backend=tensorflow"])
    parser = build_parser(model, data, source_skeleton="mpii")
    assert parser.codec.input_size == (64, 64) and parser.codec.depth == 4
    assert parser.flip_prob == 0.0 and parser.rotation_factor == 10.0 and parser.scale_factor == 0.25
    assert parser.source_skeleton.name == "mpii"
    assert parser.target_keys() == ("heatmaps", "joints", "heatmap_marginals", "has_3d")  # 3D: Strategy 2 labels
    assert parser.warp_backend == "tensorflow" and data_config.WARP_BACKENDS == affine.WARP_BACKENDS


@pytest.mark.parametrize("center,scale", [((300.0, 200.0), (60.0, 90.0)), ((20.0, 380.0), (80.0, 50.0))])
def test_training_example_is_cut_to_its_augmentation_window_without_changing_the_crops(center, scale):
    rng = np.random.default_rng(8)
    image = cv2_blur(rng.integers(0, 256, (400, 640, 3)).astype(np.uint8))
    keypoints = np.asarray(center) + rng.uniform(-40, 40, (16, 2))
    decoded = _decoded(image, keypoints, center=center, scale=scale)
    parser = _parser(rotation_prob=1.0, flip_prob=0.5, scale_factor=0.25, translation_factor=0.05, color_factor=0.0)
    prepared = parser.prepare_train_example(decoded)
    height, width = prepared["image_size"].numpy()
    assert height * width < 0.25 * 400 * 640  # a person region, not the photograph
    whole = parser._instance(parser._to_model_skeleton(decoded))  # pylint: disable=protected-access
    whole["image_size"] = tf.constant([400, 640], tf.int32)
    for seed in range(6):  # extreme draws included: scale and shift at the bounds, any angle
        params = parser.sample_augmentation(tf.constant([seed, 3]), batch_size=1)
        params["scale"], params["rotation"] = params["scale"] * 0 + 1.25, params["rotation"] * 0 + 45.0 * seed
        params["shift"] = params["shift"] * 0 + 0.05 * np.array([[1.0, -1.0]], np.float32)
        cut, cut_joints = parser.augment_batch({k: v[None] for k, v in prepared.items()}, params)
        full, full_joints = parser.augment_batch({k: v[None] for k, v in whole.items()}, params)
        difference = np.abs(cut.numpy().astype(int) - full.numpy().astype(int))
        assert difference.max() <= 1 and difference.mean() < 0.01  # bilinear weights differ in the last bits only
        np.testing.assert_allclose(cut_joints["keypoints_px"].numpy(), full_joints["keypoints_px"].numpy(), atol=1e-3)


def cv2_blur(image):
    """Smooth random content, so that a one-level rounding difference stays rare."""
    import cv2  # pylint: disable=import-outside-toplevel

    return cv2.GaussianBlur(image, (0, 0), 3.0)
