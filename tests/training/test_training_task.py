"""`PoseTask`: one codec from the config, and each part the trainer asks for built around it."""
import os

import numpy as np
import tensorflow as tf

from integral_keras.configs.experiment import load_experiment
from integral_keras.data.synthetic import write_dataset
from integral_keras.training import distribution
from integral_keras.training.objective import PoseObjective
from integral_keras.training.runner import build_trainer
from integral_keras.training.task import PoseTask

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _config(tmp_path, *overrides):
    write_dataset(str(tmp_path / "h36m"), num_train=4, num_val=2, image_size=96, skeleton="h36m", num_shards=1)
    write_dataset(str(tmp_path / "mpii"), num_train=4, num_val=0, image_size=96, skeleton="mpii", num_shards=1,
                  with_3d=False)
    return load_experiment([os.path.join(ROOT, "configs", "synthetic_3d.yaml")], [
        f"data.train_file_pattern={tmp_path}/h36m/train-*", f"data.val_file_pattern={tmp_path}/h36m/val-*",
        f"data.mix_2d_file_pattern={tmp_path}/mpii/train-*", "data.mix_2d_skeleton=mpii", "data.batch_size=2",
        "data.eval_batch_size=2", "data.shuffle_buffer=8", "model.backbone=resnet18", "model.input_size=64",
        "model.heatmap_size=16", "model.deconv_filters=8", "model.depth=4", "model.depth_range_mm=1500",
        "train.heatmap_pretrain_steps=0", *overrides])


def test_pose_task_builds_each_part_around_one_codec(tmp_path):
    config = _config(tmp_path)
    task = PoseTask(config)
    assert task.codec.depth_range_mm == 1500.0 and task.codec.depth == 4
    assert task.global_batch_size == 2

    parser = task.build_parser()
    assert parser is task.build_parser()  # one parser for every pipeline of the run's records
    assert parser.codec is task.codec
    assert task.build_parser("mpii").codec is task.codec  # the Strategy 2 mix_2d targets share it

    images, labels = next(iter(task.build_train_dataset()))
    assert images.shape == (2, 64, 64, 3)
    assert labels["joints"].shape == (2, config.model.num_joints, 6)
    assert task.train_counters is not None

    val_images, val_labels = next(iter(task.build_val_dataset()))
    assert val_images.shape == (2, 64, 64, 3) and set(val_labels) == set(labels)
    _, meta = next(iter(task.build_eval_dataset()))
    assert meta["crop_to_image"].shape == (2, 3, 3)

    objective = task.build_objective()
    assert isinstance(objective, PoseObjective) and objective.method == config.model.method
    evaluator = task.build_evaluator()
    assert evaluator.codec is task.codec and evaluator.root_joint == config.eval.root_joint

    model = task.build_model()
    outputs = model(images)
    assert outputs["joints"].shape == (2, config.model.num_joints, 3)


def test_pose_task_without_validation_records_builds_no_validation_data(tmp_path):
    task = PoseTask(_config(tmp_path, "data.val_file_pattern=[]"))
    assert task.build_val_dataset() is None and task.build_eval_dataset() is None


def test_build_trainer_takes_every_part_from_the_task(tmp_path):
    config = _config(tmp_path, "eval.max_batches=1", "eval.num_summary_images=1")
    trainer = build_trainer(config, str(tmp_path / "run"), distribution.get_strategy("one_device"))
    assert isinstance(trainer.task, PoseTask)
    assert trainer.evaluator.codec is trainer.task.codec
    assert trainer.global_batch_size == 2 and trainer.pipeline_counters is trainer.task.train_counters
    assert (trainer.max_eval_batches, trainer.num_summary_images) == (1, 1)
    assert trainer.model.output["joints"].shape[-1] == 3
    joints = trainer.evaluator.joints_from_outputs(trainer.model(tf.zeros((1, 64, 64, 3))))
    assert np.asarray(joints).shape == (1, config.model.num_joints, 3)
