"""Turns one decoded example into a network input and its training targets (or evaluation metadata).

Training (`Parser.parse_train`; in `InputReader` split into `prepare_train_example` per example and
`parse_train_batch` per batch) follows the paper (Sun et al., ECCV 2018, Sec. 4): random scale (+-25 %),
rotation (+-30 deg, with probability 0.6), translation (+-2 % of the box), horizontal flip (probability 0.5) and
per-channel colour scaling. Geometry is one affine matrix (`integral_keras.ops.affine.crop_transform`): the image
is resampled once and the joints go through the same matrix. A flip also swaps the skeleton's left/right pairs
(image joints, visibility and depth alike). Of the 3D joints only the root-relative depth z is a target; it is
unchanged by in-plane rotation, scaling and flipping (a flip would negate camera-space x, which no target uses),
unless `depth_follows_crop_scale` divides it by the augmentation's box scale (the official code's convention).
Targets come from `PoseCodec.encode`, which gives weight 0 to joints that are not visible or leave the crop.

2D-only examples (`has_3d = 0`) get z target 0 with z weight 0, so they are shape-compatible with 3D models and add
nothing to depth. Mixed 2D/3D training (the paper's Strategy 2) works with every method: for 3D models the labels
also hold "has_3d" `(N,)` (not a loss target: the objective logs the 2D-only and 3D halves of each term with it)
and, for 3D heat-map methods (H1-H3, I1-I3), "heatmap_marginals" (`PoseCodec.encode(..., marginals=True)`): a 3D
volumetric target is not defined for 2D data (the codec zeroes the joint's volume weight), so those joints are
supervised through the x and y marginals of the 3D heat map (Eq. 5; `integral_keras.training.objective`).

Outputs are RGB images in `[0, 255]` of the codec's input size: training crops are uint8 by default
(`train_image_dtype`; a quarter of the bytes to copy and batch, see docs/benchmarks.md), validation and evaluation
crops float32. The model accepts either and normalises them.
"""
from typing import Optional, Sequence

import tensorflow as tf

from integral_keras.core import methods
from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.core import skeletons
from integral_keras.ops import affine
from integral_keras.ops import keypoints as keypoint_ops

# Decoded keys copied unchanged into the evaluation metadata (docs/architecture.md, decoder output).
EVAL_META_KEYS = (
    "image_id", "filename", "dataset", "bbox", "center", "scale", "score", "keypoints_2d", "visible", "has_3d",
    "keypoints_3d", "focal", "principal_point", "root_depth", "headbox", "subject", "action", "subaction",
    "camera", "frame",
)
_PER_JOINT_KEYS = ("keypoints_2d", "visible", "keypoints_3d")
_UINT31 = 2**31 - 1


