"""Synthetic posed people on clutter, with exact 2D / 3D labels, written as TFRecords of the package schema.

Each sample is a function of `(seed, split, index)` only (its own `numpy` generator), so a data set is reproduced
byte for byte by its seed and any sample can be regenerated alone. A sample is made in five steps:
1. a body: bone lengths with person-to-person variation and joint angles inside anatomical limits
   (`body_model`);
2. a view: yaw over the full circle, some pitch and roll, a pinhole camera with a random focal length and a
   slightly off-centre principal point, and a depth and sideways shift that make the person span 50-85 % of the
   image (`camera`);
3. labels: the exact projection of the joints (0-based pixel centres, sub-pixel), camera-space root-relative 3D
   joints (mm), the root depth, visibility (1 inside the image), a box and crop centre / size, and for MPII a head
   box;
4. a cluttered background with distractor shapes and limb-like sticks (`background`);
5. the person drawn over it by depth (`render`), then a little sensor grain.
"""
import dataclasses
import functools
import multiprocessing
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

import cv2

import numpy as np

from integral_keras.data import schema
from integral_keras.core import skeletons
from integral_keras.data.synthetic import background
from integral_keras.data.synthetic import body_model
from integral_keras.data.synthetic import camera as camera_lib
from integral_keras.data.synthetic import render

SPLITS = ("train", "val")
SKELETONS = ("h36m", "mpii")
# Crop box = tight joint box grown by this factor (the usual 1.25 of pose-estimation crops).
BOX_PADDING = 1.25
# MPII head box: a square around the drawn head, its half side this multiple of the head's half height (so that
# the PCKh head size 0.6 * diagonal is about the head's height, ~200 mm, as in MPII).
HEADBOX_MARGIN = 1.1
_BODY_ROOT = body_model.JOINTS.index("pelvis")


@dataclasses.dataclass(frozen=True)
class SyntheticSample:
    """One rendered person and its labels (all pixel coordinates 0-based, pixel `i` centred at `i`).

    Attributes:
      image: uint8 RGB `(S, S, 3)`.
      keypoints_2d: `(K, 2)` exact projections of the joints, pixels.
      keypoints_3d: `(K, 3)` camera-space joints minus the root (pelvis), mm.
      visible: `(K,)` 1 where the projection lies inside the image, else 0.
      focal: `(2,)` fx, fy in pixels.
      principal_point: `(2,)` cx, cy in pixels.
      root_depth: camera-space Z of the root, mm.
      bbox: `(4,)` `[x, y, w, h]`, the tight box of the projected joints grown `BOX_PADDING` times.
      center: `(2,)` centre of `bbox`.
      scale: `(2,)` square crop size `[s, s]`, `s = max(w, h)` of `bbox`.
      headbox: `(4,)` `[x1, y1, x2, y2]` (MPII skeleton; zeros for H36M).
      skeleton: `h36m` or `mpii`.
    """

    image: np.ndarray
    keypoints_2d: np.ndarray
    keypoints_3d: np.ndarray
    visible: np.ndarray
    focal: np.ndarray
    principal_point: np.ndarray
    root_depth: float
    bbox: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    headbox: np.ndarray
    skeleton: str


