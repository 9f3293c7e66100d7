"""Stacked hourglass network (Newell, Yang, Deng, ECCV 2016), hand-built.

Structure of the authors' release: a stem (7x7/2 conv, residual module, 2x2 max
pool, two residual modules) brings the image to stride 4 with `num_features`
channels; each stack is a 4-level hourglass, a residual module, a 1x1
conv + BN + ReLU ("lin") and a 1x1 convolution to the heat-map logits. Between
stacks, the features and the heat maps are both mapped back by 1x1 convolutions
and added to the stack's input (intermediate supervision). Residual modules are
the pre-activation bottleneck (BN-ReLU-1x1, BN-ReLU-3x3, BN-ReLU-1x1, half the
channels inside) with a 1x1 projection when the channel count changes.
"""
from typing import Optional, Tuple

import keras

from integral_keras.modeling.backbones.factory import register_backbone
from integral_keras.modeling.backbones.pretrained import load_pretrained_weights
from integral_keras.modeling.common import batch_norm, conv_bn_relu

HOURGLASS_LEVELS = 4
OUTPUT_STRIDE = 4


def _residual(x, filters: int, name: str):
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1, name=f"{name}_skip")(x)
    y = x
    for i, (width, kernel) in enumerate(((filters // 2, 1), (filters // 2, 3), (filters, 1))):
        y = batch_norm(f"{name}_bn{i + 1}")(y)
        y = keras.layers.ReLU(name=f"{name}_relu{i + 1}")(y)
        y = keras.layers.Conv2D(width, kernel, padding="same", name=f"{name}_conv{i + 1}")(y)
    return keras.layers.Add(name=f"{name}_add")([shortcut, y])


def _hourglass(x, level: int, filters: int, name: str):
    upper = _residual(x, filters, name=f"{name}_up")
    lower = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    lower = _residual(lower, filters, name=f"{name}_low1")
    if level > 1:
        lower = _hourglass(lower, level - 1, filters, name=f"{name}_inner")
    else:
        lower = _residual(lower, filters, name=f"{name}_low2")
    lower = _residual(lower, filters, name=f"{name}_low3")
    lower = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(lower)
    return keras.layers.Add(name=f"{name}_merge")([upper, lower])


def build_hourglass(input_shape: Tuple[int, int, int] = (256, 256, 3), num_outputs: int = 16,
                    num_stages: int = 2, num_features: int = 256,
                    pretrained: Optional[str] = None) -> keras.Model:
    """Builds a stacked hourglass.

    Args:
      input_shape: `(H, W, 3)` normalised image; H and W divisible by 64.
      num_outputs: Heat-map channels `K * D`.
      num_stages: Number of stacks (1, 2, 4, 8 in the paper).
      num_features: Channels inside the hourglasses (256 in the paper).
      pretrained: Optional local weights file of the same architecture.

    Returns:
      A model mapping `(N, H, W, 3)` to, for every stack `s`,
      `heatmaps_stage{s}`: `(N, H/4, W/4, num_outputs)` logits and
      `features_stage{s}`: `(N, H/4, W/4, num_features)` features they come from.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = conv_bn_relu(inputs, 64, 7, name="stem1", strides=2, use_bias=True)
    x = _residual(x, 128, name="stem2")
    x = keras.layers.MaxPooling2D(2, name="stem_pool")(x)
    x = _residual(x, 128, name="stem3")
    x = _residual(x, num_features, name="stem4")
    outputs = {}
    for s in range(num_stages):
        name = f"stack{s}"
        y = _hourglass(x, HOURGLASS_LEVELS, num_features, name=f"{name}_hg")
        y = _residual(y, num_features, name=f"{name}_res")
        features = conv_bn_relu(y, num_features, 1, name=f"{name}_lin", use_bias=True)
        heatmaps = keras.layers.Conv2D(num_outputs, 1, dtype="float32", name=f"{name}_logits")(features)
        outputs[f"heatmaps_stage{s}"] = heatmaps
        outputs[f"features_stage{s}"] = features
        if s < num_stages - 1:
            remapped_features = keras.layers.Conv2D(num_features, 1, name=f"{name}_remap_features")(features)
            remapped_heatmaps = keras.layers.Conv2D(num_features, 1, name=f"{name}_remap_heatmaps")(heatmaps)
            x = keras.layers.Add(name=f"{name}_next")([x, remapped_features, remapped_heatmaps])
    model = keras.Model(inputs, outputs, name=f"hourglass{num_stages}")
    if pretrained:
        load_pretrained_weights(model, pretrained, "hourglass")
    return model


@register_backbone("hourglass", stride=OUTPUT_STRIDE, stages=(1, 2, 3, 4, 5, 6, 7, 8), staged=True,
                   uses_deconv=False, input_multiple=OUTPUT_STRIDE * 2 ** HOURGLASS_LEVELS)
def hourglass(input_shape=(256, 256, 3), num_outputs=16, num_stages=2, num_deconv=0, deconv_filters=256,
              upsample="deconv", pretrained=None, num_features=256):
    del deconv_filters, upsample  # The hourglass predicts at stride 4 without an upsampling head.
    if num_deconv:
        raise ValueError(f"hourglass predicts at stride {OUTPUT_STRIDE}; num_deconv must be 0, got {num_deconv}")
    return build_hourglass(input_shape, num_outputs, num_stages, num_features=num_features, pretrained=pretrained)
