"""Draws a posed body with OpenCV: shaded tapered limbs, a torso, a head with a face, painter's algorithm by depth.

Parts are drawn from the farthest to the nearest (mean camera depth of their joints), so nearer limbs really hide
farther ones. Widths follow the perspective (`f * radius_mm / Z`). Each part is shaded like a cylinder lit from a
random in-plane direction: a dark full-width layer, then narrower, lighter layers shifted towards the light.

Left and right are told apart by learnable but not glaring cues: the left limbs' clothes are shifted in hue and
carry thin dark bands across them, and the face (eyes, nose) shows only when the head faces the camera, hair
otherwise.
"""
import dataclasses
import functools
import math
from typing import Tuple

import cv2
import numpy as np

from integral_keras.data.synthetic.body_model import HEAD_HALF_WIDTH_MM
from integral_keras.data.synthetic.body_model import JOINTS
from integral_keras.data.synthetic.body_model import head_centre
from integral_keras.data.synthetic.camera import Camera

_J = {name: index for index, name in enumerate(JOINTS)}
_SHIFT = 4  # OpenCV fixed-point bits: coordinates are drawn with 1/16 pixel precision.
_ONE = 1 << _SHIFT
# Shading layers, darkest first: width and shift towards the light as fractions of the radius, brightness.
_SHADING_LAYERS = ((1.0, 0.6, 0.0), (0.66, 0.82, 0.2), (0.33, 1.0, 0.38))
# name, joint from, joint to, radius at each end (mm), clothing item
_LIMBS = (
    ("thigh", "hip", "knee", 78.0, 58.0, "trousers"),
    ("shin", "knee", "ankle", 55.0, 40.0, "trousers"),
    ("upper_arm", "shoulder", "elbow", 50.0, 40.0, "shirt"),
    ("forearm", "elbow", "wrist", 40.0, 30.0, "sleeve"),
)
_TORSO = [_J[name] for name in ("l_shoulder", "r_shoulder", "r_hip", "l_hip")]


Colour = Tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class Appearance:
    """Colours (RGB tuples of floats) and lighting of one rendered person.

    The `left_*` clothes are the right-side ones shifted in hue (bare-skin sleeves stay skin).
    """

    skin: Colour
    hair: Colour
    shirt: Colour
    sleeve: Colour
    trousers: Colour
    left_shirt: Colour
    left_sleeve: Colour
    left_trousers: Colour
    light: Tuple[float, float]


def _hsv_to_rgb(hue: float, saturation: float, value: float) -> Tuple[float, float, float]:
    pixel = np.array([[[hue % 180.0, saturation, value]]], np.float32)
    pixel[..., 1:] = np.clip(pixel[..., 1:], 0, 255)
    rgb = cv2.cvtColor(pixel.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0]
    return tuple(float(v) for v in rgb)


