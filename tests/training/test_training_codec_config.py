"""One codec from the config: a non-default `model.depth_range_mm` (and `heatmap_sigma`) reaches the training
codec, the parser's targets, the evaluator, the objective and the exported SavedModel's decode."""
import keras
import numpy as np
import tensorflow as tf

from integral_keras import layers as pose_layers
from integral_keras.configs import ExperimentConfig
from integral_keras.data import skeletons
from integral_keras.data.parser import build_parser
from integral_keras.serving import export_saved_model
from integral_keras.serving import load_serving_spec
from integral_keras.training import distribution
from integral_keras.training.runner import build_codec, build_trainer

RANGE_MM = 1300.0  # not the 2000 default
SIGMA = 1.5
DEPTH, INPUT, HEATMAP = 8, 64, 16
K = skeletons.H36M.num_joints


def _experiment():
    return ExperimentConfig().override([
        "model.backbone=resnet18", "model.method=I1", f"model.num_joints={K}", f"model.input_size={INPUT}",
        f"model.heatmap_size={HEATMAP}", f"model.depth={DEPTH}", "model.deconv_filters=8",
        f"model.depth_range_mm={RANGE_MM}", f"model.heatmap_sigma={SIGMA}", "data.skeleton=h36m"])


def _z_bins(z_mm):
    """Independent reference of the depth encoding: mm -> bins, `((z / range) + 0.5) * D - 0.5`."""
    return (np.asarray(z_mm, np.float64) / RANGE_MM + 0.5) * DEPTH - 0.5


def _z_mm(z_bins):
    """Independent reference of the depth decoding: bins -> mm."""
    return ((np.asarray(z_bins, np.float64) + 0.5) / DEPTH - 0.5) * RANGE_MM


def _decoded(z_mm):
    """A decode_example-style H36M instance: joints on a diagonal inside a 64x64 box, depths `z_mm`."""
    keypoints = np.stack([np.linspace(60, 100, K), np.linspace(40, 80, K)], axis=-1)
    keypoints_3d = np.concatenate([np.zeros((K, 2)), np.asarray(z_mm)[:, None]], axis=-1)
    values = {
        "image": tf.zeros((120, 160, 3), tf.uint8), "center": tf.constant([80.0, 60.0]),
        "scale": tf.constant([64.0, 64.0]), "keypoints_2d": tf.constant(keypoints, tf.float32),
        "visible": tf.ones([K]), "has_3d": tf.constant(1.0), "keypoints_3d": tf.constant(keypoints_3d, tf.float32),
    }
    return values


def test_training_codec_parser_evaluator_and_objective_use_the_config(tmp_path):
    config = _experiment()
    codec = build_codec(config.model)
    assert codec.depth_range_mm == RANGE_MM and codec.sigma == SIGMA

    # The parser built without a codec (its own `PoseCodec.from_config`) encodes depth with the configured range.
    z_mm = np.linspace(-600.0, 600.0, K)
    _, labels = build_parser(config.model, config.data).parse_val(_decoded(z_mm))
    joints = labels["joints"].numpy()  # (K, 6): x, y, z in heat-map units, then their weights
    np.testing.assert_allclose(joints[:, 2], _z_bins(z_mm), atol=1e-4)
    np.testing.assert_array_equal(joints[:, 5], np.ones(K))

    trainer = build_trainer(config, str(tmp_path), distribution.get_strategy("one_device"), with_train_data=False)
    evaluator_codec = trainer.evaluator.codec
    assert (evaluator_codec.depth_range_mm, evaluator_codec.sigma) == (RANGE_MM, SIGMA)
    z_pred = np.random.default_rng(0).uniform(-0.5, DEPTH - 0.5, (2, K))
    joints_hm = np.concatenate([np.full((2, K, 2), 7.0), z_pred[..., None]], axis=-1)
    decoded = trainer.evaluator.decode_to_image(joints_hm, np.tile(np.eye(3), (2, 1, 1)))
    np.testing.assert_allclose(decoded["z_mm"], _z_mm(z_pred), rtol=1e-5)
    assert trainer.objective.marginal_loss.sigma == SIGMA


def _tiny_3d_model(seed=3):
    """A small random 3D integral model with the config's geometry (64 px input, 16x16x8 heat maps)."""
    image = keras.Input((INPUT, INPUT, 3), name="image")
    init = keras.initializers.GlorotUniform(seed=seed)
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(image)
    x = keras.layers.Conv2D(8, 3, strides=4, padding="same", activation="relu", kernel_initializer=init)(x)
    logits = keras.layers.Conv2D(K * DEPTH, 3, padding="same", kernel_initializer=init,
                                 bias_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=seed))(x)
    joints = pose_layers.IntegralRegression(K, depth=DEPTH, name="integral")(logits)
    return keras.Model(image, {"heatmaps": logits, "joints": joints})


def test_exported_model_decodes_depth_with_the_config_range(tmp_path):
    config = _experiment()
    model = _tiny_3d_model()
    path = export_saved_model(model, config, tmp_path)
    spec = load_serving_spec(path)
    assert spec.depth_range_mm == RANGE_MM and spec.skeleton == "h36m"
    images = np.random.default_rng(4).uniform(0, 255, (2, INPUT, INPUT, 3)).astype(np.float32)
    got = tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant(images))
    z_hm = np.asarray(model(images)["joints"])[..., 2]
    np.testing.assert_allclose(got["depth_mm"].numpy(), _z_mm(z_hm), atol=1e-2)
