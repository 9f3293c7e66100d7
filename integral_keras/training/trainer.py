"""A custom training loop (Model Garden style) for OneDevice, Mirrored and MultiWorkerMirrored strategies.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` (keras-team/keras#20585), so the trainer drives
the model itself:

- the model, the optimiser (Keras `Adam`, wrapped in `LossScaleOptimizer` for float16) and the global step are
  created under `strategy.scope()`, so their variables are mirrored; the model is built under the dtype policy of
  `train.mixed_precision` (`training.precision`), which is restored afterwards;
- each replica computes its share of the global-batch loss (`PoseObjective.replica_loss`: per-sample losses summed
  and divided by the GLOBAL batch size) and calls `optimizer.apply_gradients` inside `strategy.run`; Keras'
  TensorFlow optimiser all-reduces (sums) the gradients across replicas before updating the mirrored variables;
- steps run in `tf.function` loops of several steps (`for _ in tf.range(n)`), broken at every step where
  something happens on the host: logging, checkpoint, epoch end, learning-rate change, phase switch, the end;
- the learning rate is set on the host from `LearningRateController` before every loop;
- a checkpoint (model, optimiser, step, learning-rate state) is written every `checkpoint_every_steps` steps, at
  every epoch end and at the end; a restarted run restores the latest one and stops at the same `total_steps`.
  The data iterator is not checkpointed (a distributed iterator is not trackable); a resumed run restarts its
  input pipeline, which reshuffles; at the end the pipeline is released on a helper thread
  (`release_in_background`: tf.data can take up to a minute to shut an autotuned pipeline down);
- the chief shows a console progress bar (tqdm; `train.progress_bar`) with images/s and the loss, advanced at
  every host stop; the log lines carry the ETA too (the bar is off when standard error is not a terminal): the
  first loop runs `ETA_WARMUP_STEPS` steps (tracing), the next `ETA_PROBE_STEPS` are timed and logged with the
  ETA of the steps left, and every later log line repeats it;
- at every epoch end the validation loss (for the plateau schedule) and the metrics of `PoseEvaluator` are
  computed, logged and written to TensorBoard with images of predicted skeletons and heat maps.
"""
import sys
import threading
import time
from typing import Dict, Optional

from absl import logging
import keras
import tensorflow as tf

from integral_keras.training import distribution
from integral_keras.training import precision
from integral_keras.training import warm_start
from integral_keras.training.checkpoints import CheckpointSaver
from integral_keras.training.evaluator import META_KEYS
from integral_keras.training.schedules import LearningRateController
from integral_keras.training.summaries import SummaryWriter

SUM = tf.distribute.ReduceOp.SUM
# Steps of the first training loop, which also traces the step and sets its kernels up: the ETA is measured after it.
ETA_WARMUP_STEPS = 3
# Steps timed right after the warm-up for the first ETA line (the next log line comes log_every_steps later).
ETA_PROBE_STEPS = 10
_RELEASE_THREADS = []


def build_optimizer(train_config) -> keras.optimizers.Optimizer:
    """Adam at the base learning rate; wrapped in a dynamic `LossScaleOptimizer` for float16 training.

    Call under the strategy's scope.
    """
    optimizer = keras.optimizers.Adam(learning_rate=train_config.learning_rate)
    if train_config.mixed_precision == "float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def release_in_background(references: list, what: str) -> threading.Thread:
    """Empties `references` on a helper thread, so that what only it refers to is destroyed there; returns the thread.

    Destroying the iterator of an autotuned tf.data pipeline waits for tf.data's autotuning thread, and in
    TensorFlow 2.21 that thread only sees the cancellation when its current optimisation period ends. The period
    doubles up to 60 s, so after a long run the caller was blocked for a random 0-60 s (docs/demo.md). On a helper
    thread the caller goes on (evaluation, export, the next model) meanwhile. The thread is not a daemon: the
    interpreter still finishes the release before it exits.

    Args:
      references: a list holding the only references to the objects to destroy (the caller keeps no other).
      what: a name for the log line and the thread.
    """

    def release():
        start = time.perf_counter()
        references.clear()
        logging.info("Released the %s in %.1f s (in the background).", what, time.perf_counter() - start)

    thread = threading.Thread(target=release, name=f"release {what}", daemon=False)
    thread.start()
    _RELEASE_THREADS.append(thread)
    return thread


