"""Training-step speed of one experiment's network under each mixed-precision setting, and against PyTorch.

Builds the model of `--config_file` (+ `--params_override`) once per setting of `train.mixed_precision`
(`integral_keras.training.precision`) and times its training step: forward pass, a loss over every output, backward
pass and an Adam update, in one `tf.function` (as the trainer runs it). Models are warmed up, then timed in rounds
that interleave the settings in a rotating order, so load on a shared machine affects all alike. The table gives
the median images per second and the median over rounds of each setting's speed relative to `none` (float32).

With `reference="torch"` the same network built in PyTorch (`torch_reference.py`: same layers, same loss, Adam at
the same learning rate, eager; float32, or bfloat16 under `torch.autocast` with `torch_precision="bfloat16"`) is
timed in the same rounds on the same batch, with as many threads as TensorFlow uses, and a second table gives each
round's images per second of both sides and their ratio. Every run
first prints the machine (CPU model, vector ISA) and the thread / oneDNN settings (`environment.py`).

The data is random (a batch of uniform images), so the figures measure the network alone, without the input
pipeline; `scripts/benchmark.py pipeline` measures that.

Usage:
  python scripts/benchmark.py training [--config_file=configs/demo_2d.yaml] [--params_override=...]
      [--precisions=none,bfloat16] [--batch_size=32] [--repeats=5] [--steps=5] [--reference=none|torch]
      [--torch_precision=float32|bfloat16]
"""
import functools
import statistics
import time
from typing import Callable, Dict, List, Sequence

import tensorflow as tf

from integral_keras.apps.benchmarks import environment, torch_reference
from integral_keras.configs import TrainConfig
from integral_keras.configs.experiment import load_experiment
from integral_keras.models import build_pose_model
from integral_keras.modeling.pose_model import model_name
from integral_keras.training import precision
from integral_keras.training.trainer import build_optimizer

REFERENCES = ("none", "torch")
TORCH = "torch"
DEFAULT_LEARNING_RATE = 1e-4


def build_step(model_config, setting, learning_rate=DEFAULT_LEARNING_RATE):
    """A compiled training step of a fresh model built under `setting`; returns `(step_fn, resolved setting)`.

    `step_fn(images)` takes `(N, H, W, 3)` float32 images in [0, 255] and returns the float32 loss: the sum over the
    model's outputs of their mean square (`torch_reference.benchmark_loss` is the same loss).
    """
    with precision.dtype_policy(setting) as resolved:
        model = build_pose_model(model_config)
    optimizer = build_optimizer(TrainConfig(learning_rate=learning_rate, mixed_precision=resolved))

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


def time_interleaved(step_fns: Dict[str, Callable[[], object]], repeats: int, steps: int,
                     warmup: int) -> Dict[str, List[float]]:
    """Seconds per step of every function, per round: `{label: [seconds, one per round]}`.

    Each function runs `warmup` untimed calls, then `repeats` rounds of `steps` calls each; round `r` starts with
    the function `r % len(step_fns)` of `step_fns`' order (A B, B A, A B, ... for two), and each function's last
    result is read back (`float`) before its clock stops.

    Args:
      step_fns: label -> a function of no arguments that runs one training step and returns its scalar loss.
      repeats, steps, warmup: rounds, timed calls per function and round, untimed calls first.
    """
    labels = list(step_fns)
    for step in step_fns.values():
        for _ in range(warmup):
            float(step())
    seconds = {label: [] for label in labels}
    for round_index in range(repeats):
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            start = time.perf_counter()
            for _ in range(steps):
                loss = step_fns[label]()
            float(loss)
            seconds[label].append((time.perf_counter() - start) / steps)
    return seconds


def round_rates(model_config, settings: Sequence[str], batch_size: int, repeats: int, steps: int, warmup: int,
                learning_rate: float = DEFAULT_LEARNING_RATE, reference=None) -> Dict[str, List[float]]:
    """Images per second of each setting's training step, one value per interleaved round.

    Args:
      model_config: the network.
      settings: `train.mixed_precision` settings, each timed as its own model.
      batch_size, repeats, steps, warmup: as `time_interleaved`; one random uniform batch in [0, 255] feeds all.
      learning_rate: Adam's learning rate on every side.
      reference: None, or `torch_reference.build_train_step` options (`{"channels_last": bool, "precision":
        "float32"}`): the PyTorch twin is timed too,
        under the label `torch`, on the same batch.

    Returns:
      `{label: [images/s per round]}` for every setting (and `torch`), in that order.
    """
    height, width = model_config.input_hw
    images = tf.random.uniform((batch_size, height, width, 3), 0.0, 255.0, seed=0)
    step_fns = {setting: functools.partial(build_step(model_config, setting, learning_rate)[0], images)
                for setting in settings}
    if reference is not None:
        step_fns[TORCH] = torch_reference.build_train_step(model_config, images.numpy(), learning_rate, **reference)
    seconds = time_interleaved(step_fns, repeats, steps, warmup)
    return {label: [batch_size / value for value in values] for label, values in seconds.items()}


