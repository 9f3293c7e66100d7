"""Human3.6M in the layout of the seed's official code ("hm36"): per-sequence `matlab_meta.txt` + extracted frames.

Layout: `<root>/annot/<sequence>/matlab_meta.txt` and `<root>/images/<sequence>/<sequence>_%06d.jpg`, with
`<sequence>` like `s_09_act_02_subact_01_ca_01` and image numbers 1-based (frame `i` is file `i + 1`).

`matlab_meta.txt`, one item per line, whitespace separated, the first token of each line a label (ignored):
```
line 0      number of frames F
line 1      <label> image_width image_height
line 2      <label> 9 rotation values: the world->camera rotation R in column-major order (R = reshape(v, 3, 3).T)
line 3      <label> tx ty tz: camera position T in world millimetres
line 4      <label> fx fy (pixels)
line 5      <label> cx cy (pixels)
line 6      <label> k1 k2 k3 radial distortion (not used, as in the seed)
line 7      <label> p1 p2 tangential distortion (not used)
line 8      <label> 17 1-based indices into the 32 mocap joints: the 17-joint skeleton
line 9 + i  <label> 96 values: the 32 world joints (x, y, z mm) of frame i
```
Camera coordinates are `X_cam = R (X_world - T)`; pixels `u = fx X/Z + cx`, `v = fy Y/Z + cy` (pinhole, no
distortion, as in the seed). The seed uses these pixel coordinates directly as 0-based image coordinates, and so do
we (no shift). The 17 selected joints come in the package's H36M order (`skeletons.H36M`: pelvis, r_hip, ...,
r_wrist). The seed names joints 8, 9, 10 neck, nose, head where the package says thorax, neck, head (the same
mocap joints); the seed's extra 18th joint (a thorax made from the shoulders) is not written.

Per frame the record holds: `keypoints/2d` the projections, all visible; `keypoints/3d` camera-space, relative to
the pelvis, mm; `camera/root_depth` the pelvis depth; `camera/focal`, `camera/center`; the ids subject, action,
subaction, camera, frame (0-based); `person/bbox` the tight box of the projected joints; the crop is the seed's:
a `crop_mm` x `crop_mm` square (default 2000 mm) centred on the pelvis at its depth, projected (centre = pelvis
projection, size `crop_mm * f / depth`), then enlarged to `aspect_ratio`.
"""
import dataclasses
import os
import pathlib
import re
from typing import Iterator, Optional, Sequence, Tuple, Union

import numpy as np

from integral_keras.core import skeletons
from integral_keras.data.converters import common
from integral_keras.core import h36m_protocols

META_FILE = "matlab_meta.txt"
SEQUENCE_PATTERN = re.compile(r"^s_(\d+)_act_(\d+)_subact_(\d+)_ca_(\d+)$")
DEFAULT_CROP_MM = 2000.0
_HEADER_LINES = 9


@dataclasses.dataclass
class SequenceMeta:
    """The content of one `matlab_meta.txt`.

    Attributes:
      width, height: image size in pixels.
      rotation: `(3, 3)` world -> camera rotation R.
      translation: `(3,)` camera position T in world mm (`X_cam = R (X_world - T)`).
      focal: `(2,)` fx, fy. center: `(2,)` cx, cy.
      joint_list: `(17,)` 0-based indices of the skeleton's joints among the mocap joints.
      world_joints: `(F, J, 3)` world joints of every frame, mm (J = 32).
    """

    width: int
    height: int
    rotation: np.ndarray
    translation: np.ndarray
    focal: np.ndarray
    center: np.ndarray
    joint_list: np.ndarray
    world_joints: np.ndarray


def _values(path, lines, index: int, count: Optional[int] = None) -> np.ndarray:
    """The numbers after the label of line `index` (exactly `count` of them when given)."""
    if index >= len(lines):
        raise ValueError(f"{path}: expected at least {index + 1} lines, found {len(lines)}")
    tokens = lines[index].split()[1:]
    if count is not None and len(tokens) < count:
        raise ValueError(f"{path} line {index + 1}: expected {count} values after the label, got {len(tokens)}")
    try:
        return np.asarray([float(token) for token in tokens[:count]], np.float64)
    except ValueError as error:
        raise ValueError(f"{path} line {index + 1}: {error}") from None


