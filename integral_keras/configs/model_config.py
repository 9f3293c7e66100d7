"""`ModelConfig`: everything `build_pose_model` needs to build one of the paper's networks."""
import dataclasses
import math
from typing import Optional, Tuple, Union

from integral_keras.configs.base import Config, ConfigError
from integral_keras.core import methods
from integral_keras.core.methods import DIRECT_REGRESSION  # noqa: F401  (re-export)

INTEGRAL_MODES = ("direct", "two_step")
UPSAMPLE_MODES = ("deconv", "resize_conv")  # `modeling.heads.deconv_head` builds each
HOURGLASS_FEATURES = 256  # Newell et al.'s (and the paper's) width of the stacked hourglass
HEAD_INIT_STDDEV = 0.001  # the paper's N(0, 1e-3) initialisation of the head network and the HourGlass
# Softmax sharpness of the integral layers when `beta` is None. I1's MSE holds the logits to the [0, 1] range of its
# Gaussian targets; the softmax of such logits puts at most e^beta times a background cell's mass on the peak, so
# beta = 1 leaves the integral near the map centre (the joint loss cannot train: docs/training_notes.md). With 20 the
# integral of the MSE's optimum lies within 0.6 cells of the joint for 16x16 to 64x64x64 maps.
DEFAULT_BETA = 1.0
DEFAULT_BETA_BY_METHOD = {methods.I1: 20.0}

Size = Union[int, Tuple[int, int]]


def as_hw(size: Size) -> Tuple[int, int]:
    """`256 -> (256, 256)`; `(256, 192) -> (256, 192)` (sizes are `(height, width)`)."""
    return (size, size) if isinstance(size, int) else tuple(size)


