"""Trainer on one device with the tiny fixture model: phases, learning rates, checkpoints, evaluation."""
import glob
import os

import numpy as np
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.configs import TrainConfig
from integral_keras.data import skeletons
from integral_keras.training.evaluator import PoseEvaluator
from integral_keras.training.objective import PoseObjective
from integral_keras.training.trainer import Trainer
from training_fixtures import StaticTask, tiny_dataset, tiny_model


def _scalars(directory):
    """`{tag: {step: value}}` of the summaries written under `directory`."""
    values = {}
    for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                values.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    return values


def _trainer(model_dir, **train):
    config = TrainConfig.from_dict(dict(dict(log_every_steps=1, steps_per_epoch=100, checkpoint_every_steps=100,
                                             lr_schedule="constant"), **train))
    objective = PoseObjective("I1", 2, heatmap_pretrain_steps=config.heatmap_pretrain_steps)
    task = StaticTask(tiny_model, objective, tiny_dataset(4), 4, val_dataset=tiny_dataset(4, repeat=False))
    return Trainer(tf.distribute.OneDeviceStrategy("/cpu:0"), task, config, str(model_dir))


def test_progress_bar_counts_every_step_with_images_per_second(tmp_path, capsys):
    _trainer(tmp_path / "on", total_steps=6, log_every_steps=2, progress_bar="on").train()
    shown = capsys.readouterr().err
    assert "6/6" in shown and "img/s" in shown and "loss" in shown
    _trainer(tmp_path / "off", total_steps=2, progress_bar="off").train()
    assert "img/s" not in capsys.readouterr().err


def test_two_phase_schedule_switches_losses_at_the_configured_step(tmp_path):
    trainer = _trainer(tmp_path, total_steps=7, heatmap_pretrain_steps=4)
    initial_head = np.asarray(trainer.model.get_layer("head").kernel).copy()
    trainer.train()
    scalars = _scalars(tmp_path / "train")
    assert sorted(scalars["loss/heatmaps"]) == [1, 2, 3, 4]  # steps 0-3 (logged after each step)
    assert sorted(scalars["loss/joints"]) == [5, 6, 7]
    for step in range(1, 8):
        logged = scalars["loss/heatmaps" if step <= 4 else "loss/joints"][step]
        np.testing.assert_allclose(scalars["loss"][step], logged, rtol=1e-6)
    assert not np.allclose(np.asarray(trainer.model.get_layer("head").kernel), initial_head)


def test_learning_rate_per_step_in_summaries(tmp_path):
    trainer = _trainer(tmp_path, total_steps=4, lr_schedule="step", lr_boundaries=[2], lr_values=[1e-5])
    trainer.train()
    learning_rates = _scalars(tmp_path / "train")["learning_rate"]
    # The value logged after step s is the rate used for step s - 1.
    np.testing.assert_allclose([learning_rates[s] for s in (1, 2, 3, 4)], [1e-3, 1e-3, 1e-5, 1e-5], rtol=1e-6)


def test_restart_resumes_from_checkpoint_and_stops_at_total(tmp_path):
    first = _trainer(tmp_path, total_steps=3, checkpoint_every_steps=3)
    first.train()
    weights = [np.asarray(v) for v in first.model.trainable_variables]
    resumed = _trainer(tmp_path, total_steps=5, checkpoint_every_steps=3)
    assert resumed.checkpoints.restore() is not None
    for restored, saved in zip(resumed.model.trainable_variables, weights):
        np.testing.assert_array_equal(np.asarray(restored), saved)
    assert resumed.train()["step"] == 5
    assert int(resumed.optimizer.iterations.numpy()) == 5  # optimizer state restored too
    again = _trainer(tmp_path, total_steps=5)
    assert again.train()["step"] == 5 and again.step == 5  # nothing left to do
    assert sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "checkpoints" / "*.index"))) == [
        "ckpt-3.index", "ckpt-5.index"]


def test_validation_loss_is_the_mean_over_examples(tmp_path):
    trainer = _trainer(tmp_path, total_steps=1)
    metrics = trainer.evaluate()
    images, labels = next(iter(tiny_dataset(16, repeat=False)))
    outputs = trainer.model(images)
    per_sample = trainer.objective.per_sample_losses(labels, outputs, "main")
    expected = sum(float(np.sum(v)) for v in per_sample.values()) / 16
    np.testing.assert_allclose(metrics["loss"], expected, rtol=1e-5)


