"""Flip test in joint space and heat-map space."""
import numpy as np
import pytest

from integral_keras import evaluation
from integral_keras.data import skeletons
from integral_keras.evaluation import flip

PERM = skeletons.MPII.flip_permutation()


def _dots(joints, height, width):
    """One channel per joint with a single bright pixel at its (integer) position."""
    images = np.zeros((joints.shape[0], height, width, joints.shape[1]), np.float32)
    for n, pose in enumerate(joints):
        for k, (x, y) in enumerate(pose.astype(int)):
            images[n, y, x, k] = 1.0
    return images


def _argmax_per_channel(images):
    """A real, translation-exact predictor: (x, y) of each channel's maximum."""
    num, height, width, channels = images.shape
    flat = images.reshape(num, height * width, channels).argmax(axis=1)
    return np.stack([flat % width, flat // width], axis=-1).astype(np.float64)


def test_argmax_predictor_is_equivariant_with_the_w_minus_1_mirror():
    joints = np.random.default_rng(0).integers(0, [37, 23], size=(3, 5, 2)).astype(float)
    images = _dots(joints, height=23, width=37)
    identity = np.arange(5)  # no left/right pairs: a per-channel argmax is exactly flip-equivariant
    np.testing.assert_array_equal(evaluation.flip_test(_argmax_per_channel, images, identity), joints)


class _PoseOracle:
    """Knows the true pose of each image and of its mirror image; adds a fixed bias to every answer."""

    def __init__(self, images, joints, bias):
        self.images = images
        self.joints = joints
        self.mirrored = flip.unflip_joints(joints, images.shape[2], PERM)  # the mirror is its own inverse
        self.bias = np.asarray(bias, np.float64)
        self.calls = 0

    def __call__(self, batch):
        self.calls += 1
        if np.array_equal(batch, self.images):
            return self.joints + self.bias
        if np.array_equal(batch, self.images[:, :, ::-1]):
            return self.mirrored + self.bias
        raise AssertionError("unexpected batch")


def _mpii_case():
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, size=(2, 16, 20, 3))
    joints = np.concatenate([rng.uniform(0, 19, (2, 16, 1)), rng.uniform(0, 15, (2, 16, 1)),
                             rng.normal(0, 100, (2, 16, 1))], axis=-1)
    return images, joints


def test_equivariant_predictor_gives_the_single_pass_result():
    images, joints = _mpii_case()
    oracle = _PoseOracle(images, joints, bias=0.0)
    np.testing.assert_allclose(evaluation.flip_test(oracle, images, PERM), joints, atol=1e-12)
    assert oracle.calls == 2


def test_horizontal_bias_cancels_and_other_biases_stay():
    images, joints = _mpii_case()
    oracle = _PoseOracle(images, joints, bias=[2.0, 1.0, -5.0])
    averaged = evaluation.flip_test(oracle, images, PERM)
    np.testing.assert_allclose(averaged[..., 0], joints[..., 0], atol=1e-12)
    np.testing.assert_allclose(averaged[..., 1], joints[..., 1] + 1.0, atol=1e-12)
    np.testing.assert_allclose(averaged[..., 2], joints[..., 2] - 5.0, atol=1e-12)


def test_heatmap_width_for_cell_units():
    joints_px = np.array([[[3.0, 1.0]]])
    # stride 4: crop width 32, heat map width 8. x_hm = (x_px + 0.5) / 4 - 0.5.
    x_hm = (joints_px[..., 0] + 0.5) / 4 - 0.5
    mirrored_px = flip.unflip_joints(joints_px, 32, [0])[..., 0]
    mirrored_hm = flip.unflip_joints(np.stack([x_hm, joints_px[..., 1]], -1), 8, [0])[..., 0]
    np.testing.assert_allclose((mirrored_hm + 0.5) * 4 - 0.5, mirrored_px)


def _unflip_by_loops(maps, perm, depth, shift):
    num, height, width, channels = maps.shape
    out = np.zeros_like(maps)
    for k in range(channels // depth):
        for d in range(depth):
            for x in range(width):
                source_x = max(x - shift, 0)
                out[:, :, x, k * depth + d] = maps[:, :, width - 1 - source_x, perm[k] * depth + d]
    return out


@pytest.mark.parametrize("depth,shift", [(1, 0), (3, 0), (1, 1)])
def test_unflip_heatmaps_matches_loops(depth, shift):
    perm = np.array([1, 0, 2])
    maps = np.random.default_rng(2).normal(size=(2, 4, 6, 3 * depth))
    np.testing.assert_array_equal(flip.unflip_heatmaps(maps, perm, depth, shift),
                                  _unflip_by_loops(maps, perm, depth, shift))


def test_heatmap_flip_test_with_an_equivariant_predictor():
    depth = 2
    rng = np.random.default_rng(3)
    images = rng.uniform(size=(2, 8, 12, 3))
    maps = rng.normal(size=(2, 4, 6, 16 * depth))
    mirrored_maps = _unflip_by_loops(maps, PERM, depth, 0)

    def predict(batch):
        if np.array_equal(batch, images):
            return maps
        if np.array_equal(batch, images[:, :, ::-1]):
            return mirrored_maps
        raise AssertionError("unexpected batch")

    np.testing.assert_allclose(evaluation.flip_test_heatmaps(predict, images, PERM, depth=depth), maps)
