"""`build_pose_model(config)`: one functional Keras model per `ModelConfig`.

Graph: image `(N, H, W, 3)` float32 RGB in [0, 255] -> the backbone's input
normalisation (`modeling.preprocessing`) -> backbone -> per-stage heads -> a dict of outputs
(docs/architecture.md):

| key | shape | methods |
|---|---|---|
| `heatmaps` | `(N, h, w, K*D)` logits, channel `k*D + d` | H1-H3, I1-I3 |
| `joints` | `(N, K, 2)` or `(N, K, 3)` float32, heat-map cell units | R1, I1-I3, Istar |
| `marginal_x`, `marginal_y` (, `marginal_z`) | `(N, K, w)`, `(N, K, h)`, `(N, K, D)` | integral="two_step" |
| `heatmaps_stage{s}`, `joints_stage{s}` | as above with stage `s`'s depth D_s, earlier stages `s` | num_stages > 1 |

Outputs are float32 also under a mixed-precision policy. The last stage uses the
plain keys. Stage `s` has depth `D_s = config.depth_per_stage[s]` (`model.stage_depths`,
default `depth` for every stage): its heat maps have `K * D_s` channels and its joints
`(N, K, 2)` when `D_s = 1`, `(N, K, 3)` otherwise; each stage is supervised with
targets of its own depth. For R1 on a staged backbone (hourglass, multi-stage ResNet), each stage's
heat-map logits stay internal features passed to the next stage and each stage's
joints are regressed from that stage's features.
"""
import keras

from integral_keras import layers as pose_layers
from integral_keras.core import methods
from integral_keras.configs.model_config import HOURGLASS_FEATURES, ModelConfig
from integral_keras.modeling.backbones import get_backbone, get_backbone_spec
from integral_keras.modeling.heads import deconv_head, regression_head
from integral_keras.modeling.preprocessing import input_normalization
from integral_keras.modeling.validation import check_model_config



def model_name(config: ModelConfig) -> str:
    """A readable model name, e.g. `resnet50_I1_2d`, `hourglass_I1_3d_4stages_two_step` or
    `hourglass_I1_3d_2stages_depths1-64` (stages with different depths)."""
    parts = [config.backbone, config.method, "3d" if config.depth > 1 else "2d"]
    if config.num_stages > 1:
        parts.append(f"{config.num_stages}stages")
    if len(set(config.depth_per_stage)) > 1:
        parts.append("depths" + "-".join(str(d) for d in config.depth_per_stage))
    if config.backbone == "hourglass" and config.hourglass_features != HOURGLASS_FEATURES:
        parts.append(f"{config.hourglass_features}features")
    if config.integral == "two_step" and config.is_integral:
        parts.append("two_step")
    if config.upsample != "deconv":
        parts.append(config.upsample)
    return "_".join(parts)


def export_name(config) -> str:
    """The name of an experiment's exported model (TF Serving `MODEL_NAME`, `<export_dir>/<name>/`).

    One rule for `scripts/export.py`, the demo and `run_experiment(mode="export")`: `<config.name>_<model_name>`
    (e.g. `demo_hourglass_Istar_2d_128features` for `configs/demo_2d.yaml`, whose `name` is `demo`), or
    `model_name` alone when the experiment has no `name`.

    Args:
      config: an `ExperimentConfig`.
    """
    name = model_name(config.model)
    return f"{config.name}_{name}" if config.name else name


def _backbone_options(config: ModelConfig) -> dict:
    """Builder arguments that only one backbone has."""
    if config.backbone == "hourglass":
        return {"num_features": config.hourglass_features}
    return {}


def _stage_maps(config: ModelConfig, image):
    """Runs the backbone (and heat-map heads): per-stage `(features, logits)` lists."""
    spec = get_backbone_spec(config.backbone)
    input_shape = tuple(config.input_hw) + (3,)
    num_outputs = config.num_joints * config.depth
    if spec.staged:
        stage_outputs = [config.num_joints * depth for depth in config.depth_per_stage]
        backbone = get_backbone(config.backbone, input_shape=input_shape, pretrained=config.pretrained,
                                num_outputs=num_outputs if config.stage_depths is None else stage_outputs,
                                num_stages=config.num_stages, num_deconv=config.num_deconv,
                                deconv_filters=config.deconv_filters, upsample=config.upsample,
                                init_stddev=config.head_init_stddev, **_backbone_options(config))
        maps = backbone(image)
        features = [maps[f"features_stage{s}"] for s in range(config.num_stages)]
        logits = [maps[f"heatmaps_stage{s}"] for s in range(config.num_stages)]
        return features, logits
    backbone = get_backbone(config.backbone, input_shape=input_shape, pretrained=config.pretrained)
    features = backbone(image)[spec.feature_key]
    if config.method == methods.DIRECT_REGRESSION:
        return [features], [None]
    logits = deconv_head(features, num_outputs, config.num_deconv, config.deconv_filters, config.upsample,
                         name="head", init_stddev=config.head_init_stddev)
    return [features], [logits]


def _integral_outputs(config: ModelConfig, logits, depth: int, suffix: str, with_marginals: bool) -> dict:
    common = dict(num_joints=config.num_joints, depth=depth, beta=config.softmax_beta)
    if config.integral == "two_step":
        result = pose_layers.TwoStepIntegral(**common, name=f"two_step_integral{suffix}")(logits)
        return dict(result) if with_marginals else {"joints": result["joints"]}
    joints = pose_layers.IntegralRegression(**common, debias=config.debias, name=f"integral{suffix}")(logits)
    return {"joints": joints}


def build_pose_model(config: ModelConfig) -> keras.Model:
    """Builds the network described by `config` (see the module docstring).

    The input is normalised inside the model the way the backbone's weights
    expect: ImageNet mean/std in RGB for the hand-built networks, and Caffe-style
    BGR mean subtraction for the `keras.applications` ResNets (so weights loaded
    from a local `pretrained` file see exactly their training inputs).

    Args:
      config: A `ModelConfig`; it is validated first.

    Returns:
      A `keras.Model` named by `model_name(config)`, input `(N, H, W, 3)`
      float32 RGB in [0, 255], output a dict of tensors.

    Raises:
      ConfigError: `config` is invalid (the message names the key).
      FileNotFoundError, ValueError: `config.pretrained` is missing or does not
        match the backbone.
    """
    config.validate()
    check_model_config(config)
    height, width = config.input_hw
    inputs = keras.Input(shape=(height, width, 3), name="image")
    image = input_normalization(config.backbone)(inputs)
    features, logits = _stage_maps(config, image)
    num_stages = len(features)
    outputs = {}
    for stage in range(num_stages):
        last = stage == num_stages - 1
        suffix = "" if last else f"_stage{stage}"
        depth = config.depth_per_stage[stage]
        stage_outputs = {}
        if config.outputs_heatmaps:
            stage_outputs["heatmaps"] = logits[stage]
        if config.method == methods.DIRECT_REGRESSION:
            stage_outputs["joints"] = regression_head(features[stage], config.num_joints, config.heatmap_hw,
                                                      depth, name=f"regression{suffix}")
        elif config.is_integral:
            stage_outputs.update(_integral_outputs(config, logits[stage], depth, suffix, with_marginals=last))
        outputs.update({f"{key}{suffix}": value for key, value in stage_outputs.items()})
    return keras.Model(inputs, outputs, name=model_name(config))
