"""Metrics during training: decode predictions through the codec, compare with the ground truth.

The metrics are the evaluation's (`evaluation.benchmark_metrics.synthetic_metrics`, the protocol of synthetic and
generic records): PCK@0.5, PCK@0.1 and the AUC of the PCK curve, normalised by the torso size, in original-image
pixels; for 3D models (`depth > 1`) MPJPE (aligned at `root_joint`) and PA-MPJPE in mm after back-projecting the
predicted `(u, v, z)` with the ground-truth root depth and camera; samples without 3D labels or camera are left out.
The decode path is the serving decoder's: joints in heat-map units from the model outputs by the method's rule
(`PoseCodec.joints_from_outputs`), crop pixels / mm by `PoseCodec.decode`, image pixels by `core.crop_mapping`.
"""
from typing import Dict, Mapping, Optional

import numpy as np

from integral_keras import visualization
from integral_keras.core import skeletons
from integral_keras.core.crop_mapping import apply_affine
from integral_keras.evaluation.benchmark_metrics import synthetic_metrics

# Numeric evaluation metadata (`Parser.parse_eval`) the metrics need; strings stay out of the replicas.
META_KEYS = ("crop_to_image", "keypoints_2d", "visible", "keypoints_3d", "has_3d", "root_depth", "focal",
             "principal_point")


class PoseEvaluator:
    """Accumulates predictions of validation batches and computes the metrics.

    Args:
      codec: the run's `PoseCodec` (heat-map units -> crop pixels / mm).
      skeleton: skeleton name of the joints (torso joints, bones for drawing).
      root_joint: joint at which 3D poses are aligned for MPJPE.
      method: the model's training method; needed to take joints from model outputs (`joints_from_outputs`).
    """

    def __init__(self, codec, skeleton: str, root_joint: int = 0, method: Optional[str] = None):
        self.codec = codec
        self.skeleton = skeletons.get_skeleton(skeleton)
        self.root_joint = root_joint
        self.method = method
        self.reset()

    def reset(self) -> None:
        self._joints = []
        self._meta = {key: [] for key in META_KEYS}

    def joints_from_outputs(self, outputs: Mapping):
        """`(N, K, C)` float32 predicted joints in heat-map units from a model output dict (graph-safe):
        `PoseCodec.joints_from_outputs` with the method's rule."""
        if self.method is None:
            raise ValueError("PoseEvaluator needs the model's method to take joints from its outputs; pass method=")
        return self.codec.joints_from_outputs(outputs, self.method)

    def update(self, joints_hm: np.ndarray, meta: Mapping[str, np.ndarray]) -> None:
        """Adds a batch: `(N, K, C)` joints in heat-map units and its `META_KEYS` metadata."""
        self._joints.append(np.asarray(joints_hm, np.float64))
        for key in META_KEYS:
            self._meta[key].append(np.asarray(meta[key]))

    def decode_to_image(self, joints_hm: np.ndarray, crop_to_image: np.ndarray) -> Dict[str, np.ndarray]:
        """`{"joints_px": (N, K, 2) original-image pixels[, "z_mm": (N, K)]}`."""
        decoded = {key: np.asarray(value, np.float64) for key, value in self.codec.decode(joints_hm).items()}
        decoded["joints_px"] = apply_affine(decoded["joints_px"], crop_to_image)
        return decoded

    def result(self) -> Dict[str, float]:
        """Metrics of everything added since `reset`; empty when nothing was added."""
        if not self._joints:
            return {}
        joints_hm = np.concatenate(self._joints)
        meta = {key: np.concatenate(values) for key, values in self._meta.items()}
        decoded = self.decode_to_image(joints_hm, meta["crop_to_image"])
        scores = synthetic_metrics(decoded["joints_px"], decoded.get("z_mm"), meta, self.skeleton, self.root_joint)
        metrics = {key: scores[key] for key in ("PCK@0.5", "PCK@0.1", "AUC", "MPJPE", "PA-MPJPE") if key in scores}
        metrics["num_examples"] = float(len(joints_hm))
        return metrics

    def draw(self, images: np.ndarray, joints_hm: np.ndarray, heatmaps=None) -> np.ndarray:
        """Crops with the predicted skeleton (and the heat-map maximum, when given): `(N, H, W, 3)` uint8."""
        joints_px = np.asarray(self.codec.decode(np.asarray(joints_hm, np.float32))["joints_px"])
        drawn = []
        for index, image in enumerate(np.clip(images, 0, 255).astype(np.uint8)):
            if heatmaps is not None:
                image = visualization.heatmap_overlay(image, np.max(heatmaps[index], axis=-1))
            drawn.append(visualization.draw_skeleton(image, joints_px[index], self.skeleton))
        return np.stack(drawn) if drawn else np.zeros((0,) + tuple(self.codec.input_size) + (3,), np.uint8)