def pending_releases() -> list:
    """The `release_in_background` threads still running (a binary that is done need not wait for them)."""
    return [thread for thread in _RELEASE_THREADS if thread.is_alive()]


def format_duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s` or `1 h 02 min`."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _with_data_sharding(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Shards by element across workers (works for any number of files, including in-memory data)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


class Trainer:
    """Trains and evaluates one pose model under a `tf.distribute` strategy.

    Args:
      strategy: the distribution strategy.
      task: a `training.task.Task` (e.g. `PoseTask(config)`): builds the model (under `strategy.scope()`; outputs
        a dict: `joints`, `heatmaps`, `*_stage{s}`), the objective (`PoseObjective`, loss terms per phase), the
        training batches of `task.global_batch_size` examples, and optionally the validation batches
        (`(images, labels)` for the validation loss, `(images, meta)` of `Parser.parse_eval` for the evaluator)
        and the evaluator (`PoseEvaluator`).
      train_config: a `TrainConfig`.
      model_dir: checkpoints under `checkpoints/`, summaries under `train/` and `eval/`.
      with_train_data: build the training pipeline (not needed to evaluate or export a checkpoint).
      max_eval_batches: validation batches per evaluation; None for all.
      num_summary_images: validation crops drawn in TensorBoard at each evaluation.
    """

    def __init__(self, strategy: tf.distribute.Strategy, task, train_config, model_dir: str,
                 with_train_data: bool = True, max_eval_batches: Optional[int] = None, num_summary_images: int = 4):
        train_dataset = task.build_train_dataset() if with_train_data else None
        val_dataset = task.build_val_dataset()
        eval_dataset = task.build_eval_dataset()
        evaluator = task.build_evaluator()
        if eval_dataset is not None and evaluator is None:
            raise ValueError("eval_dataset needs an evaluator.")
        self.task = task
        self.strategy = strategy
        self.objective = task.build_objective()
        self.config = train_config
        self.model_dir = model_dir
        self.global_batch_size = int(task.global_batch_size)
        self.evaluator = evaluator
        self.max_eval_batches = max_eval_batches
        self.num_summary_images = num_summary_images
        self.pipeline_counters = task.train_counters if with_train_data else None
        self.is_chief = distribution.is_chief(strategy)
        self._loss_scaling = train_config.mixed_precision == "float16"

        with strategy.scope():
            with precision.dtype_policy(train_config.mixed_precision) as self.precision:
                self.model = task.build_model()
            self.optimizer = build_optimizer(train_config)
            self.optimizer.build(self.model.trainable_variables)
            self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step",
                                           aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.learning_rate = LearningRateController.from_config(train_config)
        self.checkpoints = CheckpointSaver(model_dir, strategy, self.global_step, train_config.max_checkpoints,
                                           model=self.model, optimizer=self.optimizer,
                                           learning_rate=self.learning_rate)
        self.train_summaries = SummaryWriter(model_dir, "train", enabled=self.is_chief)
        self.eval_summaries = SummaryWriter(model_dir, "eval", enabled=self.is_chief)

        self._train_dataset = train_dataset
        self._val_dataset = None if val_dataset is None else strategy.experimental_distribute_dataset(
            _with_data_sharding(val_dataset))
        self._eval_dataset = None
        if eval_dataset is not None:
            numeric = eval_dataset.map(lambda images, meta: (images, {key: meta[key] for key in META_KEYS}))
            self._eval_dataset = strategy.experimental_distribute_dataset(_with_data_sharding(numeric))
        self._train_loops = {}
        self._val_steps = {}
        self._predict_steps = {}

    # Public API.

    @property
    def step(self) -> int:
        return int(self.global_step.numpy())

    def train(self) -> Dict[str, float]:
        """Trains from the latest checkpoint (if any) to `total_steps`.

        Returns:
          The last logged training losses and evaluation metrics (`eval/...`), and `"step"`.
        """
        if self.checkpoints.restore() is None and self.config.init_checkpoint:
            warm_start.warm_start(self.model, self.config.init_checkpoint, self.config.init_checkpoint_modules)
        total = self.config.total_steps
        step = self.step
        if step >= total:
            logging.info("Checkpoint is at step %d >= total_steps %d: nothing to train.", step, total)
            return {"step": float(step)}
        iterator = iter(self._distribute_train_dataset())
        history = {}
        window_start, window_time = step, time.time()
        start_step = step
        # Extra host stops for the ETA: after the warm-up loop (tracing, kernel set-up) and after a short probe.
        self._eta_stops = {s for s in (step + ETA_WARMUP_STEPS, step + ETA_WARMUP_STEPS + ETA_PROBE_STEPS)
                           if s < total}
        self._speed = None  # (first timed step, training seconds since then, excluding evaluations)
        train_start = time.time()
        bar = self._progress_bar(step, total)
        while step < total:
            phase = self.objective.phase(step)
            end = self._next_stop(step)
            self._set_learning_rate(self.learning_rate.value(step))
            loop_start = time.time()
            losses = self._train_loop(phase)(iterator, tf.constant(end - step, tf.int32))
            done = self.step - step
            step = self.step
            if step != end:
                raise RuntimeError(f"global step is {step} after training to {end}")
            if bar is not None:
                rate = done * self.global_batch_size / max(time.time() - loop_start, 1e-9)
                bar.set_postfix_str(f"{rate:.1f} img/s, loss {float(losses['loss']):.4g}, phase {phase}",
                                    refresh=False)
                bar.update(done)
            loop_seconds = time.time() - loop_start
            if step == start_step + ETA_WARMUP_STEPS and step < total:
                self._speed = [step, 0.0]
                logging.info("step %d/%d: the first %d steps (tracing, kernel set-up) took %s; measuring the "
                             "speed for the ETA", step, total, step - start_step,
                             format_duration(time.time() - train_start))
            elif self._speed is not None:
                self._speed[1] += loop_seconds
                if step == start_step + ETA_WARMUP_STEPS + ETA_PROBE_STEPS and step % self.config.log_every_steps:
                    logging.info("step %d/%d: %s", step, total, self._eta_text(step, total))
            if step % self.config.log_every_steps == 0 or step == total:
                elapsed = max(time.time() - window_time, 1e-9)
                history = self._log_train(step, phase, losses, (step - window_start) / elapsed)
                window_start, window_time = step, time.time()
            epoch_end = step % self.config.steps_per_epoch == 0
            if epoch_end and step != total and self.pipeline_counters is not None:
                self.pipeline_counters.log_summary(f"training input (epoch {step // self.config.steps_per_epoch})")
            if epoch_end or step == total:
                history.update({f"eval/{k}": v for k, v in self.evaluate().items()})
                window_time = time.time()  # evaluation time does not count against training speed
            if step % self.config.checkpoint_every_steps == 0 or epoch_end or step == total:
                self.checkpoints.save()
        if bar is not None:
            bar.close()
        only_reference = [iterator]
        del iterator
        release_in_background(only_reference, "training input pipeline")
        if self.pipeline_counters is not None:
            # Distinct records skipped per reason (and per shard in the log), e.g. history["data/damaged_records"].
            counts = self.pipeline_counters.log_summary("training input")
            history.update({f"data/{name}": float(count) for name, count in counts.items()})
        self.train_summaries.flush()
        history["step"] = float(step)
        return history

    def _progress_bar(self, step: int, total: int):
        """A tqdm bar of the training steps on standard error (chief only; `train.progress_bar`), or None."""
        setting = self.config.progress_bar
        if not self.is_chief or setting == "off":
            return None
        from tqdm import tqdm  # pylint: disable=import-outside-toplevel

        # disable=None: tqdm turns itself off when standard error is not a terminal (logs keep the log lines).
        from integral_keras import console  # pylint: disable=import-outside-toplevel

        return tqdm(total=total, initial=step, unit="step", desc="train", file=sys.stderr, dynamic_ncols=True,
                    disable=not console.stderr_is_terminal() if setting == "auto" else False)

    def evaluate(self) -> Dict[str, float]:
        """Validation loss (of the current phase) and `evaluator` metrics; updates the plateau schedule."""
        step = self.step
        metrics = {}
        if self._val_dataset is not None:
            metrics.update(self._validation_loss(self.objective.phase(max(step - 1, 0))))
            if self.learning_rate.on_validation(metrics["loss"]):
                logging.info("Validation loss plateaued: learning rate drops to %.3g.",
                             self.learning_rate.value(step))
        if self._eval_dataset is not None:
            metrics.update(self._prediction_metrics(step))
        if metrics:
            logging.info("eval at step %d: %s", step, ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items())))
            self.eval_summaries.scalars(metrics, step)
            self.eval_summaries.flush()
        return metrics

    # Training internals.

    def _distribute_train_dataset(self):
        if isinstance(self._train_dataset, tf.data.Dataset):
            return self.strategy.experimental_distribute_dataset(self._train_dataset)
        return self.strategy.distribute_datasets_from_function(self._train_dataset)

    def _next_stop(self, step: int) -> int:
        """The next step at which the host must act (log, checkpoint, epoch end, lr change, phase switch, end)."""
        config = self.config
        stops = [config.total_steps]
        for every in (config.log_every_steps, config.checkpoint_every_steps, config.steps_per_epoch):
            stops.append((step // every + 1) * every)
        stops.extend(s for s in getattr(self, "_eta_stops", ()) if s > step)
        lr_change = self.learning_rate.next_change(step)
        if lr_change is not None:
            stops.append(lr_change)
        if step < self.objective.heatmap_pretrain_steps:
            stops.append(self.objective.heatmap_pretrain_steps)
        return min(stops)

    def _set_learning_rate(self, value: float) -> None:
        self.optimizer.learning_rate.assign(value)

    def _train_loop(self, phase: str):
        if phase not in self._train_loops:
            self._train_loops[phase] = self._build_train_loop(phase)
        return self._train_loops[phase]

    def _build_train_loop(self, phase: str):
        strategy, model, optimizer = self.strategy, self.model, self.optimizer

        def replica_step(images, labels):
            with tf.GradientTape() as tape:
                outputs = model(images, training=True)
                loss, terms = self.objective.replica_loss(labels, outputs, phase, self.global_batch_size)
                scaled_loss = optimizer.scale_loss(loss) if self._loss_scaling else loss
            gradients = tape.gradient(scaled_loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return dict(terms, loss=loss)

        def one_step(iterator):
            images, labels = next(iterator)
            per_replica = strategy.run(replica_step, args=(images, labels))
            return {key: strategy.reduce(SUM, value, axis=None) for key, value in per_replica.items()}

        # One trace of the step for both call sites below (the first step and the loop body): tracing the model's
        # forward and backward twice doubled the set-up before the first step.
        traced_step = tf.function(one_step)

        @tf.function
        def train_loop(iterator, num_steps):
            totals = traced_step(iterator)
            for _ in tf.range(num_steps - 1):
                totals = {key: totals[key] + value for key, value in traced_step(iterator).items()}
            self.global_step.assign_add(tf.cast(num_steps, tf.int64))
            return {key: value / tf.cast(num_steps, value.dtype) for key, value in totals.items()}

        return train_loop

    def _log_train(self, step, phase, losses, steps_per_second) -> Dict[str, float]:
        values = {f"loss/{key}" if key != "loss" else "loss": float(value) for key, value in losses.items()}
        values["learning_rate"] = float(self.optimizer.learning_rate.numpy())
        values["steps_per_second"] = steps_per_second
        values["images_per_second"] = steps_per_second * self.global_batch_size
        eta = self._eta_text(step, self.config.total_steps)
        logging.info("step %d/%d (epoch %d, phase %s): %s%s", step, self.config.total_steps,
                     step // self.config.steps_per_epoch, phase,
                     ", ".join(f"{k} {v:.4g}" for k, v in values.items()), f"; {eta}" if eta else "")
        self.train_summaries.scalars(values, step)
        if self.pipeline_counters is not None and self.train_summaries.should_write(step, "data/examples"):
            with self.train_summaries.as_default():
                self.pipeline_counters.write_summaries(step)
        return values

    def _eta_text(self, step: int, total: int) -> str:
        """`x img/s, ETA ...` of the remaining steps at the speed measured since the warm-up ('' before it)."""
        speed = getattr(self, "_speed", None)
        if speed is None or step <= speed[0] or speed[1] <= 0 or step >= total:
            return ""
        steps_per_second = (step - speed[0]) / speed[1]
        return (f"{steps_per_second * self.global_batch_size:.1f} img/s since step {speed[0]}, "
                f"ETA {format_duration((total - step) / steps_per_second)} for the {total - step} steps left "
                f"(evaluations not included)")

    # Evaluation internals.

    def _batches(self, dataset):
        for index, batch in enumerate(dataset):
            if self.max_eval_batches is not None and index >= self.max_eval_batches:
                return
            yield batch

    def _validation_loss(self, phase: str) -> Dict[str, float]:
        if phase not in self._val_steps:
            self._val_steps[phase] = self._build_val_step(phase)
        totals = None
        for images, labels in self._batches(self._val_dataset):
            sums = self._val_steps[phase](images, labels)
            totals = sums if totals is None else {k: totals[k] + v for k, v in sums.items()}
        if totals is None:
            return {}
        count = float(totals.pop("count"))
        return {("loss" if key == "loss" else f"loss/{key}"): float(value) / max(count, 1.0)
                for key, value in totals.items()}

    def _build_val_step(self, phase: str):
        strategy, model = self.strategy, self.model

        def replica_sums(images, labels):
            outputs = model(images, training=False)
            terms = {key: tf.reduce_sum(value) for key, value in
                     self.objective.per_sample_losses(labels, outputs, phase).items()}
            return dict(terms, loss=tf.add_n(list(terms.values())), count=tf.cast(tf.shape(images)[0], tf.float32))

        @tf.function
        def val_step(images, labels):
            per_replica = strategy.run(replica_sums, args=(images, labels))
            return {key: strategy.reduce(SUM, value, axis=None) for key, value in per_replica.items()}

        return val_step

    def _predict_step(self, with_images: bool):
        if with_images not in self._predict_steps:
            strategy, model, evaluator = self.strategy, self.model, self.evaluator

            def replica_predict(images, meta):
                outputs = model(images, training=False)
                result = dict(meta, joints=tf.cast(evaluator.joints_from_outputs(outputs), tf.float32))
                if with_images:
                    result["images"] = images
                    if "heatmaps" in outputs:
                        result["heatmaps"] = tf.cast(outputs["heatmaps"], tf.float32)
                return result

            @tf.function
            def predict_step(images, meta):
                per_replica = strategy.run(replica_predict, args=(images, meta))
                return {key: strategy.gather(value, axis=0) for key, value in per_replica.items()}

            self._predict_steps[with_images] = predict_step
        return self._predict_steps[with_images]

    def _prediction_metrics(self, step: int) -> Dict[str, float]:
        self.evaluator.reset()
        for index, (images, meta) in enumerate(self._batches(self._eval_dataset)):
            first = index == 0 and self.num_summary_images > 0
            gathered = {key: value.numpy() for key, value in self._predict_step(first)(images, meta).items()}
            self.evaluator.update(gathered["joints"], gathered)
            if first:
                shown = slice(0, self.num_summary_images)
                heatmaps = gathered["heatmaps"][shown] if "heatmaps" in gathered else None
                drawn = self.evaluator.draw(gathered["images"][shown], gathered["joints"][shown], heatmaps)
                self.eval_summaries.images("predictions", drawn, step)
        return self.evaluator.result()

