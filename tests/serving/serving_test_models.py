"""Tiny pose models and images for the serving / visualization tests.

Every model follows the output contract of docs/architecture.md: input
`(N, 64, 64, 3)` float32 RGB in [0, 255], a dict with `heatmaps` `(N, 16, 16, K*D)`
logits (stride 4) and/or `joints` in heat-map cell units.
"""
import cv2
import keras
import numpy as np

from integral_keras import layers as pose_layers

INPUT_SIZE = 64
HEATMAP_SIZE = 16
STRIDE = INPUT_SIZE / HEATMAP_SIZE
# Logit gain per unit of mean brightness in a cell: a white cell (765 summed RGB) gets logit ~38.
BRIGHTNESS_GAIN = 0.05


def spec_params(method="I1", num_joints=2, depth=1, **extra):
    params = dict(method=method, num_joints=num_joints, depth=depth, input_size=INPUT_SIZE,
                  heatmap_size=HEATMAP_SIZE, name="tiny")
    params.update(extra)
    return params


def bright_spot_model(num_joints=2):
    """An I-model whose heat-map logits are the mean brightness of each 4x4 cell, for every joint.

    Its integral joint is the brightness-weighted softmax centre, so an image with
    one white square on black puts every joint at the square.
    """
    image = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")
    brightness = keras.layers.Conv2D(num_joints, 1, use_bias=False, name="brightness",
                                     kernel_initializer=keras.initializers.Constant(BRIGHTNESS_GAIN))(image)
    logits = keras.layers.AveragePooling2D(int(STRIDE), name="cells")(brightness)
    joints = pose_layers.IntegralRegression(num_joints, name="integral")(logits)
    return keras.Model(image, {"heatmaps": logits, "joints": joints}, name="bright_spot")


def _conv_trunk(image, channels, seed):
    init = keras.initializers.GlorotUniform(seed=seed)
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(image)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", kernel_initializer=init)(x)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", kernel_initializer=init)(x)
    return keras.layers.Conv2D(channels, 3, padding="same", kernel_initializer=init,
                               bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=seed))(x)


def random_pose_model(method="I1", num_joints=2, depth=1, seed=1):
    """A small random conv net with the output keys of `method` (I*, H*, R1; 2D or 3D)."""
    image = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")
    if method == "R1":
        features = _conv_trunk(image, 8, seed)
        pooled = keras.layers.GlobalAveragePooling2D()(features)
        coords = 2 if depth == 1 else 3
        flat = keras.layers.Dense(num_joints * coords, kernel_initializer=keras.initializers.RandomNormal(
            stddev=1.0, seed=seed), bias_initializer=keras.initializers.Constant(HEATMAP_SIZE / 2))(pooled)
        return keras.Model(image, {"joints": keras.layers.Reshape((num_joints, coords))(flat)}, name="r1")
    logits = _conv_trunk(image, num_joints * depth, seed)
    outputs = {}
    if method != "Istar":
        outputs["heatmaps"] = logits
    if method.startswith("I"):
        outputs["joints"] = pose_layers.IntegralRegression(num_joints, depth=depth, name="integral")(logits)
    return keras.Model(image, outputs, name=f"random_{method}")


def wide_model(num_joints=2):
    """A model with ~1 MB of weights (a wide 3x3 conv), so fixed SavedModel overheads are small."""
    image = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(image)
    x = keras.layers.Conv2D(64, 3, strides=4, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(256, 3, padding="same", activation="relu")(x)
    logits = keras.layers.Conv2D(num_joints, 1)(x)
    joints = pose_layers.IntegralRegression(num_joints, name="integral")(logits)
    return keras.Model(image, {"heatmaps": logits, "joints": joints}, name="wide")


def weight_bytes(model):
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in model.weights)


def textured_image(height, width, seed=0):
    """A smooth random RGB uint8 image (bilinear interpolation errors stay small on it)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(max(height // 8, 2), max(width // 8, 2), 3)).astype(np.float32)
    return np.clip(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def image_with_square(height, width, center_xy, side):
    """Black RGB uint8 image with a white `side` x `side` square centred at `center_xy` (pixel centres)."""
    image = np.zeros((height, width, 3), np.uint8)
    x0 = int(round(center_xy[0] - (side - 1) / 2))
    y0 = int(round(center_xy[1] - (side - 1) / 2))
    image[y0:y0 + side, x0:x0 + side] = 255
    return image


def softmax_per_joint(logits, num_joints, depth, beta):
    """(N, H, W, K*D) -> (N, K, H, W, D) probabilities, each joint summing to 1."""
    n, h, w, _ = logits.shape
    cells = logits.reshape(n, h, w, num_joints, depth).transpose(0, 3, 1, 2, 4).astype(np.float64) * beta
    flat = cells.reshape(n, num_joints, -1)
    flat = np.exp(flat - flat.max(axis=-1, keepdims=True))
    return (flat / flat.sum(axis=-1, keepdims=True)).reshape(cells.shape)


def window_mass_reference(logits, joints, num_joints, depth=1, beta=1.0, radius=1):
    """Softmax mass in the (2r+1)^2 window around each rounded joint, by explicit loops; (N, K)."""
    probs = softmax_per_joint(logits, num_joints, depth, beta).sum(axis=-1)  # (N, K, H, W)
    n, _, h, w = probs.shape
    result = np.zeros((n, num_joints))
    for i in range(n):
        for k in range(num_joints):
            cx = min(max(int(np.floor(joints[i, k, 0] + 0.5)), 0), w - 1)
            cy = min(max(int(np.floor(joints[i, k, 1] + 0.5)), 0), h - 1)
            y0, x0 = max(cy - radius, 0), max(cx - radius, 0)
            result[i, k] = probs[i, k, y0:cy + radius + 1, x0:cx + radius + 1].sum()
    return result


def encode(image_rgb, ext=".png"):
    """RGB uint8 -> encoded bytes (cv2 writes BGR)."""
    ok, buffer = cv2.imencode(ext, cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buffer.tobytes()
