"""configs/paper/: every paper experiment validates, names its table row, carries the paper's numbers in a typed
`paper:` block that the generated README agrees with, is set up as the paper's experiment, and its network builds
(at 64x64)."""
import functools
import glob
import os
import re
import shutil

import keras
import pytest
import yaml

from integral_keras.configs import paper_numbers
from integral_keras.evaluation import paper_comparison
from integral_keras.configs.base import ConfigError
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
    stages = model.num_stages if num_stages is None else num_stages
    small_depth = (lambda depth: 1 if depth == 1 else 4)
    stage_depths = None if model.stage_depths is None else [small_depth(d) for d in model.stage_depths[-stages:]]
    values.update(input_size=TEST_INPUT, heatmap_size=TEST_INPUT // spec.stride * 2 ** model.num_deconv,
                  depth=small_depth(model.depth), stage_depths=stage_depths, deconv_filters=16, pretrained=None,
                  num_stages=stages)
    return ModelConfig.from_dict(values)


def _check_outputs(model, config: ModelConfig):
    """The output dict follows docs/architecture.md for the method, with suffixed keys for earlier stages (each of
    its own depth D_s), and the two-step integral's marginals for the last stage."""
    height, width = config.heatmap_hw
    expected = {}
    for stage, depth in enumerate(config.depth_per_stage):
        suffix = "" if stage == config.num_stages - 1 else f"_stage{stage}"
        if config.outputs_joints:
            expected["joints" + suffix] = (None, config.num_joints, 2 if depth == 1 else 3)
        if config.outputs_heatmaps:
            expected["heatmaps" + suffix] = (None, height, width, config.num_joints * depth)
    if config.is_integral and config.integral == "two_step":
        expected.update(marginal_x=(None, config.num_joints, width), marginal_y=(None, config.num_joints, height))
        if config.depth > 1:
            expected["marginal_z"] = (None, config.num_joints, config.depth)
    assert {key: tuple(tensor.shape) for key, tensor in model.output.items()} == expected


def test_there_is_a_config_for_every_table():
    tables = {int(re.match(r"table(\d+)_", name).group(1)) for name in NAMES}
    assert tables == set(range(1, 12))
    table1 = {name.rsplit("_", 1)[1] for name in NAMES if name.startswith("table1_")}
    assert table1 == {"R1", "H1", "H2", "H3", "Istar", "I1", "I2", "I3"}
    table7 = {name.split("_", 3)[3] for name in NAMES if name.startswith("table7_")}
    assert table7 == {f"strategy{s}_{m}" for s in (1, 2) for m in ("R1", "H1", "H2", "Istar", "I1", "I2")}
    # Table 9: H2 and I2 at (a) 256->64, (b) 256->32, (c) 128->32, (d) 128->16.
    table9 = {(_config(n).model.input_size, _config(n).model.heatmap_size, _config(n).model.depth,
               _config(n).model.method) for n in NAMES if n.startswith("table9_")}
    assert table9 == {(i, h, h, m) for i, h in ((256, 64), (256, 32), (128, 32), (128, 16)) for m in ("H2", "I2")}
    # Table 10: (A) Protocol 1 (PA-MPJPE), (B) Protocol 2 (MPJPE); Tables 8 and 11: two stages with d1 = 1, d2 = 64.
    table10 = {(_config(n).paper.table, _config(n).paper.results[0].metric, _config(n).paper.results[0].protocol)
               for n in NAMES if n.startswith("table10_")}
    assert table10 == {("10(A)", "PA-MPJPE", "h36m_p1"), ("10(B)", "MPJPE", "h36m_p2")}
    for table in ("table8_", "table11_"):
        assert any(_config(n).model.stage_depths == (1, 64) for n in NAMES if n.startswith(table)), table


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
    # The paper block names the same table, and the header's "Reported:" line says what the block says.
    assert config.paper.table_number == table and config.paper.row and config.paper.results
    assert paper_numbers.reported_line(config.paper) in header.split("\n")
    for result in config.paper.results:
        assert (result.value is None) == (result.status == "not_transcribed") and result.note


def test_readme_is_generated_from_the_paper_blocks():
    assert paper_numbers.check_readme(PAPER_DIR) == []
    text = paper_numbers.render_readme(PAPER_DIR)
    for name in NAMES:
        row = next(line for line in text.splitlines() if line.startswith(f"| [{name}]("))
        assert row.rstrip(" |").endswith(_config(name).paper.reported())
    assert "## Remaining differences from the paper" in text


