"""Weighted joint-coordinate losses (R1 direct regression, the integral loss of I*).

`y_pred` is `(N, K, C)` joints in heat-map units (x, y[, z]); `y_true` is the packed
target `(N, K, 2*C)` made by `integral_keras.codecs.PoseCodec.encode` (C target
coordinates, then C per-coordinate weights: visibility for x/y, `has_3d` for z);
`y_true` with exactly C coordinates means weight 1.

Reduction follows the seed: each sample's loss is the weighted sum over joints and
coordinates, and Keras' default `"sum_over_batch_size"` reduction divides the sum
over samples by the batch size N (after multiplying by `sample_weight`, when
given). All arithmetic runs in the loss dtype, float32 by default even under a
mixed-precision policy.
"""
import keras
from keras import ops

from integral_keras.core.packing import unpack_joint_target


class _JointLoss(keras.losses.Loss):
    """Unpacks targets and sums weighted per-coordinate errors; subclasses give the error.

    Args:
      coordinate_scale: None, a float, or one float per coordinate (C values)
        multiplying each coordinate difference before the error. None keeps
        heat-map units; `(1/W, 1/H[, 1/D])` gives the seed's normalised
        coordinates (the map spans one unit per axis).
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def __init__(self, coordinate_scale=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(coordinate_scale, (list, tuple)):
            coordinate_scale = [float(s) for s in coordinate_scale]
        elif coordinate_scale is not None:
            coordinate_scale = float(coordinate_scale)
        self.coordinate_scale = coordinate_scale

    def call(self, y_true, y_pred):
        num_coords = y_pred.shape[-1]
        targets, weights = unpack_joint_target(y_true, num_coords)
        difference = y_pred - targets
        if self.coordinate_scale is not None:
            scale = self.coordinate_scale
            if isinstance(scale, list) and len(scale) != num_coords:
                raise ValueError(
                    f"coordinate_scale has {len(scale)} values but predictions have "
                    f"{num_coords} coordinates (shape {y_pred.shape})."
                )
            difference = difference * ops.convert_to_tensor(scale, dtype=self.dtype)
        errors = self._coordinate_error(difference)
        if weights is not None:
            errors = errors * weights
        return ops.sum(errors, axis=(-2, -1))

    def _coordinate_error(self, difference):
        """Element-wise error of a coordinate difference, same shape."""
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config.update({"coordinate_scale": self.coordinate_scale})
        return config


@keras.saving.register_keras_serializable(package="integral_keras")
class JointL1(_JointLoss):
    """Weighted L1 joint loss (the paper's integral loss).

    Per sample: `sum_{k,c} w_kc * |s_c * (y_pred_kc - target_kc)|`, with
    `s = coordinate_scale` (1 by default); the batch loss divides the sum over
    samples by N.

    Args:
      coordinate_scale: None, a float, or C floats scaling each coordinate
        difference; `(1/W, 1/H[, 1/D])` gives the seed's normalised coordinates.
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def _coordinate_error(self, difference):
        return ops.abs(difference)


@keras.saving.register_keras_serializable(package="integral_keras")
class JointL2(_JointLoss):
    """Weighted squared-error joint loss (the paper's L2 ablation).

    Per sample: `sum_{k,c} w_kc * (s_c * (y_pred_kc - target_kc))^2`, with
    `s = coordinate_scale` (1 by default); the batch loss divides the sum over
    samples by N.

    Args:
      coordinate_scale: None, a float, or C floats scaling each coordinate
        difference; `(1/W, 1/H[, 1/D])` gives the seed's normalised coordinates.
      **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, `dtype`).
    """

    def _coordinate_error(self, difference):
        return ops.square(difference)