def parse_meta(path) -> SequenceMeta:
    """Parses a `matlab_meta.txt` (module docstring).

    Raises:
      OSError: the file cannot be read. ValueError: its layout is not the one above (names the line).
    """
    lines = [line for line in pathlib.Path(path).read_text().splitlines() if line.strip()]
    try:
        num_frames = int(float(lines[0].split()[0]))
    except (IndexError, ValueError):
        raise ValueError(f"{path} line 1: expected the number of frames") from None
    size = _values(path, lines, 1, 2)
    joint_list = _values(path, lines, 8, skeletons.H36M.num_joints).astype(np.int64) - 1
    frames = [_values(path, lines, _HEADER_LINES + i) for i in range(num_frames)]
    widths = {len(frame) for frame in frames}
    if num_frames and (len(widths) != 1 or widths.pop() % 3):
        raise ValueError(f"{path}: frame lines must all hold the same multiple of 3 values")
    world_joints = np.asarray(frames, np.float64).reshape(num_frames, -1, 3) if num_frames else np.zeros((0, 32, 3))
    if joint_list.min() < 0 or (num_frames and joint_list.max() >= world_joints.shape[1]):
        raise ValueError(f"{path} line 9: joint indices {joint_list + 1} outside 1..{world_joints.shape[1]}")
    return SequenceMeta(
        width=int(size[0]), height=int(size[1]), rotation=_values(path, lines, 2, 9).reshape(3, 3).T,
        translation=_values(path, lines, 3, 3), focal=_values(path, lines, 4, 2),
        center=_values(path, lines, 5, 2), joint_list=joint_list, world_joints=world_joints)


def parse_sequence_name(name: str) -> Tuple[int, int, int, int]:
    """(subject, action, subaction, camera) of `s_09_act_02_subact_01_ca_01`; ValueError for other names."""
    match = SEQUENCE_PATTERN.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not a sequence name like s_09_act_02_subact_01_ca_01")
    return tuple(int(group) for group in match.groups())


def image_name(sequence: str, frame: int) -> str:
    """Image path of 0-based `frame`, relative to the images folder (files are numbered from 1)."""
    return f"{sequence}/{sequence}_{frame + 1:06d}.jpg"


def world_to_camera(points, rotation, translation) -> np.ndarray:
    """`(..., 3)` world mm -> camera mm: `R (X - T)`."""
    return (np.asarray(points, np.float64) - translation) @ np.asarray(rotation).T


def project(points_camera, focal, center) -> np.ndarray:
    """`(..., 3)` camera mm -> `(..., 2)` pixels by the pinhole model."""
    points_camera = np.asarray(points_camera, np.float64)
    return points_camera[..., :2] / points_camera[..., 2:] * focal + center


def _frame_record(sequence, ids, meta: SequenceMeta, frame: int, image_id: int, crop_mm, aspect_ratio):
    record_id = f"{sequence} frame {frame}"
    joints = world_to_camera(meta.world_joints[frame, meta.joint_list], meta.rotation, meta.translation)
    root = joints[skeletons.H36M.root]
    if np.any(joints[:, 2] <= 0):
        return common.Skipped(record_id, "behind_camera", "a joint has depth <= 0 in camera space")
    keypoints_2d = project(joints, meta.focal, meta.center)
    crop = crop_mm * meta.focal / root[2]
    center, scale = common.crop_box(project(root, meta.focal, meta.center), crop, aspect_ratio)
    subject, action, subaction, camera = ids
    fields = {
        "keypoints_2d": keypoints_2d, "keypoints_3d": joints - root, "root_depth": root[2],
        "focal": meta.focal, "principal_point": meta.center, "center": center, "scale": scale,
        "image_id": image_id, "subject": subject, "action": action, "subaction": subaction, "camera": camera,
        "frame": frame,
    }
    return common.Record(record_id, image_name(sequence, frame), fields)