def test_evaluator_metrics_from_heatmap_units():
    skeleton = skeletons.get_skeleton("h36m")
    codec = PoseCodec(skeleton.num_joints, 64, 16, depth=8)
    rng = np.random.default_rng(0)
    num = 6
    gt_crop = rng.uniform(10, 54, (num, skeleton.num_joints, 2))
    shift = np.array([5.0, 7.0])  # crop -> image translation
    crop_to_image = np.tile(np.array([[1.0, 0, shift[0]], [0, 1.0, shift[1]], [0, 0, 1]]), (num, 1, 1))
    z_mm = rng.uniform(-300, 300, (num, skeleton.num_joints))
    focal, center, root_depth = np.array([500.0, 500.0]), np.array([40.0, 40.0]), np.full(num, 4000.0)
    gt_image = gt_crop + shift
    gt_3d = np.concatenate([(gt_image - center) * (z_mm + 4000.0)[..., None] / focal, (z_mm + 4000.0)[..., None]],
                           axis=-1)
    meta = {"crop_to_image": crop_to_image, "keypoints_2d": gt_image, "visible": np.ones((num, skeleton.num_joints)),
            "keypoints_3d": gt_3d, "has_3d": np.ones(num), "root_depth": root_depth,
            "focal": np.tile(focal, (num, 1)), "principal_point": np.tile(center, (num, 1))}
    exact = np.concatenate([codec.px_to_heatmap(gt_crop), codec.mm_to_depth(z_mm)[..., None]], axis=-1)
    evaluator = PoseEvaluator(codec, "h36m")
    evaluator.update(exact, meta)
    metrics = evaluator.result()
    assert metrics["PCK@0.1"] == 100.0 and metrics["PCK@0.5"] == 100.0
    assert metrics["MPJPE"] < 1e-6 and metrics["PA-MPJPE"] < 1e-6
    # Depth off by 100 mm on every joint but the root.
    evaluator.reset()
    wrong = exact.copy()
    wrong[:, 1:, 2] = codec.mm_to_depth(z_mm[:, 1:] + 100.0)
    evaluator.update(wrong, meta)  # x, y exact: only depth (and its effect through back-projection) differs
    pred_depth = z_mm.copy()
    pred_depth[:, 1:] += 100.0
    pred_3d = np.concatenate([(gt_image - center) * (pred_depth + 4000.0)[..., None] / focal,
                              (pred_depth + 4000.0)[..., None]], axis=-1)
    reference = np.linalg.norm((pred_3d - pred_3d[:, :1]) - (gt_3d - gt_3d[:, :1]), axis=-1).mean()
    np.testing.assert_allclose(evaluator.result()["MPJPE"], reference, rtol=1e-6)


def test_float16_mixed_precision_trains_with_loss_scaling(tmp_path):
    import keras

    trainer = _trainer(tmp_path, total_steps=2, mixed_precision="float16")
    # The trainer builds its model under the policy and gives the caller's policy back.
    assert keras.mixed_precision.dtype_policy().name == "float32"
    assert isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)
    assert trainer.model.get_layer("head").compute_dtype == "float16"
    initial = np.asarray(trainer.model.get_layer("head").kernel).copy()
    history = trainer.train()
    assert np.isfinite(history["loss"])
    assert trainer.model.get_layer("head").kernel.dtype == "float32"  # master weights stay float32
    assert not np.allclose(np.asarray(trainer.model.get_layer("head").kernel), initial)


def test_bfloat16_trains_without_loss_scaling(tmp_path):
    import keras

    trainer = _trainer(tmp_path, total_steps=2, mixed_precision="bfloat16")
    assert trainer.precision == "bfloat16"
    assert not isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)
    assert trainer.model.get_layer("head").compute_dtype == "bfloat16"
    assert keras.mixed_precision.dtype_policy().name == "float32"
    assert np.isfinite(trainer.train()["loss"])


def test_input_pipeline_is_released_on_a_helper_thread():
    import threading

    from integral_keras.training.trainer import release_in_background

    may_finish, released_on = threading.Event(), []

    class SlowToRelease:  # like a tf.data iterator whose destruction waits for tf.data's autotuning thread
        def __del__(self):
            released_on.append(threading.current_thread().name)
            may_finish.wait(10)

    thread = release_in_background([SlowToRelease()], "test input")
    assert thread.is_alive() and not thread.daemon  # the caller goes on; the interpreter waits for it at exit
    may_finish.set()
    thread.join(10)
    assert not thread.is_alive()
    assert released_on == ["release test input"]


def test_training_releases_its_input_pipeline_without_blocking(tmp_path, monkeypatch):
    from integral_keras.training import trainer as trainer_lib

    threads = []
    original = trainer_lib.release_in_background
    monkeypatch.setattr(trainer_lib, "release_in_background",
                        lambda references, what: threads.append(original(references, what)) or threads[-1])
    _trainer(tmp_path, total_steps=2).train()
    assert [thread.name for thread in threads] == ["release training input pipeline"]
    threads[0].join(60)
    assert not threads[0].is_alive()
