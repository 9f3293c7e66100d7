"""Turns a pose model's output dict into serving outputs: crop pixels, depth in mm, confidence."""
import keras

from integral_keras.core import methods
from integral_keras.layers import IntegralRegression
from integral_keras.layers import TwoStepIntegral
from integral_keras.serving import confidence


def expose_heatmap_logits(model, spec):
    """Returns `model`, with its heat-map logits added as output `heatmaps` if it lacks them.

    `Istar` models output only `joints`, but their confidence needs the logits
    that the last integral layer integrates. The returned functional model
    shares every layer and weight with `model`.

    Args:
      model: A functional pose model whose output is a dict.
      spec: The `ServingSpec` of the model.

    Returns:
      A `keras.Model` whose output dict contains `heatmaps` whenever the method
      needs it for its confidence.
    """
    if spec.method == methods.DIRECT_REGRESSION or "heatmaps" in model.output:
        return model
    integral_layers = [layer for layer in model.layers if isinstance(layer, (IntegralRegression, TwoStepIntegral))]
    if not integral_layers:
        raise ValueError(f"Model {model.name!r} (method {spec.method}) has no 'heatmaps' output and no integral "
                         f"layer to take the logits from; outputs: {sorted(model.output)}.")
    outputs = dict(model.output, heatmaps=integral_layers[-1].input)
    return keras.Model(model.input, outputs, name=model.name)


class PoseDecoder:
    """Decodes model outputs into joints in crop pixels, depths in mm and per-joint confidences.

    The decode path of training and evaluation alike: `PoseCodec.joints_from_outputs`
    (`joints` for the regression and integral methods, the arg-max of `heatmaps` for
    H1-H3), then `PoseCodec.decode` to pixels and mm; the confidence is
    `confidence.joint_confidence`.

    Args:
      spec: A `ServingSpec`.
    """

    def __init__(self, spec):
        self.spec = spec
        self.codec = spec.codec()

    def __call__(self, outputs):
        """Decodes one batch.

        Args:
          outputs: Model output dict (`joints` `(N, K, C)` heat-map units and/or
            `heatmaps` `(N, h, w, K*D)` logits).

        Returns:
          Dict with `joints` `(N, K, 2)` float32 crop pixels (x, y),
          `confidence` `(N, K)` float32 and, for 3D models, `depth_mm` `(N, K)`
          root-relative depth in mm.
        """
        spec = self.spec
        joints_hm = self.codec.joints_from_outputs(outputs, spec.method)
        decoded = self.codec.decode(joints_hm)
        result = {
            "joints": decoded["joints_px"],
            "confidence": confidence.joint_confidence(spec.method, outputs, joints_hm, spec.num_joints, spec.depth,
                                                      spec.beta, spec.confidence_radius),
        }
        if spec.is_3d:
            result["depth_mm"] = decoded["z_mm"]
        return result
