"""Heat-map head: upsampling blocks then a 1x1 convolution to `K*D` logits."""
from typing import Optional

import keras

from integral_keras.configs.model_config import UPSAMPLE_MODES
from integral_keras.modeling.common import HEAD_INITIALIZER_STDDEV, batch_norm, head_initializer


def deconv_head(features, num_outputs: int, num_deconv: int = 3, filters: int = 256,
                upsample: str = "deconv", name: str = "head",
                init_stddev: Optional[float] = HEAD_INITIALIZER_STDDEV):
    """Adds the seed's heat-map head to a functional graph.

    Each of the `num_deconv` blocks doubles the resolution:
    `upsample="deconv"`: Conv2DTranspose(filters, 4, stride 2, no bias) + BN + ReLU
    (the seed); `upsample="resize_conv"`: bilinear x2 UpSampling2D + Conv2D(filters,
    3, no bias) + BN + ReLU (same output shape; much faster than transposed
    convolutions under int8 TFLite). A final 1x1 convolution (with bias) emits the
    logits. Convolution kernels are drawn from N(0, init_stddev^2) (0.001 by
    default: the paper's and the seed's initialisation); biases start at zero.

    Args:
      features: `(N, h, w, C)` backbone features.
      num_outputs: Logit channels, `K * D` (channel `k * D + d`).
      num_deconv: Number of x2 upsampling blocks (0 for a plain 1x1 head).
      filters: Channels of the upsampling blocks.
      upsample: One of `UPSAMPLE_MODES`.
      name: Prefix of the layer names.
      init_stddev: Standard deviation of the normal kernel initialisation, or
        None for the Keras default (`glorot_uniform`).

    Returns:
      `(N, h * 2**num_deconv, w * 2**num_deconv, num_outputs)` float32 logits.
    """
    if upsample not in UPSAMPLE_MODES:
        raise ValueError(f"upsample must be one of {list(UPSAMPLE_MODES)}, got {upsample!r}")
    x = features
    for i in range(num_deconv):
        block = f"{name}_up{i + 1}"
        if upsample == "deconv":
            x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                                             kernel_initializer=head_initializer(init_stddev),
                                             name=f"{block}_deconv")(x)
        else:
            x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"{block}_resize")(x)
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                    kernel_initializer=head_initializer(init_stddev), name=f"{block}_conv")(x)
        x = batch_norm(f"{block}_bn")(x)
        x = keras.layers.ReLU(name=f"{block}_relu")(x)
    # float32 logits also under mixed precision: the losses and the softmax need the range.
    return keras.layers.Conv2D(num_outputs, 1, kernel_initializer=head_initializer(init_stddev),
                               bias_initializer="zeros", dtype="float32", name=f"{name}_logits")(x)
