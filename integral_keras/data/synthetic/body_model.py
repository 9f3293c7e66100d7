"""A kinematic 3D body: bone lengths with person-to-person variation, joint-angle limits, forward kinematics.

The body is posed in its own frame (millimetres, right-handed): `x` to the person's left, `y` up, `z` forward
(the way the person faces), pelvis at the origin. Joints come out in the Human3.6M order of
`integral_keras.data.skeletons.H36M` (with `head` the top of the head); `to_skeleton` picks the MPII joints.

Every rotation is a named angle with anatomical limits (`ANGLE_LIMITS`, degrees). Knees and elbows are hinges that
bend one way only (flexion >= 0): the shin swings behind the thigh, the forearm in front of the upper arm.
"""
import dataclasses
import math
from typing import Dict, Tuple

import numpy as np

from integral_keras.core import skeletons

JOINTS = skeletons.H36M.joint_names
_INDEX = {name: index for index, name in enumerate(JOINTS)}
# MPII joint -> body joint of the same place.
_MPII_FROM_BODY = {"upper_neck": "neck", "head_top": "head"}

# Mean adult bone lengths in mm (roughly the Human3.6M subjects' averages).
MEAN_BONE_LENGTHS = {
    "hip_offset": 130.0,        # pelvis to each hip, sideways
    "thigh": 450.0,
    "shin": 440.0,
    "lower_spine": 230.0,       # pelvis to spine
    "upper_spine": 250.0,       # spine to thorax
    "neck": 115.0,              # thorax to neck
    "head": 115.0,              # neck to head top
    "shoulder_offset": 150.0,   # thorax to each shoulder, sideways
    "upper_arm": 280.0,
    "forearm": 250.0,
}

# The drawn head: an ellipsoid whose top is the head-top joint, semi-axes along the neck-head axis and across.
HEAD_HALF_HEIGHT_MM = 105.0
HEAD_HALF_WIDTH_MM = 82.0

# (low, high) in degrees. Sides: `l_`/`r_` angles share the limits of their unprefixed name.
ANGLE_LIMITS = {
    "hip_flexion": (-25.0, 100.0),       # thigh forward (+) / backward (-)
    "hip_abduction": (-10.0, 45.0),      # thigh outward (+) / across the body (-)
    "hip_rotation": (-30.0, 30.0),       # about the thigh axis, internal (+)
    "knee_flexion": (0.0, 140.0),        # shin behind the thigh; a hinge, never hyper-extended
    "shoulder_flexion": (-40.0, 170.0),  # arm forward and up (+) / backward (-)
    "shoulder_abduction": (0.0, 150.0),  # arm sideways and up
    "shoulder_rotation": (-40.0, 70.0),  # about the upper-arm axis, internal (+)
    "elbow_flexion": (0.0, 145.0),       # forearm in front of the upper arm; a hinge
    "torso_flexion": (-15.0, 45.0),      # bending forward (+)
    "torso_lateral": (-20.0, 20.0),      # leaning to the person's left (+)
    "torso_twist": (-30.0, 30.0),        # shoulders turned to the person's left (+)
    "neck_flexion": (-30.0, 40.0),       # nodding forward (+)
    "neck_turn": (-50.0, 50.0),          # looking to the person's left (+)
    "neck_tilt": (-20.0, 20.0),          # ear to the left shoulder (+)
}
_SIDED = ("hip_flexion", "hip_abduction", "hip_rotation", "knee_flexion", "shoulder_flexion",
          "shoulder_abduction", "shoulder_rotation", "elbow_flexion")
ANGLE_NAMES = tuple(f"{side}_{name}" for name in _SIDED for side in ("l", "r")) + tuple(
    name for name in ANGLE_LIMITS if name not in _SIDED)


def angle_limits(angle_name: str) -> Tuple[float, float]:
    """(low, high) degrees of `angle_name` (e.g. `l_knee_flexion` or `torso_twist`)."""
    base = angle_name[2:] if angle_name[:2] in ("l_", "r_") else angle_name
    return ANGLE_LIMITS[base]


