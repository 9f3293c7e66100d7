"""Hard-argmax decoding of heat maps (the decode of the H1-H3 baselines)."""
import keras
from keras import ops

from integral_keras.layers.heatmap_layer import HeatmapLayer


@keras.saving.register_keras_serializable(package="integral_keras")
class HeatmapArgmax(HeatmapLayer):
    """Coordinates of each joint's maximal cell.

    For joint `k` the maximum is taken over its `D*H*W` cells (channels
    `k*D .. k*D + D-1`); ties resolve to the first cell in `(h, w, d)` row-major
    order, as `numpy.argmax` on the flattened `(H, W, D)` map. The result is
    integral and carries no gradient.

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
        # Two passes, each a reduction over the leading (H, W) axes (no
        # transpose of the map): the per-joint maximum, then the smallest
        # row-major cell index holding it.
        channel_peak = ops.max(ops.reshape(cells, (-1, height, width, num_joints * depth)), axis=(1, 2))
        peak = ops.max(ops.reshape(channel_peak, (-1, num_joints, depth)), axis=-1)
        num_cells = height * width * depth
        cell_index = ops.reshape(ops.arange(num_cells, dtype="int32"), (1, height, width, 1, depth))
        candidates = ops.where(cells == peak[:, None, None, :, None], cell_index, num_cells)
        first = ops.min(ops.min(candidates, axis=(1, 2)), axis=-1)  # (N, K)
        plane_index = ops.floor_divide(first, depth)
        coords = [ops.mod(plane_index, width), ops.floor_divide(plane_index, width)]
        if self.depth > 1:
            coords.append(ops.mod(first, depth))
        return ops.cast(ops.stack(coords, axis=-1), "float32")

    def output_shape_for(self, batch, height, width, depth):
        return (batch, self.num_joints, 2 if depth == 1 else 3)
