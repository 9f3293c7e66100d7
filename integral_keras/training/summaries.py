"""TensorBoard summaries of a run: `SummaryWriter` writes for the chief and nothing for the other workers."""
import os
from typing import Mapping

import numpy as np
import tensorflow as tf


class SummaryWriter:
    """Scalars and images under `<model_dir>/<name>` (e.g. `train`, `eval`); a no-op writer when not enabled."""

    def __init__(self, model_dir: str, name: str, enabled: bool = True):
        self.enabled = enabled
        if enabled:
            self._writer = tf.summary.create_file_writer(os.path.join(model_dir, name))
        else:
            self._writer = tf.summary.create_noop_writer()

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        with self._writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(name, value, step=step)

    def images(self, name: str, images: np.ndarray, step: int) -> None:
        """Writes `(N, H, W, 3)` uint8 images."""
        if len(images):
            with self._writer.as_default():
                tf.summary.image(name, np.asarray(images), step=step, max_outputs=len(images))

    def as_default(self):
        """Context in which other code (e.g. pipeline counters) writes `tf.summary` calls to this writer."""
        return self._writer.as_default()

    def flush(self) -> None:
        self._writer.flush()

