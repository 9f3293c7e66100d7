"""`ModelConfig`: everything `build_pose_model` needs to build one of the paper's networks."""
import dataclasses
from typing import Optional, Tuple, Union

from integral_keras.configs.base import Config, ConfigError

DIRECT_REGRESSION = "R1"  # the one joint method that does not integrate heat maps
INTEGRAL_MODES = ("direct", "two_step")
HOURGLASS_FEATURES = 256  # Newell et al.'s (and the paper's) width of the stacked hourglass

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
      depth: Heat-map depth bins D; 1 means 2D.
      integral: `direct` (Eq. 2-4) or `two_step` (Eq. 5-6); integral methods only.
      num_stages: Hourglass stacks / multi-stage ResNet stages (1 for plain ResNets).
      num_deconv: Upsampling blocks of the heat-map head (0 for low-res maps and
        for the hourglass).
      deconv_filters: Channels of the upsampling blocks.
      hourglass_features: Channels inside the stacked hourglass (256 in the paper); even, since its
        bottleneck residual modules halve it. Only the `hourglass` backbone has this setting.
      upsample: `deconv` (transposed conv, the seed) or `resize_conv`
        (bilinear x2 + 3x3 conv; cheaper under int8 TFLite).
      beta: Softmax sharpness of the integral layers.
      debias: Apply the integral debiasing of Gu et al. 2021 (direct integral only).
      pretrained: Local backbone weights file, or None for random init.
    """

    backbone: str = "resnet50"
    method: str = "I1"
    num_joints: int = 16
    input_size: Size = 256
    heatmap_size: Size = 64
    depth: int = 1
    integral: str = "direct"
    num_stages: int = 1
    num_deconv: int = 3
    deconv_filters: int = 256
    hourglass_features: int = HOURGLASS_FEATURES
    upsample: str = "deconv"
    beta: float = 1.0
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
        """2 for 2D joints, 3 when `depth > 1`."""
        return 2 if self.depth == 1 else 3

    # The method table lives with the codec (which imports TensorFlow), so it is
    # imported where it is used and `import integral_keras.configs` stays light.

    @property
    def outputs_heatmaps(self) -> bool:
        """Whether the model emits (and the method supervises) `heatmaps`."""
        from integral_keras.codecs import methods

        return methods.uses_heatmaps(self.method)

    @property
    def outputs_joints(self) -> bool:
        """Whether the model emits (and the method supervises) `joints`."""
        from integral_keras.codecs import methods

        return methods.uses_joints(self.method)

    @property
    def is_integral(self) -> bool:
        """Whether `joints` come from integrating the heat maps (I1-I3, Istar)."""
        return self.outputs_joints and self.method != DIRECT_REGRESSION

    def validate(self) -> None:
        from integral_keras.codecs import methods

        super().validate()
        self._check_choice("method", methods.METHODS)
        self._check_choice("integral", INTEGRAL_MODES)
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
        if not self.beta > 0:
            raise ConfigError("beta", f"invalid value {self.beta!r}; allowed range is (0, inf)")
        if self.integral == "two_step" and not self.is_integral:
            raise ConfigError("integral", f"'two_step' applies to the integral methods I1, I2, I3, Istar only; "
                                          f"method is {self.method!r} (use 'direct')")
        if self.debias and (not self.is_integral or self.integral != "direct"):
            raise ConfigError("debias", "debias=True needs an integral method with integral='direct'")
        self._validate_backbone()

    def _validate_backbone(self) -> None:
        # The registry lives with the (Keras) backbones; import it only when validating.
        from integral_keras.modeling.backbones import factory
        from integral_keras.modeling.heads import UPSAMPLE_MODES

        self._check_choice("upsample", UPSAMPLE_MODES)
        try:
            spec = factory.get_backbone_spec(self.backbone)
        except ValueError:
            raise ConfigError("backbone", f"invalid value {self.backbone!r}; allowed values are "
                                          f"{list(factory.backbone_names())}") from None
        self._check_choice("num_stages", spec.stages)
        if not spec.uses_deconv and self.num_deconv != 0:
            raise ConfigError("num_deconv", f"backbone {self.backbone!r} predicts heat maps at stride {spec.stride} "
                                            f"itself; num_deconv must be 0, got {self.num_deconv}")
        for axis, (size, heatmap) in enumerate(zip(self.input_hw, self.heatmap_hw)):
            if size % spec.input_multiple:
                raise ConfigError("input_size", f"{self.input_size!r} must be a multiple of "
                                                f"{spec.input_multiple} for backbone {self.backbone!r}")
            expected = size // spec.stride * 2 ** self.num_deconv
            if heatmap != expected:
                raise ConfigError(
                    "heatmap_size",
                    f"{self.heatmap_size!r} does not match input_size {self.input_size!r} / stride {spec.stride} "
                    f"of backbone {self.backbone!r} * 2**num_deconv ({self.num_deconv}) = {expected} "
                    f"({'height' if axis == 0 else 'width'}); change heatmap_size or num_deconv")
