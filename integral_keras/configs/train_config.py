"""`TrainConfig` (optimisation, schedule, checkpoints, summaries) and `EvalConfig` (evaluation during training).

Defaults follow the paper (Sun et al., ECCV 2018, Sec. 4): Adam with base learning rate 1e-3, dropped to 1e-5.
The drop happens at fixed steps (`lr_schedule="step"`) or when the validation loss stops improving
(`lr_schedule="plateau"`). The integral methods I1-I3 first train with the heat-map loss for
`heatmap_pretrain_steps` steps, then with the losses named by `losses_after_pretrain`.
"""
import dataclasses
from typing import Optional, Tuple

from integral_keras.configs.base import Config, ConfigError

LR_SCHEDULES = ("constant", "step", "plateau")
MIXED_PRECISION = ("none", "float16", "bfloat16", "auto")
JOINT_LOSSES = ("l1", "l2")
LOSSES_AFTER_PRETRAIN = ("joints", "both")
PROGRESS_BARS = ("auto", "on", "off")
INIT_CHECKPOINT_MODULES = ("all", "backbone")


@dataclasses.dataclass
class TrainConfig(Config):
    """How one experiment trains.

    Attributes:
      total_steps: optimiser steps of the whole run (a resumed run stops at the same count).
      steps_per_epoch: steps between epoch ends (checkpoint, validation, plateau check).
      learning_rate: base learning rate of Adam.
      lr_schedule: `constant`, `step` (piecewise constant at `lr_boundaries`) or `plateau` (multiply by
        `plateau_factor` when the validation loss has not improved for `plateau_patience` evaluations).
      lr_boundaries: steps at which the `step` schedule switches to the next of `lr_values`.
      lr_values: learning rates after each boundary (same length as `lr_boundaries`).
      plateau_factor: learning-rate multiplier on a plateau.
      plateau_patience: evaluations without improvement before a drop.
      plateau_min_delta: an improvement must lower the validation loss by more than this.
      min_learning_rate: floor of the plateau schedule (the paper's 1e-5).
      heatmap_pretrain_steps: I1-I3 only: steps trained with the heat-map loss alone (0: no pre-training).
      losses_after_pretrain: I1-I3 only: `joints` (integral loss only, the paper) or `both` losses afterwards.
      joint_loss: `l1` (the paper) or `l2`.
      heatmap_loss_weight: multiplier of every heat-map loss term.
      joint_loss_weight: multiplier of every joint loss term.
      mixed_precision: `none`, `float16` (with dynamic loss scaling), `bfloat16`, or `auto`: `bfloat16` where
        the hardware has it natively (GPU compute capability >= 8.0, CPU with AMX-BF16 or AVX512-BF16 that oneDNN
        may use), else `none`
        (`integral_keras.training.precision`).
      checkpoint_every_steps: steps between checkpoints (also written at every epoch end and at the end).
      max_checkpoints: checkpoints kept.
      log_every_steps: steps between console lines and scalar summaries.
      progress_bar: console progress bar with images/s and the loss, advanced at every host stop (log, checkpoint,
        epoch end): `auto` (when standard error is a terminal), `on` or `off`.
      seed: Keras random seed for weight initialisation; None for fresh randomness.
      init_checkpoint: warm start (`training.warm_start`): a trained run's directory, a checkpoint prefix in one,
        or a `.keras` file whose weights initialise the model by layer name when the run starts from scratch (a
        resumed run restores its own checkpoint instead). Heat-map layers of a 2D source are inflated along depth
        for a 3D model. None: the model's own initialisation.
      init_checkpoint_modules: `all` layers of the same name, or only the `backbone`'s.
    """

    total_steps: int = 1000
    steps_per_epoch: int = 100
    learning_rate: float = 1e-3
    lr_schedule: str = "step"
    lr_boundaries: Tuple[int, ...] = ()
    lr_values: Tuple[float, ...] = ()
    plateau_factor: float = 0.1
    plateau_patience: int = 2
    plateau_min_delta: float = 0.0
    min_learning_rate: float = 1e-5
    heatmap_pretrain_steps: int = 0
    losses_after_pretrain: str = "joints"
    joint_loss: str = "l1"
    heatmap_loss_weight: float = 1.0
    joint_loss_weight: float = 1.0
    mixed_precision: str = "none"
    checkpoint_every_steps: int = 500
    max_checkpoints: int = 3
    log_every_steps: int = 100
    progress_bar: str = "auto"
    seed: Optional[int] = None
    init_checkpoint: Optional[str] = None
    init_checkpoint_modules: str = "all"

    def validate(self) -> None:
        super().validate()
        for name in ("total_steps", "steps_per_epoch", "checkpoint_every_steps", "max_checkpoints",
                     "log_every_steps", "plateau_patience"):
            self._check_range(name, low=1)
        for name in ("heatmap_pretrain_steps", "plateau_min_delta",
                     "heatmap_loss_weight", "joint_loss_weight"):
            self._check_range(name, low=0)
        self._check_choice("lr_schedule", LR_SCHEDULES)
        self._check_choice("mixed_precision", MIXED_PRECISION)
        self._check_choice("joint_loss", JOINT_LOSSES)
        self._check_choice("losses_after_pretrain", LOSSES_AFTER_PRETRAIN)
        self._check_choice("progress_bar", PROGRESS_BARS)
        self._check_choice("init_checkpoint_modules", INIT_CHECKPOINT_MODULES)
        for name in ("learning_rate", "min_learning_rate"):
            if not getattr(self, name) > 0:
                raise ConfigError(name, f"invalid value {getattr(self, name)!r}; allowed range is (0, inf)")
        if not 0 < self.plateau_factor < 1:
            raise ConfigError("plateau_factor", f"invalid value {self.plateau_factor!r}; allowed range is (0, 1)")
        if len(self.lr_values) != len(self.lr_boundaries):
            raise ConfigError("lr_values", f"needs one value per boundary: {len(self.lr_boundaries)} boundaries "
                                           f"{self.lr_boundaries}, {len(self.lr_values)} values {self.lr_values}")
        if any(b <= a for a, b in zip(self.lr_boundaries, self.lr_boundaries[1:])) or any(
                b < 1 for b in self.lr_boundaries):
            raise ConfigError("lr_boundaries", f"must be positive and strictly increasing; got {self.lr_boundaries}")
        if any(not v > 0 for v in self.lr_values):
            raise ConfigError("lr_values", f"must be positive; got {self.lr_values}")