class SyntheticPoseGenerator:
    """Renders synthetic people; `sample(index, split)` is deterministic given the constructor's seed.

    Args:
      skeleton: `h36m` (17 joints) or `mpii` (16 joints).
      image_size: side S of the square images, pixels.
      seed: data-set seed.
      person_fraction: (low, high) share of the image side spanned by the body.
      focal_range: (low, high) focal length as a multiple of the image side.
    """

    def __init__(self, skeleton: str = "h36m", image_size: int = 256, seed: int = 0,
                 person_fraction=(0.5, 0.85), focal_range=(1.1, 2.2)):
        if skeleton not in SKELETONS:
            raise ValueError(f"Unknown synthetic skeleton {skeleton!r}; valid: {list(SKELETONS)}.")
        if image_size < 16:
            raise ValueError(f"image_size must be >= 16; got {image_size}.")
        self.skeleton = skeleton
        self.image_size = image_size
        self.seed = seed
        self.person_fraction = tuple(person_fraction)
        self.focal_range = tuple(focal_range)
        self._textures = background.TextureBank(image_size, np.random.default_rng([seed, 99]))

    @property
    def num_joints(self) -> int:
        return skeletons.get_skeleton(self.skeleton).num_joints

    def _rng(self, index: int, split: str) -> np.random.Generator:
        if split not in SPLITS:
            raise ValueError(f"Unknown split {split!r}; valid: {list(SPLITS)}.")
        return np.random.default_rng([self.seed, SPLITS.index(split), index])

    def sample(self, index: int, split: str = "train") -> SyntheticSample:
        """Renders sample `index` of `split` (`train` or `val`)."""
        rng = self._rng(index, split)
        size = self.image_size
        shape = body_model.sample_body_shape(rng)
        angles = body_model.sample_angles(rng)
        rotation = camera_lib.sample_rotation(rng)
        root_relative = body_model.forward_kinematics(shape, angles) @ rotation.T

        focal = size * rng.uniform(*self.focal_range)
        camera = camera_lib.Camera(np.array([focal, focal]), (size - 1) / 2 + rng.uniform(-0.03, 0.03, 2) * size)
        translation = camera_lib.place_in_view(root_relative, camera, size, rng.uniform(*self.person_fraction),
                                               rng.uniform(-0.07, 0.07, 2))
        joints_cam = root_relative + translation

        image = background.render_background(rng, size, self._textures)
        appearance = render.sample_appearance(rng)
        _draw_sticks(rng, image, appearance)
        head_axes = rotation @ body_model.head_rotation(angles)
        render.render_person(image, joints_cam, camera, head_axes, appearance)
        image = background.add_grain(image, self._textures, rng, rng.uniform(1.0, 3.0))
        return self._labels(image, joints_cam, camera)

    def _labels(self, image, joints_cam, camera) -> SyntheticSample:
        size = self.image_size
        joints_2d = body_model.to_skeleton(camera.project(joints_cam), self.skeleton)
        root_relative = body_model.to_skeleton(joints_cam - joints_cam[_BODY_ROOT], self.skeleton)
        visible = np.all((joints_2d >= 0) & (joints_2d <= size - 1), axis=1).astype(np.float64)
        low, high = joints_2d.min(axis=0), joints_2d.max(axis=0)
        centre, extent = (low + high) / 2, (high - low) * BOX_PADDING
        bbox = np.concatenate([centre - extent / 2, extent])
        headbox = np.zeros(4)
        if self.skeleton == "mpii":
            centre_cam = body_model.head_centre(joints_cam)
            half = camera.focal.mean() * HEADBOX_MARGIN * body_model.HEAD_HALF_HEIGHT_MM / centre_cam[2]
            head = camera.project(centre_cam)
            headbox = np.concatenate([head - half, head + half])
        return SyntheticSample(
            image=image, keypoints_2d=joints_2d, keypoints_3d=root_relative, visible=visible,
            focal=camera.focal, principal_point=camera.principal_point, root_depth=float(joints_cam[_BODY_ROOT, 2]),
            bbox=bbox, center=centre, scale=np.full(2, extent.max()), headbox=headbox, skeleton=self.skeleton)

    def record_fields(self, index: int, split: str = "train", image_format: str = "jpeg",
                      jpeg_quality: int = 95, with_3d: bool = True) -> Dict[str, Any]:
        """Sample `index` of `split` as `schema.make_example` keyword arguments, the image already encoded.

        Needs no TensorFlow, so worker processes can make these and the writing process build the Examples.
        With `with_3d=False` the record is 2D-only, like an MPII / COCO record: `has_3d = 0` and the 3D joints,
        camera (focal length, principal point) and root depth are left out, so they take the schema's zero
        defaults. The image and the 2D labels are the same as with `with_3d=True`.
        """
        sample = self.sample(index, split)
        extension = "jpg" if image_format == "jpeg" else "png"
        fields = dict(
            image=schema.encode_image(sample.image, image_format, jpeg_quality), image_format=image_format,
            height=self.image_size, width=self.image_size, image_id=index,
            filename=f"{split}/{index:07d}.{extension}", dataset="synthetic", bbox=sample.bbox, center=sample.center,
            scale=sample.scale, keypoints_2d=sample.keypoints_2d, visible=sample.visible, headbox=sample.headbox)
        if with_3d:
            fields.update(keypoints_3d=sample.keypoints_3d, has_3d=1, focal=sample.focal,
                          principal_point=sample.principal_point, root_depth=sample.root_depth)
        else:
            fields.update(has_3d=0)
        return fields

    def example(self, index: int, split: str = "train", image_format: str = "jpeg", jpeg_quality: int = 95,
                with_3d: bool = True):
        """Sample `index` of `split` as a `tf.train.Example` of `integral_keras.data.schema` (2D-only when
        `with_3d` is False, see `record_fields`)."""
        return schema.make_example(**self.record_fields(index, split, image_format, jpeg_quality, with_3d))

    def samples(self, count: int, split: str = "train", start: int = 0) -> Iterator[SyntheticSample]:
        """Samples `start .. start + count - 1` of `split`."""
        for index in range(start, start + count):
            yield self.sample(index, split)


