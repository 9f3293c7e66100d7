"""Tasks: what a `Trainer` trains (Model Garden's Task idea).

A task owns everything that depends on the experiment rather than on the training loop: the model, the input
pipelines, the objective (the loss terms per phase) and the evaluator. The `Trainer` only asks for them:

    task = PoseTask(config)
    trainer = Trainer(strategy, task, config.train, model_dir)

`Task` is the interface (the trainer calls nothing else); `PoseTask` builds every part from one `ExperimentConfig`
around a single `PoseCodec` (`PoseCodec.from_config`), so the training targets, the Strategy 2 mix_2d targets, the
evaluator's decode and the export all use the same coordinate convention.
"""
from typing import Callable, Optional, Union

import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.data.input_reader import InputReader
from integral_keras.data.input_reader import PipelineCounters
from integral_keras.data.parser import Parser
from integral_keras.data.parser import build_parser
from integral_keras.modeling.validation import check_model_config
from integral_keras.training.evaluator import PoseEvaluator
from integral_keras.training.objective import PoseObjective

DatasetOrFn = Union[tf.data.Dataset, Callable[[tf.distribute.InputContext], tf.data.Dataset]]


class Task:
    """The parts of one training run, built on request by the `Trainer`.

    Subclasses implement `build_model`, `build_objective` and `build_train_dataset`, and set `global_batch_size`;
    the validation parts are optional (None: no validation loss / no metrics).

    Attributes:
      global_batch_size: examples per training step over all replicas (the loss divisor).
      train_counters: the `PipelineCounters` of the training input once built, or None.
    """

    global_batch_size: int = 0
    train_counters: Optional[PipelineCounters] = None

    def build_model(self):
        """The Keras model; called under the strategy's scope and dtype policy. Outputs a dict."""
        raise NotImplementedError

    def build_objective(self) -> PoseObjective:
        """The loss terms per phase (`PoseObjective`)."""
        raise NotImplementedError

    def build_train_dataset(self) -> DatasetOrFn:
        """`(images (B, H, W, 3), labels dict)` batches of the GLOBAL batch size, repeated; or a function of a
        `tf.distribute.InputContext` returning per-replica batches."""
        raise NotImplementedError

    def build_val_dataset(self) -> Optional[tf.data.Dataset]:
        """`(images, labels)` validation batches for the validation loss, or None."""
        return None

    def build_eval_dataset(self) -> Optional[tf.data.Dataset]:
        """`(images, meta)` validation batches (`Parser.parse_eval`) for the evaluator, or None."""
        return None

    def build_evaluator(self) -> Optional[PoseEvaluator]:
        """The metrics of `build_eval_dataset`'s predictions, or None."""
        return None


class PoseTask(Task):
    """The pose task of an `ExperimentConfig`: one codec, and the model, data, objective and evaluator around it.

    Args:
      config: an `ExperimentConfig` (validated as data); its model settings are checked against the backbone
        registry here (`modeling.validation.check_model_config`), before anything is built.

    Raises:
      ConfigError: a model setting the registered backbone cannot build, naming the key.
    """

    def __init__(self, config):
        check_model_config(config.model)
        self.config = config
        self.codec = PoseCodec.from_config(config.model)
        self.global_batch_size = int(config.data.batch_size)
        self.train_counters = None
        self._parser = None

    def build_parser(self, source_skeleton: Optional[str] = None) -> Parser:
        """The `Parser` of the run's records (one, shared by every pipeline), or of the 2D records of
        `source_skeleton`; both with the task's codec."""
        if source_skeleton is not None:
            return build_parser(self.config.model, self.config.data, source_skeleton=source_skeleton,
                                codec=self.codec)
        if self._parser is None:
            self._parser = build_parser(self.config.model, self.config.data, codec=self.codec)
        return self._parser

    def build_model(self):
        """`build_pose_model(config.model)`: the network of the paper's method and backbone."""
        from integral_keras.models import build_pose_model  # the Keras model code loads only when needed

        return build_pose_model(self.config.model)

    def build_objective(self) -> PoseObjective:
        return PoseObjective.from_config(self.config)

    def build_train_dataset(self) -> tf.data.Dataset:
        """The training batches, mixed with the 2D records of `data.mix_2d_file_pattern` (the paper's Strategy 2)
        when set; counts skipped records in `train_counters`."""
        data = self.config.data
        parser = self.build_parser()
        mix_parser = self.build_parser(data.mix_2d_skeleton) if data.mix_2d_file_pattern else None
        self.train_counters = PipelineCounters()
        reader = InputReader.from_config(data, parser, is_training=True, mix_2d_parser=mix_parser,
                                         counters=self.train_counters)
        return reader()

    def _val_reader(self, eval_output: str) -> Optional[tf.data.Dataset]:
        data = self.config.data
        if not data.val_file_pattern:
            return None
        return InputReader(data.val_file_pattern, self.build_parser(), data.eval_batch_size, is_training=False,
                           eval_output=eval_output, counters=PipelineCounters())()

    def build_val_dataset(self) -> Optional[tf.data.Dataset]:
        """`(images, labels)` batches of `data.val_file_pattern` (None without validation records)."""
        return self._val_reader("labels")

    def build_eval_dataset(self) -> Optional[tf.data.Dataset]:
        """`(images, meta)` batches of `data.val_file_pattern` (None without validation records)."""
        return self._val_reader("meta")

    def build_evaluator(self) -> PoseEvaluator:
        return PoseEvaluator(self.codec, self.config.data.skeleton, self.config.eval.root_joint,
                             method=self.config.model.method)
