"""What an evaluation leaves behind: `metrics.json`, a markdown table, PCK-curve plots, TensorBoard scalars, and
the comparison plot of several runs (the paper's Fig. 2)."""
import os
from typing import Dict, Mapping, Optional, Sequence

from integral_keras.evaluation import benchmark_metrics
from integral_keras.evaluation import plots
from integral_keras.evaluation import report


def write_outputs(metrics: Mapping, output_dir, label: str = "run", summary_writer=None, step: int = 0) -> Dict:
    """Writes `metrics.json`, `metrics.md` and, for PCK benchmarks, `pck_curve.png` to `output_dir`.

    Args:
      metrics: `evaluate_predictions` output.
      output_dir: output folder (created).
      label: the run's name in the table and the plot legend.
      summary_writer: optional TensorBoard writer (`tf.summary.create_file_writer` or the trainer's
        `SummaryWriter`): every scalar metric is written as `benchmark/<dataset>/<name>` at `step`.
      step: the summary step.

    Returns:
      dict of the paths written (`json`, `markdown`, and `plot` when drawn).
    """
    benchmark = benchmark_metrics.get_benchmark(metrics["dataset"])
    dataset = benchmark.name
    output_dir = os.fspath(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    paths = {"json": report.write_metrics_json(metrics, os.path.join(output_dir, "metrics.json")),
             "markdown": os.path.join(output_dir, "metrics.md")}
    table = report.markdown_table({label: metrics}, columns=benchmark.table_columns)
    if benchmark.detail_table is not None:
        table += "\n" + benchmark.detail_table(metrics)
    with open(paths["markdown"], "w", encoding="utf-8") as f:
        f.write(table)
    if "curve" in metrics:
        paths["plot"] = plots.plot_pck_curves({label: metrics}, os.path.join(output_dir, "pck_curve.png"),
                                              benchmark.curve_title)
    if summary_writer is not None:
        write_scalars(metrics, summary_writer, step, prefix=f"benchmark/{dataset}/")
    return paths


def write_scalars(metrics: Mapping, summary_writer, step: int, prefix: str = "benchmark/") -> None:
    """Writes every scalar of `metrics` (nested keys joined by `/`) to a TensorBoard writer."""
    import tensorflow as tf

    with summary_writer.as_default():
        for name, value in report.scalar_metrics(metrics, prefix=prefix).items():
            tf.summary.scalar(name, value, step=step)
    summary_writer.flush()


def compare_runs(metrics_files: Sequence[str], path, labels: Optional[Sequence[str]] = None) -> str:
    """Plots the PCK curves of several runs' `metrics.json` in one PNG (the paper's Fig. 2).

    Args:
      metrics_files: `metrics.json` paths written by `write_outputs` (MPII or synthetic runs).
      path: output PNG.
      labels: legend labels; default: each file's folder name.

    Returns:
      the path written.
    """
    if labels is not None and len(labels) != len(metrics_files):
        raise ValueError(f"{len(labels)} labels for {len(metrics_files)} metrics files")
    runs = {}
    for index, metrics_file in enumerate(metrics_files):
        metrics = report.read_metrics_json(metrics_file)
        if "curve" not in metrics:
            raise KeyError(f"{metrics_file} has no PCK curve (dataset {metrics.get('dataset')!r}); "
                           f"--compare needs MPII or synthetic runs")
        label = labels[index] if labels else os.path.basename(os.path.dirname(os.path.abspath(metrics_file)))
        runs[label] = metrics
    datasets = {metrics.get("dataset") for metrics in runs.values()}
    title = benchmark_metrics.BENCHMARKS["mpii"].curve_title if datasets == {"mpii"} else "PCK"
    return plots.plot_pck_curves(runs, path, title=title)
