"""Mapping crop predictions back to the original image."""
import numpy as np
import pytest

from integral_keras import evaluation
from integral_keras.evaluation import transforms


def test_crop_to_image_inverts_a_hand_matrix_and_keeps_depth():
    # image -> crop: x_c = 2 x - 10, y_c = 0.5 y + 3
    image_to_crop = np.array([[[2.0, 0.0, -10.0], [0.0, 0.5, 3.0]]])
    crop_points = np.array([[[10.0, 13.0, 250.0], [-10.0, 3.0, -4.0]]])
    expected = np.array([[[10.0, 20.0, 250.0], [0.0, 0.0, -4.0]]])
    np.testing.assert_allclose(evaluation.crop_to_image(crop_points, image_to_crop), expected)
    full = np.concatenate([image_to_crop, [[[0.0, 0.0, 1.0]]]], axis=1)
    np.testing.assert_allclose(evaluation.crop_to_image(crop_points[..., :2], full), expected[..., :2])


def test_apply_affine_shape_errors():
    with pytest.raises(ValueError, match="matrices"):
        transforms.apply_affine(np.zeros((2, 3, 2)), np.zeros((1, 2, 3)))


def test_crop_to_image_undoes_ops_crop_transform():
    from integral_keras.ops import affine  # TensorFlow: the crop geometry's owner

    matrix = affine.crop_transform([120.0, 80.0], [60.0, 90.0], (64, 48), rotation_deg=30.0, flip=True)
    matrix = np.asarray(matrix)[None]
    image_points = np.random.default_rng(0).uniform(0, 200, size=(1, 5, 2))
    crop_points = np.einsum("ij,kj->ki", matrix[0, :2, :2], image_points[0])[None] + matrix[0, :2, 2]
    np.testing.assert_allclose(evaluation.crop_to_image(crop_points, matrix), image_points, atol=1e-4)
