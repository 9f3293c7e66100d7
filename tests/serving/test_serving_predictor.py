"""PosePredictor (SavedModel and Keras paths agree) and weight restoring."""
import numpy as np
import pytest
import tensorflow as tf

import serving_test_models as stm
from integral_keras.serving import PosePredictor
from integral_keras.serving import export_saved_model
from integral_keras.serving import load_pose_model
from integral_keras.serving import restore_weights


def test_saved_model_and_keras_paths_agree(tmp_path):
    model = stm.random_pose_model("I1", num_joints=2)
    params = stm.spec_params("I1")
    from_saved = PosePredictor.from_saved_model(export_saved_model(model, params, tmp_path))
    from_keras = PosePredictor.from_keras(model, params)
    png = stm.encode(stm.textured_image(50, 70, seed=4))
    for box in ([5.0, 8.0, 30.0, 35.0], None):
        a, b = from_saved.predict(png, box), from_keras.predict(png, box)
        assert a["joints"].shape == (2, 2) and a["confidence"].shape == (2,)
        np.testing.assert_allclose(a["joints"], b["joints"], atol=1e-4)
        np.testing.assert_allclose(a["confidence"], b["confidence"], atol=1e-6)


def test_default_box_is_the_whole_image():
    model = stm.bright_spot_model()
    predictor = PosePredictor.from_keras(model, stm.spec_params("I1"))
    square = (31.0, 60.0)
    png = stm.encode(stm.image_with_square(80, 48, square, side=5))
    # Whole 48x80 image, padded 1.25x: one heat-map cell spans 4 * 100 / 64 = 6.25 image pixels.
    np.testing.assert_allclose(predictor.predict(png)["joints"], [square, square], atol=3.2)


def test_missing_saved_model_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        PosePredictor.from_saved_model(tmp_path)


@pytest.mark.parametrize("kind", ["h5", "tf"])
def test_restore_weights(tmp_path, kind):
    source, target = stm.random_pose_model(seed=1), stm.random_pose_model(seed=2)
    images = np.random.default_rng(0).uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)
    if kind == "h5":
        path = tmp_path / "model.weights.h5"
        source.save_weights(path)
    else:
        path = tf.train.Checkpoint(model=source).save(str(tmp_path / "ckpt"))
    assert not np.allclose(source(images)["joints"], target(images)["joints"])
    restore_weights(target, path)
    np.testing.assert_allclose(target(images)["joints"], source(images)["joints"], atol=1e-6)


def test_restore_and_load_errors_name_the_path(tmp_path):
    model = stm.random_pose_model()
    with pytest.raises(FileNotFoundError, match="nothing.weights.h5"):
        restore_weights(model, tmp_path / "nothing.weights.h5")
    with pytest.raises(FileNotFoundError, match="No TensorFlow checkpoint"):
        restore_weights(model, tmp_path)
    with pytest.raises(FileNotFoundError, match="absent.keras"):
        load_pose_model(model_path=tmp_path / "absent.keras")


def test_load_keras_file_round_trip(tmp_path):
    model = stm.random_pose_model()
    model.save(tmp_path / "m.keras")
    loaded = load_pose_model(model_path=str(tmp_path / "m.keras"))
    images = np.random.default_rng(1).uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(images)["joints"], model(images)["joints"], atol=1e-6)
