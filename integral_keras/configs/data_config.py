"""Data settings: TFRecord sources, batching, augmentation and mixed 2D/3D sampling.

The input size, heat-map size and method live in `ModelConfig`; the parser builder reads both.
Augmentation defaults follow the paper (Sun et al., ECCV 2018, Sec. 4): scale +-25 %, rotation +-30 deg (applied
with probability 0.6), translation +-2 %, horizontal flip with probability 0.5, and per-channel colour scaling.
"""
import dataclasses
from typing import Optional, Tuple

from integral_keras.configs.base import Config, ConfigError
from integral_keras.core import skeletons

WARP_BACKENDS = ("tensorflow", "opencv")  # integral_keras.ops.affine.WARP_BACKENDS, without importing TensorFlow


@dataclasses.dataclass
class AugmentationConfig(Config):
    """Training augmentation; every factor set to 0 (and `flip_prob` 0) turns augmentation off.

    Attributes:
      scale_factor: box size is multiplied by a factor drawn from `[1 - f, 1 + f]`.
      rotation_factor: rotation in degrees drawn from `[-f, f]` ...
      rotation_prob: ... applied with this probability (else 0 deg).
      translation_factor: box centre shifted by up to `f` times the box size on each axis.
      flip_prob: probability of a horizontal flip (joints swap the skeleton's flip pairs).
      color_factor: each RGB channel is multiplied by a factor from `[1 - f, 1 + f]`.
    """

    scale_factor: float = 0.25
    rotation_factor: float = 30.0
    rotation_prob: float = 0.6
    translation_factor: float = 0.02
    flip_prob: float = 0.5
    color_factor: float = 0.2

    def validate(self) -> None:
        super().validate()
        self._check_range("scale_factor", 0.0, 0.99)
        self._check_range("rotation_factor", 0.0, 180.0)
        self._check_range("rotation_prob", 0.0, 1.0)
        self._check_range("translation_factor", 0.0, 1.0)
        self._check_range("flip_prob", 0.0, 1.0)
        self._check_range("color_factor", 0.0, 1.0)


@dataclasses.dataclass
class DataConfig(Config):
    """Where the data comes from and how it is batched.

    Attributes:
      train_file_pattern: glob(s) of training TFRecord shards.
      val_file_pattern: glob(s) of validation TFRecord shards.
      skeleton: skeleton of the model's joints (`mpii`, `coco`, `h36m`).
      batch_size: global training batch size.
      eval_batch_size: global evaluation batch size.
      shuffle_buffer: examples in the shuffle buffer (training only).
      cache: cache the decoded examples in memory after the first epoch (small datasets only).
      deterministic: keep the element order reproducible (slower); with `seed` the augmentation is reproducible too.
      seed: seed for shuffling, augmentation and mixing; None draws fresh randomness.
      num_parallel_calls: parallel reads / maps; -1 lets tf.data tune it (AUTOTUNE).
      warp_backend: `opencv` (default; several times faster on CPU) or `tensorflow` (a pure graph op that
        tf.data service can serialize); see `ops.affine.warp_image` and docs/benchmarks.md.
      mix_2d_file_pattern: glob(s) of 2D-only TFRecords mixed into 3D training (the paper's Strategy 2);
        empty turns mixing off.
      mix_2d_skeleton: skeleton of those 2D records, mapped to `skeleton` by joint name; None = `skeleton`.
      mix_2d_ratio: expected fraction of 2D-only examples in a training batch.
      depth_follows_crop_scale: 3D training targets: divide each root-relative depth by the augmentation's
        box scale factor `s` (`AugmentationConfig.scale_factor`; the crop box is the record's box times `s`), as
        the official code does (`z / (rect_3d_width * scale)`): a zoomed-in crop (`s < 1`) sees the body larger,
        and its depth offsets grow in proportion (`z_target = z_mm / s`), so depth stays in step with the apparent
        size of x and y. False (default): the depth target is `z_mm` whatever the zoom. Only training crops are
        scaled; validation, evaluation and serving crops have `s = 1`, so the codec decodes millimetres unchanged
        (docs/architecture.md, coordinate conventions).
      augmentation: see `AugmentationConfig`.
    """

    train_file_pattern: Tuple[str, ...] = ()
    val_file_pattern: Tuple[str, ...] = ()
    skeleton: str = "mpii"
    batch_size: int = 32
    eval_batch_size: int = 32
    shuffle_buffer: int = 1024
    cache: bool = False
    deterministic: bool = False
    seed: Optional[int] = None
    num_parallel_calls: int = -1
    warp_backend: str = "opencv"
    mix_2d_file_pattern: Tuple[str, ...] = ()
    mix_2d_skeleton: Optional[str] = None
    mix_2d_ratio: float = 0.5
    depth_follows_crop_scale: bool = False
    augmentation: AugmentationConfig = dataclasses.field(default_factory=AugmentationConfig)

    def validate(self) -> None:
        super().validate()
        self._check_choice("skeleton", sorted(skeletons.SKELETONS))
        if self.mix_2d_skeleton is not None:
            self._check_choice("mix_2d_skeleton", sorted(skeletons.SKELETONS))
        self._check_range("batch_size", 1)
        self._check_range("eval_batch_size", 1)
        self._check_range("shuffle_buffer", 1)
        if not 0.0 < self.mix_2d_ratio < 1.0:
            raise ConfigError("mix_2d_ratio", f"invalid value {self.mix_2d_ratio!r}; allowed range is (0, 1)")
        self._check_range("mix_2d_ratio", 0.0, 1.0)
        self._check_choice("warp_backend", WARP_BACKENDS)
        if self.num_parallel_calls != -1 and self.num_parallel_calls < 1:
            raise ConfigError("num_parallel_calls",
                              f"invalid value {self.num_parallel_calls!r}; use -1 (AUTOTUNE) or a positive int")
        if self.mix_2d_file_pattern and self.mix_2d_ratio in (0.0, 1.0):
            raise ConfigError("mix_2d_ratio", f"invalid value {self.mix_2d_ratio!r} with mix_2d_file_pattern set; "
                                              "allowed range is (0, 1)")
