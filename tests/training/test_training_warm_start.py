"""Warm start (`train.init_checkpoint`): copying by layer name and inflating 2D heat-map layers along depth."""
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.configs import ModelConfig, TrainConfig
from integral_keras.configs.base import ConfigError
from integral_keras.configs.experiment import ExperimentConfig
from integral_keras.models import build_pose_model
from integral_keras.training import warm_start
from integral_keras.training.objective import PoseObjective
from integral_keras.training.trainer import Trainer
from training_fixtures import StaticTask, tiny_dataset, tiny_model


def _hourglass(depth, integral="direct", num_stages=1, method="Istar"):
    # Keras default initialisers: random 2D logits with clear peaks, so equal joints are a real check.
    return ModelConfig(backbone="hourglass", method=method, num_joints=3, input_size=64, heatmap_size=16,
                       depth=depth, num_stages=num_stages, num_deconv=0, hourglass_features=16, integral=integral,
                       head_init_stddev=None)


def _sharpen_logits(model, scale=40.0):
    """Multiplies the logits layers' kernels so the 2D heat maps are peaked (untrained ones are nearly flat)."""
    for path, layer, _ in warm_start._layers_with_weights(model):  # pylint: disable=protected-access
        if path.endswith("_logits"):
            layer.set_weights([w * scale for w in layer.get_weights()])


def test_inflate_repeats_output_channels_joint_major():
    source = np.arange(2 * 3, dtype=np.float32).reshape(1, 1, 2, 3)  # C=2 inputs, K=3 joints
    weight, depth = warm_start.inflate(source, (1, 1, 2, 12))
    assert depth == 4
    for k in range(3):
        for d in range(4):
            np.testing.assert_array_equal(weight[..., k * 4 + d], source[..., k])
    bias, depth = warm_start.inflate(np.array([1.0, 2.0, 3.0], np.float32), (6,))
    np.testing.assert_array_equal(bias, [1, 1, 2, 2, 3, 3])
    assert depth == 2


def test_inflate_divides_repeated_input_channels():
    source = np.arange(3 * 5, dtype=np.float32).reshape(1, 1, 3, 5)  # K=3 logit inputs, 5 features
    weight, depth = warm_start.inflate(source, (1, 1, 6, 5))
    assert depth == 2
    logits = np.array([0.5, -1.0, 2.0], np.float32)
    np.testing.assert_allclose(np.repeat(logits, 2) @ weight[0, 0], logits @ source[0, 0], rtol=1e-6)


@pytest.mark.parametrize("shape", [(1, 1, 3, 7), (1, 1, 4, 6), (3, 3, 2, 6), (1, 1, 2)])
def test_inflate_refuses_other_shape_changes(shape):
    assert warm_start.inflate(np.zeros((1, 1, 2, 3), np.float32), shape) is None


@pytest.mark.parametrize("integral", ["direct", "two_step"])
def test_inflated_2d_model_predicts_its_2d_joints_at_the_middle_depth(integral):
    source = build_pose_model(_hourglass(1))
    _sharpen_logits(source)
    target = build_pose_model(_hourglass(8, integral))
    report = warm_start.transfer_weights(source, target, source_name="2d")
    assert [path for path, _ in report.inflated] == ["hourglass1/stack0_logits"]
    assert report.kept == [] and len(report.copied) > 10
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    joints_2d = np.asarray(source(images)["joints"])
    joints_3d = np.asarray(target(images)["joints"])
    assert np.ptp(joints_2d) > 3.0  # peaked, varied 2D predictions (not all at the centre)
    np.testing.assert_allclose(joints_3d[..., :2], joints_2d, atol=1e-3)
    np.testing.assert_allclose(joints_3d[..., 2], (8 - 1) / 2, atol=1e-3)


