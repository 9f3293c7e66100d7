"""ServingSpec: built from configs and dicts, validated, JSON round trip."""
import types

import pytest

from integral_keras.configs import ModelConfig
from integral_keras.serving import ServingSpec


def test_from_model_config_reads_the_geometry():
    config = ModelConfig(backbone="resnet18", method="I2", num_joints=17, input_size=(256, 192),
                         heatmap_size=(64, 48), depth=1, beta=2.0)
    spec = ServingSpec.from_config(config, name="coco_i2")
    assert (spec.method, spec.num_joints, spec.beta, spec.name) == ("I2", 17, 2.0, "coco_i2")
    assert spec.input_size == (256, 192) and spec.heatmap_size == (64, 48)
    assert spec.codec().stride == (4.0, 4.0)


def test_from_experiment_like_config_takes_the_skeleton():
    experiment = types.SimpleNamespace(model=ModelConfig(method="Istar", depth=8, input_size=64, heatmap_size=16),
                                       data=types.SimpleNamespace(skeleton="h36m"))
    spec = ServingSpec.from_config(experiment)
    assert spec.skeleton == "h36m" and spec.is_3d and spec.input_size == (64, 64)


def test_json_round_trip():
    spec = ServingSpec(method="H3", num_joints=3, input_size=(64, 48), heatmap_size=(16, 12), depth=2,
                       depth_range_mm=1500.0, box_padding=1.1, skeleton="mpii")
    assert ServingSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize("params,message", [
    (dict(method="I7"), "Unknown method"),
    (dict(num_joints=0), "num_joints"),
    (dict(input_size=(64, 0)), "input_size"),
    (dict(box_padding=0.0), "box_padding"),
    (dict(confidence_radius=-1), "confidence_radius"),
    (dict(name="a/b"), "name"),
    (dict(heatmap_sizes=16), "Unknown ServingSpec keys"),
])
def test_bad_values_name_the_field(params, message):
    base = dict(method="I1", num_joints=2, input_size=64, heatmap_size=16)
    with pytest.raises(ValueError, match=message):
        ServingSpec.from_config({**base, **params})


def test_unsupported_config_type():
    with pytest.raises(TypeError, match="ModelConfig"):
        ServingSpec.from_config(42)
