"""Building blocks shared by the hand-built backbones and the heads."""
import keras

# The seed (PyTorch) uses BatchNorm with momentum 0.1 and eps 1e-5; Keras'
# momentum is the decay of the moving average, hence 0.9.
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5

# Heat-map head initialisation of the seed (Simple Baselines / Integral code).
HEAD_INITIALIZER_STDDEV = 0.001


def batch_norm(name: str) -> keras.layers.BatchNormalization:
    """A channels-last BatchNormalization with the seed's momentum and epsilon."""
    return keras.layers.BatchNormalization(axis=-1, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)


def head_initializer() -> keras.initializers.Initializer:
    """N(0, 0.001) weights, as the seed initialises its deconv head."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=HEAD_INITIALIZER_STDDEV)


def conv_bn_relu(x, filters: int, kernel_size: int, name: str, strides: int = 1, use_bias: bool = False):
    """Conv (symmetric zero padding, as PyTorch) + BN + ReLU.

    Args:
      x: `(N, H, W, C)` tensor.
      filters: Output channels.
      kernel_size: Odd kernel size; the input is padded by `kernel_size // 2`.
      name: Prefix of the layer names (`{name}_conv`, `{name}_bn`, `{name}_relu`).
      strides: Convolution stride.
      use_bias: Whether the convolution has a bias.

    Returns:
      `(N, ceil(H / strides), ceil(W / strides), filters)` tensor.
    """
    x = symmetric_conv(x, filters, kernel_size, name=f"{name}_conv", strides=strides, use_bias=use_bias)
    x = batch_norm(f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def symmetric_conv(x, filters: int, kernel_size: int, name: str, strides: int = 1, use_bias: bool = False):
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
    return keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