def _draw_sticks(rng, image, appearance):
    """0-2 limb-like shaded sticks and a blob in random colours: distractors that look like body parts."""
    size = image.shape[0]
    light = np.asarray(appearance.light)
    for _ in range(int(rng.integers(0, 3))):
        start = rng.uniform(0, size, 2)
        end = start + rng.uniform(-0.3, 0.3, 2) * size
        radius = rng.uniform(0.015, 0.04) * size
        render.shaded_capsule(image, start, end, radius, radius * rng.uniform(0.6, 1.0),
                              background.random_colour(rng, 40, 230), light)


# The generator of a worker process (built once by `_init_worker`, not pickled per task).
_WORKER_GENERATOR: Optional[SyntheticPoseGenerator] = None


def _init_worker(skeleton: str, image_size: int, seed: int) -> None:
    global _WORKER_GENERATOR  # pylint: disable=global-statement
    cv2.setNumThreads(1)
    _WORKER_GENERATOR = SyntheticPoseGenerator(skeleton, image_size, seed)


def _worker_record_fields(task: Tuple[int, str, str, int, bool]) -> Dict[str, Any]:
    return _WORKER_GENERATOR.record_fields(*task)


def write_dataset(output_dir: str, num_train: int, num_val: int, image_size: int = 256, skeleton: str = "h36m",
                  seed: int = 0, num_shards: int = 4, image_format: str = "jpeg", jpeg_quality: int = 95,
                  num_workers: int = 0, progress: bool = False, with_3d: bool = True) -> Dict[str, List[str]]:
    """Writes `<output_dir>/train-*-of-*.tfrecord` and `val-*` shards; returns the shard paths per split.

    Each split gets `num_shards` shards (one per record when it has fewer records than shards); a split of 0
    records is skipped. With `with_3d=False` every record is 2D-only (`has_3d = 0`; no 3D joints, camera or root
    depth, which read back as the schema's zeros), e.g. `skeleton="mpii", with_3d=False` for the 2D half of a
    Strategy 2 mix; the images and 2D labels equal those of `with_3d=True`. With `num_workers > 0`, that many processes render and encode the images (started with
    `spawn`, safe next to TensorFlow) while this process builds and writes the records in index order, so the files
    are byte-identical whatever the number of workers.
    """
    from integral_keras.data.writer import ShardedWriter  # pylint: disable=import-outside-toplevel

    tasks = {split: [(index, split, image_format, jpeg_quality, bool(with_3d)) for index in range(count)]
             for split, count in (("train", num_train), ("val", num_val)) if count > 0}
    pool = None
    if num_workers > 0:
        pool = multiprocessing.get_context("spawn").Pool(num_workers, _init_worker, (skeleton, image_size, seed))
        fields_of = functools.partial(pool.imap, _worker_record_fields, chunksize=8)
    else:
        generator = SyntheticPoseGenerator(skeleton, image_size, seed)
        fields_of = functools.partial(map, lambda task: generator.record_fields(*task))
    written = {}
    try:
        for split, split_tasks in tasks.items():
            prefix = os.path.join(output_dir, split)
            with ShardedWriter(prefix, min(num_shards, len(split_tasks)), progress=progress, total=len(split_tasks),
                               description=split) as writer:
                for fields in fields_of(split_tasks):
                    writer.write(schema.make_example(**fields))
            written[split] = writer.paths
    finally:
        if pool is not None:  # every result has been consumed (or an error is on its way): stop the workers
            pool.terminate()
            pool.join()
    return written


def file_pattern(output_dir: str, split: str) -> str:
    """Glob of a split's shards written by `write_dataset`."""
    return os.path.join(output_dir, f"{split}-*-of-*.tfrecord")

