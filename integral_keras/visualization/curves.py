"""Training curves from a run's TensorBoard summaries.

The trainer writes its logged training values under `<model_dir>/train` (`loss`, `loss/<term>`, `learning_rate`,
`images_per_second`, ... every `train.log_every_steps`). `read_scalars` reads them back from the event files and
`plot_loss_curves` draws the losses of several runs, one axes per run (2D and 3D losses differ by orders of
magnitude), on a log scale. Matplotlib's object API with the Agg canvas.
"""
import glob
import os
from typing import Dict, Mapping, Sequence, Tuple

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter
import numpy as np


def read_scalars(event_dir: str) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Every scalar summary in the event files of `event_dir` (e.g. `<model_dir>/train`).

    Args:
      event_dir: folder holding `events.out.tfevents.*` files (not searched recursively).

    Returns:
      tag -> `(steps (N,) int64, values (N,) float64)`, sorted by step; a step written twice (a resumed run) keeps
      its last value.

    Raises:
      FileNotFoundError: no event file in `event_dir`.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    files = sorted(glob.glob(os.path.join(event_dir, "events.out.tfevents.*")))
    if not files:
        raise FileNotFoundError(f"No TensorBoard event files in {event_dir}")
    series: Dict[str, Dict[int, float]] = {}
    for path in files:
        for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
            event = tf.compat.v1.Event.FromString(record)
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    number = float(value.simple_value)
                elif value.HasField("tensor") and not value.tensor.tensor_shape.dim:
                    number = float(tf.make_ndarray(value.tensor))
                else:
                    continue  # images, histograms, non-scalar tensors
                series.setdefault(value.tag, {})[int(event.step)] = number
    result = {}
    for tag, points in series.items():
        steps = np.array(sorted(points), np.int64)
        result[tag] = (steps, np.array([points[step] for step in steps], np.float64))
    return result


def loss_tags(scalars: Mapping[str, Tuple[np.ndarray, np.ndarray]]) -> Sequence[str]:
    """The loss tags of `read_scalars` output: `loss` first, then the `loss/<term>` tags in name order."""
    terms = sorted(tag for tag in scalars if tag.startswith("loss/"))
    return (["loss"] if "loss" in scalars else []) + terms


def plot_loss_curves(runs: Mapping[str, Mapping[str, Tuple[np.ndarray, np.ndarray]]], path,
                     title: str = "Training loss") -> str:
    """Draws the training losses of each run (total and per term) against the step and saves a PNG.

    Args:
      runs: run label -> `read_scalars` output of its `<model_dir>/train` folder.
      path: output `.png` (parent folders are created).
      title: figure title.

    Returns:
      the path written.

    Raises:
      ValueError: no run, or a run without any `loss` / `loss/<term>` scalar.
    """
    if not runs:
        raise ValueError("plot_loss_curves needs at least one run")
    figure = Figure(figsize=(4.2 * len(runs), 3.6), dpi=100)
    FigureCanvasAgg(figure)
    for index, (label, scalars) in enumerate(runs.items()):
        tags = loss_tags(scalars)
        if not tags:
            raise ValueError(f"Run {label!r} has no loss scalars (tags: {sorted(scalars)})")
        axes = figure.add_subplot(1, len(runs), index + 1)
        for tag in tags:
            steps, values = scalars[tag]
            positive = values > 0
            axes.plot(steps[positive], values[positive], linewidth=2.0 if tag == "loss" else 1.2,
                      label="total" if tag == "loss" else tag[len("loss/"):], marker="." if len(steps) < 20 else None)
        axes.set_yscale("log")
        # Plain numbers (85, 0.02), not 8.5x10^1; minor ticks labelled only when the range spans few decades.
        axes.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
        axes.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
        axes.set_xlabel("step")
        axes.set_ylabel("training loss (log)" if index == 0 else "")
        axes.set_title(label, fontsize=9)
        axes.grid(True, alpha=0.3, which="both")
        axes.legend(fontsize="x-small", loc="upper right")
    figure.suptitle(title)
    figure.tight_layout()
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, format="png")
    return path
