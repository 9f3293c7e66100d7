"""Joint orders, flip pairs, bones and OKS sigmas of the supported skeletons, and the joint maps between them.

Pure Python/numpy (no TensorFlow), in the bottom layer (`integral_keras.core`), so every module — data,
evaluation, drawing — can import it cheaply. These orders are part of the package contract (DESIGN.md,
Conventions). `integral_keras.data.skeletons` re-exports this module.
"""
import dataclasses
from typing import Mapping, Optional, Tuple

import numpy as np


@dataclasses.dataclass(frozen=True)
class Skeleton:
    """A skeleton topology.

    Attributes:
      name: Registry name (`mpii`, `coco`, `h36m`).
      joint_names: Names in index order, length K.
      flip_pairs: `(left, right)` index pairs swapped by a horizontal flip.
      bones: `(parent, child)` index pairs used for drawing and for the
        synthetic renderer.
      root: Index of the root joint (pelvis) or None when the skeleton has none.
      oks_sigmas: Per-joint OKS sigmas (COCO only), else None.
    """

    name: str
    joint_names: Tuple[str, ...]
    flip_pairs: Tuple[Tuple[int, int], ...]
    bones: Tuple[Tuple[int, int], ...]
    root: Optional[int] = None
    oks_sigmas: Optional[Tuple[float, ...]] = None

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def flip_permutation(self) -> np.ndarray:
        """Index array `perm` such that `joints[perm]` swaps every flip pair, shape (K,)."""
        perm = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def index(self, joint_name: str) -> int:
        return self.joint_names.index(joint_name)


MPII = Skeleton(
    name="mpii",
    joint_names=(
        "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax",
        "upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist",
    ),
    flip_pairs=((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13)),
    bones=(
        (6, 2), (2, 1), (1, 0), (6, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9),
        (7, 12), (12, 11), (11, 10), (7, 13), (13, 14), (14, 15),
    ),
    root=6,
)

COCO = Skeleton(
    name="coco",
    joint_names=(
        "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
        "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
    ),
    flip_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    bones=(
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
        (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    ),
    root=None,
    # pycocotools.cocoeval.Params.kpt_oks_sigmas
    oks_sigmas=(0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                0.107, 0.107, 0.087, 0.087, 0.089, 0.089),
)

# Human3.6M's 17 evaluation joints, named as in the dataset's own 32-joint skeleton: `thorax` is its joint 13
# "Thorax" (the base of the neck, between the clavicles), `neck` its joint 14 "Neck/Nose" (above the thorax, at the
# chin / lower face in the images), `head` its joint 15 "Head" (the top of the head).
#
# MPII -> Human3.6M (2D data for a 3D model, the paper's Strategy 2; `joint_index_map` below) maps by
# name, with `upper_neck` = `neck` and `head_top` = `head`:
#   thorax <- MPII thorax, neck <- MPII upper_neck, head <- MPII head_top, spine <- none (weight 0), and the
#   limbs and pelvis by their own names.
# The official code (`common_pytorch/dataset/hm36.py`, `s_mpii_2_hm36_jt`) differs at the neck: it renames
# H36M joint 13 ("Thorax", our index 8) `neck` and joint 14 ("Neck/Nose", our index 9) `nose`, appends an 18th
# joint `Thorax` (the shoulders' midpoint), and maps MPII upper_neck -> index 8, MPII thorax -> the extra 18th
# joint, nothing -> index 9; head_top -> head, pelvis, limbs as here. We keep the name mapping because (1) our
# skeleton has the 17 joints of the evaluation protocol (DESIGN.md), with no 18th joint for MPII's thorax to go
# to; (2) MPII's thorax and H36M's Thorax mark the same place (the base of the neck), while MPII's upper neck
# lies a neck length above it, so the official table would pull index 8 up towards the chin and leave index 9
# without 2D supervision; (3) on the bundled synthetic data both skeletons are read off one body
# (`data/synthetic/body_model.py`: MPII upper_neck = body neck, head_top = body head, thorax = body thorax), so
# the name mapping is exact there. docs/architecture.md ("Joint mappings") repeats this.
H36M = Skeleton(
    name="h36m",
    joint_names=(
        "pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "spine", "thorax",
        "neck", "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
    ),
    flip_pairs=((1, 4), (2, 5), (3, 6), (11, 14), (12, 15), (13, 16)),
    bones=(
        (0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9), (9, 10),
        (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16),
    ),
    root=0,
)

SKELETONS = {s.name: s for s in (MPII, COCO, H36M)}


def get_skeleton(name: str) -> Skeleton:
    """Returns the skeleton registered as `name`; raises ValueError naming the valid ones."""
    try:
        return SKELETONS[name]
    except KeyError:
        raise ValueError(f"Unknown skeleton {name!r}; valid: {sorted(SKELETONS)}") from None


# Joints that carry different names in different skeletons but mark the same body point
# (target name -> source name). Used when 2D data of one skeleton trains a model of another (mixed 2D/3D).
# MPII -> Human3.6M differs from the official code's table at the neck and thorax on purpose: see the comment
# above `H36M` and docs/architecture.md ("Joint mappings").
JOINT_ALIASES = {
    "neck": "upper_neck",
    "upper_neck": "neck",
    "head": "head_top",
    "head_top": "head",
}


def joint_index_map(source: str, target: str, aliases: Optional[Mapping[str, str]] = None) -> np.ndarray:
    """Maps the joints of skeleton `target` to indices of skeleton `source`, by joint name.

    Args:
      source: skeleton name of the data (e.g. `mpii`).
      target: skeleton name of the model (e.g. `h36m`).
      aliases: target-name -> source-name equivalences; defaults to `JOINT_ALIASES`.

    Returns:
      `(K_target,)` int32; `-1` where the source has no such joint (e.g. MPII has no `spine`).
    """
    aliases = JOINT_ALIASES if aliases is None else aliases
    source_names = get_skeleton(source).joint_names
    index = []
    for name in get_skeleton(target).joint_names:
        if name in source_names:
            index.append(source_names.index(name))
        elif aliases.get(name) in source_names:
            index.append(source_names.index(aliases[name]))
        else:
            index.append(-1)
    return np.asarray(index, np.int32)
