"""Export of networks from `build_pose_model` (the real backbone, heads and integral layers)."""
import numpy as np
import pytest
import tensorflow as tf

import serving_test_models as stm
from integral_keras.configs import ModelConfig
from integral_keras.models import build_pose_model
from integral_keras.serving import export_saved_model


@pytest.mark.slow
@pytest.mark.parametrize("method,integral,depth", [("I1", "direct", 1), ("Istar", "two_step", 2)])
def test_built_model_exports_and_serves(tmp_path, method, integral, depth):
    config = ModelConfig(backbone="resnet18", method=method, integral=integral, num_joints=2, depth=depth,
                         input_size=64, heatmap_size=16, num_deconv=3, deconv_filters=16)
    model = build_pose_model(config)
    path = export_saved_model(model, config, tmp_path)
    loaded = tf.saved_model.load(str(path))
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    got = loaded.signatures["serving_default"](images=tf.constant(images))
    joints_hm = np.asarray(model(images)["joints"])
    np.testing.assert_allclose(got["joints"].numpy(), (joints_hm[..., :2] + 0.5) * 4 - 0.5, atol=1e-3)
    assert ("depth_mm" in got) == (depth > 1)
    confidence = got["confidence"].numpy()
    assert confidence.shape == (2, 2) and np.all((confidence > 0) & (confidence <= 1))
    png = stm.encode(stm.textured_image(90, 70))
    encoded = loaded.signatures["serve_image_bytes"](image_bytes=tf.constant(png), box=tf.constant([5., 5., 50., 70.]))
    assert encoded["joints"].shape == (1, 2, 2)
