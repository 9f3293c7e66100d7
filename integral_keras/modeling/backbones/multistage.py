"""Multi-stage ResNet-50 (the paper's MS-ResNet), built on `keras.applications`.

The `keras.applications` ResNet-50 trunk up to `conv3` (stride 8) is shared.
Stage `s` takes that feature map, concatenated (for `s > 0`) with stage `s-1`'s
heat-map logits resized bilinearly to the feature resolution, and runs its own
`conv4` and `conv5` bottleneck stacks (same design as `keras.applications`) and
its own heat-map head (kernels from N(0, 0.001^2) by default, as the paper's
heads; the ResNet layers keep the `keras.applications` initialisers). Every
stage is supervised.

With `pretrained`, the trunk and every stage's `conv4`/`conv5` start from the same
ImageNet ResNet-50 weights; where a stage's first block also sees the previous
heat maps, the pretrained kernel fills the feature-input slice and the
heat-map-input slice keeps its random initialisation.
"""
from typing import Optional, Sequence, Tuple, Union

import keras

from integral_keras.layers.batch_norm import FusedBatchNormalization
from integral_keras.modeling.backbones.factory import register_backbone, stage_outputs
from integral_keras.modeling.backbones.pretrained import load_pretrained_weights
from integral_keras.modeling.common import HEAD_INITIALIZER_STDDEV
from integral_keras.modeling.heads.deconv import deconv_head

SHARED_LEVEL = "conv3_block4_out"
_STAGE_STACKS = (("conv4", 256, 6), ("conv5", 512, 3))
_BN_EPSILON = 1.001e-5  # keras.applications' value, so its weights behave identically.


def _bottleneck(x, filters: int, strides: int, projection: bool, name: str):
    """keras.applications' ResNet v1 bottleneck (stride on the first 1x1 conv)."""
    shortcut = x
    if projection:
        shortcut = keras.layers.Conv2D(4 * filters, 1, strides=strides, name=f"{name}_0_conv")(x)
        shortcut = FusedBatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_0_bn")(shortcut)
    y = keras.layers.Conv2D(filters, 1, strides=strides, name=f"{name}_1_conv")(x)
    y = FusedBatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_1_bn")(y)
    y = keras.layers.ReLU(name=f"{name}_1_relu")(y)
    y = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(y)
    y = FusedBatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_2_bn")(y)
    y = keras.layers.ReLU(name=f"{name}_2_relu")(y)
    y = keras.layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(y)
    y = FusedBatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_3_bn")(y)
    y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def _copy_stage_weights(model: keras.Model, reference: keras.Model, num_stages: int) -> None:
    """Copies reference conv4/conv5 weights into every stage (see module docstring)."""
    for s in range(num_stages):
        prefix = f"stage{s}_"
        for layer in model.layers:
            if not layer.name.startswith(prefix) or not layer.weights:
                continue
            source_name = layer.name[len(prefix):]
            if not source_name.startswith(("conv4_", "conv5_")):
                continue
            merged = []
            for target, source in zip(layer.get_weights(), reference.get_layer(source_name).get_weights()):
                if target.shape != source.shape:  # kernel over [features, previous heat maps]
                    target = target.copy()
                    target[:, :, :source.shape[2], :] = source
                    source = target
                merged.append(source)
            layer.set_weights(merged)


def build_multistage_resnet50(input_shape: Tuple[int, int, int] = (256, 256, 3),
                              num_outputs: Union[int, Sequence[int]] = 16, num_stages: int = 2, num_deconv: int = 3,
                              deconv_filters: int = 256, upsample: str = "deconv", pretrained: Optional[str] = None,
                              init_stddev: Optional[float] = HEAD_INITIALIZER_STDDEV) -> keras.Model:
    """Builds the multi-stage ResNet-50.

    Args:
      input_shape: `(H, W, 3)` normalised image; H and W divisible by 32.
      num_outputs: Heat-map channels `K * D`, one int for every stage or one
        per stage (`K * D_s`: stages with different depths, the paper's Table 8).
      num_stages: Number of stages (1-4 in the paper).
      num_deconv, deconv_filters, upsample: Each stage's heat-map head
        (see `deconv_head`).
      pretrained: Optional local ResNet-50 no-top weights file
        (`keras.applications` layout), used for the trunk and every stage.
      init_stddev: Standard deviation of the heads' normal kernel initialisation
        (the paper's 0.001), or None for the Keras defaults.

    Returns:
      A model mapping `(N, H, W, 3)` to, for every stage `s`,
      `heatmaps_stage{s}`: `(N, H/32 * 2**num_deconv, W/32 * 2**num_deconv,
      num_outputs[s])` logits and `features_stage{s}`: `(N, H/32, W/32, 2048)`.
    """
    channels = stage_outputs(num_outputs, num_stages)
    reference = keras.applications.ResNet50(include_top=False, weights=None, input_shape=input_shape)
    if pretrained:
        load_pretrained_weights(reference, pretrained, "multistage_resnet50")
    shared = reference.get_layer(SHARED_LEVEL).output
    outputs = {}
    previous = None
    for s in range(num_stages):
        x = shared
        if previous is not None:
            resized = previous
            if tuple(previous.shape[1:3]) != tuple(shared.shape[1:3]):
                resized = keras.layers.Resizing(shared.shape[1], shared.shape[2], interpolation="bilinear",
                                                name=f"stage{s}_resize_heatmaps")(previous)
            x = keras.layers.Concatenate(name=f"stage{s}_concat")([shared, resized])
        for level, filters, blocks in _STAGE_STACKS:
            for i in range(blocks):
                x = _bottleneck(x, filters, strides=2 if i == 0 else 1, projection=i == 0,
                                name=f"stage{s}_{level}_block{i + 1}")
        heatmaps = deconv_head(x, channels[s], num_deconv, deconv_filters, upsample, name=f"stage{s}_head",
                               init_stddev=init_stddev)
        outputs[f"heatmaps_stage{s}"] = heatmaps
        outputs[f"features_stage{s}"] = x
        previous = heatmaps
    model = keras.Model(reference.input, outputs, name=f"multistage_resnet50_{num_stages}")
    if pretrained:
        _copy_stage_weights(model, reference, num_stages)
    return model


@register_backbone("multistage_resnet50", stride=32, stages=(1, 2, 3, 4), staged=True, preprocessing="caffe")
def multistage_resnet50(input_shape=(256, 256, 3), num_outputs=16, num_stages=2, num_deconv=3,
                        deconv_filters=256, upsample="deconv", pretrained=None, init_stddev=HEAD_INITIALIZER_STDDEV):
    return build_multistage_resnet50(input_shape, num_outputs, num_stages, num_deconv, deconv_filters, upsample,
                                     pretrained, init_stddev=init_stddev)