def test_two_stage_warm_start_inflates_the_stage_that_reads_the_logits():
    source = build_pose_model(_hourglass(1, num_stages=2))
    _sharpen_logits(source, 10.0)
    target = build_pose_model(_hourglass(4, num_stages=2))
    report = warm_start.transfer_weights(source, target)
    assert sorted(path for path, _ in report.inflated) == [
        "hourglass2/stack0_logits", "hourglass2/stack0_remap_heatmaps", "hourglass2/stack1_logits"]
    images = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(target(images)["joints"])[..., :2], np.asarray(source(images)["joints"]),
                               atol=1e-3)


def test_backbone_only_keeps_the_head_of_a_resnet():
    config = ModelConfig(backbone="resnet18", method="I1", num_joints=2, input_size=64, heatmap_size=8,
                         num_deconv=2, deconv_filters=8)
    source, target = build_pose_model(config), build_pose_model(config)
    report = warm_start.transfer_weights(source, target, modules="backbone")
    assert report.kept and all(path.startswith("head") for path in report.kept)
    assert all(not path.startswith("head") for path in report.copied)
    head_kernel = target.get_layer("head_logits").kernel
    assert not np.allclose(np.asarray(head_kernel), np.asarray(source.get_layer("head_logits").kernel))


def test_mismatched_layer_names_the_layer_and_shapes():
    source = build_pose_model(_hourglass(1))
    target = build_pose_model(ModelConfig(**dict(_hourglass(1).__dict__, num_joints=5)))
    with pytest.raises(ValueError, match=r"hourglass1/stack0_logits.*\(1, 1, 16, 5\).*\(1, 1, 16, 3\)"):
        warm_start.transfer_weights(source, target)


def test_loads_a_run_directory_by_its_config_and_latest_checkpoint(tmp_path):
    config = ExperimentConfig.from_dict({"model": dict(_hourglass(1).__dict__, num_joints=16)})
    source = build_pose_model(config.model)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text(config.to_yaml())
    tf.train.Checkpoint(model=source).write(str(tmp_path / "run" / "checkpoints" / "ckpt-7"))
    tf.train.CheckpointManager(tf.train.Checkpoint(model=source), str(tmp_path / "run" / "checkpoints"),
                               1).save(checkpoint_number=9)
    loaded, path = warm_start.load_source_model(str(tmp_path / "run"))
    assert path.endswith("ckpt-9")
    for mine, theirs in zip(loaded.weights, source.weights):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    _, prefix_path = warm_start.load_source_model(str(tmp_path / "run" / "checkpoints" / "ckpt-7"))
    assert prefix_path.endswith("ckpt-7")


@pytest.mark.parametrize("name", ["missing_run", "missing.keras"])
def test_missing_source_names_the_path(tmp_path, name):
    with pytest.raises(FileNotFoundError, match=name):
        warm_start.load_source_model(str(tmp_path / name))


def test_config_rejects_unknown_modules():
    with pytest.raises(ConfigError, match="init_checkpoint_modules"):
        TrainConfig(init_checkpoint_modules="head").validate()


def _trainer(model_dir, **train):
    config = TrainConfig.from_dict(dict(dict(log_every_steps=1, steps_per_epoch=100, checkpoint_every_steps=100,
                                             lr_schedule="constant", progress_bar="off"), **train))
    task = StaticTask(tiny_model, PoseObjective("I1", 2), tiny_dataset(4), 4)
    return Trainer(tf.distribute.OneDeviceStrategy("/cpu:0"), task, config, str(model_dir))


def test_trainer_starts_from_the_source_weights_and_a_resumed_run_ignores_them(tmp_path):
    source = tiny_model(seed=7)
    source.save(str(tmp_path / "source.keras"))
    trainer = _trainer(tmp_path / "run", total_steps=1, learning_rate=1e-12, init_checkpoint=str(
        tmp_path / "source.keras"))
    assert not np.allclose(np.asarray(trainer.model.get_layer("head").kernel),
                           np.asarray(source.get_layer("head").kernel))
    trainer.train()
    for mine, theirs in zip(trainer.model.weights, source.weights):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), atol=1e-6)
    resumed = _trainer(tmp_path / "run", total_steps=2, init_checkpoint=str(tmp_path / "missing.keras"))
    assert resumed.train()["step"] == 2  # its own checkpoint wins; the (missing) source is never read
