"""Training-step speed of one experiment's network under each mixed-precision setting.

Builds the model of `--config_file` (+ `--params_override`) once per setting of `train.mixed_precision`
(`integral_keras.training.precision`) and times its training step: forward pass, a loss over every output, backward
pass and an Adam update, in one `tf.function` (as the trainer runs it). Models are warmed up, then timed in rounds
that interleave the settings in a rotating order, so load on a shared machine affects all alike. The table gives
the median images per second and the median over rounds of each setting's speed relative to `none` (float32).

The data is random (a batch of uniform images), so the figures measure the network alone, without the input
pipeline; `scripts/benchmark.py pipeline` measures that.

Usage:
  python scripts/benchmark.py training [--config_file=configs/demo_2d.yaml] [--params_override=...]
      [--precisions=none,bfloat16] [--batch_size=32] [--repeats=5] [--steps=5]
"""
import statistics
import time

import tensorflow as tf

from integral_keras.configs import TrainConfig
from integral_keras.configs.experiment import load_experiment
from integral_keras.models import build_pose_model
from integral_keras.modeling.pose_model import model_name
from integral_keras.training import precision
from integral_keras.training.trainer import build_optimizer

def build_step(model_config, setting):
    """A compiled training step of a fresh model built under `setting`; returns `(step_fn, resolved setting)`."""
    with precision.dtype_policy(setting) as resolved:
        model = build_pose_model(model_config)
    optimizer = build_optimizer(TrainConfig(learning_rate=1e-4, mixed_precision=resolved))

    @tf.function
    def step(images):
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            loss = tf.add_n([tf.reduce_mean(tf.square(tf.cast(value, tf.float32))) for value in outputs.values()])
            scaled = optimizer.scale_loss(loss) if resolved == "float16" else loss
        gradients = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    return step, resolved


def time_settings(model_config, settings, batch_size, repeats, steps, warmup):
    """`{setting: (median images/s, median speed relative to the first setting)}`, interleaved rounds."""
    height, width = model_config.input_hw
    images = tf.random.uniform((batch_size, height, width, 3), 0.0, 255.0, seed=0)
    steps_fns = {setting: build_step(model_config, setting)[0] for setting in settings}
    for step in steps_fns.values():
        for _ in range(warmup):
            step(images).numpy()
    seconds = {setting: [] for setting in settings}
    for round_index in range(repeats):
        order = settings[round_index % len(settings):] + settings[:round_index % len(settings)]
        for setting in order:
            start = time.perf_counter()
            for _ in range(steps):
                loss = steps_fns[setting](images)
            loss.numpy()
            seconds[setting].append((time.perf_counter() - start) / steps)
    reference = seconds[settings[0]]
    return {setting: (batch_size / statistics.median(values),
                      statistics.median(r / s for r, s in zip(reference, values)))
            for setting, values in seconds.items()}


def run(config_files=("configs/demo_2d.yaml",), params_override=(), precisions=("none", "bfloat16"),
        batch_size=None, repeats=5, steps=5, warmup=3) -> int:
    """Times the experiment's training step under each precision and prints the table (the flags of
    `scripts/benchmark.py training`; `batch_size` None: the config's `data.batch_size`).

    Raises:
      ValueError: an unknown precision setting (naming the valid ones).
    """
    config = load_experiment(list(config_files), list(params_override))
    batch_size = batch_size or config.data.batch_size
    settings = list(precisions)
    for setting in settings:
        if setting not in precision.SETTINGS:
            raise ValueError(f"--precisions: unknown {setting!r}; choose from {list(precision.SETTINGS)}")
    print(f"{model_name(config.model)}, input {config.model.input_hw}, batch {batch_size}; native bfloat16: "
          f"{precision.native_bfloat16() or 'no'}")
    results = time_settings(config.model, settings, batch_size, repeats, steps, warmup)
    print(f"| mixed_precision | images/s | speed vs {settings[0]} |")
    print("|---|---:|---:|")
    for setting, (rate, speedup) in results.items():
        print(f"| {setting} | {rate:.1f} | {speedup:.2f}x |")
    return 0
