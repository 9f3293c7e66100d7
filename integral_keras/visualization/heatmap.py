"""Heat-map overlays (OpenCV colour maps)."""
import cv2
import numpy as np


def heatmap_overlay(image, heatmap, alpha=0.5, colormap=cv2.COLORMAP_JET):
    """Blends a single heat map, resized to the image, over the image.

    The map is min-max normalised to [0, 1] (a constant map becomes 0) and
    resized bilinearly with the package's pixel-centre convention, so a peak at
    heat-map cell `i` lands on image pixel `(i + 0.5) * stride - 0.5`.

    Args:
      image: `(H, W, 3)` uint8 RGB image.
      heatmap: `(h, w)` float heat map (e.g. one joint's softmax or logits, or
        the maximum over joints).
      alpha: Weight of the colour map in the blend, in [0, 1].
      colormap: An OpenCV colour map id.

    Returns:
      `(H, W, 3)` uint8 RGB image.
    """
    image = np.asarray(image)
    heatmap = np.asarray(heatmap, np.float32)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"heatmap_overlay expects an (H, W, 3) uint8 image; got {image.shape} {image.dtype}.")
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D (h, w); got shape {heatmap.shape}.")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1]; got {alpha}.")
    low, high = float(np.min(heatmap)), float(np.max(heatmap))
    unit = (heatmap - low) / (high - low) if high > low else np.zeros_like(heatmap)
    # cv2.resize maps pixel centres to pixel centres: dst x -> src (x + 0.5) / scale - 0.5.
    resized = cv2.resize(unit, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    coloured_bgr = cv2.applyColorMap(np.round(np.clip(resized, 0, 1) * 255).astype(np.uint8), colormap)
    coloured = cv2.cvtColor(coloured_bgr, cv2.COLOR_BGR2RGB)
    blended = (1.0 - alpha) * image.astype(np.float32) + alpha * coloured.astype(np.float32)
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)

