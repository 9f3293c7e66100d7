"""Packed loss targets: training targets travelling together with their weights.

Per-joint weights ride in the same tensor as the targets so that they pass
through `model.fit` without extra plumbing (docs/architecture.md, "Targets and
losses"):

- heat maps `(..., H, W, K*D + K)`: the `K*D` target channels (channel `k*D + d`)
  followed by `K` channels holding each joint's weight, constant over the map;
- joints `(..., K, 2*C)`: `C` target coordinates followed by `C` per-coordinate
  weights;
- x / y marginals of 3D heat maps `(..., K, W + H + 1)` (Strategy 2, 2D-only
  samples): the 1-D x target, the 1-D y target, then each joint's weight.

`pack_*` use TensorFlow ops so they run inside `tf.data` graphs whatever the
Keras backend is (they accept numpy input eagerly too); they import TensorFlow on
first use. `unpack_*` only slice, so they work on numpy arrays and on the tensors
of every Keras backend: the losses use them without importing TensorFlow.
"""


def _as_float32_tensors(*values):
    import tensorflow as tf  # Only packing needs TensorFlow; see the module docstring.

    return tf, [tf.cast(tf.convert_to_tensor(value), tf.float32) for value in values]


def pack_heatmap_target(heatmaps, joint_weights):
    """Appends each joint's weight to its heat-map target as constant channels.

    Args:
      heatmaps: `(..., H, W, K*D)` target maps.
      joint_weights: `(..., K)` per-joint weights.

    Returns:
      `(..., H, W, K*D + K)` float32 tensor.
    """
    tf, (heatmaps, joint_weights) = _as_float32_tensors(heatmaps, joint_weights)
    weight_shape = tf.concat(
        [tf.shape(heatmaps)[:-1], tf.shape(joint_weights)[-1:]], axis=0
    )
    weight_maps = tf.broadcast_to(joint_weights[..., None, None, :], weight_shape)
    return tf.concat([heatmaps, weight_maps], axis=-1)


def pack_separable_heatmap_target(rows, cols, joint_weights):
    """`pack_heatmap_target` of maps that are products of a row and a column factor, in one broadcast product.

    `maps[..., h, w, c] = rows[..., h, c] * cols[..., w, c]` (a Gaussian or a one-hot map, masked in `rows`).
    Building the packed tensor as `[rows, weights] * [cols, 1]` writes it once, instead of forming the maps, the
    weight maps and their concatenation (three passes over `H * W` cells).

    Args:
      rows: `(..., H, K*D)` row factors.
      cols: `(..., W, K*D)` column factors.
      joint_weights: `(..., K)` per-joint weights.

    Returns:
      `(..., H, W, K*D + K)` float32 tensor, equal to `pack_heatmap_target(rows[..., :, None, :] *
      cols[..., None, :, :], joint_weights)`.
    """
    tf, (rows, cols, joint_weights) = _as_float32_tensors(rows, cols, joint_weights)
    weight_rows = tf.broadcast_to(joint_weights[..., None, :],
                                  tf.concat([tf.shape(rows)[:-1], tf.shape(joint_weights)[-1:]], axis=0))
    ones = tf.ones(tf.concat([tf.shape(cols)[:-1], tf.shape(joint_weights)[-1:]], axis=0))
    rows = tf.concat([rows, weight_rows], axis=-1)
    cols = tf.concat([cols, ones], axis=-1)
    return rows[..., :, None, :] * cols[..., None, :, :]


def pack_joint_target(joints, weights):
    """Appends per-coordinate weights to joint targets.

    Args:
      joints: `(..., K, C)` target coordinates.
      weights: `(..., K, C)` per-coordinate weights.

    Returns:
      `(..., K, 2*C)` float32 tensor.
    """
    tf, (joints, weights) = _as_float32_tensors(joints, weights)
    return tf.concat([joints, weights], axis=-1)


def pack_marginal_target(marginal_x, marginal_y, joint_weights):
    """Packs the x and y marginal targets of 3D heat maps (the paper's Eq. 5) with each joint's weight.

    Args:
      marginal_x: `(..., K, W)` target along x.
      marginal_y: `(..., K, H)` target along y.
      joint_weights: `(..., K)` per-joint weights of the marginal terms.

    Returns:
      `(..., K, W + H + 1)` float32 tensor: x target, y target, weight.
    """
    tf, (marginal_x, marginal_y, joint_weights) = _as_float32_tensors(marginal_x, marginal_y, joint_weights)
    return tf.concat([marginal_x, marginal_y, joint_weights[..., None]], axis=-1)


def _static_last_dim(tensor, what):
    channels = tensor.shape[-1]
    if channels is None:
        raise ValueError(f"The last dimension of the {what} must be known statically.")
    return int(channels)


def unpack_heatmap_target(y_true, num_joints, depth=1):
    """Splits a heat-map target into maps and per-joint weights.

    Args:
      y_true: `(..., H, W, K*D + K)` packed target, or `(..., H, W, K*D)` maps
        without weights.
      num_joints: K.
      depth: D, the number of depth bins (1 for 2D).

    Returns:
      `(heatmaps, joint_weights)`: `(..., H, W, K*D)` and `(..., K)`;
      `joint_weights` is None when `y_true` carries no weights (weight 1).

    Raises:
      ValueError: if the channel count is neither `K*D` nor `K*D + K`.
    """
    target_channels = num_joints * depth
    channels = _static_last_dim(y_true, "heat-map target")
    if channels == target_channels:
        return y_true, None
    if channels != target_channels + num_joints:
        raise ValueError(
            f"Heat-map target has {channels} channels; expected K*D = "
            f"{target_channels} (no weights) or K*D + K = "
            f"{target_channels + num_joints} for num_joints={num_joints}, depth={depth}."
        )
    return y_true[..., :target_channels], y_true[..., 0, 0, target_channels:]


def unpack_joint_target(y_true, num_coords):
    """Splits a joint target into coordinates and per-coordinate weights.

    Args:
      y_true: `(..., K, 2*C)` packed target, or `(..., K, C)` coordinates
        without weights.
      num_coords: C, 2 for (x, y) or 3 for (x, y, z).

    Returns:
      `(joints, weights)`: `(..., K, C)` each; `weights` is None when `y_true`
      carries no weights (weight 1).

    Raises:
      ValueError: if the last dimension is neither `C` nor `2*C`.
    """
    channels = _static_last_dim(y_true, "joint target")
    if channels == num_coords:
        return y_true, None
    if channels != 2 * num_coords:
        raise ValueError(
            f"Joint target has last dimension {channels}; expected C = {num_coords} "
            f"(no weights) or 2*C = {2 * num_coords}."
        )
    return y_true[..., :num_coords], y_true[..., num_coords:]


def unpack_marginal_target(y_true, width, height):
    """Splits a `pack_marginal_target` tensor into its parts.

    Args:
      y_true: `(..., K, W + H + 1)` packed marginal target.
      width: W, the heat-map width.
      height: H, the heat-map height.

    Returns:
      `(marginal_x, marginal_y, joint_weights)`: `(..., K, W)`, `(..., K, H)` and `(..., K)`.

    Raises:
      ValueError: if the last dimension is not `W + H + 1`.
    """
    channels = _static_last_dim(y_true, "marginal target")
    if channels != width + height + 1:
        raise ValueError(
            f"Marginal target has last dimension {channels}; expected W + H + 1 = {width + height + 1} "
            f"for {height}x{width} heat maps."
        )
    return y_true[..., :width], y_true[..., width:width + height], y_true[..., width + height]
