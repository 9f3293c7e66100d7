"""`FusedBatchNormalization`: Keras' BatchNormalization with TensorFlow's fused kernel for training steps.

Keras 3's BatchNormalization computes a training step from separate ops (moments, then the normalisation), and
under a bfloat16 / float16 policy it first casts the activations to float32 and back. On TensorFlow one fused op
(`FusedBatchNormV3`, oneDNN's batch normalisation on CPU) does the same in one pass over the activations and reads
bfloat16 directly. Measured on a 2-core AMD EPYC (docs/benchmarks.md, "Fused BatchNorm"), it makes the ResNet-50
training step 1.19x faster in float32 and 1.46x in bfloat16.

Everything else is Keras' layer: the same weights, config and checkpoints, and its own code for inference,
masks, renormalisation, synchronised statistics, other ranks or axes and other backends (JAX, PyTorch).
"""
import keras

# The ranks and channel axes the fused kernel takes: (N, H, W, C), channels last.
_FUSED_RANK = 4
_CHANNELS_LAST_AXES = (-1, 3)


@keras.saving.register_keras_serializable(package="integral_keras")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` whose TensorFlow training step is one fused op.

    In a training call (`training=True`, trainable) on TensorFlow of a `(N, H, W, C)` channels-last input without a
    mask, renormalisation or synchronisation, and with both `center` and `scale`, it normalises with the batch's
    statistics through `FusedBatchNormV3` (float32 statistics and parameters, the input's own dtype for the
    activations) and updates the moving mean and variance exactly as Keras does: with the batch's biased
    variance (the op reports the unbiased one, which is converted). Every other call is Keras' own.

    Args:
      **kwargs: those of `keras.layers.BatchNormalization`.

    Call:
      inputs: `(N, H, W, C)` (or any input Keras' layer takes).

    Returns:
      The normalised inputs, in the layer's compute dtype.
    """

    def _fused(self, inputs, training, mask) -> bool:
        return (bool(training) and self.trainable and mask is None and not self.renorm
                and not getattr(self, "synchronized", False) and self.center and self.scale
                and len(inputs.shape) == _FUSED_RANK and self.axis in _CHANNELS_LAST_AXES
                and keras.backend.backend() == "tensorflow")

    def call(self, inputs, training=None, mask=None):
        if not self._fused(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf  # pylint: disable=import-outside-toplevel  # this branch runs on TensorFlow only

        dtype = inputs.dtype if inputs.dtype in (tf.bfloat16, tf.float16) else tf.float32
        empty = tf.constant([], tf.float32)
        # The raw op, not tf.compat.v1.nn.fused_batch_norm, which raises epsilon to at least 1.001e-5.
        outputs, mean, unbiased_variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=tf.cast(inputs, dtype), scale=tf.cast(self.gamma, tf.float32), offset=tf.cast(self.beta, tf.float32),
            mean=empty, variance=empty, epsilon=self.epsilon, is_training=True)
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), tf.float32)
        variance = unbiased_variance * tf.maximum(count - 1.0, 0.0) / count
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + tf.cast(mean, self.moving_mean.dtype) * (1 - momentum))
        self.moving_variance.assign(
            self.moving_variance * momentum + tf.cast(variance, self.moving_variance.dtype) * (1 - momentum))
        return tf.cast(outputs, self.compute_dtype)
