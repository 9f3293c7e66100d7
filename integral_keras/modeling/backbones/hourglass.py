"""Stacked hourglass network (Newell, Yang, Deng, ECCV 2016), hand-built.

Structure of the authors' release: a stem (7x7/2 conv, residual module, 2x2 max
pool, two residual modules) brings the image to stride 4 with `num_features`
channels; each stack is a 4-level hourglass, a residual module, a 1x1
conv + BN + ReLU ("lin") and a 1x1 convolution to the heat-map logits. Between
stacks, the features and the heat maps are both mapped back by 1x1 convolutions
and added to the stack's input (intermediate supervision). Residual modules are
the pre-activation bottleneck (BN-ReLU-1x1, BN-ReLU-3x3, BN-ReLU-1x1, half the
channels inside) with a 1x1 projection when the channel count changes.

Initialisation as in the paper (Sec. 4): every convolution kernel is drawn from
N(0, 0.001^2) by default (`init_stddev`), biases start at zero; `init_stddev=None`
keeps the Keras defaults (`glorot_uniform`).
"""
from typing import Optional, Sequence, Tuple, Union

import keras

from integral_keras.modeling.backbones.factory import register_backbone, stage_outputs
from integral_keras.modeling.backbones.pretrained import load_pretrained_weights
from integral_keras.modeling.common import HEAD_INITIALIZER_STDDEV, batch_norm, conv_bn_relu, head_initializer

HOURGLASS_LEVELS = 4
OUTPUT_STRIDE = 4


def _residual(x, filters: int, name: str, init_stddev: Optional[float]):
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1, kernel_initializer=head_initializer(init_stddev),
                                       name=f"{name}_skip")(x)
    y = x
    for i, (width, kernel) in enumerate(((filters // 2, 1), (filters // 2, 3), (filters, 1))):
        y = batch_norm(f"{name}_bn{i + 1}")(y)
        y = keras.layers.ReLU(name=f"{name}_relu{i + 1}")(y)
        y = keras.layers.Conv2D(width, kernel, padding="same", kernel_initializer=head_initializer(init_stddev),
                                name=f"{name}_conv{i + 1}")(y)
    return keras.layers.Add(name=f"{name}_add")([shortcut, y])


def _hourglass(x, level: int, filters: int, name: str, init_stddev: Optional[float]):
    upper = _residual(x, filters, f"{name}_up", init_stddev)
    lower = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    lower = _residual(lower, filters, f"{name}_low1", init_stddev)
    if level > 1:
        lower = _hourglass(lower, level - 1, filters, f"{name}_inner", init_stddev)
    else:
        lower = _residual(lower, filters, f"{name}_low2", init_stddev)
    lower = _residual(lower, filters, f"{name}_low3", init_stddev)
    lower = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(lower)
    return keras.layers.Add(name=f"{name}_merge")([upper, lower])


def build_hourglass(input_shape: Tuple[int, int, int] = (256, 256, 3),
                    num_outputs: Union[int, Sequence[int]] = 16, num_stages: int = 2, num_features: int = 256,
                    pretrained: Optional[str] = None,
                    init_stddev: Optional[float] = HEAD_INITIALIZER_STDDEV) -> keras.Model:
    """Builds a stacked hourglass.

    Args:
      input_shape: `(H, W, 3)` normalised image; H and W divisible by 64.
      num_outputs: Heat-map channels `K * D`, one int for every stack or one
        per stack (`K * D_s`: stacks with different depths, the paper's Table 8).
      num_stages: Number of stacks (1, 2, 4, 8 in the paper).
      num_features: Channels inside the hourglasses (256 in the paper).
      pretrained: Optional local weights file of the same architecture.
      init_stddev: Standard deviation of every convolution's normal kernel
        initialisation (the paper's 0.001), or None for the Keras defaults.

    Returns:
      A model mapping `(N, H, W, 3)` to, for every stack `s`,
      `heatmaps_stage{s}`: `(N, H/4, W/4, num_outputs[s])` logits and
      `features_stage{s}`: `(N, H/4, W/4, num_features)` features they come from.
    """
    channels = stage_outputs(num_outputs, num_stages)
    init = init_stddev
    inputs = keras.Input(shape=input_shape, name="image")
    x = conv_bn_relu(inputs, 64, 7, name="stem1", strides=2, use_bias=True, kernel_initializer=head_initializer(init))
    x = _residual(x, 128, "stem2", init)
    x = keras.layers.MaxPooling2D(2, name="stem_pool")(x)
    x = _residual(x, 128, "stem3", init)
    x = _residual(x, num_features, "stem4", init)
    outputs = {}
    for s in range(num_stages):
        name = f"stack{s}"
        y = _hourglass(x, HOURGLASS_LEVELS, num_features, f"{name}_hg", init)
        y = _residual(y, num_features, f"{name}_res", init)
        features = conv_bn_relu(y, num_features, 1, name=f"{name}_lin", use_bias=True,
                                kernel_initializer=head_initializer(init))
        heatmaps = keras.layers.Conv2D(channels[s], 1, kernel_initializer=head_initializer(init), dtype="float32",
                                       name=f"{name}_logits")(features)
        outputs[f"heatmaps_stage{s}"] = heatmaps
        outputs[f"features_stage{s}"] = features
        if s < num_stages - 1:
            remapped_features = keras.layers.Conv2D(num_features, 1, kernel_initializer=head_initializer(init),
                                                    name=f"{name}_remap_features")(features)
            remapped_heatmaps = keras.layers.Conv2D(num_features, 1, kernel_initializer=head_initializer(init),
                                                    name=f"{name}_remap_heatmaps")(heatmaps)
            x = keras.layers.Add(name=f"{name}_next")([x, remapped_features, remapped_heatmaps])
    model = keras.Model(inputs, outputs, name=f"hourglass{num_stages}")
    if pretrained:
        load_pretrained_weights(model, pretrained, "hourglass")
    return model


@register_backbone("hourglass", stride=OUTPUT_STRIDE, stages=(1, 2, 3, 4, 5, 6, 7, 8), staged=True,
                   uses_deconv=False, input_multiple=OUTPUT_STRIDE * 2 ** HOURGLASS_LEVELS)
def hourglass(input_shape=(256, 256, 3), num_outputs=16, num_stages=2, num_deconv=0, deconv_filters=256,
              upsample="deconv", pretrained=None, num_features=256, init_stddev=HEAD_INITIALIZER_STDDEV):
    del deconv_filters, upsample  # The hourglass predicts at stride 4 without an upsampling head.
    if num_deconv:
        raise ValueError(f"hourglass predicts at stride {OUTPUT_STRIDE}; num_deconv must be 0, got {num_deconv}")
    return build_hourglass(input_shape, num_outputs, num_stages, num_features=num_features, pretrained=pretrained,
                           init_stddev=init_stddev)
