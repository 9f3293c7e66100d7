"""configs/paper/: every paper experiment validates, names its table row, and its network builds (at 64x64)."""
import functools
import glob
import os
import re

import keras
import pytest

from integral_keras.configs.experiment import load_experiment
from integral_keras.configs.model_config import ModelConfig
from integral_keras.data import skeletons
from integral_keras.models import build_pose_model
from integral_keras.modeling.backbones import factory

PAPER_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "paper")
CONFIG_FILES = sorted(glob.glob(os.path.join(PAPER_DIR, "*.yaml")))
NAMES = [os.path.basename(path)[:-len(".yaml")] for path in CONFIG_FILES]
TEST_INPUT = 64
# Staged backbones are built with at most this many stages in the fast test; the deepest ones in a slow test.
FAST_MAX_STAGES = 2


@functools.lru_cache(maxsize=None)
def _config(name):
    return load_experiment([os.path.join(PAPER_DIR, name + ".yaml")])


def _small_model_config(model: ModelConfig, num_stages=None) -> ModelConfig:
    """The same network at a 64x64 input: heat-map size rescaled consistently, depth 4 for 3D, thin heads."""
    spec = factory.get_backbone_spec(model.backbone)
    values = model.to_dict()
    values.update(input_size=TEST_INPUT, heatmap_size=TEST_INPUT // spec.stride * 2 ** model.num_deconv,
                  depth=1 if model.depth == 1 else 4, deconv_filters=16, pretrained=None,
                  num_stages=model.num_stages if num_stages is None else num_stages)
    return ModelConfig.from_dict(values)


def _check_outputs(model, config: ModelConfig):
    """The output dict follows docs/architecture.md for the method, with suffixed keys for earlier stages."""
    height, width = config.heatmap_hw
    expected = {}
    if config.outputs_joints:
        expected["joints"] = (None, config.num_joints, config.coordinate_dims)
    if config.outputs_heatmaps:
        expected["heatmaps"] = (None, height, width, config.num_joints * config.depth)
    for stage in range(config.num_stages - 1):
        expected.update({f"{key}_stage{stage}": shape for key, shape in list(expected.items()) if "_stage" not in key})
    assert {key: tuple(tensor.shape) for key, tensor in model.output.items()} == expected


def test_there_is_a_config_for_every_table():
    tables = {int(re.match(r"table(\d+)_", name).group(1)) for name in NAMES}
    assert tables == set(range(1, 10))
    table1 = {name.rsplit("_", 1)[1] for name in NAMES if name.startswith("table1_")}
    assert table1 == {"R1", "H1", "H2", "H3", "Istar", "I1", "I2", "I3"}
    table7 = {name.split("_", 3)[3] for name in NAMES if name.startswith("table7_")}
    assert table7 == {f"strategy{s}_{m}" for s in (1, 2) for m in ("R1", "H1", "H2", "Istar", "I1", "I2")}


@pytest.mark.parametrize("name", NAMES)
def test_config_validates_and_documents_its_row(name):
    config = _config(name)
    config.validate()
    with open(os.path.join(PAPER_DIR, name + ".yaml"), encoding="utf-8") as f:
        header = f.read().split("\nmodel:")[0]
    table = int(re.match(r"table(\d+)_", name).group(1))
    assert f"Table {table}, row" in header and "Reported:" in header
    assert f"method {config.model.method}," in header
    # The file name states the method, and the data skeleton matches the benchmark in the name.
    assert name.endswith("_" + config.model.method)
    benchmark = name.split("_")[1]
    assert config.data.skeleton == benchmark
    assert config.model.num_joints == skeletons.get_skeleton(benchmark).num_joints
    assert config.data.val_file_pattern and config.data.train_file_pattern
    with open(os.path.join(PAPER_DIR, "README.md"), encoding="utf-8") as f:
        assert f"[{name}]({name}.yaml)" in f.read()


def test_strategy_2_mixes_mpii_and_3d_rows_are_3d():
    for name in NAMES:
        config = _config(name)
        if name.startswith(("table7_", "table8_", "table9_")):
            assert config.model.depth > 1, name
        if "strategy2" in name or name.startswith(("table8_", "table9_")):
            assert config.data.mix_2d_skeleton == "mpii" and config.data.mix_2d_file_pattern, name
        if "strategy1" in name:
            assert not config.data.mix_2d_file_pattern, name


def _architectures(max_stages):
    """One config per distinct trunk (backbone, stages, upsampling, 2D/3D); methods differ only in the last layer,
    so an I1 row (both outputs) stands for its trunk where there is one."""
    chosen = {}
    for name in NAMES:
        model = _config(name).model
        key = (model.backbone, min(model.num_stages, max_stages), model.num_deconv, model.depth > 1)
        if key not in chosen or (model.method == "I1" and _config(chosen[key]).model.method != "I1"):
            chosen[key] = name
    return sorted(chosen.values())


@pytest.mark.parametrize("name", _architectures(FAST_MAX_STAGES))
def test_network_builds_at_small_size(name):
    model_config = _config(name).model
    small = _small_model_config(model_config, num_stages=min(model_config.num_stages, FAST_MAX_STAGES))
    keras.backend.clear_session()
    _check_outputs(build_pose_model(small), small)


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["multistage_resnet50", "hourglass"])
def test_deepest_staged_network_builds_with_all_its_stages(backbone):
    candidates = [name for name in NAMES if _config(name).model.backbone == backbone]
    name = max(candidates, key=lambda n: _config(n).model.num_stages)
    small = _small_model_config(_config(name).model)
    assert small.num_stages > FAST_MAX_STAGES
    keras.backend.clear_session()
    _check_outputs(build_pose_model(small), small)