class Parser:
    """Crops, augments and encodes decoded examples (`integral_keras.data.decoder.decode_example` output).

    Args:
      codec: a `PoseCodec`; its `input_size` is the crop size, its `num_joints` must match `skeleton`.
      method: the training method (`R1`, `H1`-`H3`, `I1`-`I3`, `Istar`), selecting the targets.
      skeleton: skeleton name of the model's joints.
      source_skeleton: skeleton name of the records, when it differs (e.g. `mpii` 2D data for an `h36m`
        model); joints are mapped by name and joints the source lacks get weight 0. None = `skeleton`.
      num_stages: stages of a multi-stage model; stage `s < num_stages - 1` gets its targets under
        `<key>_stage{s}` (a copy of the last stage's, unless `stage_depths` gives it another depth).
      stage_depths: depth of every stage (`model.stage_depths`, the paper's Table 8 "d1 = 1, d2 = 64"),
        `num_stages` entries, the last equal to `codec.depth`; a stage of another depth gets the targets of a
        codec of its depth (all other codec settings equal `codec`'s): e.g. 2D heat maps and `(x, y)` joints for
        a depth-1 stage of a 3D model. None: every stage has `codec.depth`.
      scale_factor: box size multiplied by a factor from `[1 - f, 1 + f]`.
      rotation_factor: rotation in degrees from `[-f, f]` ...
      rotation_prob: ... applied with this probability.
      translation_factor: centre shifted by up to `f` times the (aspect-padded) box size per axis.
      flip_prob: probability of a horizontal flip.
      color_factor: each RGB channel multiplied by a factor from `[1 - f, 1 + f]`.
      fill_value: value of crop pixels outside the image.
      warp_backend: `opencv` (default: about 2x the training images per CPU-second of `tensorflow`, see
        docs/benchmarks.md) or `tensorflow` (a pure graph op); see `integral_keras.ops.affine.warp_image`.
      train_image_dtype: dtype of the training crops (`parse_train`, `parse_train_batch`, `augment_batch`): `uint8`
        (default; rounded after the colour jitter, the model casts it) or `float32`.
      depth_follows_crop_scale: divide the root-relative depth of augmented training crops by their box scale
        factor `s` (the crop box is the record's box times `s`): `z_target_mm = z_mm / s`, so a zoomed-in crop
        (`s < 1`) sees proportionally larger depth offsets, as in the official code
        (`z / (rect_3d_width * scale)`). Validation and evaluation crops have `s = 1` and keep `z_mm`.
    """

    def __init__(
        self,
        codec,
        method: str,
        skeleton: str,
        source_skeleton: Optional[str] = None,
        num_stages: int = 1,
        stage_depths: Optional[Sequence[int]] = None,
        scale_factor: float = 0.25,
        rotation_factor: float = 30.0,
        rotation_prob: float = 0.6,
        translation_factor: float = 0.02,
        flip_prob: float = 0.5,
        color_factor: float = 0.2,
        fill_value: float = 0.0,
        warp_backend: str = "opencv",
        train_image_dtype: str = "uint8",
        depth_follows_crop_scale: bool = False,
    ):
        self.codec = codec
        self.method = methods.check_method(method)
        self.skeleton = skeletons.get_skeleton(skeleton)
        self.source_skeleton = skeletons.get_skeleton(source_skeleton or skeleton)
        if codec.num_joints != self.skeleton.num_joints:
            raise ValueError(f"codec.num_joints={codec.num_joints} does not match skeleton {skeleton!r} "
                             f"with {self.skeleton.num_joints} joints.")
        if num_stages < 1:
            raise ValueError(f"num_stages must be >= 1; got {num_stages}.")
        self.num_stages = num_stages
        self.stage_depths = (codec.depth,) * num_stages if stage_depths is None else tuple(stage_depths)
        if len(self.stage_depths) != num_stages or self.stage_depths[-1] != codec.depth:
            raise ValueError(f"stage_depths {self.stage_depths} must have num_stages={num_stages} entries, the last "
                             f"equal to the codec's depth {codec.depth}.")
        # Codec of every earlier stage: the codec itself, or one of that stage's depth.
        self._stage_codecs = [codec if depth == codec.depth else _codec_with_depth(codec, depth)
                              for depth in self.stage_depths[:-1]]
        self.scale_factor = scale_factor
        self.rotation_factor = rotation_factor
        self.rotation_prob = rotation_prob
        self.translation_factor = translation_factor
        self.flip_prob = flip_prob
        self.color_factor = color_factor
        self.fill_value = fill_value
        if warp_backend not in affine.WARP_BACKENDS:
            raise ValueError(f"Unknown warp_backend {warp_backend!r}; valid: {affine.WARP_BACKENDS}.")
        self.warp_backend = warp_backend
        if train_image_dtype not in affine.WARP_DTYPES:
            raise ValueError(f"Unknown train_image_dtype {train_image_dtype!r}; valid: {affine.WARP_DTYPES}.")
        self.train_image_dtype = train_image_dtype
        self.depth_follows_crop_scale = bool(depth_follows_crop_scale)
        self.input_size = codec.input_size
        self._joint_map = None
        if self.source_skeleton.name != self.skeleton.name:
            self._joint_map = keypoint_ops.joint_index_map(self.source_skeleton.name, self.skeleton.name)

    # Augmentation parameters.

    def sample_augmentation(self, seed=None, batch_size=None):
        """Draws augmentation parameters for one example, or for each of `batch_size` examples.

        Args:
          seed: `(2,)` int seed for stateless sampling (same seed, same parameters), or None for fresh randomness.
          batch_size: None for one example's parameters, else N (an int or int32 scalar tensor).

        Returns:
          Dict of float32 tensors, each with a leading `(N,)` axis when `batch_size` is given: "scale" `()` (box
          size factor), "rotation" `()` degrees, "shift" `(2,)` (fraction of the box size), "color" `(3,)`
          (per-channel factors), and bool "flip" `()`. Example 0 of a batch gets what the unbatched draw with
          the same seed gives.
        """
        if seed is None:
            seed = tf.random.uniform([2], maxval=_UINT31, dtype=tf.int64)
        # One draw for all parameters keeps the op count (and tf.data overhead) low.
        shape = [9] if batch_size is None else tf.stack([tf.cast(batch_size, tf.int32), 9])
        low = tf.constant([-1.0, -1.0, 0.0, -1.0, -1.0, 0.0, -1.0, -1.0, -1.0])
        draws = low + (1.0 - low) * tf.random.stateless_uniform(shape, tf.cast(seed, tf.int64))
        return {
            "scale": 1.0 + self.scale_factor * draws[..., 0],
            "rotation": tf.where(draws[..., 2] < self.rotation_prob, self.rotation_factor * draws[..., 1], 0.0),
            "shift": self.translation_factor * draws[..., 3:5],
            "flip": draws[..., 5] < self.flip_prob,
            "color": 1.0 + self.color_factor * draws[..., 6:9],
        }

    # Public parse functions.

    def parse_train(self, decoded, seed=None):
        """Randomly augments one example and encodes its targets.

        The same computation as `InputReader`'s batched path (`prepare_train_example`, then
        `parse_train_batch` on a batch of one).

        Args:
          decoded: dict from `decode_example` (one instance).
          seed: optional `(2,)` int seed making the augmentation reproducible.

        Returns:
          `(image, labels)`: image `(H, W, 3)` of `train_image_dtype` in `[0, 255]`; labels dict keyed like the
          model outputs (see `target_keys`).
        """
        batch = {key: value[None] for key, value in self.prepare_train_example(decoded).items()}
        images, labels = self.parse_train_batch(batch, seed)
        return images[0], {key: value[0] for key, value in labels.items()}

    def prepare_train_example(self, decoded):
        """The per-example half of training: what the augmentation needs, in the model's skeleton.

        `InputReader` maps this over examples, shuffles, groups them with `Dataset.padded_batch` (images of
        different sizes share one padded tensor) and maps `parse_train_batch` over the batches, so that the
        augmentation, the warp (one Python call per batch for `opencv`) and the targets run once per batch.

        Args:
          decoded: dict from `decode_example` (one instance).

        The image is cut to the window that any augmented crop of this person can sample (the box at the largest
        scale, turned by any angle, at the largest shift; `_augmentation_window`), so that the shuffle buffer, the
        cache and the padded batches hold person regions, not whole photographs; "center" and "keypoints_2d" are
        moved into the window. The crops are those of the whole image.

        Returns:
          Dict: "image" `(H, W, 3)` as decoded, cut to the window, "image_size" `(2,)` int32 `[H, W]`, "center"
          `(2,)`, "box" `(2,)` person box `[w, h]` padded to the crop's aspect, "keypoints_2d" `(K, 2)` window
          pixels, "visible" `(K,)`, "z_mm" `(K,)` root-relative depth and "has_3d" `()`, all float32 but the image
          and its size.
        """
        instance = self._instance(self._to_model_skeleton(decoded))
        image, offset = self._augmentation_window(instance)
        instance["image"] = image
        instance["image_size"] = tf.shape(image, out_type=tf.int32)[:2]
        instance["center"] = instance["center"] - offset
        instance["keypoints_2d"] = instance["keypoints_2d"] - offset
        return instance

    def parse_train_batch(self, batch, seed=None):
        """Augments a batch of `prepare_train_example` outputs and encodes its targets.

        Args:
          batch: `prepare_train_example` dicts stacked to `(N, ...)`; "image" `(N, H_max, W_max, 3)` with each
            image in the top-left corner of its slot (`Dataset.padded_batch`), sized by "image_size".
          seed: optional `(2,)` int seed making the batch's augmentation reproducible.

        Returns:
          `(images, labels)`: images `(N, H, W, 3)` of `train_image_dtype` in `[0, 255]`; labels dict keyed like
          the model outputs, each `(N, ...)`.
        """
        params = self.sample_augmentation(seed, batch_size=tf.shape(batch["center"])[0])
        images, joints = self.augment_batch(batch, params)
        return images, self._labels(joints)

    def can_share_batches_with(self, other) -> bool:
        """Whether `parse_train_batch` treats `other`'s prepared examples as `other` would (same augmentation,
        warp, targets and codec), so that mixed batches of both can be parsed together."""
        settings = ("method", "num_stages", "scale_factor", "rotation_factor", "rotation_prob", "translation_factor",
                    "flip_prob", "color_factor", "fill_value", "warp_backend", "train_image_dtype",
                    "depth_follows_crop_scale", "stage_depths")
        codec_settings = ("num_joints", "input_size", "heatmap_size", "depth", "depth_range_mm", "sigma",
                          "disc_radius_px")
        return (hasattr(other, "parse_train_batch") and type(self.codec) is type(other.codec)
                and self.skeleton.name == other.skeleton.name
                and all(getattr(self, name) == getattr(other, name, None) for name in settings)
                and all(getattr(self.codec, name) == getattr(other.codec, name) for name in codec_settings))

    def parse_val(self, decoded):
        """Deterministic crop (no augmentation) with targets, for a validation loss.

        Returns:
          `(image, labels)` as `parse_train`, the image float32.
        """
        image, joints, _ = self._crop(self._to_model_skeleton(decoded))
        return image, self._labels(joints)

    def parse_eval(self, decoded):
        """Deterministic crop with everything needed to map predictions back to the original image.

        Returns:
          `(image, meta)`: image `(H, W, 3)` float32; meta dict with "crop_to_image" `(3, 3)` (maps crop pixels to
          original-image pixels: `ops.affine.transform_points(meta["crop_to_image"], pred_px)`) and the decoded
          `EVAL_META_KEYS` (ids, box, score, ground-truth joints, head box, camera, root depth, Human3.6M ids),
          with joints expressed in the model's skeleton.
        """
        decoded = self._to_model_skeleton(decoded)
        image, _, matrix = self._crop(decoded)
        meta = {key: decoded[key] for key in EVAL_META_KEYS}
        meta["crop_to_image"] = affine.invert_affine(matrix)
        return image, meta

    def target_keys(self):
        """The label keys `parse_train` returns, e.g. `("joints",)` or `("heatmaps", "heatmaps_stage0", ...)`; 3D
        models add "has_3d" and, for heat-map methods, "heatmap_marginals" (+ stage copies)."""
        keys = tuple(self.codec.target_shapes(self.method, marginals=True))
        staged = keys + tuple(f"{key}_stage{s}" for s, codec in enumerate(self._stage_codecs)
                              for key in codec.target_shapes(self.method, marginals=True))
        return staged + (("has_3d",) if self.codec.depth > 1 else ())

    def augment_batch(self, batch, params):
        """Applies given augmentation parameters (`sample_augmentation(batch_size=N)`) to a prepared batch.

        Each example's box is scaled by its "scale" and shifted by "shift" times the box, then one matrix per
        example (`ops.affine.crop_transform`) warps the image (with the colour factors) and moves the joints.
        With `depth_follows_crop_scale`, "z_mm" is the root-relative depth divided by the example's "scale".

        Returns:
          `(images, joints)`: images `(N, H, W, 3)` of `train_image_dtype` in `[0, 255]`; joints dict with
          "keypoints_px" `(N, K, 2)` crop pixels, "visible" `(N, K)`, "z_mm" `(N, K)`, "has_3d" `(N,)`.
        """
        box = batch["box"] * params["scale"][..., None]
        center = batch["center"] + params["shift"] * box
        matrix = affine.crop_transform(center, box, self.input_size, params["rotation"], params["flip"])
        images = affine.warp_images(batch["image"], matrix, self.input_size, image_sizes=batch["image_size"],
                                    fill_value=self.fill_value, backend=self.warp_backend,
                                    channel_scale=params.get("color"), dtype=self.train_image_dtype)
        images.set_shape([None, *self.input_size, 3])
        joints = self._crop_joints(batch, matrix, params["flip"])
        if self.depth_follows_crop_scale:
            joints["z_mm"] = joints["z_mm"] / params["scale"][..., None]
        return images, joints

    # Internals.

    def _instance(self, decoded):
        """The fields of one decoded example (already in the model's skeleton: `_to_model_skeleton`) that
        cropping needs."""
        return {
            "image": decoded["image"],
            "center": tf.cast(decoded["center"], tf.float32),
            "box": affine.fit_box_to_aspect(decoded["scale"], self.input_size),
            "keypoints_2d": decoded["keypoints_2d"],
            "visible": decoded["visible"],
            "z_mm": decoded["keypoints_3d"][:, 2],
            "has_3d": tf.cast(decoded["has_3d"], tf.float32),
        }

    def _augmentation_window(self, instance):
        """The part of the image any training crop of `instance` can sample: `(image window, (2,) float32 [x0, y0])`.

        A crop samples pixel centres inside its box, `box * scale` around `center + shift * box * scale`; turned by
        any angle that box stays within its circumscribed circle, so the window is the centre +- (half the box
        diagonal + the largest shift) at the largest scale, plus 2 pixels for the bilinear neighbours, clipped to
        the image.
        """
        image = instance["image"]
        size_xy = tf.cast(tf.shape(image)[1::-1], tf.float32)
        box = instance["box"] * (1.0 + self.scale_factor)
        half = 0.5 * tf.norm(box) + self.translation_factor * tf.reduce_max(box) + 2.0
        low = tf.clip_by_value(tf.floor(instance["center"] - half), 0.0, size_xy)
        high = tf.clip_by_value(tf.math.ceil(instance["center"] + half) + 1.0, low, size_xy)
        start, stop = tf.cast(low, tf.int32), tf.cast(high, tf.int32)
        return image[start[1]:stop[1], start[0]:stop[0]], low

    def _crop(self, decoded):
        """Deterministic float32 crop of one example in the model's skeleton: `(image, joints, image_to_crop
        matrix)`."""
        instance = self._instance(decoded)
        matrix = affine.crop_transform(instance["center"], instance["box"], self.input_size)
        image = affine.warp_image(instance["image"], matrix, self.input_size, self.fill_value, self.warp_backend)
        image.set_shape([*self.input_size, 3])
        return image, self._crop_joints(instance, matrix, tf.constant(False)), matrix

    def _crop_joints(self, instance, matrix, flip):
        """Joints moved into the crop by `matrix` `(..., 3, 3)`; where `flip` `(...)`, left/right pairs swapped.

        Root-relative depth is unchanged by in-plane rotation, scaling and a horizontal flip; only its joint order
        follows the flip.
        """
        joints = {
            "keypoints_px": affine.transform_points(matrix, instance["keypoints_2d"]),
            "visible": instance["visible"],
            "z_mm": instance["z_mm"],
        }
        permutation = self.skeleton.flip_permutation()
        batch_rank = flip.shape.rank
        for key, value in joints.items():
            swapped = keypoint_ops.swap_flip_pairs(value, permutation, axis=batch_rank)
            condition = tf.reshape(flip, tf.concat([tf.shape(flip), [1] * (value.shape.rank - batch_rank)], 0))
            joints[key] = tf.where(condition, swapped, value)
        joints["has_3d"] = instance["has_3d"]
        return joints

    def _to_model_skeleton(self, decoded):
        """Checks K and maps per-joint fields from the source skeleton to the model's skeleton."""
        decoded = dict(decoded)
        num_source = self.source_skeleton.num_joints
        for key, shape in (("keypoints_2d", [num_source, 2]), ("visible", [num_source]),
                           ("keypoints_3d", [num_source, 3])):
            decoded[key] = tf.convert_to_tensor(decoded[key], tf.float32)
            if not decoded[key].shape.is_compatible_with(shape):
                raise ValueError(f"decoded[{key!r}] has shape {decoded[key].shape}; skeleton "
                                 f"{self.source_skeleton.name!r} of the records expects {shape}.")
            check = tf.debugging.assert_equal(
                tf.shape(decoded[key])[0], num_source,
                message=f"decoded[{key!r}]: records of skeleton {self.source_skeleton.name!r} must have "
                        f"{num_source} joints")
            with tf.control_dependencies([check]):
                decoded[key] = tf.identity(decoded[key])
            decoded[key].set_shape(shape)
        if self._joint_map is not None:
            for key in _PER_JOINT_KEYS:
                decoded[key] = keypoint_ops.remap_joints(decoded[key], self._joint_map)
        return decoded

    def _labels(self, joints):
        targets = self.codec.encode(joints["keypoints_px"], joints["visible"], joints["z_mm"], joints["has_3d"],
                                    method=self.method, marginals=True)
        labels = dict(targets)
        for stage, codec in enumerate(self._stage_codecs):
            if codec is not self.codec:  # a stage of another depth (`stage_depths`): targets of that depth
                stage_targets = codec.encode(joints["keypoints_px"], joints["visible"], joints["z_mm"],
                                             joints["has_3d"], method=self.method, marginals=True)
            else:
                stage_targets = targets
            labels.update({f"{key}_stage{stage}": value for key, value in stage_targets.items()})
        if self.codec.depth > 1:
            labels["has_3d"] = tf.cast(joints["has_3d"], tf.float32)
        return labels



