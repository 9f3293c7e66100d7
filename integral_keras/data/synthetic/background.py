"""Cluttered backgrounds: colour gradients, smooth blotches, grain, striped / checkered patches, distractor shapes.

Speed matters (the demo generates thousands of images in seconds), so everything stays in uint8 and goes through
OpenCV: the gradient and blotches are one coarse random grid upsampled bicubically, and the grain and the patterns
are windows of textures made once per generator (`TextureBank`).
"""
import cv2
import numpy as np


def random_colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple:
    """An RGB colour as a tuple of Python ints (what OpenCV drawing expects)."""
    return tuple(int(v) for v in rng.integers(low, high, 3))


def _pattern(size: int, period: float, angle: float, checker: bool) -> np.ndarray:
    """bool `(size, size)`: stripes of `period` pixels at `angle` (radians), or checks if `checker`."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    u = (np.cos(angle) * xx + np.sin(angle) * yy) / period
    if not checker:
        return u % 1.0 < 0.5
    v = (-np.sin(angle) * xx + np.cos(angle) * yy) / period
    return (np.floor(u) + np.floor(v)) % 2 == 0


class TextureBank:
    """Textures made once per generator and cropped at random offsets.

    Args:
      size: image side S.
      rng: generator for the textures.
      num_patterns: number of stripe / checker patterns.

    Attributes:
      grain: uint8 `(2S, 2S, 3)` Gaussian noise centred on 128 (standard deviation 32).
      patterns: bool `(num_patterns, S, S)` stripe and checker masks of random periods and angles.
    """

    def __init__(self, size: int, rng: np.random.Generator, num_patterns: int = 12):
        self.size = size
        self.grain = np.clip(rng.normal(128.0, 32.0, (2 * size, 2 * size, 3)), 0, 255).astype(np.uint8)
        self.patterns = np.stack([
            _pattern(size, rng.uniform(3, 16) * size / 256, rng.uniform(0, np.pi), checker=index % 3 == 0)
            for index in range(num_patterns)])

    def grain_crop(self, rng: np.random.Generator) -> np.ndarray:
        """A random `(S, S, 3)` window of the grain texture."""
        y, x = (int(v) for v in rng.integers(0, self.size + 1, 2))
        return self.grain[y:y + self.size, x:x + self.size]


def add_grain(image: np.ndarray, bank: TextureBank, rng: np.random.Generator, strength: float) -> np.ndarray:
    """`image + strength * (grain - 128) / 32`, saturated to uint8: grain of standard deviation `strength`."""
    gain = strength / 32.0
    return cv2.addWeighted(image, 1.0, bank.grain_crop(rng), gain, -128.0 * gain)


def _base(rng, size):
    """Gradient between two random colours plus smooth blotches, uint8 `(S, S, 3)`."""
    cells = int(rng.integers(3, 8))
    angle = rng.uniform(0, 2 * np.pi)
    nodes = np.linspace(0.0, 1.0, cells)
    ramp = np.cos(angle) * nodes[None, :] + np.sin(angle) * nodes[:, None]
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    start, end = np.array(random_colour(rng), np.float64), np.array(random_colour(rng), np.float64)
    grid = start + ramp[..., None] * (end - start) + rng.uniform(-50, 50, (cells, cells, 3))
    grid = np.clip(grid, 0, 255).astype(np.uint8)
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)


def _pattern_patch(rng, image, bank):
    """Blends a rectangle of stripes or checks in two random colours into `image` at a random place."""
    size = image.shape[0]
    height, width = (int(v) for v in rng.integers(size // 8, size // 2, 2))
    y, x = int(rng.integers(0, size - height)), int(rng.integers(0, size - width))
    mask = bank.patterns[rng.integers(len(bank.patterns)), :height, :width]
    colours = np.array([random_colour(rng), random_colour(rng)], np.uint8)
    patch = colours[mask.astype(np.intp)]
    alpha = float(rng.uniform(0.5, 1.0))
    region = image[y:y + height, x:x + width]
    cv2.addWeighted(patch, alpha, region, 1.0 - alpha, 0.0, dst=region)


def _distractor_shape(rng, image):
    """One random filled ellipse, polygon or thick line."""
    size = image.shape[0]
    colour = random_colour(rng)
    kind = rng.integers(3)
    centre = tuple(int(v) for v in rng.integers(0, size, 2))
    if kind == 0:
        axes = tuple(int(v) for v in rng.integers(size // 32 + 1, size // 5, 2))
        cv2.ellipse(image, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
    elif kind == 1:
        points = rng.integers(-size // 6, size // 6, (int(rng.integers(3, 6)), 2)) + np.array(centre)
        cv2.fillPoly(image, [points.astype(np.int32)], colour, cv2.LINE_AA)
    else:
        end = tuple(int(v) for v in rng.integers(0, size, 2))
        cv2.line(image, centre, end, colour, int(rng.integers(1, max(2, size // 40))), cv2.LINE_AA)


def render_background(rng: np.random.Generator, size: int, bank: TextureBank) -> np.ndarray:
    """A cluttered RGB background, uint8 `(S, S, 3)`.

    Args:
      rng: the sample's random generator.
      size: image side S.
      bank: the generator's `TextureBank`.
    """
    image = _base(rng, size)
    for _ in range(int(rng.integers(0, 4))):
        _pattern_patch(rng, image, bank)
    image = add_grain(image, bank, rng, rng.uniform(2, 10))
    for _ in range(int(rng.integers(2, 8))):
        _distractor_shape(rng, image)
    return image
