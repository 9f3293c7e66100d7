"""Learning-rate schedules driven by the trainer's global step and its validation loss.

The trainer sets the optimiser's learning rate from `LearningRateController.value(step)` before every loop of
steps and breaks its loops at `next_change(step)`, so a `step` schedule switches at exactly the configured step
(independently of the optimiser's own iteration counter, which loss scaling may hold back). The `plateau`
schedule (Keras' `ReduceLROnPlateau` behaviour) is updated with each validation loss by `on_validation`; its state
lives in variables so that it is checkpointed with the model.
"""
import bisect
import math
from typing import Optional

import tensorflow as tf


class LearningRateController(tf.Module):
    """The learning rate of one run.

    Args:
      base_learning_rate: rate at step 0.
      schedule: `constant`, `step` or `plateau`.
      boundaries: `step` schedule: steps at which the rate switches to the next of `values`.
      values: `step` schedule: rates after each boundary.
      plateau_factor: `plateau`: multiplier applied on a plateau.
      plateau_patience: `plateau`: evaluations without improvement before the rate drops.
      plateau_min_delta: `plateau`: an improvement must beat the best loss by more than this.
      min_learning_rate: `plateau`: the rate never drops below this.
    """

    def __init__(self, base_learning_rate, schedule="constant", boundaries=(), values=(), plateau_factor=0.1,
                 plateau_patience=2, plateau_min_delta=0.0, min_learning_rate=1e-5):
        super().__init__(name="learning_rate_controller")
        if len(boundaries) != len(values):
            raise ValueError(f"{len(boundaries)} boundaries but {len(values)} values.")
        self.base_learning_rate = float(base_learning_rate)
        self.schedule = schedule
        self.boundaries = tuple(int(b) for b in boundaries)
        self.values = tuple(float(v) for v in values)
        self.plateau_factor = float(plateau_factor)
        self.plateau_patience = int(plateau_patience)
        self.plateau_min_delta = float(plateau_min_delta)
        self.min_learning_rate = float(min_learning_rate)
        with tf.init_scope():
            self.plateau_rate = tf.Variable(self.base_learning_rate, trainable=False, dtype=tf.float64,
                                            name="plateau_rate")
            self.best_loss = tf.Variable(math.inf, trainable=False, dtype=tf.float64, name="best_loss")
            self.evaluations_without_improvement = tf.Variable(0, trainable=False, dtype=tf.int64,
                                                               name="evaluations_without_improvement")

    @classmethod
    def from_config(cls, train_config):
        """Builds the controller of a `TrainConfig`."""
        return cls(train_config.learning_rate, train_config.lr_schedule, train_config.lr_boundaries,
                   train_config.lr_values, train_config.plateau_factor, train_config.plateau_patience,
                   train_config.plateau_min_delta, train_config.min_learning_rate)

    def value(self, step: int) -> float:
        """The learning rate for optimiser step `step` (0-based)."""
        if self.schedule == "step":
            index = bisect.bisect_right(self.boundaries, step)
            return self.base_learning_rate if index == 0 else self.values[index - 1]
        if self.schedule == "plateau":
            return float(self.plateau_rate.numpy())
        return self.base_learning_rate

    def next_change(self, step: int) -> Optional[int]:
        """The first step after `step` at which `value` changes by schedule, or None."""
        if self.schedule != "step":
            return None
        index = bisect.bisect_right(self.boundaries, step)
        return self.boundaries[index] if index < len(self.boundaries) else None

    def on_validation(self, loss: float) -> bool:
        """Records a validation loss; returns True when the `plateau` schedule dropped the rate."""
        if self.schedule != "plateau" or not math.isfinite(loss):
            return False
        if loss < float(self.best_loss.numpy()) - self.plateau_min_delta:
            self.best_loss.assign(loss)
            self.evaluations_without_improvement.assign(0)
            return False
        self.evaluations_without_improvement.assign_add(1)
        if int(self.evaluations_without_improvement.numpy()) < self.plateau_patience:
            return False
        self.evaluations_without_improvement.assign(0)
        current = float(self.plateau_rate.numpy())
        dropped = max(current * self.plateau_factor, self.min_learning_rate)
        self.plateau_rate.assign(dropped)
        return dropped < current
