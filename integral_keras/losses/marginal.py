"""Heat-map losses on the x and y marginals of 3D heat maps (the paper's Strategy 2, Eq. 5).

A sample without a 3D label (or a joint whose depth is out of range) has no volumetric target, but its x and y
are known. Following the paper (Sec. 2.1, 5.3: with the two-step integral the x and y marginals of a 3D heat map
are 1-D heat-map vectors, "so we can add 2D data on both heat map and joint losses"), such a joint is supervised
with the method's heat-map loss on the marginals of its `D x H x W` map, against the 1-D analogue of the method's
target (`PoseCodec.encode(..., marginals=True)`).

Every loss takes the raw head output `y_pred` `(N, H, W, K*D)` (channel `k*D + d`) and the packed target `y_true`
`(N, K, W + H + 1)` (`integral_keras.codecs.packing.pack_marginal_target`: x target, y target, weight). Per sample:
`sum_k w_k * (term_x + term_y)`; Keras' default reduction divides the sum over samples by N, like the volumetric
losses. The marginals of each joint `k` (`l` its logits):

- `HeatmapMarginalMSE` (H1, I1; raw maps, not normalised): Eq. 5's sums of the map over the other two axes,
  `m_x(w) = sum_{h,d} l(h, w, d) / (2 pi sigma^2)` (and `m_y`); term `sum_w (m_x(w) - t_x(w))^2`. The target is the
  same sum of the codec's 3D Gaussian target, with the unknown depth summed over an unbounded axis
  (`sigma * sqrt(2 pi)`), so a map equal to the 3D target of any depth (away from the borders) has zero marginal
  loss; the division by `2 pi sigma^2` (the mass of a unit-peak Gaussian's cross-section) makes the target a
  1-D Gaussian of peak ~1, the 1-D analogue of H1's target.
- `HeatmapMarginalCrossEntropy` (H2, I2): the marginals of `p = softmax(l)` over the `D*H*W` cells,
  `V_x(w) = sum_{h,d} p` (exactly Eq. 5; for `beta = 1` the `marginal_x` output of `TwoStepIntegral`), with the
  cross-entropy `-sum_w t_x(w) log V_x(w)`, `t_x` one-hot; computed with log-sum-exps.
- `HeatmapMarginalBinaryCrossEntropy` (H3, I3): per-cell sigmoids are independent Bernoullis, so the marginal of
  slice `x = w` is the probability that any of its cells is on, `V_x(w) = 1 - prod_{h,d} (1 - sigmoid(l))`
  (Eq. 5's sum, taken in log space: `-log(1 - V_x(w)) = S_x(w) = sum_{h,d} softplus(l)`), with the binary
  cross-entropy against the 1-D disc `t_x`: `sum_w t_x(w) * -log(1 - exp(-S_x(w))) + (1 - t_x(w)) * S_x(w)`.
  A slice outside the disc costs exactly the volumetric loss of its cells with target 0.

All arithmetic runs in the loss dtype, float32 by default even under a mixed-precision policy.
"""
import math

import keras
from keras import ops

from integral_keras.core.packing import unpack_marginal_target

# Smallest `S` used in `-log(1 - exp(-S))`: keeps the logarithm finite when every cell of a slice underflows.
_MIN_SLICE_SOFTPLUS = 1e-30


class _MarginalLoss(keras.losses.Loss):
    """Unpacks marginal targets, sums weighted per-joint x and y terms; subclasses give the terms.

    Args:
      num_joints: K.
      depth: D, depth bins per joint (> 1: marginals of 2D maps are the 2D loss's business).
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def __init__(self, num_joints, depth, **kwargs):
        super().__init__(**kwargs)
        if depth < 2:
            raise ValueError(f"{type(self).__name__} supervises 3D heat maps (depth > 1); got depth={depth}.")
        self.num_joints = num_joints
        self.depth = depth

    def call(self, y_true, y_pred):
        _, height, width, channels = y_pred.shape
        if channels != self.num_joints * self.depth:
            raise ValueError(
                f"{type(self).__name__} expects predictions with K*D = {self.num_joints * self.depth} channels "
                f"(num_joints={self.num_joints}, depth={self.depth}); got shape {y_pred.shape}."
            )
        target_x, target_y, weights = unpack_marginal_target(y_true, width, height)
        cells = ops.reshape(y_pred, (-1, height, width, self.num_joints, self.depth))
        term_x = self._axis_term(target_x, cells, over=(1, 4))
        term_y = self._axis_term(target_y, cells, over=(2, 4))
        return ops.sum(weights * (term_x + term_y), axis=-1)

    def _axis_term(self, target, cells, over):
        """`target` `(N, K, S)` and cells `(N, H, W, K, D)` reduced `over` two axes -> `(N, K)` terms."""
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config.update({"num_joints": self.num_joints, "depth": self.depth})
        return config


def _to_joint_major(per_slice):
    """`(N, S, K)` -> `(N, K, S)`."""
    return ops.transpose(per_slice, (0, 2, 1))


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapMarginalMSE(_MarginalLoss):
    """H1 / I1 on the x and y marginals: squared error of the scaled Eq. 5 sums (module docstring).

    Args:
      num_joints: K.
      depth: D (> 1).
      sigma: the codec's Gaussian standard deviation in cells; the sums are divided by `2 pi sigma^2`.
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def __init__(self, num_joints, depth, sigma=1.0, **kwargs):
        super().__init__(num_joints, depth, **kwargs)
        if not sigma > 0:
            raise ValueError(f"HeatmapMarginalMSE: sigma must be > 0; got {sigma!r}.")
        self.sigma = float(sigma)

    def _axis_term(self, target, cells, over):
        marginal = _to_joint_major(ops.sum(cells, axis=over)) / (2.0 * math.pi * self.sigma**2)
        return ops.sum(ops.square(marginal - target), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"sigma": self.sigma})
        return config


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapMarginalCrossEntropy(_MarginalLoss):
    """H2 / I2 on the x and y marginals: cross-entropy of the softmax's Eq. 5 marginals (module docstring).

    Args:
      num_joints: K.
      depth: D (> 1).
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def _axis_term(self, target, cells, over):
        log_mass = _to_joint_major(ops.logsumexp(cells, axis=over))  # (N, K, S)
        log_marginal = log_mass - ops.logsumexp(log_mass, axis=-1, keepdims=True)
        return -ops.sum(target * log_marginal, axis=-1)


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapMarginalBinaryCrossEntropy(_MarginalLoss):
    """H3 / I3 on the x and y marginals: binary cross-entropy of "any cell of the slice is on" (module docstring).

    Args:
      num_joints: K.
      depth: D (> 1).
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def _axis_term(self, target, cells, over):
        softplus = ops.relu(cells) + ops.log1p(ops.exp(-ops.abs(cells)))
        slice_off = _to_joint_major(ops.sum(softplus, axis=over))  # S = -log P(every cell of the slice is off)
        log_on = ops.log(-ops.expm1(-ops.maximum(slice_off, _MIN_SLICE_SOFTPLUS)))
        return ops.sum(-target * log_on + (1.0 - target) * slice_off, axis=-1)
