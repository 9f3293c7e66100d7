"""The losses each training method uses, keyed like the model outputs."""
from integral_keras.core import methods
from integral_keras.losses import heatmap
from integral_keras.losses import joint
from integral_keras.losses import marginal

_HEATMAP_LOSS_FOR_TARGET = {
    methods.GAUSSIAN: heatmap.HeatmapMSE,
    methods.ONE_HOT: heatmap.HeatmapCrossEntropy,
    methods.DISC: heatmap.HeatmapBinaryCrossEntropy,
}
_MARGINAL_LOSS_FOR_TARGET = {
    methods.GAUSSIAN: marginal.HeatmapMarginalMSE,
    methods.ONE_HOT: marginal.HeatmapMarginalCrossEntropy,
    methods.DISC: marginal.HeatmapMarginalBinaryCrossEntropy,
}
_JOINT_LOSSES = {"l1": joint.JointL1, "l2": joint.JointL2}


def losses_for_method(method, num_joints, depth=1, joint_loss="l1"):
    """Builds the losses `method` trains with (DESIGN.md, "Method names").

    Args:
      method: one of `integral_keras.codecs.METHODS`.
      num_joints: K.
      depth: D, depth bins per joint (1 for 2D).
      joint_loss: `"l1"` (the paper's choice) or `"l2"` for the joint loss.

    Returns:
      Dict with "heatmaps" (H1-H3, I1-I3: MSE, softmax cross-entropy or binary
      cross-entropy for the Gaussian, one-hot or disc target) and/or "joints"
      (R1, I1-I3, Istar) losses, ready for `model.compile(loss=...)`.
    """
    if joint_loss not in _JOINT_LOSSES:
        raise ValueError(
            f"Unknown joint_loss {joint_loss!r}; expected one of {sorted(_JOINT_LOSSES)}."
        )
    losses = {}
    kind = methods.heatmap_target_kind(method)
    if kind is not None:
        losses["heatmaps"] = _HEATMAP_LOSS_FOR_TARGET[kind](num_joints, depth=depth)
    if methods.uses_joints(method):
        losses["joints"] = _JOINT_LOSSES[joint_loss]()
    return losses


def marginal_loss_for_method(method, num_joints, depth, sigma=1.0):
    """The x/y marginal heat-map loss of a 3D heat-map method (Strategy 2: 2D-only samples), or None.

    Args:
      method: one of `integral_keras.codecs.METHODS`.
      num_joints: K.
      depth: D, depth bins per joint.
      sigma: the codec's Gaussian standard deviation in cells (H1, I1).

    Returns:
      `HeatmapMarginalMSE` / `HeatmapMarginalCrossEntropy` / `HeatmapMarginalBinaryCrossEntropy` for the Gaussian /
      one-hot / disc target when `depth > 1`, reading the `heatmaps` output and the `heatmap_marginals` target of
      `PoseCodec.encode(..., marginals=True)`; None for methods without heat maps and for 2D (`depth == 1`).
    """
    kind = methods.heatmap_target_kind(method)
    if kind is None or depth == 1:
        return None
    if kind == methods.GAUSSIAN:
        return marginal.HeatmapMarginalMSE(num_joints, depth, sigma=sigma)
    return _MARGINAL_LOSS_FOR_TARGET[kind](num_joints, depth)