def _shift_hue(colour: Colour, degrees_half: float) -> Colour:
    """`colour` with OpenCV hue (half degrees) shifted and saturation raised a little."""
    hsv = cv2.cvtColor(np.array([[colour]], np.uint8), cv2.COLOR_RGB2HSV)[0, 0].astype(np.float32)
    return _hsv_to_rgb(hsv[0] + degrees_half, hsv[1] + 25, hsv[2])


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Random skin, hair and clothing colours and a light direction."""
    skin = _hsv_to_rgb(rng.uniform(5, 20), rng.uniform(60, 170), rng.uniform(110, 240))
    hair = _hsv_to_rgb(rng.uniform(0, 30), rng.uniform(40, 200), rng.uniform(20, 120))
    shirt = _hsv_to_rgb(rng.uniform(0, 180), rng.uniform(60, 255), rng.uniform(70, 250))
    trousers = _hsv_to_rgb(rng.uniform(0, 180), rng.uniform(40, 255), rng.uniform(50, 220))
    sleeve = shirt if rng.random() < 0.5 else skin
    hue_shift = rng.uniform(8, 18)
    left_sleeve = skin if sleeve == skin else _shift_hue(sleeve, hue_shift)
    angle = rng.uniform(0, 2 * np.pi)
    return Appearance(skin, hair, shirt, sleeve, trousers, _shift_hue(shirt, hue_shift), left_sleeve,
                      _shift_hue(trousers, hue_shift), (np.cos(angle), np.sin(angle)))


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) * _ONE).astype(np.int32)


def _scaled(colour, brightness):
    return tuple(min(255.0, c * brightness) for c in colour)


def shaded_capsule(image: np.ndarray, a: np.ndarray, b: np.ndarray, radius_a: float, radius_b: float, colour,
                   light: np.ndarray) -> None:
    """Draws a tapered capsule from `a` to `b` `(2,)` (pixels, end radii in pixels) shaded like a lit cylinder.

    Args:
      image: uint8 RGB `(H, W, 3)`, drawn in place.
      a, b: end centres `(2,)`, pixels.
      radius_a, radius_b: end radii, pixels.
      colour: RGB of the fully lit surface.
      light: `(2,)` unit vector pointing towards the light, in the image plane.
    """
    # Plain floats: these few 2-vectors are faster without numpy, and this runs ~20 times per image.
    ax, ay, bx, by = float(a[0]), float(a[1]), float(b[0]), float(b[1])
    length = max(math.hypot(bx - ax, by - ay), 1e-6)
    nx, ny = (ay - by) / length, (bx - ax) / length
    lx, ly = float(light[0]), float(light[1])
    (_, base_brightness, _), *highlights = _SHADING_LAYERS
    # The full-width dark layer is tapered: a quad between the two end circles.
    shade = _scaled(colour, base_brightness)
    quad = [[ax + nx * radius_a, ay + ny * radius_a], [bx + nx * radius_b, by + ny * radius_b],
            [bx - nx * radius_b, by - ny * radius_b], [ax - nx * radius_a, ay - ny * radius_a]]
    cv2.fillConvexPoly(image, _fixed(quad), shade, cv2.LINE_AA, _SHIFT)
    cv2.circle(image, (round(ax * _ONE), round(ay * _ONE)), round(radius_a * _ONE), shade, -1, cv2.LINE_AA, _SHIFT)
    cv2.circle(image, (round(bx * _ONE), round(by * _ONE)), round(radius_b * _ONE), shade, -1, cv2.LINE_AA, _SHIFT)
    # The narrower, lighter layers are round-capped thick lines of the mean width, shifted towards the light.
    radius = (radius_a + radius_b) / 2
    for width, brightness, shift in highlights:
        dx, dy = lx * shift * radius, ly * shift * radius
        cv2.line(image, (round((ax + dx) * _ONE), round((ay + dy) * _ONE)),
                 (round((bx + dx) * _ONE), round((by + dy) * _ONE)), _scaled(colour, brightness),
                 max(1, round(2 * width * radius)), cv2.LINE_AA, _SHIFT)


def _bands(image, a, b, radius_a, radius_b, colour):
    """Two thin dark bands across a limb, at a third and two thirds of its length."""
    ax, ay, bx, by = float(a[0]), float(a[1]), float(b[0]), float(b[1])
    length = max(math.hypot(bx - ax, by - ay), 1e-6)
    nx, ny = (ay - by) / length, (bx - ax) / length
    dark = _scaled(colour, 0.45)
    for t in (0.33, 0.66):
        cx, cy = ax + t * (bx - ax), ay + t * (by - ay)
        half = 0.9 * ((1 - t) * radius_a + t * radius_b)
        cv2.line(image, (round((cx + nx * half) * _ONE), round((cy + ny * half) * _ONE)),
                 (round((cx - nx * half) * _ONE), round((cy - ny * half) * _ONE)), dark,
                 max(1, round(0.28 * half)), cv2.LINE_AA, _SHIFT)


def _polygon(image, points, colour, light, scale_px):
    """Shaded convex polygon: the layers shrink towards the centroid and shift towards the light."""
    centroid = points.mean(axis=0)
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2)
    for width, brightness, shift in _SHADING_LAYERS:
        layer = centroid + (hull - centroid) * width + light * shift * scale_px
        cv2.fillConvexPoly(image, _fixed(layer), _scaled(colour, brightness), cv2.LINE_AA, _SHIFT)


def _ellipse(image, centre, axes, angle_deg, colour):
    cv2.ellipse(image, tuple(_fixed(centre)), tuple(int(round(a * _ONE)) for a in axes), angle_deg, 0, 360,
                colour, -1, cv2.LINE_AA, _SHIFT)


def render_person(image: np.ndarray, joints_cam: np.ndarray, camera: Camera, head_axes: np.ndarray,
                  appearance: Appearance) -> None:
    """Draws the body onto `image` in place, farthest part first.

    Args:
      image: uint8 RGB `(H, W, 3)`.
      joints_cam: body joints in camera space `(17, 3)` (body-model order), mm, Z > 0.
      camera: the intrinsics projecting them.
      head_axes: head orientation in camera space `(3, 3)`; columns: the head's left, up and facing directions.
      appearance: colours and light.
    """
    light = np.asarray(appearance.light)
    joints_2d = camera.project(joints_cam)
    focal = float(np.mean(camera.focal))

    def capsule(start, end, radius_start_mm, radius_end_mm, colour):
        """Shaded capsule between two joints; returns the radii in pixels (perspective: f * r / Z)."""
        a, b = _J[start], _J[end]
        ra, rb = focal * radius_start_mm / joints_cam[a, 2], focal * radius_end_mm / joints_cam[b, 2]
        shaded_capsule(image, joints_2d[a], joints_2d[b], ra, rb, colour, light)
        return ra, rb

    def limb(side, name, start, end, radius_start_mm, radius_end_mm, item):
        colour = getattr(appearance, f"left_{item}" if side == "l" else item)
        start, end = f"{side}_{start}", f"{side}_{end}"
        ra, rb = capsule(start, end, radius_start_mm, radius_end_mm, colour)
        a, b = joints_2d[_J[start]], joints_2d[_J[end]]
        if side == "l" and colour != appearance.skin:
            _bands(image, a, b, ra, rb, colour)
        if name == "forearm":
            _ellipse(image, b + (b - a) * 0.08, (1.5 * rb,) * 2, 0.0, _scaled(appearance.skin, 0.9))

    def torso():
        capsule("pelvis", "thorax", 120.0, 115.0, appearance.shirt)
        _polygon(image, joints_2d[_TORSO], appearance.shirt, light, focal * 120.0 / joints_cam[_J["spine"], 2])
        capsule("l_hip", "r_hip", 70.0, 70.0, appearance.trousers)
        capsule("l_shoulder", "r_shoulder", 55.0, 55.0, appearance.shirt)

    def depth(*names):
        return float(np.mean([joints_cam[_J[name], 2] for name in names]))

    # (depth, draw) per part; the neck is pushed back a little so that the head covers it.
    parts = [(depth(f"{side}_{spec[1]}", f"{side}_{spec[2]}"), functools.partial(limb, side, *spec))
             for side in ("l", "r") for spec in _LIMBS]
    parts.append((depth("l_shoulder", "r_shoulder", "r_hip", "l_hip", "spine"), torso))
    parts.append((depth("thorax", "neck") + 1.0,
                  lambda: capsule("thorax", "neck", 48.0, 42.0, _scaled(appearance.skin, 0.9))))
    parts.append((depth("neck", "head"), lambda: _draw_head(image, joints_cam, camera, head_axes, appearance)))
    for _, draw in sorted(parts, key=lambda part: -part[0]):
        draw()


def _draw_head(image, joints_cam, camera, head_axes, appearance):
    """Head ellipse whose top is the head-top joint; eyes and nose if it faces the camera, else hair."""
    left, up, facing = head_axes[:, 0], head_axes[:, 1], head_axes[:, 2]
    centre_cam = head_centre(joints_cam)
    project = camera.project
    centre, top = project(centre_cam), project(joints_cam[_J["head"]])
    radius = float(np.mean(camera.focal)) * HEAD_HALF_WIDTH_MM / centre_cam[2]
    axis = top - centre
    # Along the neck-head axis the head reaches the head-top joint, unless the axis points at the camera.
    along = max(0.95 * radius, float(np.hypot(*axis)))
    angle = float(np.degrees(np.arctan2(axis[1], axis[0])))
    faces_camera = facing @ centre_cam < 0
    hair = project(centre_cam + up * 25.0 - facing * 30.0)
    if faces_camera:
        _ellipse(image, hair, (along * 0.97, radius * 0.97), angle, appearance.hair)
    _ellipse(image, centre, (along, radius), angle, _scaled(appearance.skin, 0.8))
    _ellipse(image, centre + np.asarray(appearance.light) * radius * 0.25, (along * 0.6, radius * 0.6), angle,
             appearance.skin)
    if faces_camera:
        for offset in (30.0, -30.0):
            eye = project(centre_cam + facing * 70.0 + left * offset + up * 15.0)
            _ellipse(image, eye, (max(0.8, radius * 0.12),) * 2, 0.0, (30.0, 30.0, 40.0))
        nose = project(centre_cam + facing * 85.0 - up * 15.0)
        _ellipse(image, nose, (max(0.8, radius * 0.11),) * 2, 0.0, _scaled(appearance.skin, 0.6))
    else:
        _ellipse(image, hair, (along * 0.92, radius * 0.92), angle, appearance.hair)