@dataclasses.dataclass
class EvalConfig(Config):
    """Evaluation during training (on the validation files of `DataConfig`).

    Attributes:
      max_batches: validation batches per evaluation; None for the whole validation set.
      root_joint: joint at which 3D poses are aligned for MPJPE.
      num_summary_images: validation images drawn with their predicted skeleton / heat maps in TensorBoard.
      benchmark: in `--mode=eval`, also run the dataset's official protocol
        (`integral_keras.evaluation.protocols`: MPII PCKh, COCO AP, H36M MPJPE / PA-MPJPE, synthetic PCK) on the
        validation records, writing `<model_dir>/benchmark/metrics.{json,md}` and TensorBoard scalars.
      flip_test: average with the horizontally flipped crop in the benchmark run.
      gt_valid_mat: MPII `gt_valid.mat` for the benchmark (None: the records' head boxes).
      coco_gt_json: COCO `person_keypoints_val2017.json` for the benchmark (required for COCO).
    """

    max_batches: Optional[int] = None
    root_joint: int = 0
    num_summary_images: int = 4
    benchmark: bool = False
    flip_test: bool = False
    gt_valid_mat: Optional[str] = None
    coco_gt_json: Optional[str] = None

    def validate(self) -> None:
        super().validate()
        if self.max_batches is not None:
            self._check_range("max_batches", low=1)
        self._check_range("root_joint", low=0)
        self._check_range("num_summary_images", low=0)
