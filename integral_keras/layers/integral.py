"""Soft-argmax ("integral") layers of Sun et al., ECCV 2018.

All layers read joint-major logits `(N, H, W, K*D)` (channel `k*D + d`), turn
each joint's `D*H*W` cells into a distribution `p = softmax(beta * logits)`
(paper Eq. 2) and compute in float32. Coordinates are heat-map cell units with
cell `i` centred at `i`, ordered `(x, y)` or `(x, y, z)`.

Cost: the expectation of x only needs the x-marginal, so the layers never form
`p * coordinate` products over the full map. After one max and one exp pass
they reduce the unnormalised map with one sum over H and one over W; the three
marginals, the normaliser and all expectations come from those small results.
"""
import collections
import math

import keras
from keras import ops

from integral_keras.layers.heatmap_layer import HeatmapLayer, check_beta

# Largest factor by which `debias=True` may amplify the offset of the plain
# expectation from the map centre (see `IntegralRegression`).
MAX_DEBIAS_GAIN = 1000.0

_Marginals = collections.namedtuple("_Marginals", ["x", "y", "z", "total"])


def joint_peaks(cells):
    """Each joint's largest logit: `(N, H, W, K, D)` -> `(N, K)`.

    Max over the leading (H, W) axes of the contiguous `(N, H, W, K*D)` view
    first, then over depth: one pass over the tensor, cheaper than one
    reduction over axes (1, 2, 4).
    """
    _, height, width, num_joints, depth = ops.shape(cells)
    flat = ops.reshape(cells, (-1, height, width, num_joints * depth))
    return ops.max(ops.reshape(ops.max(flat, axis=(1, 2)), (-1, num_joints, depth)), axis=-1)


def scaled_exp(cells, beta):
    """Exponentiates joint-major logits relative to each joint's maximum.

    Args:
      cells: `(N, H, W, K, D)` float32 logits.
      beta: Softmax inverse temperature.

    Returns:
      `(exp_map, log_offset)`: `exp_map = exp(beta * (cells - max))` of shape
      `(N, H, W, K, D)` with each joint's largest cell equal to 1, and
      `log_offset = beta * max` of shape `(N, K)`, so that
      `log(sum(exp(beta * cells))) = log_offset + log(sum(exp_map))`.
    """
    num_joints = ops.shape(cells)[3]
    peak = joint_peaks(cells)
    shifted = cells - ops.reshape(peak, (-1, 1, 1, num_joints, 1))
    if beta != 1.0:
        shifted = shifted * beta
    return ops.exp(shifted), peak * beta


def _marginal_masses(exp_map):
    """Sums an unnormalised `(N, H, W, K, D)` map onto each axis.

    Only two passes touch the full map, both reductions over a leading axis
    (over H, and over W); everything else works on their small results.

    Returns:
      `_Marginals` with `x (N, W, K)`, `y (N, H, K)`, `z (N, K, D)` (None when
      D = 1) and `total (N, K)`, all unnormalised.
    """
    _, height, width, _, depth = ops.shape(exp_map)
    over_height = ops.sum(exp_map, axis=1)  # (N, W, K, D)
    over_width = ops.sum(exp_map, axis=2)  # (N, H, K, D)
    # The second-level sums are contractions with ones: written as sums, XLA
    # folds sum(sum(map)) into one more full pass over the map per result.
    mass_z = ops.einsum("nwkd,w->nkd", over_height, ops.ones((width,)))
    return _Marginals(
        x=ops.einsum("nwkd,d->nwk", over_height, ops.ones((depth,))),
        y=ops.einsum("nhkd,d->nhk", over_width, ops.ones((depth,))),
        z=mass_z if depth > 1 else None,
        total=ops.sum(mass_z, axis=-1),
    )


def _first_moment(mass, axis):
    """`sum_i i * mass_i` along `axis` of a small marginal tensor."""
    size = ops.shape(mass)[axis]
    positions = ops.arange(size, dtype="float32")
    shape = [1] * len(mass.shape)
    shape[axis] = -1
    return ops.sum(mass * ops.reshape(positions, shape), axis=axis)