@dataclasses.dataclass
class ModelConfig(Config):
    """Network of one experiment.

    Attributes:
      backbone: Registered backbone name (`resnet18/34/50/101/152`, `hourglass`,
        `multistage_resnet50`).
      method: One of `integral_keras.codecs.METHODS`: `R1` direct regression, `H1`-`H3` heat-map
        baselines, `I1`-`I3` heat-map loss + integral loss, `Istar` integral
        loss only.
      num_joints: K.
      input_size: Input crop `(height, width)` or an int for square.
      heatmap_size: Heat-map `(height, width)` or int; must equal
        `input_size / backbone stride * 2**num_deconv`.
      depth: Heat-map depth bins D; 1 means 2D. For staged backbones, the depth of
        the last stage (the plain output keys).
      stage_depths: Staged backbones only: each stage's depth D_s, e.g. `(1, 64)` for
        the paper's "Two Stage (d1 = 1, d2 = 64)" (Table 8): a 2D first stage, a 3D
        last stage. One entry per stage, the last equal to `depth`. Stage `s`'s head
        emits `K * D_s` channels and its joints have 2 coordinates when `D_s = 1`.
        None: every stage uses `depth`.
      integral: `direct` (Eq. 2-4) or `two_step` (Eq. 5-6); integral methods only.
      num_stages: Hourglass stacks / multi-stage ResNet stages (1 for plain ResNets).
      num_deconv: Upsampling blocks of the heat-map head (0 for low-res maps and
        for the hourglass).
      deconv_filters: Channels of the upsampling blocks.
      hourglass_features: Channels inside the stacked hourglass (256 in the paper); even, since its
        bottleneck residual modules halve it. Only the `hourglass` backbone has this setting.
      upsample: `deconv` (transposed conv, the seed) or `resize_conv`
        (bilinear x2 + 3x3 conv; cheaper under int8 TFLite).
      head_init_stddev: Standard deviation of the zero-mean normal kernel
        initialisation of the heat-map heads (every backbone's deconv /
        resize-conv head, the multi-stage ResNet's per-stage heads) and of every
        convolution of the HourGlass: the paper's 0.001 by default. None keeps the
        Keras defaults (`glorot_uniform` kernels). The `keras.applications` and
        hand-built ResNet layers always keep their own initialisers.
      depth_range_mm: Codec: depth span in mm covered by the D bins, centred on the root joint
        (`z_mm = ((z_hm + 0.5) / D - 0.5) * depth_range_mm`; 2000 = +-1000 mm, the official `rect_3d_width`).
      heatmap_sigma: Codec: standard deviation in heat-map cells (and depth bins) of the Gaussian targets of
        H1 / I1 and of their marginal loss (Strategy 2).
      disc_radius_px: Codec: radius in input pixels of the disc targets of H3 / I3.
      beta: Softmax sharpness of the integral layers, `softmax(beta * logits)`. None
        (the default): the method's value, `softmax_beta`: 20 for I1 (whose MSE
        heat-map loss keeps the logits in the [0, 1] range of its Gaussian targets,
        where beta 1 leaves the softmax almost flat; docs/training_notes.md), 1 for
        every other method.
      debias: Apply the integral debiasing of Gu et al. 2021 (direct integral only).
      pretrained: Local backbone weights file, or None for random init.
    """

    backbone: str = "resnet50"
    method: str = methods.I1
    num_joints: int = 16
    input_size: Size = 256
    heatmap_size: Size = 64
    depth: int = 1
    stage_depths: Optional[Tuple[int, ...]] = None
    integral: str = "direct"
    num_stages: int = 1
    num_deconv: int = 3
    deconv_filters: int = 256
    hourglass_features: int = HOURGLASS_FEATURES
    upsample: str = "deconv"
    head_init_stddev: Optional[float] = HEAD_INIT_STDDEV
    # Codec settings: `PoseCodec.from_config` reads them, for training, evaluation and serving alike.
    depth_range_mm: float = 2000.0
    heatmap_sigma: float = 1.0
    disc_radius_px: float = 15.0
    beta: Optional[float] = None
    debias: bool = False
    pretrained: Optional[str] = None

    @property
    def input_hw(self) -> Tuple[int, int]:
        return as_hw(self.input_size)

    @property
    def heatmap_hw(self) -> Tuple[int, int]:
        return as_hw(self.heatmap_size)

    @property
    def coordinate_dims(self) -> int:
        """2 for 2D joints, 3 when `depth > 1` (the last stage's joints)."""
        return 2 if self.depth == 1 else 3

    @property
    def softmax_beta(self) -> float:
        """The `beta` the integral layers use: `beta`, or the method's default when it is None."""
        if self.beta is not None:
            return float(self.beta)
        return DEFAULT_BETA_BY_METHOD.get(self.method, DEFAULT_BETA)

    @property
    def depth_per_stage(self) -> Tuple[int, ...]:
        """Depth D_s of every stage, `num_stages` entries; the last is `depth`."""
        if self.stage_depths is None:
            return (self.depth,) * self.num_stages
        return tuple(self.stage_depths)

    @property
    def outputs_heatmaps(self) -> bool:
        """Whether the model emits (and the method supervises) `heatmaps`."""
        return methods.uses_heatmaps(self.method)

    @property
    def outputs_joints(self) -> bool:
        """Whether the model emits (and the method supervises) `joints`."""
        return methods.uses_joints(self.method)

    @property
    def is_integral(self) -> bool:
        """Whether `joints` come from integrating the heat maps (I1-I3, Istar)."""
        return methods.is_integral(self.method)

    def validate(self) -> None:
        """Checks the values that need no registry. The backbone name and the geometry it implies (stride,
        stages, input multiple) are checked where the backbone registry lives, when the model is built
        (`modeling.validation.check_model_config`), with the same `ConfigError` naming the key."""
        super().validate()
        self._check_choice("method", methods.METHODS)
        self._check_choice("integral", INTEGRAL_MODES)
        self._check_choice("upsample", UPSAMPLE_MODES)
        for name in ("num_joints", "depth", "deconv_filters", "input_size", "heatmap_size", "num_stages"):
            self._check_range(name, low=1)
        self._check_range("num_deconv", low=0)
        self._check_range("hourglass_features", low=2)
        if self.hourglass_features % 2:
            raise ConfigError("hourglass_features", f"invalid value {self.hourglass_features!r}; must be even "
                                                    "(the residual modules use half the channels inside)")
        if self.backbone != "hourglass" and self.hourglass_features != HOURGLASS_FEATURES:
            raise ConfigError("hourglass_features", f"applies to backbone 'hourglass' only; backbone is "
                                                    f"{self.backbone!r} (leave it at {HOURGLASS_FEATURES})")
        for name in ("depth_range_mm", "heatmap_sigma", "disc_radius_px"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(name, f"invalid value {value!r}; allowed: a finite value in (0, inf)")
        if self.beta is not None and not (math.isfinite(self.beta) and self.beta > 0):
            raise ConfigError("beta", f"invalid value {self.beta!r}; allowed range is (0, inf), or null for the "
                                      f"method's default")
        if self.head_init_stddev is not None and not (math.isfinite(self.head_init_stddev)
                                                      and self.head_init_stddev > 0):
            raise ConfigError("head_init_stddev", f"invalid value {self.head_init_stddev!r}; allowed: a finite "
                                                  "value in (0, inf), or null for the Keras default initialisers")
        self._validate_stage_depths()
        if self.integral == "two_step" and not self.is_integral:
            raise ConfigError("integral", f"'two_step' applies to the integral methods I1, I2, I3, Istar only; "
                                          f"method is {self.method!r} (use 'direct')")
        if self.debias and (not self.is_integral or self.integral != "direct"):
            raise ConfigError("debias", "debias=True needs an integral method with integral='direct'")

    def _validate_stage_depths(self) -> None:
        if self.stage_depths is None:
            return
        depths = tuple(self.stage_depths)
        if len(depths) != self.num_stages:
            raise ConfigError("stage_depths", f"{depths} needs one depth per stage: num_stages is {self.num_stages}")
        if any(d < 1 for d in depths):
            raise ConfigError("stage_depths", f"invalid value {depths}; every depth must be >= 1")
        if depths[-1] != self.depth:
            raise ConfigError("stage_depths", f"the last stage's depth {depths[-1]} must equal depth {self.depth} "
                                              "(the last stage gives the model's plain outputs)")
