"""Per-joint confidence scores of predicted joints, in `[0, 1]`.

The exported signatures return one score per joint; COCO rescoring can use the
same functions. Definitions by method:

- Integral methods (`I1`-`I3`, `Istar`): the probability mass of the normalised
  heat map `p = softmax(beta * logits)` (over a joint's `D*H*W` cells, exactly
  the distribution `IntegralRegression` integrates) that lies in the square
  window of `(2r + 1) x (2r + 1)` cells centred on the predicted location
  rounded to the nearest cell (`r = 1`: the 3x3 neighbourhood; cells outside
  the map count as 0). For 3D maps the window spans every depth bin, i.e. the
  mass of the image-plane marginal. A sharp, unimodal map scores near 1; a flat
  map scores `(2r + 1)^2 / (H*W)`; a bimodal map whose expectation falls between
  the modes scores low.
- Heat-map methods: the peak of the activated heat map over the joint's cells,
  the activation matching the training loss: H1 (Gaussian + MSE) the raw map
  (its targets peak at 1), H2 (softmax cross-entropy) the softmax probability,
  H3 (per-cell binary cross-entropy) the sigmoid.
- Direct regression (`R1`): no map, so the confidence is 1.
"""
from keras import ops

from integral_keras.core import methods
from integral_keras.layers import HeatmapSoftmax

PEAK_ACTIVATION = {methods.GAUSSIAN: "identity", methods.ONE_HOT: "softmax", methods.DISC: "sigmoid"}


def _joint_cells(heatmaps, num_joints, depth):
    """`(N, H, W, K*D)` -> `(N, H, W, K, D)` (channel `k*D + d`)."""
    height, width = heatmaps.shape[1], heatmaps.shape[2]
    return ops.reshape(heatmaps, (-1, height, width, num_joints, depth))


def window_mass(heatmap_logits, joints_hm, num_joints, depth=1, beta=1.0, radius=1):
    """Softmax mass around each predicted joint (the integral methods' confidence).

    Args:
      heatmap_logits: `(N, H, W, K*D)` logits, channel `k*D + d`.
      joints_hm: `(N, K, C)` predicted joints in heat-map cell units (x, y first).
      num_joints: K.
      depth: D.
      beta: Softmax sharpness, as in `IntegralRegression`.
      radius: Window half-width r in cells (window `(2r + 1)^2` cells).

    Returns:
      `(N, K)` float32 in `[0, 1]`.
    """
    probs = HeatmapSoftmax(num_joints, depth=depth, beta=beta)(heatmap_logits)
    plane = ops.sum(_joint_cells(probs, num_joints, depth), axis=-1)  # (N, H, W, K)
    height, width = plane.shape[1], plane.shape[2]
    joints_hm = ops.cast(joints_hm, "float32")
    # Nearest cell, rounding halves up like the codec's one-hot targets.
    centre_x = ops.clip(ops.floor(joints_hm[..., 0] + 0.5), 0.0, width - 1.0)
    centre_y = ops.clip(ops.floor(joints_hm[..., 1] + 0.5), 0.0, height - 1.0)
    near_x = ops.abs(ops.arange(width, dtype="float32") - centre_x[..., None]) <= radius  # (N, K, W)
    near_y = ops.abs(ops.arange(height, dtype="float32") - centre_y[..., None]) <= radius  # (N, K, H)
    window = ops.cast(near_y[:, :, :, None] & near_x[:, :, None, :], "float32")  # (N, K, H, W)
    mass = ops.sum(ops.transpose(plane, (0, 3, 1, 2)) * window, axis=(2, 3))
    return ops.clip(mass, 0.0, 1.0)


def heatmap_peak(heatmaps, num_joints, depth=1, activation="identity"):
    """Peak of the activated heat map per joint (the heat-map methods' confidence).

    Args:
      heatmaps: `(N, H, W, K*D)` head output, channel `k*D + d`.
      num_joints: K.
      depth: D.
      activation: `identity` (H1), `softmax` over the joint's `D*H*W` cells
        (H2) or `sigmoid` (H3).

    Returns:
      `(N, K)` float32.
    """
    heatmaps = ops.cast(heatmaps, "float32")
    if activation == "softmax":
        heatmaps = HeatmapSoftmax(num_joints, depth=depth)(heatmaps)
    elif activation == "sigmoid":
        heatmaps = ops.sigmoid(heatmaps)
    elif activation != "identity":
        raise ValueError(f"Unknown activation {activation!r}; expected identity, softmax or sigmoid.")
    return ops.max(_joint_cells(heatmaps, num_joints, depth), axis=(1, 2, 4))


def joint_confidence(method, outputs, joints_hm, num_joints, depth=1, beta=1.0, radius=1):
    """The confidence of `method`'s predictions (see the module docstring).

    Args:
      method: Training method name (`R1`, `H1`-`H3`, `I1`-`I3`, `Istar`).
      outputs: Model output dict; `heatmaps` `(N, H, W, K*D)` logits is needed
        for every method except `R1`.
      joints_hm: `(N, K, C)` decoded joints in heat-map units.
      num_joints: K.
      depth: D.
      beta: Softmax sharpness of the integral layers.
      radius: Window half-width of the integral confidence.

    Returns:
      `(N, K)` float32.
    """
    methods.check_method(method)
    if method == methods.DIRECT_REGRESSION:
        return ops.ones_like(joints_hm[..., 0], dtype="float32")
    if "heatmaps" not in outputs:
        raise KeyError(f"Method {method} needs the model output 'heatmaps' for its confidence; "
                       f"the model outputs {sorted(outputs)}.")
    if methods.uses_joints(method):
        return window_mass(outputs["heatmaps"], joints_hm, num_joints, depth, beta, radius)
    activation = PEAK_ACTIVATION[methods.heatmap_target_kind(method)]
    return heatmap_peak(outputs["heatmaps"], num_joints, depth, activation)
