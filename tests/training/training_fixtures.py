"""Tiny models and in-memory datasets following the packed-target contract, shared by the training tests."""
import keras
import numpy as np
import tensorflow as tf

from integral_keras.layers import IntegralRegression
from integral_keras.training.task import Task

NUM_JOINTS = 2
IMAGE_SIZE = 8
HEATMAP_SIZE = 4


def tiny_model(num_joints=NUM_JOINTS, seed=1):
    """Image (N, 8, 8, 3) -> {"heatmaps": (N, 4, 4, K) logits, "joints": (N, K, 2) integral}."""
    images = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
    scaled = keras.layers.Rescaling(1.0 / 255.0)(images)
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                                   kernel_initializer=keras.initializers.GlorotUniform(seed), name="conv")(scaled)
    features = keras.layers.MaxPooling2D(2)(features)
    heatmaps = keras.layers.Conv2D(num_joints, 1, kernel_initializer=keras.initializers.GlorotUniform(seed + 1),
                                   name="head")(features)
    joints = IntegralRegression(num_joints, name="integral")(heatmaps)
    return keras.Model(images, {"heatmaps": heatmaps, "joints": joints})


def tiny_arrays(num_examples=16, num_joints=NUM_JOINTS, seed=0):
    """Random images and packed labels: heatmaps (N, 4, 4, 2K) (targets + weights), joints (N, K, 4)."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (num_examples, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)
    joints = rng.uniform(0, HEATMAP_SIZE - 1, (num_examples, num_joints, 2)).astype(np.float32)
    weights = (rng.uniform(size=(num_examples, num_joints, 1)) > 0.2).astype(np.float32)
    grid = np.arange(HEATMAP_SIZE, dtype=np.float32)
    gauss = np.exp(-((grid[None, None, None, :] - joints[..., 0, None, None]) ** 2
                     + (grid[None, None, :, None] - joints[..., 1, None, None]) ** 2) / 2.0)  # (N, K, h, w)
    heatmap_target = np.transpose(gauss, (0, 2, 3, 1))
    heatmap_weight = np.broadcast_to(weights[:, None, None, :, 0], heatmap_target.shape)
    labels = {
        "heatmaps": np.concatenate([heatmap_target, heatmap_weight], axis=-1).astype(np.float32),
        "joints": np.concatenate([joints, np.repeat(weights, 2, axis=-1)], axis=-1).astype(np.float32),
    }
    return images, labels


def tiny_dataset(batch_size, num_examples=16, seed=0, repeat=True):
    images, labels = tiny_arrays(num_examples, seed=seed)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if repeat:
        dataset = dataset.repeat()
    return dataset.batch(batch_size, drop_remainder=repeat)


class StaticTask(Task):
    """A `Task` of ready-made parts: a model function, an objective and datasets (the trainer tests' fixtures)."""

    def __init__(self, model_fn, objective, train_dataset, global_batch_size, val_dataset=None, eval_dataset=None,
                 evaluator=None):
        self.model_fn, self.objective = model_fn, objective
        self.train_dataset, self.global_batch_size = train_dataset, global_batch_size
        self.val_dataset, self.eval_dataset, self.evaluator = val_dataset, eval_dataset, evaluator

    def build_model(self):
        return self.model_fn()

    def build_objective(self):
        return self.objective

    def build_train_dataset(self):
        return self.train_dataset

    def build_val_dataset(self):
        return self.val_dataset

    def build_eval_dataset(self):
        return self.eval_dataset

    def build_evaluator(self):
        return self.evaluator
