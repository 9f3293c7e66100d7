"""`run_experiment`: wires an `ExperimentConfig` to the model, the input pipeline, the trainer and the exporter.

Modes: `train` (train to `train.total_steps`, evaluating at epoch ends), `eval` (restore the latest checkpoint and
evaluate once), `train_and_eval` (train, then a final evaluation), `export` (restore the latest checkpoint and
write a SavedModel with `integral_keras.serving.export_saved_model` to `<model_dir>/export`).
"""
import os
from typing import Dict, Optional

from absl import logging
import keras
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.training import distribution
from integral_keras.training.task import PoseTask
from integral_keras.training.trainer import Trainer

MODES = ("train", "eval", "train_and_eval", "export")


def build_codec(model_config) -> PoseCodec:
    """The run's one codec (`PoseCodec.from_config`): training targets, evaluation and export share it
    (`PoseTask.codec` is this codec)."""
    return PoseCodec.from_config(model_config)


def build_trainer(config, model_dir: str, strategy: tf.distribute.Strategy, with_train_data: bool = True) -> Trainer:
    """The `Trainer` of an experiment's `PoseTask` (model under the strategy, datasets, objective, evaluator).

    Args:
      config: an `ExperimentConfig`.
      model_dir: the run's directory.
      strategy: the distribution strategy.
      with_train_data: build the training pipeline (not needed for `eval` / `export`).
    """
    if config.train.seed is not None:
        keras.utils.set_random_seed(config.train.seed)
    return Trainer(strategy, PoseTask(config), config.train, model_dir, with_train_data=with_train_data,
                   max_eval_batches=config.eval.max_batches, num_summary_images=config.eval.num_summary_images)


def _run_benchmark(config, trainer: Trainer, model_dir: str) -> Dict[str, float]:
    """The dataset's official protocol on the validation records; returns `benchmark/...` scalars."""
    from integral_keras.evaluation import protocols, report  # loads pycocotools / matplotlib only when asked
    from integral_keras.serving import predict_fns

    results = protocols.run_benchmark(
        config, predict_fns.model_predict_fn(trainer.model, config.model), flip_test=config.eval.flip_test,
        gt_valid_mat=config.eval.gt_valid_mat, coco_gt_json=config.eval.coco_gt_json,
        output_dir=os.path.join(model_dir, "benchmark"), step=trainer.step)
    scalars = {f"benchmark/{k}": v for k, v in report.scalar_metrics(results).items()}
    trainer.eval_summaries.scalars(scalars, trainer.step)
    trainer.eval_summaries.flush()
    return scalars


def run_experiment(config, model_dir: str, mode: str = "train",
                   strategy: Optional[tf.distribute.Strategy] = None) -> Dict[str, float]:
    """Runs one mode of an experiment (see the module docstring).

    Args:
      config: an `ExperimentConfig`.
      model_dir: checkpoints, summaries, `config.yaml` and exports go here.
      mode: one of `MODES`.
      strategy: default `OneDeviceStrategy` on the first GPU, else the CPU.

    Returns:
      `train` / `train_and_eval`: the last training losses and `eval/...` metrics; `eval`: the metrics;
      `export`: `{"export_dir": path}`.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    if mode in ("train", "train_and_eval") and not config.data.train_file_pattern:
        raise ValueError("data.train_file_pattern is empty: set it in a config file or --params_override")
    strategy = strategy or distribution.get_strategy("one_device")
    trainer = build_trainer(config, model_dir, strategy, with_train_data=mode in ("train", "train_and_eval"))
    if distribution.is_chief(strategy):
        tf.io.gfile.makedirs(model_dir)
        with tf.io.gfile.GFile(os.path.join(model_dir, "config.yaml"), "w") as f:
            f.write(config.to_yaml())
    if mode in ("train", "train_and_eval"):
        results = trainer.train()
        # `train` evaluates at its last step; a second pass would repeat it (and count twice for a plateau
        # schedule). Only a run that had nothing left to train still needs its evaluation.
        if mode == "train_and_eval" and not any(key.startswith("eval/") for key in results):
            results.update({f"eval/{k}": v for k, v in trainer.evaluate().items()})
        return results
    if trainer.checkpoints.restore() is None:
        raise FileNotFoundError(f"mode={mode!r} needs a checkpoint; none found in {trainer.checkpoints.directory}")
    if mode == "eval":
        metrics = trainer.evaluate()
        if config.eval.benchmark:
            metrics.update(_run_benchmark(config, trainer, model_dir))
        return metrics
    from integral_keras import serving  # the exporter loads only when exporting

    export_dir = serving.export_saved_model(trainer.model, config, os.path.join(model_dir, "export"))
    logging.info("Exported SavedModel to %s.", export_dir)
    return {"export_dir": str(export_dir)}
