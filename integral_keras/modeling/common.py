"""Building blocks shared by the hand-built backbones and the heads."""
from typing import Optional, Union

import keras

from integral_keras.layers.batch_norm import FusedBatchNormalization

# The seed (PyTorch) uses BatchNorm with momentum 0.1 and eps 1e-5; Keras'
# momentum is the decay of the moving average, hence 0.9.
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5

# Initialisation of the paper (Sec. 4: "Normal distribution with 1e-3 standard deviation") for the heat-map head and
# the HourGlass; also the seed's (Simple Baselines / Integral code) deconv head.
HEAD_INITIALIZER_STDDEV = 0.001
# What Keras' Conv2D / Conv2DTranspose use when no initialiser is given.
KERAS_DEFAULT_KERNEL_INITIALIZER = "glorot_uniform"


def batch_norm(name: str) -> keras.layers.BatchNormalization:
    """A channels-last (fused, `FusedBatchNormalization`) BatchNormalization with the seed's momentum and epsilon."""
    return FusedBatchNormalization(axis=-1, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)


def with_fused_batch_norm(model: keras.Model) -> keras.Model:
    """A functional `model` (e.g. from `keras.applications`) rebuilt with every Keras BatchNormalization replaced by
    a `FusedBatchNormalization` of the same config; other layers are cloned. The clone gets `model`'s weights
    (same names, same order), so a checkpoint or weights file of either loads into the other."""
    def clone(layer):
        if type(layer) is keras.layers.BatchNormalization:  # pylint: disable=unidiomatic-typecheck
            return FusedBatchNormalization.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    fused = keras.models.clone_model(model, clone_function=clone)
    fused.set_weights(model.get_weights())
    return fused


def head_initializer(stddev: Optional[float] = HEAD_INITIALIZER_STDDEV) -> Union[keras.initializers.Initializer, str]:
    """Kernel initialiser of the heat-map heads and the HourGlass.

    A new initialiser per call (one per layer): an unseeded Keras initialiser draws
    its seed from Python's `random` when it is built, so `keras.utils.set_random_seed`
    (the trainer's `train.seed`) makes every layer's draw reproducible and layers
    of the same shape still get different weights.

    Args:
      stddev: Standard deviation of the zero-mean normal (the paper's 0.001), or
        None for the Keras default (`glorot_uniform`).

    Returns:
      `keras.initializers.RandomNormal(0, stddev)` or the Keras default's name.
    """
    if stddev is None:
        return KERAS_DEFAULT_KERNEL_INITIALIZER
    return keras.initializers.RandomNormal(mean=0.0, stddev=float(stddev))


def conv_bn_relu(x, filters: int, kernel_size: int, name: str, strides: int = 1, use_bias: bool = False,
                 kernel_initializer=KERAS_DEFAULT_KERNEL_INITIALIZER):
    """Conv (symmetric zero padding, as PyTorch) + BN + ReLU.

    Args:
      x: `(N, H, W, C)` tensor.
      filters: Output channels.
      kernel_size: Odd kernel size; the input is padded by `kernel_size // 2`.
      name: Prefix of the layer names (`{name}_conv`, `{name}_bn`, `{name}_relu`).
      strides: Convolution stride.
      use_bias: Whether the convolution has a bias.
      kernel_initializer: The convolution's kernel initialiser.

    Returns:
      `(N, ceil(H / strides), ceil(W / strides), filters)` tensor.
    """
    x = symmetric_conv(x, filters, kernel_size, name=f"{name}_conv", strides=strides, use_bias=use_bias,
                       kernel_initializer=kernel_initializer)
    x = batch_norm(f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def symmetric_conv(x, filters: int, kernel_size: int, name: str, strides: int = 1, use_bias: bool = False,
                   kernel_initializer=KERAS_DEFAULT_KERNEL_INITIALIZER):
    """A convolution padded by `kernel_size // 2` on every side (PyTorch-style).

    Keras' `padding="same"` pads asymmetrically for strided convolutions, which
    changes the sampling grid; explicit padding keeps the original ResNet grid.
    """
    pad = kernel_size // 2
    if strides > 1 and pad > 0:
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
                               kernel_initializer=kernel_initializer, name=name)(x)
