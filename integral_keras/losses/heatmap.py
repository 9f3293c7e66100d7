"""Heat-map losses of the H1/H2/H3 baselines (and the heat-map half of I1-I3).

Every loss takes the raw head output `y_pred` `(N, H, W, K*D)` (channel `k*D + d`)
and the packed target `y_true` `(N, H, W, K*D + K)` made by
`integral_keras.codecs.PoseCodec.encode` (target maps, then one constant weight
map per joint); `y_true` with exactly `K*D` channels means weight 1.

Reduction follows the seed: each sample's loss is the weighted sum over joints of
the per-joint term (itself a sum over that joint's D*H*W cells), and Keras'
default `"sum_over_batch_size"` reduction divides the sum over samples by the
batch size N (after multiplying by `sample_weight`, when given). All arithmetic
runs in the loss dtype, float32 by default even under a mixed-precision policy.
"""
import keras
from keras import ops

from integral_keras.core.packing import unpack_heatmap_target


class _HeatmapLoss(keras.losses.Loss):
    """Unpacks targets, sums per-joint terms with their weights; subclasses give the term.

    Args:
      num_joints: K.
      depth: D, depth bins per joint (1 for 2D).
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def __init__(self, num_joints, depth=1, **kwargs):
        super().__init__(**kwargs)
        self.num_joints = num_joints
        self.depth = depth

    def call(self, y_true, y_pred):
        channels = y_pred.shape[-1]
        if channels != self.num_joints * self.depth:
            raise ValueError(
                f"{type(self).__name__} expects predictions with K*D = "
                f"{self.num_joints * self.depth} channels (num_joints="
                f"{self.num_joints}, depth={self.depth}); got shape {y_pred.shape}."
            )
        targets, joint_weights = unpack_heatmap_target(y_true, self.num_joints, self.depth)
        per_joint = self._per_joint_loss(targets, y_pred)
        if joint_weights is not None:
            per_joint = per_joint * joint_weights
        return ops.sum(per_joint, axis=-1)

    def _per_joint_loss(self, targets, logits):
        """`(N, H, W, K*D)` targets and logits -> `(N, K)` per-joint losses."""
        raise NotImplementedError

    def _sum_per_joint(self, cells):
        """Sums `(N, H, W, K*D)` over each joint's D*H*W cells -> `(N, K)`."""
        per_channel = ops.sum(cells, axis=(1, 2))
        return ops.sum(ops.reshape(per_channel, (-1, self.num_joints, self.depth)), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"num_joints": self.num_joints, "depth": self.depth})
        return config


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapMSE(_HeatmapLoss):
    """H1: squared error between the head output and a Gaussian target.

    Per sample: `sum_k w_k * sum_cells (y_pred - target)^2` over the joint's
    D*H*W cells; the batch loss divides the sum over samples by N.

    Args:
      num_joints: K.
      depth: D, depth bins per joint (1 for 2D).
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def _per_joint_loss(self, targets, logits):
        return self._sum_per_joint(ops.square(logits - targets))


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapCrossEntropy(_HeatmapLoss):
    """H2: softmax over each joint's D*H*W cells, cross-entropy with the target.

    Per sample: `sum_k w_k * -sum_cells target * log_softmax(y_pred)_k`, where the
    log-softmax of joint k runs over its D*H*W cells (computed with logsumexp, so
    large logits are safe). The target is the one-hot map of the codec; any
    per-joint distribution works (soft labels). The batch loss divides the sum
    over samples by N.

    Args:
      num_joints: K.
      depth: D, depth bins per joint (1 for 2D).
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def _per_joint_loss(self, targets, logits):
        per_channel = ops.logsumexp(logits, axis=(1, 2))
        per_joint = ops.logsumexp(
            ops.reshape(per_channel, (-1, self.num_joints, self.depth)), axis=-1
        )
        log_normalizer = ops.repeat(per_joint, self.depth, axis=-1)[:, None, None, :]
        return -self._sum_per_joint(targets * (logits - log_normalizer))


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapBinaryCrossEntropy(_HeatmapLoss):
    """H3: per-cell sigmoid binary cross-entropy from logits with a disc target.

    Per sample: `sum_k w_k * sum_cells bce(target, sigmoid(y_pred))` over the
    joint's D*H*W cells, with the stable form
    `max(x, 0) - x * t + log(1 + exp(-|x|))`. The batch loss divides the sum over
    samples by N.

    Args:
      num_joints: K.
      depth: D, depth bins per joint (1 for 2D).
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def _per_joint_loss(self, targets, logits):
        cells = (
            ops.relu(logits)
            - logits * targets
            + ops.log1p(ops.exp(-ops.abs(logits)))
        )
        return self._sum_per_joint(cells)
