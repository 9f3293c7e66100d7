"""Shared base of the layers that read joint-major heat-map logits.

Every layer in this package takes logits of shape `(N, H, W, K*D)` whose channel
`k*D + d` holds depth slice `d` of joint `k` (DESIGN.md, Conventions), and
computes in float32 whatever the input dtype or the layer's dtype policy.
"""
import math

import keras
from keras import ops


def _check_positive_int(name, value, layer_name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{layer_name}: `{name}` must be an integer >= 1, got {value!r}.")


def check_beta(beta, layer_name):
    """Returns `beta` as a float after checking that it is finite and > 0."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float)):
        raise ValueError(f"{layer_name}: `beta` must be a positive number, got {beta!r}.")
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"{layer_name}: `beta` must be finite and > 0, got {beta!r}.")
    return float(beta)


class HeatmapLayer(keras.layers.Layer):
    """Base layer for `(N, H, W, K*D)` joint-major heat-map logits.

    Subclasses implement `call` and `output_shape_for(batch, height, width,
    depth)`. The base validates the constructor arguments and the input channel
    count, upcasts inputs to float32 (also under `mixed_float16` /
    `mixed_bfloat16` policies, where Keras would otherwise cast them down to the
    compute dtype) and declares float32 outputs.

    Args:
      num_joints: Number of joints K (>= 1).
      depth: Number of depth bins D per joint (>= 1; 1 for 2D heat maps).
      **kwargs: Standard `keras.layers.Layer` arguments.
    """

    def __init__(self, num_joints, depth=1, **kwargs):
        super().__init__(**kwargs)
        _check_positive_int("num_joints", num_joints, type(self).__name__)
        _check_positive_int("depth", depth, type(self).__name__)
        self.num_joints = num_joints
        self.depth = depth

    @property
    def input_dtype(self):
        # Keras casts floating inputs to this dtype before `call`; float16
        # logits are upcast losslessly and float32 logits keep their range.
        return "float32"

    @property
    def num_channels(self):
        """Channel count `K*D` the input must have."""
        return self.num_joints * self.depth

    def _check_input_shape(self, input_shape):
        name = type(self).__name__
        if len(input_shape) != 4:
            raise ValueError(
                f"{name} expects logits of shape (N, H, W, K*D), got rank "
                f"{len(input_shape)} shape {tuple(input_shape)}."
            )
        channels = input_shape[-1]
        if channels is not None and channels != self.num_channels:
            raise ValueError(
                f"{name} expects {self.num_channels} channels in the last axis "
                f"(num_joints={self.num_joints} x depth={self.depth}, channel "
                f"k*D+d), got {channels} (input shape {tuple(input_shape)})."
            )

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        batch, height, width, _ = input_shape
        return self.output_shape_for(batch, height, width, self.depth)

    def output_shape_for(self, batch, height, width, depth):
        raise NotImplementedError

    def compute_output_spec(self, inputs):
        shapes = self.compute_output_shape(inputs.shape)
        if isinstance(shapes, dict):
            return {key: keras.KerasTensor(shape, dtype="float32") for key, shape in shapes.items()}
        return keras.KerasTensor(shapes, dtype="float32")

    def split_joints(self, logits):
        """Casts to float32 and reshapes `(N, H, W, K*D)` to `(N, H, W, K, D)`."""
        logits = ops.cast(logits, "float32")
        _, height, width, _ = ops.shape(logits)
        return ops.reshape(logits, (-1, height, width, self.num_joints, self.depth))

    def get_config(self):
        config = super().get_config()
        config.update({"num_joints": self.num_joints, "depth": self.depth})
        return config
