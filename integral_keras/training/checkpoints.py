"""Checkpoints that survive a kill at any moment and follow Model Garden's multi-worker rule.

Every worker saves (saving may need every worker under `MultiWorkerMirroredStrategy`), but only the chief writes
to the model directory; the others write to a private temporary directory, deleted right after. Restoring reads
the chief's latest checkpoint on every worker. `tf.train.Checkpoint` writes the data files before it updates the
`checkpoint` index file, so a run killed mid-save restarts from the previous complete checkpoint. Such a kill leaves
the save's temporary folder (`ckpt-N_temp/`, or `ckpt-N_temp_<hex>/` in older TensorFlow) behind; the chief deletes
those at start-up (`remove_stale_temporaries`), before anything writes there.
"""
import os
import re
import shutil
from typing import Optional

from absl import logging
import tensorflow as tf

from integral_keras.training import distribution


def write_dir(model_dir: str, strategy: tf.distribute.Strategy) -> str:
    """`model_dir` for the chief; `model_dir/.worker_tmp/<task>_<id>` for the other workers."""
    if distribution.is_chief(strategy):
        return model_dir
    task_type, task_id = distribution.task_of(strategy)
    return os.path.join(model_dir, ".worker_tmp", f"{task_type}_{task_id}")


_TEMPORARY = re.compile(r"^.+_temp(_[0-9a-fA-F]+)?$")


def remove_stale_temporaries(directory: str):
    """Deletes the temporary folders / files of interrupted saves (`*_temp`, `*_temp_<hex>`) in `directory`.

    Returns:
      The paths removed (logged as warnings).
    """
    removed = []
    if not tf.io.gfile.isdir(directory):
        return removed
    for name in sorted(tf.io.gfile.listdir(directory)):
        name = name.rstrip("/")
        if not _TEMPORARY.match(name):
            continue
        path = os.path.join(directory, name)
        if tf.io.gfile.isdir(path):
            tf.io.gfile.rmtree(path)
        else:
            tf.io.gfile.remove(path)
        logging.warning("Removed %s, left by a checkpoint save that did not finish.", path)
        removed.append(path)
    return removed


class CheckpointSaver:
    """Saves and restores a `tf.train.Checkpoint` of the given trackables.

    Args:
      model_dir: the run's directory (checkpoints go to its `checkpoints/` folder).
      strategy: the run's strategy (decides who writes where).
      step: the global step variable; checkpoints are numbered by it.
      max_to_keep: checkpoints kept.
      **trackables: objects to save (model, optimizer, step, schedule state ...).
    """

    def __init__(self, model_dir: str, strategy: tf.distribute.Strategy, step: tf.Variable, max_to_keep: int = 3,
                 **trackables):
        self.directory = os.path.join(model_dir, "checkpoints")
        self.is_chief = distribution.is_chief(strategy)
        self.step = step
        self.checkpoint = tf.train.Checkpoint(step=step, **trackables)
        self._write_dir = os.path.join(write_dir(model_dir, strategy), "checkpoints")
        if self.is_chief:
            remove_stale_temporaries(self.directory)
        self.manager = tf.train.CheckpointManager(self.checkpoint, self._write_dir, max_to_keep=max_to_keep)

    def latest(self) -> Optional[str]:
        """Path prefix of the chief's latest checkpoint, or None."""
        return tf.train.latest_checkpoint(self.directory)

    def restore(self, path: Optional[str] = None) -> Optional[str]:
        """Restores `path` (default: the latest checkpoint) if there is one; returns the path restored."""
        path = path or self.latest()
        if path is None:
            logging.info("No checkpoint in %s: training starts from scratch.", self.directory)
            return None
        self.checkpoint.restore(path).assert_existing_objects_matched()
        logging.info("Restored %s (step %d).", path, int(self.step.numpy()))
        return path

    def save(self) -> str:
        """Writes a checkpoint numbered by the current step; returns its path (the chief's)."""
        step = int(self.step.numpy())
        path = self.manager.save(checkpoint_number=step)
        if not self.is_chief:
            shutil.rmtree(self._write_dir, ignore_errors=True)
            return os.path.join(self.directory, os.path.basename(path))
        logging.info("Saved checkpoint %s.", path)
        return path