def _codec_with_depth(codec, depth: int):
    """A codec with every setting of `codec` but the depth (the targets of a stage of another depth)."""
    return type(codec)(codec.num_joints, input_size=codec.input_size, heatmap_size=codec.heatmap_size, depth=depth,
                       depth_range_mm=codec.depth_range_mm, sigma=codec.sigma, disc_radius_px=codec.disc_radius_px)


def build_parser(model_config, data_config, source_skeleton: Optional[str] = None, codec=None) -> Parser:
    """Builds a `Parser` from a `ModelConfig` and a `DataConfig`.

    Args:
      model_config: gives the method, joints, input / heat-map sizes, depth and stages.
      data_config: gives the skeleton and the augmentation settings.
      source_skeleton: skeleton of the records when it differs from `data_config.skeleton` (mixed 2D data).
      codec: a `PoseCodec` to use; by default `PoseCodec.from_config(model_config)` (every codec setting).
    """
    if codec is None:
        codec = PoseCodec.from_config(model_config)
    augmentation = data_config.augmentation
    return Parser(
        codec,
        model_config.method,
        data_config.skeleton,
        source_skeleton=source_skeleton,
        num_stages=model_config.num_stages,
        stage_depths=model_config.depth_per_stage,
        scale_factor=augmentation.scale_factor,
        rotation_factor=augmentation.rotation_factor,
        rotation_prob=augmentation.rotation_prob,
        translation_factor=augmentation.translation_factor,
        flip_prob=augmentation.flip_prob,
        color_factor=augmentation.color_factor,
        warp_backend=data_config.warp_backend,
        depth_follows_crop_scale=data_config.depth_follows_crop_scale,
    )
