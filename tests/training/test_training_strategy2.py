"""Strategy 2: 2D-only samples train 3D models through the x/y marginals (objective, trainer, real models)."""
import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.configs import ModelConfig, TrainConfig
from integral_keras.layers import IntegralRegression
from integral_keras.models import build_pose_model
from integral_keras.training.objective import MAIN, PoseObjective
from integral_keras.training.trainer import Trainer
from training_fixtures import StaticTask

K, DEPTH = 3, 4


def _labels(codec, method, xy_px, visible, z_mm, has_3d):
    labels = codec.encode(xy_px, visible, z_mm, has_3d, method=method, marginals=True)
    return dict(labels, has_3d=tf.constant(has_3d, tf.float32))


def _random_joints(rng, batch, size_px):
    return rng.uniform(2, size_px - 3, (batch, K, 2)).astype(np.float32), rng.uniform(-600, 600, (batch, K))


def _random_outputs(rng, batch, heatmap_size):
    return {"heatmaps": rng.normal(0, 1, (batch, heatmap_size, heatmap_size, K * DEPTH)).astype(np.float32),
            "joints": rng.uniform(0, heatmap_size - 1, (batch, K, 3)).astype(np.float32)}


@pytest.mark.parametrize("method", ["H1", "H2", "H3", "I1", "I2", "I3", "Istar"])
def test_a_2d_sample_loss_does_not_depend_on_its_z_label(method):
    rng = np.random.default_rng(0)
    codec = PoseCodec(K, input_size=32, heatmap_size=8, depth=DEPTH)
    xy_px, z_mm = _random_joints(rng, 4, 32)
    outputs = _random_outputs(rng, 4, 8)
    objective = PoseObjective(method, K, DEPTH, losses_after_pretrain="both")
    has_3d = np.array([0.0, 0.0, 1.0, 0.0])

    def losses(z):
        terms = objective.per_sample_losses(_labels(codec, method, xy_px, np.ones((4, K)), z, has_3d), outputs, MAIN)
        return sum(value.numpy() for value in terms.values())

    before, after = losses(z_mm), losses(z_mm[:, ::-1] + 100.0)
    np.testing.assert_array_equal(before[has_3d == 0], after[has_3d == 0])
    assert np.all(before[has_3d == 0] > 0)  # the 2D samples are supervised ...
    assert before[2] != after[2]  # ... and the z label does matter for the 3D sample


def test_2d_samples_have_marginal_terms_and_3d_samples_volumetric_ones():
    rng = np.random.default_rng(1)
    codec = PoseCodec(K, input_size=32, heatmap_size=8, depth=DEPTH)
    xy_px, _ = _random_joints(rng, 4, 32)
    z_mm = np.zeros((4, K))  # in range: 3D samples have a volumetric target for every joint
    has_3d = np.array([1.0, 0.0, 1.0, 0.0])
    terms = PoseObjective("I2", K, DEPTH, losses_after_pretrain="both").per_sample_losses(
        _labels(codec, "I2", xy_px, np.ones((4, K)), z_mm, has_3d), _random_outputs(rng, 4, 8), MAIN)
    assert set(terms) == {"heatmaps", "heatmap_marginals", "joints"}
    np.testing.assert_array_equal(terms["heatmaps"].numpy()[has_3d == 0], 0.0)
    np.testing.assert_array_equal(terms["heatmap_marginals"].numpy()[has_3d == 1], 0.0)
    assert np.all(terms["heatmaps"].numpy()[has_3d == 1] > 0) and np.all(
        terms["heatmap_marginals"].numpy()[has_3d == 0] > 0)


def test_replica_loss_reports_the_2d_and_3d_means_also_under_a_strategy():
    rng = np.random.default_rng(2)
    codec = PoseCodec(K, input_size=32, heatmap_size=8, depth=DEPTH)
    xy_px, z_mm = _random_joints(rng, 6, 32)
    has_3d = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
    labels = _labels(codec, "I1", xy_px, np.ones((6, K)), z_mm, has_3d)
    outputs = _random_outputs(rng, 6, 8)
    objective = PoseObjective("I1", K, DEPTH, losses_after_pretrain="both", heatmap_loss_weight=0.5)
    per_sample = {key: value.numpy() for key, value in objective.per_sample_losses(labels, outputs, MAIN).items()}
    total, terms = objective.replica_loss(labels, outputs, MAIN, global_batch_size=6)
    np.testing.assert_allclose(float(total), sum(v.sum() for v in per_sample.values()) / 6, rtol=1e-5)
    for key, values in per_sample.items():
        np.testing.assert_allclose(float(terms[f"{key}/3d"]), values[has_3d == 1].mean(), rtol=1e-5)
        np.testing.assert_allclose(float(terms[f"{key}/2d"]), values[has_3d == 0].mean(), rtol=1e-5)

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")

    @tf.function
    def under_strategy():
        return strategy.run(lambda: objective.replica_loss(labels, outputs, MAIN, global_batch_size=6)[1])

    for key, value in under_strategy().items():
        np.testing.assert_allclose(float(value), float(terms[key]), rtol=1e-5)


