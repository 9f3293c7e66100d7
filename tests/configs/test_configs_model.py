"""Tests for integral_keras.configs.ModelConfig."""
import pytest

from integral_keras.configs import ConfigError, ModelConfig
from integral_keras.modeling.validation import check_model_config


def test_defaults_are_valid_and_sizes_expand():
    cfg = ModelConfig()
    cfg.validate()
    assert cfg.input_hw == (256, 256) and cfg.heatmap_hw == (64, 64)
    cfg = ModelConfig.from_dict({"input_size": [256, 192], "heatmap_size": [64, 48]})
    assert cfg.input_hw == (256, 192) and cfg.heatmap_hw == (64, 48)


# Independent statement of the paper's methods: (emits heat maps, emits joints, integral).
PAPER_METHODS = {
    "R1": (False, True, False),
    "H1": (True, False, False), "H2": (True, False, False), "H3": (True, False, False),
    "I1": (True, True, True), "I2": (True, True, True), "I3": (True, True, True),
    "Istar": (False, True, True),
}


@pytest.mark.parametrize("method", sorted(PAPER_METHODS))
def test_method_outputs(method):
    cfg = ModelConfig(method=method)
    cfg.validate()
    assert (cfg.outputs_heatmaps, cfg.outputs_joints, cfg.is_integral) == PAPER_METHODS[method]


@pytest.mark.parametrize("overrides, key, fragment", [
    (["method=I4"], "method", "Istar"),
    (["integral=three_step"], "integral", "two_step"),
    (["upsample=pixel_shuffle"], "upsample", "resize_conv"),
    (["num_joints=0"], "num_joints", "[1, inf]"),
    (["beta=0"], "beta", "(0, inf)"),
    (["backbone=hourglass", "num_deconv=0", "hourglass_features=127"], "hourglass_features", "even"),
    (["backbone=hourglass", "num_deconv=0", "hourglass_features=0"], "hourglass_features", "[2, inf]"),
    (["hourglass_features=128"], "hourglass_features", "'hourglass' only"),
    (["method=H1", "integral=two_step"], "integral", "'H1'"),
    (["method=R1", "debias=true"], "debias", "integral"),
    (["integral=two_step", "debias=true"], "debias", "direct"),
])
def test_bad_values_name_the_key(overrides, key, fragment):
    with pytest.raises(ConfigError) as info:
        ModelConfig().override(overrides)
    assert info.value.key == key
    assert fragment in str(info.value)


# What depends on the registered backbone is checked where the registry lives, when the model is built.
@pytest.mark.parametrize("overrides, key, fragment", [
    (["backbone=resnet19"], "backbone", "resnet18"),
    (["num_stages=2"], "num_stages", "[1]"),
    (["backbone=multistage_resnet50", "num_stages=5"], "num_stages", "[1, 2, 3, 4]"),
    (["heatmap_size=32"], "heatmap_size", "= 64"),
    (["input_size=200", "heatmap_size=50"], "input_size", "multiple of 32"),
    (["backbone=hourglass"], "num_deconv", "must be 0"),
    (["backbone=hourglass", "num_deconv=0", "input_size=96", "heatmap_size=24"], "input_size", "multiple of 64"),
])
def test_bad_backbone_settings_name_the_key_at_build_time(overrides, key, fragment):
    with pytest.raises(ConfigError) as info:
        check_model_config(ModelConfig().override(overrides))
    assert info.value.key == key
    assert fragment in str(info.value)


@pytest.mark.parametrize("overrides, heatmap_hw", [
    # Heat-map resolution = input / stride * 2**num_deconv (paper Table 2/9 settings).
    (["input_size=256", "num_deconv=0", "heatmap_size=8"], (8, 8)),
    (["input_size=256", "num_deconv=2", "heatmap_size=32"], (32, 32)),
    (["input_size=128", "num_deconv=3", "heatmap_size=32"], (32, 32)),
    (["input_size=256,192", "heatmap_size=64,48"], (64, 48)),
    (["backbone=hourglass", "num_deconv=0", "num_stages=8", "heatmap_size=64"], (64, 64)),
    (["backbone=hourglass", "num_deconv=0", "input_size=128", "heatmap_size=32"], (32, 32)),
    (["backbone=multistage_resnet50", "num_stages=4"], (64, 64)),
])
def test_valid_size_settings(overrides, heatmap_hw):
    config = ModelConfig().override(overrides)
    check_model_config(config)  # the backbone builds them
    assert config.heatmap_hw == heatmap_hw


def test_override_types_and_unknown_key():
    cfg = ModelConfig().override(["depth=64", "beta=2", "debias=yes", "pretrained=/tmp/x.h5", "method=Istar"])
    assert (cfg.depth, cfg.beta, cfg.debias, cfg.pretrained) == (64, 2.0, True, "/tmp/x.h5")
    assert cfg.coordinate_dims == 3
    assert cfg.override("pretrained=null").pretrained is None
    with pytest.raises(ConfigError) as info:
        ModelConfig.from_dict({"backbone": "resnet18", "stacks": 2})
    assert info.value.key == "stacks" and "num_stages" in str(info.value)
