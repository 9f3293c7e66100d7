"""`depth_follows_crop_scale`: root-relative depth of augmented training crops divided by the box scale factor."""
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.configs import DataConfig, ModelConfig
from integral_keras.data import skeletons
from integral_keras.data.parser import Parser, build_parser

SKELETON = skeletons.H36M
K = SKELETON.num_joints
INPUT, HEATMAP, DEPTH, RANGE_MM = 64, 16, 16, 2000.0
AUGMENT = dict(scale_factor=0.25, rotation_factor=20.0, rotation_prob=1.0, translation_factor=0.0, flip_prob=0.5,
               color_factor=0.0)


def _decoded(z_mm):
    """One H36M instance: joints within 12 px of the centre of a 64x64 box (inside every augmented crop)."""
    rng = np.random.default_rng(0)
    keypoints = np.array([80.0, 60.0]) + rng.uniform(-12, 12, (K, 2))
    keypoints_3d = np.concatenate([rng.uniform(-300, 300, (K, 2)), np.asarray(z_mm)[:, None]], axis=-1)
    return {
        "image": tf.zeros((120, 160, 3), tf.uint8), "center": tf.constant([80.0, 60.0]),
        "scale": tf.constant([64.0, 64.0]), "keypoints_2d": tf.constant(keypoints, tf.float32),
        "visible": tf.ones([K]), "has_3d": tf.constant(1.0), "keypoints_3d": tf.constant(keypoints_3d, tf.float32),
    }


def _parser(depth_follows_crop_scale):
    codec = PoseCodec(K, INPUT, HEATMAP, depth=DEPTH, depth_range_mm=RANGE_MM)
    return Parser(codec, "Istar", SKELETON.name, depth_follows_crop_scale=depth_follows_crop_scale, **AUGMENT)


def _reference_z(z_mm, scale, flip, follows):
    """Independent numpy reference: z target in depth bins and its weight for one augmented crop."""
    z = np.asarray(z_mm, np.float64)
    if flip:
        swapped = z.copy()
        for left, right in SKELETON.flip_pairs:
            swapped[left], swapped[right] = z[right], z[left]
        z = swapped
    if follows:
        z = z / scale
    bins = (z / RANGE_MM + 0.5) * DEPTH - 0.5
    in_range = (bins >= -0.5) & (bins < DEPTH - 0.5)
    return bins, in_range.astype(np.float64)


# Depths up to 950 mm: with a zoom-in (scale < 1) the largest leave the +-1000 mm range and lose their weight.
Z_MM = np.linspace(-950.0, 950.0, K)


@pytest.mark.parametrize("follows", [True, False])
@pytest.mark.parametrize("seed", [(1, 2), (3, 4), (5, 6), (7, 9)])
def test_training_z_target_matches_the_reference(follows, seed):
    parser = _parser(follows)
    _, labels = parser.parse_train(_decoded(Z_MM), seed=tf.constant(seed))
    params = {key: value.numpy() for key, value in parser.sample_augmentation(tf.constant(seed)).items()}
    assert params["scale"] != 1.0
    want, weight = _reference_z(Z_MM, params["scale"], params["flip"], follows)
    joints = labels["joints"].numpy()  # (K, 6): x, y, z in heat-map units, then their weights
    np.testing.assert_allclose(joints[:, 5], weight)
    np.testing.assert_allclose(joints[:, 2][weight > 0], want[weight > 0], rtol=1e-5, atol=1e-4)


def test_known_scales_in_a_batch_divide_the_depth():
    parser = _parser(True)
    prepared = parser.prepare_train_example(_decoded(Z_MM))
    batch = {key: tf.stack([value, value]) for key, value in prepared.items()}
    scales = np.array([0.8, 1.25], np.float32)
    params = {"scale": tf.constant(scales), "rotation": tf.constant([0.0, 15.0]), "shift": tf.zeros([2, 2]),
              "flip": tf.constant([False, True]), "color": tf.ones([2, 3])}
    _, joints = parser.augment_batch(batch, params)
    z = joints["z_mm"].numpy()
    np.testing.assert_allclose(z[0], Z_MM / 0.8, rtol=1e-5)
    flipped = Z_MM[SKELETON.flip_permutation()]
    np.testing.assert_allclose(z[1], flipped / 1.25, rtol=1e-5)
    _, plain = _parser(False).augment_batch(batch, params)
    np.testing.assert_allclose(plain["z_mm"].numpy(), np.stack([Z_MM, flipped]), rtol=1e-6)


def test_validation_crops_keep_millimetres():
    # Scale 1 at validation / evaluation: the option changes nothing there, so decoding needs no correction.
    decoded = _decoded(Z_MM)
    _, on = _parser(True).parse_val(decoded)
    _, off = _parser(False).parse_val(decoded)
    np.testing.assert_array_equal(on["joints"].numpy(), off["joints"].numpy())
    want, weight = _reference_z(Z_MM, 1.0, False, True)
    np.testing.assert_allclose(on["joints"].numpy()[:, 2], want, atol=1e-4)
    np.testing.assert_array_equal(on["joints"].numpy()[:, 5], weight)


def test_config_option_reaches_the_parser():
    model = ModelConfig(backbone="resnet18", method="Istar", num_joints=K, input_size=INPUT, heatmap_size=HEATMAP,
                        depth=DEPTH)
    assert DataConfig().depth_follows_crop_scale is False
    data = DataConfig(skeleton="h36m").override(["depth_follows_crop_scale=true"])
    parser = build_parser(model, data)
    assert parser.depth_follows_crop_scale is True
    plain = build_parser(model, DataConfig(skeleton="h36m"))
    assert plain.depth_follows_crop_scale is False
    # Mixed 2D/3D batches are parsed together only by parsers that agree on the depth convention.
    assert not parser.can_share_batches_with(plain)
    assert parser.can_share_batches_with(build_parser(model, data, source_skeleton="mpii"))