def _tiny_3d_model():
    images = keras.Input((8, 8, 3))
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv",
                                   kernel_initializer=keras.initializers.GlorotUniform(0))(images)
    features = keras.layers.MaxPooling2D(2)(features)
    heatmaps = keras.layers.Conv2D(K * DEPTH, 1, name="head",
                                   kernel_initializer=keras.initializers.GlorotUniform(1))(features)
    joints = IntegralRegression(K, depth=DEPTH, name="integral")(heatmaps)
    return keras.Model(images, {"heatmaps": heatmaps, "joints": joints})


def test_trainer_logs_both_halves_of_a_mixed_batch(tmp_path):
    rng = np.random.default_rng(3)
    codec = PoseCodec(K, input_size=8, heatmap_size=4, depth=DEPTH)
    xy_px, z_mm = _random_joints(rng, 8, 8)
    labels = _labels(codec, "I1", xy_px, np.ones((8, K)), z_mm / 4.0, np.array([1.0, 0.0] * 4))
    images = rng.uniform(0, 255, (8, 8, 8, 3)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).repeat().batch(4, drop_remainder=True)
    config = TrainConfig.from_dict(dict(total_steps=2, log_every_steps=1, steps_per_epoch=100,
                                        checkpoint_every_steps=100, lr_schedule="constant", progress_bar="off"))
    objective = PoseObjective("I1", K, DEPTH, losses_after_pretrain="both")
    history = Trainer(tf.distribute.OneDeviceStrategy("/cpu:0"), StaticTask(_tiny_3d_model, objective, dataset, 4),
                      config, str(tmp_path)).train()
    for term in ("heatmaps", "heatmap_marginals", "joints"):
        assert {f"loss/{term}", f"loss/{term}/2d", f"loss/{term}/3d"} <= set(history)
    assert history["loss/heatmaps/2d"] == 0.0 and history["loss/heatmaps/3d"] > 0.0
    assert history["loss/heatmap_marginals/3d"] == 0.0 and history["loss/heatmap_marginals/2d"] > 0.0
    # Half the samples are 2D: the term is the average of its two per-kind means.
    np.testing.assert_allclose(history["loss/joints"],
                               (history["loss/joints/2d"] + history["loss/joints/3d"]) / 2, rtol=1e-5)
    tags = set()
    for path in glob.glob(os.path.join(tmp_path, "train", "events.out.tfevents.*")):
        tags |= {value.tag for event in tf.compat.v1.train.summary_iterator(path) for value in event.summary.value}
    assert {"loss/heatmap_marginals/2d", "loss/joints/2d", "loss/joints/3d"} <= tags


@pytest.mark.parametrize("method,integral", [("H1", "direct"), ("I1", "direct"), ("I1", "two_step")])
def test_a_3d_model_learns_from_a_batch_of_only_2d_samples(method, integral):
    config = ModelConfig.from_dict(dict(backbone="resnet18", num_deconv=2, deconv_filters=32, method=method,
                                        num_joints=K, input_size=64, heatmap_size=8, depth=DEPTH,
                                        integral=integral if method == "I1" else "direct"))
    model = build_pose_model(config)
    codec = PoseCodec(K, input_size=64, heatmap_size=8, depth=DEPTH)
    rng = np.random.default_rng(4)
    xy_px, z_mm = _random_joints(rng, 4, 64)
    labels = _labels(codec, method, xy_px, np.ones((4, K)), z_mm, np.zeros(4))
    images = tf.constant(rng.uniform(0, 255, (4, 64, 64, 3)).astype(np.float32))
    objective = PoseObjective(method, K, DEPTH, losses_after_pretrain="both")
    optimizer = keras.optimizers.Adam(1e-3)

    def step():
        with tf.GradientTape() as tape:
            loss, terms = objective.replica_loss(labels, model(images, training=True), MAIN, 4)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return terms

    before = [np.array(w) for w in model.trainable_variables]
    first = step()
    assert float(first["heatmaps"]) == 0.0  # no volumetric target for 2D-only samples
    for _ in range(7):
        last = step()
    assert float(last["heatmap_marginals"]) < 0.9 * float(first["heatmap_marginals"])
    if method == "I1":
        assert float(first["joints"]) > 0.0
    changed = sum(not np.array_equal(a, np.array(b)) for a, b in zip(before, model.trainable_variables))
    assert changed > len(before) // 2