def sequence_names(annot_root, subjects: Sequence[int]) -> list:
    """Sorted sequence folders of `annot_root` whose subject is in `subjects` (other folder names ignored)."""
    names = []
    for name in sorted(os.listdir(annot_root)):
        match = SEQUENCE_PATTERN.match(name)
        if match is not None and int(match.group(1)) in subjects:
            names.append(name)
    return names


def records(annot_root, sequences: Sequence[str], frame_step: int = 1, crop_mm: float = DEFAULT_CROP_MM,
            aspect_ratio: float = 1.0) -> Iterator[Union[common.Record, common.Skipped]]:
    """Records of every `frame_step`-th frame (frames 0, step, 2 step, ...) of the given sequences.

    A sequence whose `matlab_meta.txt` is missing or malformed yields one `Skipped(malformed_sequence)`.

    Args:
      annot_root: the `annot/` folder.
      sequences: sequence folder names (`sequence_names`).
      frame_step: keep frames with `frame % frame_step == 0`.
      crop_mm: side of the square around the pelvis that the crop covers, mm.
      aspect_ratio: crop width / height.

    Yields:
      `common.Record` / `common.Skipped`; `image/id` counts the frames visited.
    """
    image_id = 0
    for sequence in sequences:
        meta_path = os.path.join(annot_root, sequence, META_FILE)
        try:
            ids = parse_sequence_name(sequence)
            meta = parse_meta(meta_path)
        except (OSError, ValueError) as error:
            yield common.Skipped(sequence, "malformed_sequence", str(error))
            continue
        for frame in range(0, len(meta.world_joints), frame_step):
            yield _frame_record(sequence, ids, meta, frame, image_id, crop_mm, aspect_ratio)
            image_id += 1


def split_subjects(split: str, protocol: int) -> Tuple[int, ...]:
    """Subjects of `split` (`train` / `test`) under `protocol` (1 or 2, `core.h36m_protocols.PROTOCOLS`)."""
    if protocol not in h36m_protocols.PROTOCOLS:
        raise ValueError(f"Unknown Human3.6M protocol {protocol!r}; valid: {sorted(h36m_protocols.PROTOCOLS)}")
    spec = h36m_protocols.PROTOCOLS[protocol]
    if split == "train":
        return spec.train_subjects
    if split == "test":
        return spec.test_subjects
    raise ValueError(f"Unknown split {split!r}; valid: ['test', 'train']")


def convert_h36m(root, output_prefix: str, split: str = "train", protocol: int = 1,
                 frame_step: Optional[int] = None, crop_mm: float = DEFAULT_CROP_MM, aspect_ratio: float = 1.0,
                 num_shards: int = 1, progress: bool = True, num_workers: int = 1) -> common.ConversionSummary:
    """Converts the Human3.6M sequences of one split of a protocol to TFRecords.

    Args:
      root: folder holding `annot/` and `images/`.
      output_prefix: shard path prefix.
      split: `train` or `test`.
      protocol: 1 (train S1 S5 S6 S7 S8 S9, test S11) or 2 (train S1 S5 S6 S7 S8, test S9 S11).
      frame_step: keep every `frame_step`-th frame; default 1 for train, 64 for test (the protocols).
      crop_mm: crop side around the pelvis, mm.
      aspect_ratio: crop width / height.
      num_shards: output files.
      progress: show a progress bar.
      num_workers: threads reading images.

    Returns:
      The `common.ConversionSummary`.
    """
    common.check_positive(crop_mm=crop_mm, aspect_ratio=aspect_ratio)
    annot_root = os.path.join(root, "annot")
    if not os.path.isdir(annot_root):
        raise FileNotFoundError(f"Human3.6M annotation folder not found: {annot_root}")
    if frame_step is None:
        frame_step = h36m_protocols.FRAME_STEP if split == "test" else 1
    if frame_step < 1:
        raise ValueError(f"frame_step must be >= 1; got {frame_step}")
    sequences = sequence_names(annot_root, split_subjects(split, protocol))
    return common.convert(records(annot_root, sequences, frame_step, crop_mm, aspect_ratio),
                          os.path.join(root, "images"), output_prefix, "h36m", num_shards, progress,
                          num_workers=num_workers)
