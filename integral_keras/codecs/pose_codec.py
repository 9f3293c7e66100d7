"""`PoseCodec`: the one object that owns the coordinate convention.

It maps crop pixels and root-relative millimetres to heat-map units and back,
encodes every training target (heat maps and joints, with their weights) and
decodes predicted joints. Nothing else in the package re-derives these formulas.

Conventions (DESIGN.md): heat-map cell `i` has its centre at `i`, crop pixel `i`
has its centre at `i`, and with `stride = input_size / heatmap_size` per axis

    x_px = (x_hm + 0.5) * stride - 0.5
    z_mm = ((z_hm + 0.5) / D - 0.5) * depth_range_mm

so a depth of `D` bins spans `[-depth_range_mm / 2, depth_range_mm / 2)` around
the root joint.
"""
import numbers

import keras
import numpy as np
import tensorflow as tf

from integral_keras.core import methods
from integral_keras.core import packing
from integral_keras.layers.decode import HeatmapArgmax


def _as_height_width(size, name):
    """`size` (int, or (height, width)) -> (height, width) of positive ints."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (size, size)
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)
        or min(size) <= 0
    ):
        raise ValueError(
            f"`{name}` must be a positive int or a (height, width) pair of positive "
            f"ints; got {size!r}."
        )
    return int(size[0]), int(size[1])


def _check_positive(value, name, integer=False):
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kinds) or not (0 < value < float("inf")):
        kind = "int" if integer else "finite number"
        raise ValueError(f"`{name}` must be a positive {kind}; got {value!r}.")
    return int(value) if integer else float(value)


def _as_float32(values):
    return tf.cast(tf.convert_to_tensor(values), tf.float32)


def _cell_offsets(coords, size):
    """Cell centre minus coordinate: `coords` (..., K) -> (..., size, K)."""
    cells = tf.range(size, dtype=tf.float32)
    return cells[:, None] - coords[..., None, :]


def _is_nearest_cell(offsets):
    """1 where the cell is the nearest one, rounding halves up: i = floor(c + 0.5)."""
    return tf.cast((offsets > -0.5) & (offsets <= 0.5), tf.float32)


class PoseCodec:
    """Encodes training targets and decodes predictions (mmpose-style codec).

    Target kinds (the heat-map channel of joint `k`, depth bin `d` is `k*D + d`):

    - `gaussian` (H1, I1): an unnormalised Gaussian with peak 1 at the sub-cell
      joint location, `exp(-|cell - joint|^2 / (2 sigma^2))`, `sigma` in cells;
      for `depth > 1` a 3D Gaussian over D x H x W with the same `sigma` in depth
      bins.
    - `one_hot` (H2, I2): 1 at the nearest cell, 0 elsewhere. Each coordinate is
      rounded half up, `i = floor(c + 0.5)`, so every joint with weight > 0 has
      exactly one hot cell (in 3D one hot voxel) and the map sums to 1.
    - `disc` (H3, I3): 1 at every cell whose centre lies within `disc_radius_px`
      input pixels of the joint (per axis `disc_radius_px / stride` cells, so a
      disc in pixels even for non-square strides). For `depth > 1` a ball whose
      depth radius is `disc_radius_px / stride_x` depth bins, i.e. a depth bin
      counts as wide as a heat-map column.

    Weights: a joint gets weight `visible` if its location lies inside the crop,
    `[-0.5, size - 0.5)` in heat-map units on both axes, and 0 otherwise (also for
    non-finite coordinates, whose targets are set to 0). The z coordinate has weight
    `visible * has_3d`, and 0 when the depth lies outside
    `[-depth_range_mm / 2, depth_range_mm / 2)`: out-of-range depths are zeroed,
    not clipped, because a clipped target would be wrong. 3D heat maps use the z
    weight for the whole joint, so 2D-only samples add nothing to 3D volumetric losses.
    Target maps of a joint with weight 0 are all zero.

    Marginal targets (`encode(..., marginals=True)`, 3D heat-map methods; the
    paper's Strategy 2, Eq. 5): a joint that has x/y supervision but no
    volumetric target (2D-only samples, and 3D joints whose depth is out of
    range) is supervised through the x and y marginals of its 3D heat map, with
    weight `xy_weight - z_weight`. The targets are the 1-D analogues of the kind:

    - `gaussian`: the Eq. 5 sums of the 3D Gaussian target over the other two
      axes, with the unknown depth summed over an unbounded axis
      (`sum_d G_z(d) = sigma * sqrt(2 pi)`), divided by `2 pi sigma^2`:
      `t_x(w) = G_x(w) * sum_h G_y(h) / (sigma sqrt(2 pi))` (likewise `t_y`),
      a 1-D Gaussian of peak ~1 (`HeatmapMarginalMSE` divides the predicted
      sums by the same `2 pi sigma^2`);
    - `one_hot`: the nearest cell along each axis (exactly the marginal of the
      3D one-hot target);
    - `disc`: the cells within `disc_radius_px` input pixels along each axis
      (the projection of the ball onto that axis).

    Cost: heat-map targets hold `H*W*(K*D + K)` float32 values per instance,
    ~0.3 MiB for 64x64 maps and K = 17 in 2D, but ~17 MiB for 64^3 maps in 3D
    (~0.5 GiB for a batch of 32), so 3D heat-map losses need small batches or
    coarser depth; the joint targets (I*, R1) cost `K*2*C` values.

    Args:
      num_joints: K.
      input_size: crop size in pixels, an int (square) or (height, width).
      heatmap_size: heat-map size in cells, an int (square) or (height, width).
      depth: D, depth bins of 3D heat maps; 1 for 2D.
      depth_range_mm: depth span in mm covered by the D bins, centred on the root.
      sigma: Gaussian standard deviation in cells (and depth bins).
      disc_radius_px: disc radius in input pixels.
    """

    def __init__(
        self,
        num_joints,
        input_size=256,
        heatmap_size=64,
        depth=1,
        depth_range_mm=2000.0,
        sigma=1.0,
        disc_radius_px=15.0,
    ):
        self.num_joints = _check_positive(num_joints, "num_joints", integer=True)
        self.input_size = _as_height_width(input_size, "input_size")
        self.heatmap_size = _as_height_width(heatmap_size, "heatmap_size")
        self.depth = _check_positive(depth, "depth", integer=True)
        self.depth_range_mm = _check_positive(depth_range_mm, "depth_range_mm")
        self.sigma = _check_positive(sigma, "sigma")
        self.disc_radius_px = _check_positive(disc_radius_px, "disc_radius_px")
        (in_h, in_w), (hm_h, hm_w) = self.input_size, self.heatmap_size
        # (x, y) order, like the coordinates.
        self._stride_xy = np.array([in_w / hm_w, in_h / hm_h], np.float32)
        self._heatmap_wh = np.array([hm_w, hm_h], np.float32)
        self._argmax = None  # the H baselines' decode layer, built on first use (`joints_from_outputs`)

    # Attributes of a model config the codec is built from (`from_config`): every codec setting is one of them.
    CONFIG_FIELDS = ("num_joints", "input_size", "heatmap_size", "depth", "depth_range_mm")
    # Settings that shape training targets only (decoding never reads them): read when present, else the defaults.
    TARGET_CONFIG_FIELDS = {"heatmap_sigma": "sigma", "disc_radius_px": "disc_radius_px"}

    @classmethod
    def from_config(cls, config):
        """The codec of a model config: the one constructor training, evaluation and serving share.

        Duck-typed (the codecs do not import `configs`), so that one codec serves the training targets
        (`data.parser.build_parser`), the evaluator (`training.task.PoseTask.codec`) and the exported model
        (`serving.ServingSpec.codec`), and they cannot disagree.

        Args:
          config: a `ModelConfig`, an experiment config holding one as `.model`, a `ServingSpec`, or any
            object with the attributes `CONFIG_FIELDS` (`num_joints`, `input_size`, `heatmap_size`, `depth`,
            `depth_range_mm`) and optionally `heatmap_sigma` and `disc_radius_px` (the Gaussian and disc
            targets; absent, e.g. on a `ServingSpec`, which only decodes: the codec defaults 1.0 and 15.0).

        Returns:
          A `PoseCodec`.

        Raises:
          TypeError: `config` lacks one of `CONFIG_FIELDS` (named in the message).
        """
        model = getattr(config, "model", config)
        missing = [name for name in cls.CONFIG_FIELDS if not hasattr(model, name)]
        if missing:
            raise TypeError(f"PoseCodec.from_config: {type(model).__name__} has no {missing}; expected a "
                            f"ModelConfig (or an object with {list(cls.CONFIG_FIELDS)}).")
        targets = {arg: getattr(model, name) for name, arg in cls.TARGET_CONFIG_FIELDS.items()
                   if getattr(model, name, None) is not None}
        return cls(model.num_joints, input_size=model.input_size, heatmap_size=model.heatmap_size,
                   depth=model.depth, depth_range_mm=model.depth_range_mm, **targets)

    @property
    def stride(self):
        """(stride_y, stride_x): input pixels per heat-map cell along each axis."""
        return float(self._stride_xy[1]), float(self._stride_xy[0])

    @property
    def num_coords(self):
        """C: 2 for (x, y), 3 for (x, y, z) when `depth > 1`."""
        return 3 if self.depth > 1 else 2

    def target_shapes(self, method, marginals=False):
        """Unbatched shapes of the targets `encode(..., method=method)` returns.

        Returns:
          Dict with "heatmaps" `(H, W, K*D + K)` and/or "joints" `(K, 2*C)`, and
          with `marginals=True` "heatmap_marginals" `(K, W + H + 1)` for 3D
          heat-map methods.
        """
        shapes = {}
        if methods.uses_heatmaps(method):
            channels = self.num_joints * (self.depth + 1)
            shapes["heatmaps"] = (*self.heatmap_size, channels)
        if methods.uses_joints(method):
            shapes["joints"] = (self.num_joints, 2 * self.num_coords)
        if self._has_marginals(method, marginals):
            hm_h, hm_w = self.heatmap_size
            shapes["heatmap_marginals"] = (self.num_joints, hm_w + hm_h + 1)
        return shapes

    def _has_marginals(self, method, marginals):
        return bool(marginals) and self.depth > 1 and methods.uses_heatmaps(method)

    # Coordinate transforms: pure arithmetic on numpy arrays, TensorFlow tensors,
    # Keras tensors and other backends' arrays alike (floating input).

    def px_to_heatmap(self, xy_px):
        """Crop pixels `(..., 2)` (x, y) -> heat-map cell units, same shape."""
        return (xy_px + 0.5) / self._stride_xy - 0.5

    def heatmap_to_px(self, xy_hm):
        """Heat-map cell units `(..., 2)` (x, y) -> crop pixels, same shape."""
        return (xy_hm + 0.5) * self._stride_xy - 0.5

    def mm_to_depth(self, z_mm):
        """Root-relative depth in mm, any shape -> depth-bin units, same shape."""
        return (z_mm / self.depth_range_mm + 0.5) * self.depth - 0.5

    def depth_to_mm(self, z_hm):
        """Depth-bin units, any shape -> root-relative depth in mm, same shape."""
        return ((z_hm + 0.5) / self.depth - 0.5) * self.depth_range_mm

    def joints_from_outputs(self, outputs, method):
        """The predicted joints of a model output dict, in heat-map units: the one rule of every decoder.

        Methods trained with a joint loss (`methods.uses_joints`: R1, I1-I3, Istar) predict `joints` (regressed or
        integrated); the heat-map baselines (H1-H3) are decoded by the arg-max of `heatmaps` (`HeatmapArgmax`).
        Graph-safe (Keras ops), so the trainer's replicas and the serving signatures call it alike.

        Args:
          outputs: model output dict with `joints` `(N, K, C)` and/or `heatmaps` `(N, h, w, K*D)` logits.
          method: the model's training method (`methods.METHODS`).

        Returns:
          `(N, K, C)` float32 joints in heat-map units (C = `num_coords`).
        """
        if methods.uses_joints(method):
            return keras.ops.cast(outputs["joints"], "float32")
        if self._argmax is None:
            self._argmax = HeatmapArgmax(self.num_joints, depth=self.depth)
        return self._argmax(outputs["heatmaps"])

    def decode(self, joints_hm):
        """Converts predicted joints from heat-map units to crop pixels and mm.

        Args:
          joints_hm: `(..., K, C)` joints in heat-map units, e.g. `(N, K, 2|3)` from
            `IntegralRegression` or `HeatmapArgmax`; C must be `num_coords`.

        Returns:
          Dict with "joints_px" `(..., K, 2)` crop pixels (x, y) and, when
          `depth > 1`, "z_mm" `(..., K)` root-relative depth in mm.
        """
        coords = joints_hm.shape[-1]
        if coords is not None and coords != self.num_coords:
            raise ValueError(
                f"decode expects joints with {self.num_coords} coordinates "
                f"(depth={self.depth}); got shape {tuple(joints_hm.shape)}."
            )
        decoded = {"joints_px": self.heatmap_to_px(joints_hm[..., :2])}
        if self.depth > 1:
            decoded["z_mm"] = self.depth_to_mm(joints_hm[..., 2])
        return decoded

    def encode(self, keypoints_px, visible, keypoints_z_mm=None, has_3d=0.0, *, method, marginals=False):
        """Encodes the training targets of one instance (or a batch) for `method`.

        TensorFlow ops only, so it runs inside `tf.data.Dataset.map` and eagerly on
        numpy input. Leading batch dimensions `...` are supported throughout.

        Args:
          keypoints_px: `(..., K, 2)` (x, y) in crop pixels.
          visible: `(..., K)` visibility / labelled flags (bool or float).
          keypoints_z_mm: `(..., K)` root-relative depth in mm, or None. Ignored
            when `depth == 1`; None with `depth > 1` means no depth supervision.
          has_3d: scalar or `(...,)` flag, 1 where `keypoints_z_mm` is meaningful.
          method: one of `methods.METHODS` (`R1`, `H1`-`H3`, `I1`-`I3`, `Istar`).
          marginals: also return the x/y marginal targets of 3D heat-map methods
            (Strategy 2; see the class docstring). Off by default, so that the
            targets stay keyed like the model outputs (`model.fit`).

        Returns:
          Dict with the targets `method` trains on, packed as
          `integral_keras.codecs.packing` describes:
          "heatmaps" `(..., H, W, K*D + K)` float32 (H*, I1-I3) and/or
          "joints" `(..., K, 2*C)` float32 (R1, I*): (x, y[, z]) in heat-map units
          followed by their weights; with `marginals=True`, `depth > 1` and a
          heat-map method also "heatmap_marginals" `(..., K, W + H + 1)`: the
          x and y marginal targets and their per-joint weight
          (`packing.pack_marginal_target`).
        """
        kind = methods.heatmap_target_kind(method)
        keypoints_px = _as_float32(keypoints_px)
        xy_weight = _as_float32(visible)
        self._check_shapes(keypoints_px, xy_weight)
        xy_hm = self.px_to_heatmap(keypoints_px)
        finite = tf.reduce_all(tf.math.is_finite(xy_hm), axis=-1)
        inside = tf.reduce_all((xy_hm >= -0.5) & (xy_hm < self._heatmap_wh - 0.5), axis=-1)
        xy_weight *= tf.cast(finite & inside, tf.float32)
        coords = [tf.where(finite[..., None], xy_hm, 0.0)]
        weights = [xy_weight, xy_weight]
        if self.depth > 1:
            z_hm, z_weight = self._encode_depth(keypoints_z_mm, has_3d, xy_weight)
            coords.append(z_hm[..., None])
            weights.append(z_weight)
        joints = tf.concat(coords, axis=-1)
        weights = tf.stack(weights, axis=-1)

        targets = {}
        if kind is not None:
            targets["heatmaps"] = self._render_packed(kind, joints, weights[..., -1])
        if methods.uses_joints(method):
            targets["joints"] = packing.pack_joint_target(joints, weights)
        if self._has_marginals(method, marginals):
            targets["heatmap_marginals"] = self._render_marginals(kind, joints, xy_weight - weights[..., -1])
        return targets

    def _check_shapes(self, keypoints_px, visible):
        shape = keypoints_px.shape
        if shape.rank is not None and (
            shape.rank < 2 or shape[-1] != 2 or shape[-2] not in (None, self.num_joints)
        ):
            raise ValueError(
                f"keypoints_px must have shape (..., {self.num_joints}, 2); got {shape}."
            )
        if not visible.shape.is_compatible_with(shape[:-1]):
            raise ValueError(
                f"visible must have shape {shape[:-1]} to match keypoints_px {shape}; "
                f"got {visible.shape}."
            )

    def _encode_depth(self, keypoints_z_mm, has_3d, xy_weight):
        """Depth targets `(..., K)` in bins and their weights `(..., K)`."""
        if keypoints_z_mm is None:
            keypoints_z_mm, has_3d = tf.zeros_like(xy_weight), 0.0
        z_hm = self.mm_to_depth(_as_float32(keypoints_z_mm))
        finite = tf.math.is_finite(z_hm)
        in_range = (z_hm >= -0.5) & (z_hm < self.depth - 0.5)
        has_3d = _as_float32(has_3d)[..., None]
        z_weight = xy_weight * has_3d * tf.cast(finite & in_range, tf.float32)
        return tf.where(finite, z_hm, 0.0), z_weight

    def _render_packed(self, kind, joints, joint_weight):
        """Packed heat-map target `(..., H, W, K*D + K)` of `kind` for joints `(..., K, C)` (`packing`)."""
        if kind == methods.DISC:
            return packing.pack_heatmap_target(self._render_disc(joints, joint_weight), joint_weight)
        # Gaussians and one-hot maps are products of per-axis factors: the rows carry the mask and y, the
        # columns x (and depth), so the packed target is one broadcast product (no full-size concat).
        if kind == methods.GAUSSIAN:
            factor = self._gaussian
        else:
            factor = _is_nearest_cell
        hm_h, hm_w = self.heatmap_size
        mask = tf.cast(joint_weight > 0, tf.float32)[..., None, :]
        rows = mask * factor(_cell_offsets(joints[..., 1], hm_h))  # (..., H, K)
        cols = factor(_cell_offsets(joints[..., 0], hm_w))  # (..., W, K)
        if self.depth > 1:
            depth = tf.linalg.matrix_transpose(factor(_cell_offsets(joints[..., 2], self.depth)))  # (..., K, D)
            rows = tf.repeat(rows, self.depth, axis=-1)
            cols = tf.reshape(cols[..., None] * depth[..., None, :, :],
                              tf.concat([tf.shape(cols)[:-1], [self.num_joints * self.depth]], axis=0))
        return packing.pack_separable_heatmap_target(rows, cols, joint_weight)

    def _gaussian(self, offsets):
        """Unit-peak Gaussian profile `exp(-offsets^2 / (2 sigma^2))` of cell offsets, same shape."""
        return tf.exp(-0.5 / self.sigma**2 * tf.square(offsets))

    def _render_marginals(self, kind, joints, joint_weight):
        """Packed x/y marginal targets `(..., K, W + H + 1)` of `kind` (class docstring) for joints `(..., K, C)`."""
        hm_h, hm_w = self.heatmap_size
        mask = tf.cast(joint_weight > 0, tf.float32)[..., None]
        # (..., K, size) offsets (cell centre minus coordinate) along x and y.
        dx = tf.linalg.matrix_transpose(_cell_offsets(joints[..., 0], hm_w))
        dy = tf.linalg.matrix_transpose(_cell_offsets(joints[..., 1], hm_h))
        if kind == methods.GAUSSIAN:
            gauss_x, gauss_y = self._gaussian(dx), self._gaussian(dy)
            mass = self.sigma * float(np.sqrt(2.0 * np.pi))  # sum of a unit-peak Gaussian over an unbounded axis
            target_x = gauss_x * tf.reduce_sum(gauss_y, axis=-1, keepdims=True) / mass
            target_y = gauss_y * tf.reduce_sum(gauss_x, axis=-1, keepdims=True) / mass
        elif kind == methods.ONE_HOT:
            target_x, target_y = _is_nearest_cell(dx), _is_nearest_cell(dy)
        else:
            stride_x, stride_y = (float(s) for s in self._stride_xy)
            target_x = tf.cast(tf.abs(dx) * stride_x <= self.disc_radius_px, tf.float32)
            target_y = tf.cast(tf.abs(dy) * stride_y <= self.disc_radius_px, tf.float32)
        return packing.pack_marginal_target(target_x * mask, target_y * mask, joint_weight)

    def _render_disc(self, joints, joint_weight):
        """Disc (ball) target maps `(..., H, W, K*D)` for joints `(..., K, C)`."""
        hm_h, hm_w = self.heatmap_size
        stride_x, stride_y = (float(s) for s in self._stride_xy)
        # Per-axis offsets placed so they broadcast to (..., H, W, K[, D]),
        # each with the input pixels one cell spans along that axis.
        dy = _cell_offsets(joints[..., 1], hm_h)[..., :, None, :]
        dx = _cell_offsets(joints[..., 0], hm_w)[..., None, :, :]
        axes = [(dy, stride_y), (dx, stride_x)]
        mask = tf.cast(joint_weight > 0, tf.float32)[..., None, None, :]
        if self.depth > 1:
            dz = tf.linalg.matrix_transpose(_cell_offsets(joints[..., 2], self.depth))
            axes = [(offset[..., None], px) for offset, px in axes]
            axes.append((dz[..., None, None, :, :], stride_x))
            mask = mask[..., None]
        squared_px = sum(tf.square(offset * px) for offset, px in axes)
        heatmaps = mask * tf.cast(squared_px <= self.disc_radius_px**2, tf.float32)
        if self.depth > 1:
            shape = tf.concat(
                [tf.shape(heatmaps)[:-2], [self.num_joints * self.depth]], axis=0
            )
            heatmaps = tf.reshape(heatmaps, shape)
        return heatmaps
