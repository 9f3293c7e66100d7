"""TensorBoard summaries of a run: `SummaryWriter` writes for the chief and nothing for the other workers.

A run resumed from a checkpoint retrains the steps between that checkpoint and where the killed run stopped, which
it had already logged. `SummaryWriter` reads the last step of each tag in the event files already in its folder at
start-up and does not write that tag again for a step up to it, so no step is logged twice (TensorBoard keeps the
first run's values of those steps). New tags at an old step (e.g. `--mode=eval` benchmark results) are written.
"""
import glob
import os
from typing import Dict, Mapping

import numpy as np
import tensorflow as tf


class SummaryWriter:
    """Scalars and images under `<model_dir>/<name>` (e.g. `train`, `eval`); a no-op writer when not enabled."""

    def __init__(self, model_dir: str, name: str, enabled: bool = True):
        self.enabled = enabled
        self.logged_through = {}
        if enabled:
            directory = os.path.join(model_dir, name)
            self.logged_through = last_logged_steps(directory)
            self._writer = tf.summary.create_file_writer(directory)
        else:
            self._writer = tf.summary.create_noop_writer()

    def should_write(self, step: int, tag: str) -> bool:
        """False when an earlier run of this model directory already logged `tag` at `step` or later."""
        return int(step) > self.logged_through.get(tag, -1)

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        with self._writer.as_default():
            for name, value in values.items():
                if self.should_write(step, name):
                    tf.summary.scalar(name, value, step=step)

    def images(self, name: str, images: np.ndarray, step: int) -> None:
        """Writes `(N, H, W, 3)` uint8 images."""
        if len(images) and self.should_write(step, name):
            with self._writer.as_default():
                tf.summary.image(name, np.asarray(images), step=step, max_outputs=len(images))

    def as_default(self):
        """Context in which other code (e.g. pipeline counters) writes `tf.summary` calls to this writer."""
        return self._writer.as_default()

    def flush(self) -> None:
        self._writer.flush()



def last_logged_steps(directory: str) -> Dict[str, int]:
    """`{tag: largest step}` of the summaries in the event files of `directory` (empty when there are none)."""
    last = {}
    for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
        try:
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    last[value.tag] = max(last.get(value.tag, -1), int(event.step))
        except tf.errors.DataLossError:  # a file cut by the kill: its complete events were read
            continue
    return last
