"""Pinhole camera for the synthetic data: global body rotation, placement in front of the camera, projection.

Camera space (OpenCV convention): `x` right, `y` down, `z` forward along the optical axis, millimetres. A point
`(X, Y, Z)` projects to the 0-based pixel `(fx * X / Z + cx, fy * Y / Z + cy)`, pixel `i` having its centre at `i`.
"""
import dataclasses

import numpy as np

from integral_keras.data.synthetic.body_model import rot_x, rot_y, rot_z

# Body frame (x left, y up, z forward) to camera frame for a person facing the camera: the person's left appears on
# the image's right, up is -y, and the person's forward points back at the camera (-z).
BODY_TO_CAMERA = np.diag([1.0, -1.0, -1.0])


@dataclasses.dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics: `focal (2,)` fx, fy and `principal_point (2,)` cx, cy, in pixels."""

    focal: np.ndarray
    principal_point: np.ndarray

    def project(self, points: np.ndarray) -> np.ndarray:
        """Camera-space points `(..., 3)` (Z > 0) -> pixel coordinates `(..., 2)`."""
        return points[..., :2] / points[..., 2:3] * self.focal + self.principal_point


def global_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Body-frame -> camera-frame rotation `(3, 3)`: yaw about the body's up axis, then camera pitch and roll.

    `yaw = 0` faces the camera; `pitch` then tilts the body about the camera's x axis (positive: the head
    towards the camera) and `roll` about the optical axis.
    """
    return rot_z(roll) @ rot_x(pitch) @ BODY_TO_CAMERA @ rot_y(yaw)


def sample_rotation(rng: np.random.Generator, max_pitch: float = 20.0, max_roll: float = 12.0) -> np.ndarray:
    """Random global rotation: yaw over the full circle, pitch and roll uniform within +-max (degrees)."""
    return global_rotation(rng.uniform(0.0, 360.0), rng.uniform(-max_pitch, max_pitch),
                           rng.uniform(-max_roll, max_roll))


def place_in_view(root_relative: np.ndarray, camera: Camera, image_size: int, person_fraction: float,
                  centre_offset: np.ndarray) -> np.ndarray:
    """Root translation `(3,)` (mm) that makes the body span `person_fraction` of the image around a target centre.

    The depth makes the larger side of the body's camera-space extent `person_fraction * image_size` pixels
    (measured at the root depth); the root is then moved sideways so that the extent's centre projects near
    `principal_point + centre_offset * image_size`. The projection of the placed points is the exact label;
    this function only chooses where they are.

    Args:
      root_relative: camera-oriented, root-relative joints `(K, 3)` in mm.
      camera: intrinsics.
      image_size: side of the square image in pixels.
      person_fraction: wanted extent of the body as a fraction of the image side.
      centre_offset: `(2,)` offset of the body centre from the principal point, as a fraction of the image side.
    """
    low, high = root_relative[:, :2].min(axis=0), root_relative[:, :2].max(axis=0)
    extent_mm = float(np.max(high - low))
    depth = float(np.mean(camera.focal)) * extent_mm / (person_fraction * image_size)
    # Keep every joint in front of the camera with a margin (a body seen end-on could come close).
    depth = max(depth, float(-root_relative[:, 2].min()) + 1000.0)
    centre_mm = (low + high) / 2
    target_px = centre_offset * image_size
    xy = target_px * depth / camera.focal - centre_mm
    return np.array([xy[0], xy[1], depth])
