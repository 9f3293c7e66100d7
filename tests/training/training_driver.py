"""Runs the trainer on the tiny fixture model in a fresh process (distributed tests need their own TF runtime).

    python training_driver.py <mode> <model_dir> <output.npz> [options as JSON]

Modes:
  mirrored: two logical CPU devices, MirroredStrategy; saves the weights of every replica.
  single: OneDeviceStrategy on the CPU; saves the weights.
  multi_worker: MultiWorkerMirroredStrategy from TF_CONFIG; saves this worker's weights.
  resume: OneDeviceStrategy with a slowed-down input (so that it can be killed mid-run); saves the weights.
Options (JSON): total_steps, batch_size, checkpoint_every_steps, step_delay_s.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

MODE, MODEL_DIR, OUTPUT = sys.argv[1:4]
OPTIONS = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}

if MODE == "mirrored":
    # Must run before TensorFlow initialises its devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402
from absl import logging  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from training_fixtures import StaticTask, tiny_dataset, tiny_model  # noqa: E402

from integral_keras.configs import TrainConfig  # noqa: E402
from integral_keras.training.objective import PoseObjective  # noqa: E402
from integral_keras.training.trainer import Trainer  # noqa: E402


def strategy_for(mode):
    if mode == "mirrored":
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    if mode == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.OneDeviceStrategy("/cpu:0")


def main():
    logging.set_verbosity(logging.INFO)
    strategy = strategy_for(MODE)
    batch_size = OPTIONS.get("batch_size", 4)
    total_steps = OPTIONS.get("total_steps", 3)
    config = TrainConfig.from_dict(dict(
        total_steps=total_steps, steps_per_epoch=total_steps, log_every_steps=1, learning_rate=0.01,
        checkpoint_every_steps=OPTIONS.get("checkpoint_every_steps", total_steps), lr_schedule="constant"))
    dataset = tiny_dataset(batch_size)
    delay = OPTIONS.get("step_delay_s", 0.0)
    if delay:
        def slow_identity(images):
            time.sleep(delay)
            return images

        dataset = dataset.map(lambda images, labels: (
            tf.ensure_shape(tf.py_function(slow_identity, [images], tf.float32), images.shape), labels))
    if MODE == "multi_worker":
        options = tf.data.Options()
        # Every worker reads the same batches; each replica takes its share of the global batch.
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        dataset = dataset.with_options(options)
    task = StaticTask(tiny_model, PoseObjective("I1", 2, losses_after_pretrain="both"), dataset, batch_size)
    trainer = Trainer(strategy, task, config, MODEL_DIR)
    restored_path = trainer.checkpoints.latest()
    restored_step = int(restored_path.rsplit("-", 1)[1]) if restored_path else 0
    trainer.checkpoints.restore()  # so that "init" holds the weights training starts from
    arrays = {f"init{index}": np.asarray(variable) for index, variable in enumerate(trainer.model.trainable_variables)}
    trainer.train()
    arrays.update(final_step=np.array(trainer.step), restored_step=np.array(restored_step))
    for index, variable in enumerate(trainer.model.trainable_variables):
        replicas = strategy.experimental_local_results(variable.value)
        for replica, value in enumerate(replicas):
            arrays[f"w{index}_r{replica}"] = np.asarray(value)
    np.savez(OUTPUT, **arrays)


if __name__ == "__main__":
    main()