def _expected_joints(marginals):
    """Eq. 6: expectation of each 1-D marginal. Returns `(N, K, 2|3)`."""
    coords = [
        _first_moment(marginals.x, axis=1),
        _first_moment(marginals.y, axis=1),
    ]
    if marginals.z is not None:
        coords.append(_first_moment(marginals.z, axis=2))
    return ops.stack(coords, axis=-1) / marginals.total[..., None]


def _normalised_marginals(marginals):
    """Eq. 5: the 1-D marginal distributions as `(N, K, W)`, `(N, K, H)`, `(N, K, D)`."""
    total = marginals.total[..., None]
    result = {
        "marginal_x": ops.transpose(marginals.x, (0, 2, 1)) / total,
        "marginal_y": ops.transpose(marginals.y, (0, 2, 1)) / total,
    }
    if marginals.z is not None:
        result["marginal_z"] = marginals.z / total
    return result


def _joint_output_shape(batch, num_joints, depth):
    return (batch, num_joints, 2 if depth == 1 else 3)


class _IntegralBase(HeatmapLayer):
    """Adds the softmax inverse temperature `beta` to `HeatmapLayer`."""

    def __init__(self, num_joints, depth=1, beta=1.0, **kwargs):
        super().__init__(num_joints=num_joints, depth=depth, **kwargs)
        self.beta = check_beta(beta, type(self).__name__)

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta})
        return config


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapSoftmax(_IntegralBase):
    """Normalises each joint's heat map with a softmax over its `D*H*W` cells.

    `p[n, h, w, k*D + d] = exp(beta * l[n, h, w, k*D + d]) /
    sum_{h', w', d'} exp(beta * l[n, h', w', k*D + d'])` (paper Eq. 2), computed
    in float32 with the per-joint maximum subtracted.

    Args:
      num_joints: Number of joints K.
      depth: Depth bins D per joint (1 for 2D).
      beta: Softmax inverse temperature (> 0).

    Call arguments:
      logits: `(N, H, W, K*D)` joint-major logits, any float dtype.

    Returns:
      `(N, H, W, K*D)` float32 probabilities; each joint's cells sum to 1.
    """

    def call(self, logits):
        cells = self.split_joints(logits)
        exp_map, _ = scaled_exp(cells, self.beta)
        total = ops.sum(exp_map, axis=(1, 2, 4), keepdims=True)
        return ops.reshape(exp_map / total, ops.shape(logits))

    def output_shape_for(self, batch, height, width, depth):
        return (batch, height, width, self.num_channels)


