"""Backbone registry: `@register_backbone(name, ...)` and `get_backbone(name, ...)`.

A backbone builder is a function returning a functional `keras.Model` that maps a
normalised image `(N, H, W, 3)` to a dict of named tensors:

* feature backbones (`staged=False`, e.g. ResNets) return feature levels
  `{"C2", "C3", "C4", "C5"}` at strides 4, 8, 16, 32; the pose model puts a head
  on the level named by `BackboneSpec.feature_key`;
* staged backbones (`staged=True`: stacked hourglass, multi-stage ResNet) carry
  their own per-stage heat-map heads and return, for each stage `s`,
  `heatmaps_stage{s}` (`(N, h, w, num_outputs)` logits) and `features_stage{s}`
  (the features that stage's prediction is made from).

Builders are called with keyword arguments: `input_shape` and `pretrained` for
every backbone; staged backbones also receive `num_outputs` (an int, or one
`K * D_s` per stage when stages have different depths: `stage_outputs`),
`num_stages`, `num_deconv`, `deconv_filters`, `upsample` and `init_stddev` (the
standard deviation of their normal head initialisation, None for the Keras
defaults).
"""
import dataclasses
from typing import Callable, Dict, Sequence, Tuple, Union

import keras

BackboneBuilder = Callable[..., keras.Model]


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """How the pose model builder uses a registered backbone.

    Attributes:
      name: Registry name.
      builder: The function building the backbone model.
      stride: Input pixels per cell of the map the head starts from (`C5` for
        ResNets, the hourglass output for HourGlass).
      stages: Allowed values of `num_stages`.
      staged: True when the backbone emits per-stage heat maps itself.
      uses_deconv: Whether the heat-map resolution is raised by `num_deconv`
        upsampling blocks on top of `stride` (False: `num_deconv` must be 0).
      feature_key: Output key the head reads (feature backbones only).
      input_multiple: Input height and width must be multiples of this.
      preprocessing: How the RGB [0, 255] input is normalised before the
        backbone: `"imagenet"` (mean/std in RGB; the hand-built networks) or
        `"caffe"` (BGR, mean subtracted: what `keras.applications` ResNet
        weights were trained on, so a `pretrained` file sees its own inputs).
    """

    name: str
    builder: BackboneBuilder
    stride: int
    stages: Tuple[int, ...] = (1,)
    staged: bool = False
    uses_deconv: bool = True
    feature_key: str = "C5"
    input_multiple: int = 32
    preprocessing: str = "imagenet"


PREPROCESSING_MODES = ("imagenet", "caffe")

_REGISTRY: Dict[str, BackboneSpec] = {}


def register_backbone(name: str, *, stride: int, stages: Tuple[int, ...] = (1,), staged: bool = False,
                      uses_deconv: bool = True, feature_key: str = "C5", input_multiple: int = 32,
                      preprocessing: str = "imagenet"):
    """Decorator registering a backbone builder under `name`.

    Example:

        @register_backbone("tiny", stride=32)
        def build_tiny(input_shape, pretrained=None):
            ...

    Raises:
      ValueError: `name` is already registered or `preprocessing` is unknown.
    """
    if preprocessing not in PREPROCESSING_MODES:
        raise ValueError(f"preprocessing {preprocessing!r} of backbone {name!r} is not one of {PREPROCESSING_MODES}")

    def decorator(builder: BackboneBuilder) -> BackboneBuilder:
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is already registered")
        _REGISTRY[name] = BackboneSpec(name=name, builder=builder, stride=stride, stages=tuple(stages),
                                       staged=staged, uses_deconv=uses_deconv, feature_key=feature_key,
                                       input_multiple=input_multiple, preprocessing=preprocessing)
        return builder

    return decorator


def backbone_names() -> Tuple[str, ...]:
    """Sorted names of every registered backbone."""
    return tuple(sorted(_REGISTRY))


def get_backbone_spec(name: str) -> BackboneSpec:
    """Returns the `BackboneSpec` of `name`.

    Raises:
      ValueError: unknown name; the message lists the valid names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; valid backbones are {list(backbone_names())}") from None


def stage_outputs(num_outputs: Union[int, Sequence[int]], num_stages: int) -> Tuple[int, ...]:
    """Per-stage heat-map channels of a staged backbone: an int for every stage, or one entry per stage.

    Raises:
      ValueError: a sequence whose length is not `num_stages`.
    """
    if isinstance(num_outputs, int):
        return (num_outputs,) * num_stages
    outputs = tuple(int(n) for n in num_outputs)
    if len(outputs) != num_stages:
        raise ValueError(f"num_outputs {outputs} must have one entry per stage ({num_stages})")
    return outputs


def get_backbone(name: str, **kwargs) -> keras.Model:
    """Builds the backbone registered as `name` (see the module docstring)."""
    return get_backbone_spec(name).builder(**kwargs)
