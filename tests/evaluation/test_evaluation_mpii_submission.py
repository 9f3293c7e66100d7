"""MPII test-set prediction files: `preds` (N, 16, 2), 1-based original-image pixels, in annotation order."""
import numpy as np
import pytest
import scipy.io

from integral_keras.data import skeletons
from integral_keras.evaluation import mpii_submission


def _predictions(num, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1000.0, size=(num, 16, 2))


def test_file_read_back_with_scipy_equals_the_predictions_one_based_in_annotation_order(tmp_path):
    joints = _predictions(5)
    ids = np.array([3, 0, 4, 1, 2])
    path = mpii_submission.write_predictions(tmp_path / "sub" / "pred_test.mat", joints, ids)
    content = scipy.io.loadmat(path)
    assert sorted(k for k in content if not k.startswith("__")) == ["preds"]
    preds = content["preds"]
    assert preds.shape == (5, 16, 2) and preds.dtype == np.float64
    for row, person in enumerate(ids):
        np.testing.assert_array_equal(preds[person], joints[row] + 1.0)
    np.testing.assert_array_equal(mpii_submission.read_predictions(path)[ids], joints)


def test_every_person_must_be_predicted_once(tmp_path):
    joints = _predictions(3)
    with pytest.raises(ValueError, match="miss \\[2\\]"):
        mpii_submission.write_predictions(tmp_path / "a.mat", joints, [0, 1, 1])
    with pytest.raises(ValueError, match="repeat \\[1\\]"):
        mpii_submission.write_predictions(tmp_path / "a.mat", joints, [0, 1, 1])
    with pytest.raises(ValueError, match="outside it \\[7\\]"):
        mpii_submission.write_predictions(tmp_path / "a.mat", joints, [0, 1, 7])
    with pytest.raises(ValueError, match="miss \\[3\\]"):
        mpii_submission.write_predictions(tmp_path / "a.mat", joints, [0, 1, 2], num_people=4)
    with pytest.raises(ValueError, match="shape"):
        mpii_submission.write_predictions(tmp_path / "a.mat", joints[:, :14], [0, 1, 2])
    joints[1, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mpii_submission.write_predictions(tmp_path / "a.mat", joints, [0, 1, 2])


def test_read_names_a_missing_file_and_a_wrong_variable(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.mat"):
        mpii_submission.read_predictions(tmp_path / "nothere.mat")
    scipy.io.savemat(tmp_path / "other.mat", {"pred": np.zeros((2, 16, 2))})
    with pytest.raises(KeyError, match="'pred'"):
        mpii_submission.read_predictions(tmp_path / "other.mat")


def test_predictions_go_from_crop_to_original_image_pixels_with_flip_test(tmp_path):
    """A predictor that knows each crop's joints (via meta) gives back the original-image joints exactly."""
    rng = np.random.default_rng(1)
    num, size = 6, 64
    image_joints = rng.uniform(50.0, 400.0, size=(num, 16, 2))
    scale = rng.uniform(2.0, 4.0, size=num)
    offset = rng.uniform(0.0, 100.0, size=(num, 2))
    crop_to_image = np.zeros((num, 2, 3))
    crop_to_image[:, 0, 0] = crop_to_image[:, 1, 1] = scale
    crop_to_image[:, :, 2] = offset
    crop_joints = (image_joints - offset[:, None]) / scale[:, None, None]
    ids = np.array([5, 2, 0, 1, 4, 3])
    batches = []
    for start in (0, 4):
        stop = min(start + 4, num)
        meta = {"crop_to_image": crop_to_image[start:stop], "image_id": ids[start:stop],
                "crop_joints": crop_joints[start:stop]}
        batches.append((np.zeros((stop - start, size, size, 3), np.float32), meta))

    calls = []

    def predict_fn(images, meta):
        calls.append(images.shape[0])
        joints = meta["crop_joints"].copy()
        if len(calls) % 2 == 0:  # the mirrored call of the flip test: answer as a model would on the mirror
            permutation = skeletons.get_skeleton("mpii").flip_permutation()
            joints = joints[:, permutation]
            joints[..., 0] = size - 1 - joints[..., 0]
        return {"joints": joints, "confidence": np.ones(joints.shape[:2])}

    permutation = skeletons.get_skeleton("mpii").flip_permutation()
    joints_px, image_ids = mpii_submission.predict_people(predict_fn, batches, flip_permutation=permutation)
    assert calls == [4, 4, 2, 2]
    np.testing.assert_array_equal(image_ids, ids)
    np.testing.assert_allclose(joints_px, image_joints, atol=1e-9)
    path = mpii_submission.write_predictions(tmp_path / "pred.mat", joints_px, image_ids)
    preds = scipy.io.loadmat(path)["preds"]
    np.testing.assert_allclose(preds[ids], image_joints + 1.0, atol=1e-9)