@keras.saving.register_keras_serializable(package="integral_keras")
class IntegralRegression(_IntegralBase):
    """Integral pose regression: the expected joint location under the softmax.

    With `p = softmax(beta * logits)` over a joint's `D*H*W` cells (paper
    Eq. 2-4): `x = sum p * w`, `y = sum p * h`, `z = sum p * d`.

    Debiasing (`debias=True`, Gu, Yang, Yao, "Removing the Bias of Integral
    Pose Regression", ICCV 2021). The softmax gives every background cell
    mass, which pulls the expectation `J_hat` towards the map centre `c`
    (`c = ((W-1)/2, (H-1)/2, (D-1)/2)`). Assume each cell's response is
    `exp(beta * l_i) = 1 + f_i`: a background of `exp(0) = 1` on all `M = D*H*W`
    cells plus a non-negative foreground `f_i` whose centroid is the true joint
    `J = sum f_i x_i / F`, `F = sum f_i`. With `C = sum exp(beta * l_i) = M + F`:
    `C * J_hat = sum (1 + f_i) x_i = M * c + F * J`, hence

        J = (C * J_hat - M * c) / (C - M) = J_hat + g * (J_hat - c),
        g = M / (C - M) = exp(-t) / (1 - exp(-t)),  t = log C - log M.

    `log C` is taken as the max-subtracted log-sum-exp, so logits of +-1e4
    neither overflow `C` nor produce NaN gradients. The formula is only
    meaningful when the map has foreground mass (`C > M`); as `C -> M` the gain
    `g` diverges, so `t` is clipped from below at `log(1 + 1/MAX_DEBIAS_GAIN)`
    (`g <= 1000`). Because `J` is a convex combination of cell centres when
    `f_i >= 0`, the result is finally clipped to `[0, size - 1]` per axis.
    Maps without foreground mass (`C <= M`, e.g. all logits <= 0) break the
    assumption: a flat map stays at its centre, any other offset from the
    centre is amplified by the capped gain and usually ends on the clip bounds,
    so use `debias=True` on heat maps trained to a zero background.

    Args:
      num_joints: Number of joints K.
      depth: Depth bins D per joint (1 for 2D).
      beta: Softmax inverse temperature (> 0).
      debias: Whether to apply the Gu et al. correction above.

    Call arguments:
      logits: `(N, H, W, K*D)` joint-major logits, any float dtype.

    Returns:
      `(N, K, 2)` for `depth == 1`, else `(N, K, 3)`, float32 `(x, y[, z])` in
      heat-map cell units.
    """

    def __init__(self, num_joints, depth=1, beta=1.0, debias=False, **kwargs):
        super().__init__(num_joints=num_joints, depth=depth, beta=beta, **kwargs)
        if not isinstance(debias, bool):
            raise ValueError(f"IntegralRegression: `debias` must be a bool, got {debias!r}.")
        self.debias = debias

    def call(self, logits):
        cells = self.split_joints(logits)
        exp_map, log_offset = scaled_exp(cells, self.beta)
        marginals = _marginal_masses(exp_map)
        joints = _expected_joints(marginals)
        if self.debias:
            joints = self._remove_bias(joints, marginals.total, log_offset, ops.shape(cells))
        return joints

    def _remove_bias(self, joints, total, log_offset, cells_shape):
        _, height, width, _, depth = cells_shape
        sizes = [width, height] + ([depth] if self.depth > 1 else [])
        num_cells = 1
        for size in (height, width, depth):
            num_cells = num_cells * size
        log_total = log_offset + ops.log(total)
        excess = log_total - ops.log(ops.cast(num_cells, "float32"))
        excess = ops.maximum(excess, math.log1p(1.0 / MAX_DEBIAS_GAIN))
        gain = ops.exp(-excess) / -ops.expm1(-excess)
        upper = ops.cast(ops.stack(sizes), "float32") - 1.0
        centre = upper / 2.0
        debiased = joints + gain[..., None] * (joints - centre)
        return ops.clip(debiased, 0.0, upper)

    def output_shape_for(self, batch, height, width, depth):
        return _joint_output_shape(batch, self.num_joints, depth)

    def get_config(self):
        config = super().get_config()
        config.update({"debias": self.debias})
        return config


@keras.saving.register_keras_serializable(package="integral_keras")
class TwoStepIntegral(_IntegralBase):
    """Integral regression through explicit 1-D marginals (paper Eq. 5-6).

    The normalised heat map `p` (as in `IntegralRegression`) is summed over the
    other axes into marginals `V_x(w) = sum_{h,d} p`, `V_y(h) = sum_{w,d} p`,
    `V_z(d) = sum_{h,w} p` (Eq. 5), and each coordinate is the expectation of
    its marginal, `x = sum_w w V_x(w)` (Eq. 6). The joints equal those of
    `IntegralRegression`; the marginals are exposed for 1-D supervision and
    inspection.

    Args:
      num_joints: Number of joints K.
      depth: Depth bins D per joint (1 for 2D).
      beta: Softmax inverse temperature (> 0).

    Call arguments:
      logits: `(N, H, W, K*D)` joint-major logits, any float dtype.

    Returns:
      Dict of float32 tensors: `joints` `(N, K, 2|3)`, `marginal_x` `(N, K, W)`,
      `marginal_y` `(N, K, H)` and, when `depth > 1`, `marginal_z` `(N, K, D)`;
      each marginal sums to 1.
    """

    def call(self, logits):
        exp_map, _ = scaled_exp(self.split_joints(logits), self.beta)
        marginals = _marginal_masses(exp_map)
        outputs = {"joints": _expected_joints(marginals)}
        outputs.update(_normalised_marginals(marginals))
        return outputs

    def output_shape_for(self, batch, height, width, depth):
        shapes = {
            "joints": _joint_output_shape(batch, self.num_joints, depth),
            "marginal_x": (batch, self.num_joints, width),
            "marginal_y": (batch, self.num_joints, height),
        }
        if depth > 1:
            shapes["marginal_z"] = (batch, self.num_joints, depth)
        return shapes