def relative_medians(rates: Dict[str, List[float]], reference: str) -> Dict[str, float]:
    """The median over rounds of each label's speed relative to `reference`'s in the same round."""
    return {label: statistics.median(rate / base for rate, base in zip(values, rates[reference]))
            for label, values in rates.items()}


def time_settings(model_config, settings, batch_size, repeats, steps, warmup):
    """`{setting: (median images/s, median speed relative to the first setting)}`, interleaved rounds."""
    rates = round_rates(model_config, settings, batch_size, repeats, steps, warmup)
    speedups = relative_medians(rates, settings[0])
    return {setting: (statistics.median(values), speedups[setting]) for setting, values in rates.items()}


def precision_table(rates: Dict[str, List[float]], settings: Sequence[str]) -> str:
    """Markdown: each setting's median images/s and its median speed relative to `settings[0]`."""
    speedups = relative_medians(rates, settings[0])
    lines = [f"| mixed_precision | images/s | speed vs {settings[0]} |", "|---|---:|---:|"]
    lines += [f"| {setting} | {statistics.median(rates[setting]):.2f} | {speedups[setting]:.2f}x |"
              for setting in settings]
    return "\n".join(lines)


def reference_table(rates: Dict[str, List[float]], settings: Sequence[str]) -> str:
    """Markdown: per round, every side's images/s and each setting's ratio to `torch`; a last row of medians
    (the ratio's median is over the rounds' ratios)."""
    columns = [f"{label} img/s" for label in rates] + [f"{setting} / torch" for setting in settings]
    lines = ["| round | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for index in range(len(rates[TORCH])):
        cells = [f"{values[index]:.2f}" for values in rates.values()]
        cells += [f"{rates[setting][index] / rates[TORCH][index]:.2f}x" for setting in settings]
        lines.append(f"| {index + 1} | " + " | ".join(cells) + " |")
    ratios = relative_medians(rates, TORCH)
    cells = [f"{statistics.median(values):.2f}" for values in rates.values()]
    cells += [f"{ratios[setting]:.2f}x" for setting in settings]
    lines.append("| median | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(config_files=("configs/demo_2d.yaml",), params_override=(), precisions=("none", "bfloat16"),
        batch_size=None, repeats=5, steps=5, warmup=3, reference="none", torch_channels_last=True,
        torch_precision="float32") -> int:
    """Times the experiment's training step under each precision (and PyTorch's) and prints the tables (the flags
    of `scripts/benchmark.py training`; `batch_size` None: the config's `data.batch_size`).

    Args:
      reference: `none`, or `torch`: also time the PyTorch twin (`torch_reference.py`) in the same rounds.
      torch_channels_last: run the PyTorch side in the `channels_last` memory format.
      torch_precision: the PyTorch side's precision (`torch_reference.PRECISIONS`): compare ours in
        `mixed_precision=bfloat16` with `bfloat16` (autocast) there.

    Raises:
      ValueError: an unknown precision setting or reference (naming the valid ones), `bfloat16` where it cannot
        run (`precision.check_bfloat16_runs`), or a network the PyTorch reference cannot build (naming the setting).
      ImportError: `reference="torch"` without torch installed.
    """
    config = load_experiment(list(config_files), list(params_override))
    batch_size = batch_size or config.data.batch_size
    settings = list(precisions)
    for setting in settings:
        if setting not in precision.SETTINGS:
            raise ValueError(f"--precisions: unknown {setting!r}; choose from {list(precision.SETTINGS)}")
    if reference not in REFERENCES:
        raise ValueError(f"--reference: unknown {reference!r}; choose from {list(REFERENCES)}")
    if torch_precision not in torch_reference.PRECISIONS:
        raise ValueError(f"--torch_precision: unknown {torch_precision!r}; "
                         f"choose from {list(torch_reference.PRECISIONS)}")
    if "bfloat16" in settings:
        precision.check_bfloat16_runs()  # before any model is built
    torch_rows, torch_options = [], None
    if reference == TORCH:
        torch_reference.check_supported(config.model)
        threads = environment.tensorflow_threads()[0] or environment.usable_cores()
        torch_rows = torch_reference.configure_threads(threads)
        torch_rows.append(("torch memory format", "channels_last" if torch_channels_last else "contiguous (NCHW)"))
        torch_rows.append(("torch precision", "bfloat16 (torch.autocast)" if torch_precision == "bfloat16"
                           else "float32"))
        torch_options = {"channels_last": torch_channels_last, "precision": torch_precision}
    print(f"{model_name(config.model)}, input {config.model.input_hw}, batch {batch_size}, Adam "
          f"{config.train.learning_rate:g}; native bfloat16: {precision.native_bfloat16() or 'no'}")
    print(environment.markdown_rows(environment.environment_rows(environment.cpu_info(), torch_rows)))
    rates = round_rates(config.model, settings, batch_size, repeats, steps, warmup, config.train.learning_rate,
                        torch_options)
    print()
    print(precision_table(rates, settings))
    if torch_options is not None:
        print()
        print(reference_table(rates, settings))
    return 0
