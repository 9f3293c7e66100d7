"""ResNet backbones returning feature levels {"C2", "C3", "C4", "C5"}.

* `resnet18`, `resnet34`: hand-built with basic blocks in the original ResNet
  structure (He et al. 2016; torchvision layout): bias-free convolutions with
  BatchNorm, a 7x7/2 stem, a 3x3/2 max pool, stages of [2, 2, 2, 2] / [3, 4, 6, 3]
  blocks, 1x1 projection shortcuts where the shape changes.
* `resnet50`, `resnet101`, `resnet152`: `keras.applications` models
  (`include_top=False`, `weights=None`), so a local copy of their ImageNet
  weights file loads unchanged.

Layer names follow `keras.applications` (`conv{level}_block{i}_...`), and each
feature level `C{level}` is the output of the last block of `conv{level}`.
"""
import functools
from typing import Optional, Sequence, Tuple

import keras

from integral_keras.modeling.backbones.factory import register_backbone
from integral_keras.modeling.backbones.pretrained import load_pretrained_weights
from integral_keras.modeling.common import batch_norm, conv_bn_relu, symmetric_conv, with_fused_batch_norm

FEATURE_LEVELS = (2, 3, 4, 5)
_BASIC_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
_APPLICATIONS = {
    50: keras.applications.ResNet50,
    101: keras.applications.ResNet101,
    152: keras.applications.ResNet152,
}


def _basic_block(x, filters: int, strides: int, name: str):
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_0_conv")(x)
        shortcut = batch_norm(f"{name}_0_bn")(shortcut)
    y = conv_bn_relu(x, filters, 3, name=f"{name}_1", strides=strides)
    y = symmetric_conv(y, filters, 3, name=f"{name}_2_conv")
    y = batch_norm(f"{name}_2_bn")(y)
    y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def _feature_outputs(model: keras.Model) -> dict:
    """Maps C2..C5 to the last `conv{level}_block*_out` tensor of `model`."""
    outputs = {}
    for level in FEATURE_LEVELS:
        names = [l.name for l in model.layers if l.name.startswith(f"conv{level}_block") and l.name.endswith("_out")]
        outputs[f"C{level}"] = model.get_layer(names[-1]).output
    return outputs


def build_basic_resnet(depth: int, input_shape: Tuple[int, int, int] = (256, 256, 3),
                       pretrained: Optional[str] = None) -> keras.Model:
    """Builds ResNet-18 or ResNet-34 (no classifier).

    Args:
      depth: 18 or 34.
      input_shape: `(H, W, 3)`, normalised image.
      pretrained: Optional local weights file (see `load_pretrained_weights`).

    Returns:
      A model mapping `(N, H, W, 3)` to `{"C2": (N, H/4, W/4, 64), "C3": (.., 128),
      "C4": (.., 256), "C5": (N, H/32, W/32, 512)}`.
    """
    blocks: Sequence[int] = _BASIC_BLOCKS[depth]
    inputs = keras.Input(shape=input_shape, name="image")
    x = conv_bn_relu(inputs, 64, 7, name="conv1", strides=2)
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    features = {}
    for level, (num_blocks, filters) in zip(FEATURE_LEVELS, zip(blocks, (64, 128, 256, 512))):
        for i in range(num_blocks):
            strides = 2 if (i == 0 and level > 2) else 1
            x = _basic_block(x, filters, strides, name=f"conv{level}_block{i + 1}")
        features[f"C{level}"] = x
    model = keras.Model(inputs, features, name=f"resnet{depth}")
    if pretrained:
        load_pretrained_weights(model, pretrained, f"resnet{depth}")
    return model


def build_applications_resnet(depth: int, input_shape: Tuple[int, int, int] = (256, 256, 3),
                              pretrained: Optional[str] = None) -> keras.Model:
    """Builds ResNet-50/101/152 from `keras.applications` (no top, no download).

    Args:
      depth: 50, 101 or 152.
      input_shape: `(H, W, 3)`, normalised image.
      pretrained: Optional local weights file of the matching
        `keras.applications` model without top (legacy `.h5` or `.weights.h5`).

    Returns:
      A model mapping `(N, H, W, 3)` to `{"C2": (N, H/4, W/4, 256), ...,
      "C5": (N, H/32, W/32, 2048)}`.
    """
    base = with_fused_batch_norm(_APPLICATIONS[depth](include_top=False, weights=None, input_shape=input_shape))
    if pretrained:
        load_pretrained_weights(base, pretrained, f"resnet{depth}")
    return keras.Model(base.input, _feature_outputs(base), name=f"resnet{depth}")


def _register_resnets() -> None:
    for depth in _BASIC_BLOCKS:
        register_backbone(f"resnet{depth}", stride=32)(functools.partial(build_basic_resnet, depth))
    for depth in _APPLICATIONS:
        register_backbone(f"resnet{depth}", stride=32, preprocessing="caffe")(
            functools.partial(build_applications_resnet, depth))


_register_resnets()