def rot_x(degrees: float) -> np.ndarray:
    """Rotation about x by `degrees` (right-handed): takes +y towards +z."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(degrees: float) -> np.ndarray:
    """Rotation about y by `degrees`: takes +z towards +x."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(degrees: float) -> np.ndarray:
    """Rotation about z by `degrees`: takes +x towards +y."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclasses.dataclass(frozen=True)
class BodyShape:
    """Bone lengths (mm) of one person; `lengths` has the keys of `MEAN_BONE_LENGTHS`."""

    lengths: Dict[str, float]


_LOW, _HIGH = np.array([angle_limits(name) for name in ANGLE_NAMES]).T
_RELAXABLE = np.array([name.endswith(("flexion", "abduction")) for name in ANGLE_NAMES])


def sample_body_shape(rng: np.random.Generator) -> BodyShape:
    """A person: overall size N(1, 0.06) clipped to [0.85, 1.15], each bone further scaled N(1, 0.04)."""
    size = float(np.clip(rng.normal(1.0, 0.06), 0.85, 1.15))
    factors = np.clip(rng.normal(1.0, 0.04, len(MEAN_BONE_LENGTHS)), 0.9, 1.1) * size
    lengths = {name: mean * float(factor) for (name, mean), factor in zip(MEAN_BONE_LENGTHS.items(), factors)}
    return BodyShape(lengths)


def sample_angles(rng: np.random.Generator) -> Dict[str, float]:
    """Joint angles (degrees) inside `ANGLE_LIMITS`.

    Each flexion / abduction angle is drawn from the lower third of its range (near a relaxed stance) with
    probability 1/2, else uniformly over the whole range, so that everyday and extreme poses both occur.
    """
    relaxed = (rng.random(len(ANGLE_NAMES)) < 0.5) & _RELAXABLE
    high = np.where(relaxed, _LOW + (_HIGH - _LOW) / 3.0, _HIGH)
    values = _LOW + rng.random(len(ANGLE_NAMES)) * (high - _LOW)
    return dict(zip(ANGLE_NAMES, values.tolist()))


def _limb(origin, parent_rotation, local_rotation, first_length, hinge_rotation, second_length):
    """Two-bone limb hanging along -y of its frame: returns (middle joint, end joint)."""
    down = np.array([0.0, -1.0, 0.0])
    upper = parent_rotation @ local_rotation
    middle = origin + upper @ down * first_length
    end = middle + upper @ hinge_rotation @ down * second_length
    return middle, end


def _torso_rotation(angles: Dict[str, float]) -> np.ndarray:
    return rot_z(angles["torso_lateral"]) @ rot_x(angles["torso_flexion"]) @ rot_y(angles["torso_twist"])


def head_rotation(angles: Dict[str, float]) -> np.ndarray:
    """Orientation `(3, 3)` of the head in the body frame; its third column is the direction the face looks."""
    return (_torso_rotation(angles) @ rot_y(angles["neck_turn"]) @ rot_x(angles["neck_flexion"])
            @ rot_z(-angles["neck_tilt"]))


def forward_kinematics(shape: BodyShape, angles: Dict[str, float]) -> np.ndarray:
    """Joint positions `(17, 3)` in the body frame (mm), H36M order, pelvis at the origin.

    Args:
      shape: bone lengths.
      angles: every name of `ANGLE_NAMES` (degrees); angles are not clipped here.
    """
    length = shape.lengths
    joints = np.zeros((len(JOINTS), 3))
    up = np.array([0.0, 1.0, 0.0])
    # Lower spine takes half of the torso bend, upper spine the whole of it.
    half_torso = (rot_z(angles["torso_lateral"] / 2) @ rot_x(angles["torso_flexion"] / 2)
                  @ rot_y(angles["torso_twist"] / 2))
    torso = _torso_rotation(angles)
    joints[_INDEX["spine"]] = half_torso @ up * length["lower_spine"]
    joints[_INDEX["thorax"]] = joints[_INDEX["spine"]] + torso @ up * length["upper_spine"]
    joints[_INDEX["neck"]] = joints[_INDEX["thorax"]] + torso @ up * length["neck"]
    # The head top sits about 18 degrees in front of the neck's line (a direction of length ~1).
    head_direction = np.array([0.0, 0.95, 0.31])
    joints[_INDEX["head"]] = joints[_INDEX["neck"]] + head_rotation(angles) @ head_direction * length["head"]

    for side, sign in (("l", 1.0), ("r", -1.0)):
        # Flexion (+) swings the limb towards +z: a rotation about x by -flexion. Abduction moves it outwards
        # (+x for the left side). Internal rotation turns the limb's front towards the body's midline.
        hip = np.array([sign * length["hip_offset"], -0.12 * length["hip_offset"], 0.0])
        thigh = (rot_z(sign * angles[f"{side}_hip_abduction"]) @ rot_x(-angles[f"{side}_hip_flexion"])
                 @ rot_y(-sign * angles[f"{side}_hip_rotation"]))
        knee, ankle = _limb(hip, np.eye(3), thigh, length["thigh"], rot_x(angles[f"{side}_knee_flexion"]),
                            length["shin"])
        joints[_INDEX[f"{side}_hip"]] = hip
        joints[_INDEX[f"{side}_knee"]], joints[_INDEX[f"{side}_ankle"]] = knee, ankle

        shoulder = joints[_INDEX["thorax"]] + torso @ np.array(
            [sign * length["shoulder_offset"], -0.15 * length["shoulder_offset"], 0.0])
        arm = (rot_z(sign * angles[f"{side}_shoulder_abduction"]) @ rot_x(-angles[f"{side}_shoulder_flexion"])
               @ rot_y(-sign * angles[f"{side}_shoulder_rotation"]))
        elbow, wrist = _limb(shoulder, torso, arm, length["upper_arm"], rot_x(-angles[f"{side}_elbow_flexion"]),
                             length["forearm"])
        joints[_INDEX[f"{side}_shoulder"]] = shoulder
        joints[_INDEX[f"{side}_elbow"]], joints[_INDEX[f"{side}_wrist"]] = elbow, wrist
    return joints


def to_skeleton(body_joints: np.ndarray, skeleton_name: str) -> np.ndarray:
    """Selects the joints of `skeleton_name` (`h36m` or `mpii`) from body joints `(..., 17, C)`."""
    skeleton = skeletons.get_skeleton(skeleton_name)
    if skeleton.name == "h36m":
        return body_joints
    if skeleton.name != "mpii":
        raise ValueError(f"The synthetic body has no {skeleton_name!r} topology; valid: ['h36m', 'mpii'].")
    order = [_INDEX[_MPII_FROM_BODY.get(name, name)] for name in skeleton.joint_names]
    return body_joints[..., order, :]


def head_centre(joints: np.ndarray) -> np.ndarray:
    """Centre `(3,)` of the drawn head: `HEAD_HALF_HEIGHT_MM` below the head top along the neck-head axis.

    Args:
      joints: body joints `(17, 3)` in any frame (body-model order), mm.
    """
    top = joints[_INDEX["head"]]
    axis = top - joints[_INDEX["neck"]]
    return top - axis / np.linalg.norm(axis) * HEAD_HALF_HEIGHT_MM