def test_readme_check_sees_a_stale_readme(tmp_path):
    for path in CONFIG_FILES[:3]:
        shutil.copy(path, tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(paper_numbers.render_readme(str(tmp_path)), encoding="utf-8")
    assert paper_numbers.check_readme(str(tmp_path)) == []
    with open(CONFIG_FILES[0], encoding="utf-8") as f:
        content = yaml.safe_load(f)
    content["paper"]["row"] = "another row"
    (tmp_path / os.path.basename(CONFIG_FILES[0])).write_text(yaml.safe_dump(content), encoding="utf-8")
    diff = paper_numbers.check_readme(str(tmp_path))
    assert any("another row" in line for line in diff)


def test_transcribing_a_value_flows_into_the_header_and_the_readme(tmp_path):
    """Filling in a number: the block validates, the script's refresh rewrites the header, the README shows it."""
    name = os.path.basename(CONFIG_FILES[0])
    shutil.copy(CONFIG_FILES[0], tmp_path)
    path = tmp_path / name
    text = path.read_text(encoding="utf-8")
    assert paper_numbers.refresh_reported_lines(str(tmp_path), write=False) == []
    header, body = text.split("\nmodel:", 1)
    content = yaml.safe_load("model:" + body)
    content["paper"]["results"][0].update(value=12.3, status="transcribed", note="test value, not the paper's")
    path.write_text(header + "\n" + yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    assert paper_numbers.refresh_reported_lines(str(tmp_path), write=False) == [str(path)]
    assert paper_numbers.refresh_reported_lines(str(tmp_path)) == [str(path)]
    config = paper_numbers.load_paper_experiment(str(path))
    first = config.paper.results[0]
    assert first.formatted().startswith("12.3 ") and first.formatted().endswith(f"{first.metric} ({first.protocol})")
    assert f"# Reported: {first.formatted()}" in path.read_text(encoding="utf-8")
    assert paper_numbers.refresh_reported_lines(str(tmp_path), write=False) == []
    assert f"| {first.formatted()}" in paper_numbers.render_readme(str(tmp_path))


@pytest.mark.parametrize("change, key", [
    ({"metric": "PCK"}, "paper.results[0].metric"),
    ({"protocol": "h36m_p2"}, "paper.results[0].protocol"),
    ({"status": "transcribed"}, "paper.results[0].value"),
    ({"status": "quoted"}, "paper.results[0].value"),
    ({"status": "checked"}, "paper.results[0].status"),
    ({"value": 52.7}, "paper.results[0].value"),
    ({"value": 250.0, "status": "transcribed"}, "paper.results[0].value"),
    ({"colour": "red"}, "paper.results[0].colour"),
])
def test_a_bad_paper_block_names_the_file_and_the_key(tmp_path, change, key):
    with open(os.path.join(PAPER_DIR, "table1_mpii_r50_H2.yaml"), encoding="utf-8") as f:  # value null
        content = yaml.safe_load(f)
    assert content["paper"]["results"][0]["value"] is None
    content["paper"]["results"][0].update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        paper_numbers.load_paper_experiment(str(path))
    assert error.value.key == key and str(path) in str(error.value)


# The five numbers issue 13 quotes from the paper, at the rows it names: (config, metric, value).
ISSUE_13_QUOTES = [
    ("table1_mpii_r50_H1", "PCKh@0.5", 86.8), ("table1_mpii_r50_H1", "PCKh@0.1", 17.2),
    ("table1_mpii_r50_H1", "AUC", 52.9),
    ("table2_mpii_r50_in256_hm32_H1", "PCKh@0.5", 86.8), ("table2_mpii_r50_in256_hm32_H1", "PCKh@0.1", 17.2),
    ("table2_mpii_r50_in256_hm32_H1", "AUC", 52.9),
    ("table7_h36m_r50_strategy2_I1", "MPJPE", 52.7), ("table10_h36m_r50_protocol2_Istar", "MPJPE", 49.6),
    ("table11_h36m_hourglass2_depths1-64_I1", "MPJPE", 64.1),
]
# Quoted as the paper's by the authors' repository (JimmySuen/integral-human-pose, issue 20).
AUTHORS_REPOSITORY_QUOTES = [("table10_h36m_r50_protocol1_Istar", "PA-MPJPE", 40.6)]


def test_the_quoted_numbers_are_entered_as_quoted_and_nothing_else_has_a_value():
    quoted = {}
    for name in NAMES:
        for result in _config(name).paper.results:
            if result.value is not None:
                quoted[(name, result.metric)] = (result.value, result.status)
    assert quoted == {(name, metric): (value, "quoted")
                      for name, metric, value in ISSUE_13_QUOTES + AUTHORS_REPOSITORY_QUOTES}
    result = _config("table7_h36m_r50_strategy2_I1").paper.results[0]
    assert result.formatted() == "52.7 mm MPJPE (h36m_p2) (quoted)"
    assert "issue 13" in result.note


def test_a_quoted_value_is_compared_with_the_evaluation_and_marked():
    reference = paper_numbers.PaperReference.from_dict({"table": "7", "row": "Strategy 2, I1", "results": [
        {"metric": "MPJPE", "protocol": "h36m_p2", "value": 52.7, "status": "quoted", "note": "test"}]})
    rows = paper_comparison.compare_with_paper(reference, {"protocol2": {"mean": 60.0}})
    assert rows[0]["paper"] == 52.7 and rows[0]["paper_status"] == "quoted"
    assert rows[0]["difference"] == pytest.approx(7.3)
    table = paper_comparison.comparison_table(reference, {"protocol2": {"mean": 60.0}}, label="run")
    assert "| MPJPE (mm) | h36m_p2 | 60.0 | 52.7 (quoted) | 7.3 |" in table


def test_a_transcribed_value_is_compared_with_the_evaluation():
    reference = paper_numbers.PaperReference.from_dict({"table": "10(B)", "row": "Ours", "results": [
        {"metric": "MPJPE", "protocol": "h36m_p2", "value": 50.0, "status": "transcribed", "note": "test"},
        {"metric": "PA-MPJPE", "protocol": "h36m_p1"}]})
    metrics = {"dataset": "h36m", "protocol2": {"mean": 53.5, "action_average": 54.0}, "MPJPE": 60.0}
    rows = paper_comparison.compare_with_paper(reference, metrics)
    assert rows[0]["evaluated"] == 53.5 and rows[0]["paper"] == 50.0 and rows[0]["difference"] == pytest.approx(3.5)
    assert rows[1]["evaluated"] is None and rows[1]["paper"] is None and rows[1]["difference"] is None
    table = paper_comparison.comparison_table(reference, metrics, label="run")
    assert "| MPJPE (mm) | h36m_p2 | 53.5 | 50.0 | 3.5 |" in table
    assert "| PA-MPJPE (mm) | h36m_p1 | - | not transcribed | - |" in table


def test_strategy_2_mixes_mpii_and_3d_rows_are_3d():
    for name in NAMES:
        config = _config(name)
        if name.startswith(("table7_", "table8_", "table9_", "table10_", "table11_")):
            assert config.model.depth > 1, name
        if "strategy2" in name or name.startswith(("table9_", "table10_")):
            assert config.data.mix_2d_skeleton == "mpii" and config.data.mix_2d_file_pattern, name
            assert config.data.mix_2d_ratio == 0.5, name  # half 2D, half 3D
            # Sec. 5.3: the integral methods learn from the 2D half through the two-step integral.
            assert config.model.integral == ("two_step" if config.model.is_integral else "direct"), name
        if "strategy1" in name or name.startswith(("table8_", "table11_")):
            # Strategy 1, and Tables 8 / 11 ("trained only on Human3.6M").
            assert not config.data.mix_2d_file_pattern, name
            assert config.model.integral == "direct", name


def test_heat_map_sizes_and_batch_are_the_papers():
    for name in NAMES:
        config = _config(name)
        model = config.model
        # The paper's mini-batch of 128 (the global batch; 32 per replica on four GPUs).
        assert config.data.batch_size == 128, name
        if name.startswith(("table1_", "table3_", "table4_", "table6_")):
            # Table 2's setting (b): 256x256 input, 32x32 heat maps with 2 upsampling layers.
            assert (model.input_size, model.heatmap_size, model.num_deconv) == (256, 32, 2), name
        if name.startswith("table5_"):
            assert model.backbone == "hourglass" and model.heatmap_size == 64, name  # stride 4 by design
        if model.depth > 1:
            assert config.data.skeleton == "h36m" and (model.heatmap_size == model.depth), name
        train = config.train
        assert train.lr_values[-1] == pytest.approx(1e-5) and train.learning_rate == pytest.approx(1e-3), name


def _architectures(max_stages):
    """One config per distinct trunk (backbone, stages, upsampling, 2D/3D); methods differ only in the last layer,
    so an I1 row (both outputs) stands for its trunk where there is one."""
    chosen = {}
    for name in NAMES:
        model = _config(name).model
        key = (model.backbone, min(model.num_stages, max_stages), model.num_deconv, model.depth > 1,
               model.stage_depths, model.integral)
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
