"""Benchmark protocols end to end: run a predictor over an evaluation dataset and compute the benchmark's metrics.

    predictions = collect_predictions(model_predict_fn(model, config.model), dataset, flip_permutation=...)
    metrics = evaluate_predictions(predictions, "mpii", gt_valid_mat="gt_valid.mat")
    write_outputs(metrics, "/tmp/eval", label="I1")

`run_benchmark` does all three on an experiment's validation records. The pieces have their own modules, whose
names this module re-exports:

- `evaluation.predictions`: `collect_predictions` (the flip-test loop), `Predictions`, `eval_dataset`;
- `evaluation.benchmark_metrics`: the dataset -> protocol registry (`BENCHMARKS`) and each protocol's metrics;
- `evaluation.run_outputs`: `metrics.json`, the markdown table, the PCK-curve plots, `compare_runs`;
- the predictor adapters (a Keras model, a SavedModel, a `.tflite` file) are `integral_keras.serving.predict_fns`.

This module imports TensorFlow only inside the functions that build datasets.
"""
from typing import Dict, Optional, Sequence

from absl import logging

from integral_keras.core import skeletons
from integral_keras.evaluation import report
from integral_keras.evaluation.benchmark_metrics import BENCHMARKS  # noqa: F401
from integral_keras.evaluation.benchmark_metrics import DATASET_ALIASES  # noqa: F401
from integral_keras.evaluation.benchmark_metrics import DATASETS  # noqa: F401
from integral_keras.evaluation.benchmark_metrics import TABLE_COLUMNS  # noqa: F401
from integral_keras.evaluation.benchmark_metrics import coco_metrics  # noqa: F401
from integral_keras.evaluation.benchmark_metrics import dataset_of_records
from integral_keras.evaluation.benchmark_metrics import evaluate_predictions
from integral_keras.evaluation.benchmark_metrics import h36m_metrics  # noqa: F401
from integral_keras.evaluation.benchmark_metrics import mpii_metrics  # noqa: F401
from integral_keras.evaluation.benchmark_metrics import resolve_dataset_name
from integral_keras.evaluation.benchmark_metrics import synthetic_metrics  # noqa: F401
from integral_keras.evaluation.predictions import PredictFn
from integral_keras.evaluation.predictions import Predictions  # noqa: F401
from integral_keras.evaluation.predictions import collect_predictions
from integral_keras.evaluation.predictions import eval_dataset
from integral_keras.evaluation.predictions import image_joints  # noqa: F401
from integral_keras.evaluation.run_outputs import compare_runs  # noqa: F401
from integral_keras.evaluation.run_outputs import write_outputs
from integral_keras.evaluation.run_outputs import write_scalars


def run_benchmark(config, predict_fn: PredictFn, file_pattern=None, dataset: Optional[str] = None,
                  flip_test: bool = False, gt_valid_mat=None, coco_gt_json=None, output_dir=None,
                  label: str = "run", summary_writer=None, step: int = 0, max_batches: Optional[int] = None,
                  h36m_protocols: Sequence[int] = (1, 2)) -> Dict:
    """Evaluates a predictor on an experiment's validation records with the benchmark's protocol.

    Args:
      config: an `ExperimentConfig` (model sizes and method, data skeleton and batch size).
      predict_fn: see `collect_predictions` (e.g. `model_predict_fn(model, config.model)`).
      file_pattern: TFRecord glob(s); default `config.data.val_file_pattern`.
      dataset: benchmark name; default: the records' `dataset` feature.
      flip_test: average with the predictions of the mirrored crops.
      gt_valid_mat, coco_gt_json: see `evaluate_predictions`.
      output_dir: where `write_outputs` writes (and the COCO results JSON); None writes nothing.
      label: run name in the table and plot.
      summary_writer, step: TensorBoard scalars (see `write_outputs`).
      max_batches: evaluate only the first batches (quick checks; the numbers are then not the benchmark's).
      h36m_protocols: Human3.6M protocols.

    Returns:
      the metrics dict (`evaluate_predictions`), with `"flip_test"` added.
    """
    from integral_keras.data.parser import build_parser

    file_pattern = file_pattern or config.data.val_file_pattern
    if not file_pattern:
        from integral_keras.configs.base import ConfigError  # pylint: disable=import-outside-toplevel

        raise ConfigError("data.val_file_pattern", "is empty: no evaluation records; set it in the config (the "
                                                   "demo's runs keep theirs in <model_dir>/config.yaml) or pass "
                                                   "--file_pattern")
    from integral_keras.data.input_reader import PipelineCounters

    parser = build_parser(config.model, config.data)
    counters = PipelineCounters()
    batches = eval_dataset(file_pattern, parser, config.data.eval_batch_size, counters=counters)
    permutation = skeletons.get_skeleton(config.data.skeleton).flip_permutation() if flip_test else None
    predictions = collect_predictions(predict_fn, batches, permutation, max_batches)
    dataset = resolve_dataset_name(dataset) if dataset else dataset_of_records(predictions.meta)
    metrics = evaluate_predictions(predictions, dataset, config.data.skeleton, gt_valid_mat, coco_gt_json,
                                   output_dir, h36m_protocols, config.eval.root_joint)
    metrics["flip_test"] = bool(flip_test)
    # The records that were not scored, by reason (every reason, zeros included) and by shard.
    skips = counters.result()
    metrics["records_skipped"] = {name: skips[name] for name in PipelineCounters.REASONS}
    metrics["records_skipped_total"] = sum(metrics["records_skipped"].values())
    # A list, so that the file names do not become TensorBoard scalar tags (`report.scalar_metrics` drops lists).
    metrics["records_skipped_by_shard"] = [dict(file=path, **counts) for path, counts in counters.by_shard().items()]
    for line in counters.summary_lines(f"{label} evaluation input"):
        (logging.warning if metrics["records_skipped_total"] else logging.info)("%s", line)
    if output_dir is not None:
        write_outputs(metrics, output_dir, label, summary_writer, step)
    elif summary_writer is not None:
        write_scalars(metrics, summary_writer, step, prefix=f"benchmark/{dataset}/")
    logging.info("%s on %s (%d examples): %s", label, dataset, len(predictions),
                 {key: value for key, value in report.scalar_metrics(metrics).items() if "/" not in key})
    return metrics
