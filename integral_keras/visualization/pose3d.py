"""3D skeletons from two views: the predicted pose against the ground truth, root-relative millimetres.

`pose_views_3d` draws two orthographic views of the camera-space pose (x right, y down, z away from the camera):
a front view (x horizontal, y vertical: what the image shows) and a side view (z horizontal, y vertical: the depth
the image cannot show). Both poses are moved to their root joint; the prediction is drawn in the body-side colours
of `skeleton.SIDE_COLORS`, the ground truth in dashed grey, on the same scale in both views. Matplotlib's object API
with the Agg canvas: no display, no pyplot state.
"""
from typing import Sequence, Tuple

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
import numpy as np

from integral_keras.visualization.skeleton import SIDE_COLORS
from integral_keras.visualization.skeleton import SIDES
from integral_keras.visualization.skeleton import bone_sides

TRUTH_COLOR = (0.45, 0.45, 0.45)
# (title, horizontal axis, vertical axis, horizontal label) of the two views; axis 0 = x, 1 = y, 2 = z.
VIEWS = (("front view (x, y)", 0, 1, "x, mm (right)"), ("side view (z, y)", 2, 1, "z, mm (depth)"))


def _rgb(colour: Sequence[int]) -> Tuple[float, float, float]:
    return tuple(c / 255.0 for c in colour)


def pose_views_3d(predicted_mm: np.ndarray, truth_mm: np.ndarray, skeleton, root_joint: int = 0,
                  size: Tuple[int, int] = (512, 300), title: str = "") -> np.ndarray:
    """Front and side views of a predicted and a ground-truth 3D pose, as an RGB image.

    Args:
      predicted_mm: `(K, 3)` predicted joints, camera axes (x right, y down, z depth), millimetres.
      truth_mm: `(K, 3)` ground-truth joints, same axes and units.
      skeleton: a `Skeleton` (bones; joint names give the side colours of the prediction).
      root_joint: both poses are drawn relative to this joint (at 0, 0, 0).
      size: `(width, height)` of the returned image, pixels.
      title: optional figure title (e.g. the errors of this pose).

    Returns:
      `(height, width, 3)` uint8 RGB image: the front view left, the side view right, one legend.
    """
    if not 0 <= root_joint < skeleton.num_joints:
        raise ValueError(f"root_joint must be in [0, {skeleton.num_joints}); got {root_joint}.")
    poses = []
    for name, pose in (("predicted_mm", predicted_mm), ("truth_mm", truth_mm)):
        pose = np.asarray(pose, np.float64)
        if pose.shape != (skeleton.num_joints, 3):
            raise ValueError(f"{name} must have shape ({skeleton.num_joints}, 3); got {pose.shape}.")
        if not np.all(np.isfinite(pose)):
            raise ValueError(f"{name} has non-finite coordinates.")
        poses.append(pose - pose[root_joint])
    predicted, truth = poses
    # One scale for both views and both poses: a square window around the root that holds every joint.
    half = max(float(np.max(np.abs(np.concatenate(poses)))), 1.0) * 1.1
    width, height = size
    figure = Figure(figsize=(width / 100.0, height / 100.0), dpi=100)
    FigureCanvasAgg(figure)
    sides = bone_sides(skeleton)
    for index, (view, horizontal, vertical, xlabel) in enumerate(VIEWS):
        axes = figure.add_subplot(1, 2, index + 1)
        for parent, child in skeleton.bones:
            axes.plot(truth[[parent, child], horizontal], truth[[parent, child], vertical], color=TRUTH_COLOR,
                      linewidth=1.5, linestyle="--")
        for (parent, child), side in zip(skeleton.bones, sides):
            axes.plot(predicted[[parent, child], horizontal], predicted[[parent, child], vertical],
                      color=_rgb(SIDE_COLORS[side]), linewidth=2.2)
        axes.set_xlim(-half, half)
        axes.set_ylim(half, -half)  # y points down in camera space: head up on screen
        axes.set_aspect("equal")
        axes.set_title(view, fontsize=9)
        axes.set_xlabel(xlabel, fontsize=8)
        axes.set_ylabel("y, mm (down)" if index == 0 else "", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(True, alpha=0.3)
    handles = [Line2D([], [], color=_rgb(SIDE_COLORS[side]), linewidth=2.2,
                      label=f"prediction: {side}" if side != "centre" else "prediction: midline") for side in SIDES]
    handles.append(Line2D([], [], color=TRUTH_COLOR, linewidth=1.5, linestyle="--", label="ground truth"))
    figure.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.22, top=0.86 if title else 0.9, wspace=0.3)
    canvas = figure.canvas
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])
