"""Fault injection into the exported SavedModel's signatures: non-finite inputs and boxes that cannot hold a
person of the image fail with InvalidArgumentError instead of returning NaN or 1e30 joints."""
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "serving"))
import serving_test_models as stm  # noqa: E402
from integral_keras.serving import export_saved_model  # noqa: E402


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    model = stm.random_pose_model("I1", num_joints=2)
    path = export_saved_model(model, stm.spec_params("I1"), tmp_path_factory.mktemp("faults") / "saved_models")
    return tf.saved_model.load(str(path))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_serving_default_refuses_non_finite_crops(loaded, value):
    images = np.full((2, stm.INPUT_SIZE, stm.INPUT_SIZE, 3), 100.0, np.float32)
    images[1, 5, 7, 2] = value
    with pytest.raises(tf.errors.InvalidArgumentError, match="images must be finite"):
        loaded.signatures["serving_default"](images=tf.constant(images))
    finite = loaded.signatures["serving_default"](images=tf.constant(images[:1]))
    assert np.all(np.isfinite(finite["joints"].numpy()))


@pytest.mark.parametrize("box, message", [
    ([1e30, 1e30, 10.0, 10.0], "does not intersect"),
    ([40.0, 0.0, 10.0, 10.0], "does not intersect"),       # right of a 32-pixel-wide image
    ([-20.0, -20.0, 10.0, 10.0], "does not intersect"),    # above and left of it
    ([0.0, 0.0, 1e30, 1e30], "times the longer side of the image"),
    ([np.nan, 0.0, 10.0, 10.0], "box must be finite"),
    ([0.0, 0.0, np.inf, 10.0], "box must be finite"),
])
def test_serve_image_bytes_refuses_boxes_outside_or_absurd(loaded, box, message):
    image_bytes = stm.encode(stm.textured_image(32, 32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        loaded.signatures["serve_image_bytes"](image_bytes=tf.constant(image_bytes),
                                               box=tf.constant(box, tf.float32))
    ok = loaded.signatures["serve_image_bytes"](image_bytes=tf.constant(image_bytes),
                                                box=tf.constant([-5.0, 20.0, 10.0, 300.0], tf.float32))
    joints = ok["joints"].numpy()
    assert np.all(np.isfinite(joints)) and np.abs(joints).max() < 1000
