"""Hard-argmax decoding of heat maps (the decode of the H1-H3 baselines)."""
import keras
from keras import ops

from integral_keras.layers.heatmap_layer import HeatmapLayer


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapArgmax(HeatmapLayer):
    """Coordinates of each joint's maximal cell.

    For joint `k` the maximum is taken over its `D*H*W` cells (channels
    `k*D .. k*D + D-1`); ties resolve to the first cell in `(h, w, d)` row-major
    order. The result is integral and carries no gradient.

    Args:
      num_joints: Number of joints K.
      depth: Depth bins D per joint (1 for 2D).

    Call arguments:
      logits: `(N, H, W, K*D)` joint-major heat maps or logits, any float dtype.

    Returns:
      `(N, K, 2)` for `depth == 1`, else `(N, K, 3)`: float32 `(x, y[, z])` cell
      indices in heat-map units, the same units as `IntegralRegression`.
    """

    def call(self, logits):
        cells = self.split_joints(logits)
        _, height, width, num_joints, depth = ops.shape(cells)
        # Reduce depth first, then the (H, W) plane: no transpose of the map.
        cells = ops.reshape(cells, (-1, height * width, num_joints, depth))
        plane_index = ops.argmax(ops.max(cells, axis=-1), axis=1)  # (N, K)
        coords = [ops.mod(plane_index, width), ops.floor_divide(plane_index, width)]
        if self.depth > 1:
            best_depth = ops.argmax(cells, axis=-1)  # (N, H*W, K)
            coords.append(ops.take_along_axis(best_depth, plane_index[:, None, :], axis=1)[:, 0, :])
        return ops.cast(ops.stack(coords, axis=-1), "float32")

    def output_shape_for(self, batch, height, width, depth):
        return (batch, self.num_joints, 2 if depth == 1 else 3)
