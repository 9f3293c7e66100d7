"""Metrics during training: decode predictions through the codec, compare with the ground truth.

2D: PCK@0.5, PCK@0.1 and the AUC of the PCK curve, normalised by the torso size, in original-image pixels
(`integral_keras.evaluation.torso_pck`). 3D (`depth > 1`): MPJPE (aligned at `root_joint`) and PA-MPJPE in mm after
back-projecting the predicted `(u, v, z)` with the ground-truth root depth and camera
(`integral_keras.evaluation.back_project`); samples without 3D labels or camera are left out.
Predictions are taken in heat-map units from `joints` (integral and regression methods) or, for the heat-map
baselines, from the arg-max of `heatmaps` (`HeatmapArgmax`), and mapped to crop pixels / mm by `PoseCodec.decode`.
"""
from typing import Dict, Mapping

import numpy as np

from integral_keras import evaluation
from integral_keras import visualization
from integral_keras.data import skeletons
from integral_keras.evaluation.transforms import apply_affine
from integral_keras.layers import HeatmapArgmax

# Numeric evaluation metadata (`Parser.parse_eval`) the metrics need; strings stay out of the replicas.
META_KEYS = ("crop_to_image", "keypoints_2d", "visible", "keypoints_3d", "has_3d", "root_depth", "focal",
             "principal_point")


class PoseEvaluator:
    """Accumulates predictions of validation batches and computes the metrics.

    Args:
      codec: the run's `PoseCodec` (heat-map units -> crop pixels / mm).
      skeleton: skeleton name of the joints (torso joints, bones for drawing).
      root_joint: joint at which 3D poses are aligned for MPJPE.
    """

    def __init__(self, codec, skeleton: str, root_joint: int = 0):
        self.codec = codec
        self.skeleton = skeletons.get_skeleton(skeleton)
        self.root_joint = root_joint
        self._argmax = HeatmapArgmax(codec.num_joints, depth=codec.depth)
        self.reset()

    def reset(self) -> None:
        self._joints = []
        self._meta = {key: [] for key in META_KEYS}

    def joints_from_outputs(self, outputs: Mapping) -> "tensor":
        """`(N, K, C)` predicted joints in heat-map units from a model output dict (graph-safe)."""
        if "joints" in outputs:
            return outputs["joints"]
        return self._argmax(outputs["heatmaps"])

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
        visible = meta["visible"] > 0
        pck = evaluation.torso_pck(decoded["joints_px"], meta["keypoints_2d"], visible, self.skeleton)
        metrics = {"PCK@0.5": pck["PCK@0.5"], "PCK@0.1": pck["PCK@0.1"], "AUC": pck["AUC"],
                   "num_examples": float(len(joints_hm))}
        if self.codec.depth > 1:
            usable = (meta["has_3d"] > 0) & np.all(meta["focal"] > 0, axis=-1)
            if usable.any():
                uvz = np.concatenate([decoded["joints_px"], decoded["z_mm"][..., None]], axis=-1)[usable]
                pred = evaluation.back_project(uvz, meta["root_depth"][usable], meta["focal"][usable],
                                               meta["principal_point"][usable])
                gt = meta["keypoints_3d"][usable]
                metrics["MPJPE"] = evaluation.mpjpe(pred, gt, root=self.root_joint)
                metrics["PA-MPJPE"] = evaluation.pa_mpjpe(pred, gt)
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
