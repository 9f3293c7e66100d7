"""The reproduction studies' definitions: every run's config validates at every budget, runs of a study differ only
in what the study varies, the base YAMLs hold the small budget's schedule, and every row names its paper config."""
import pytest

from integral_keras.apps.reproduction import runner
from integral_keras.apps.reproduction import studies


def _flat(value, prefix=""):
    if isinstance(value, dict):
        items = {}
        for key, item in value.items():
            items.update(_flat(item, f"{prefix}{key}."))
        return items
    return {prefix[:-1]: value}


def _configs(study, budget="small", output_dir="/tmp/out"):
    sizes = studies.get_budget(budget)
    return {run.name: runner.run_config(study, run, sizes, output_dir) for run in study.runs}


@pytest.mark.parametrize("name", list(studies.STUDIES))
@pytest.mark.parametrize("budget", studies.BUDGETS)
def test_every_run_config_validates(name, budget):
    study = studies.get_study(name)
    configs = _configs(study, budget)
    steps = studies.get_budget(budget).steps(study.small_steps)
    for run in study.runs:
        config = configs[run.name]
        config.validate()
        part = study.part(run.part)
        assert config.model.method == run.method
        assert config.train.total_steps == steps
        assert config.train.steps_per_epoch == steps  # one evaluation, at the end
        assert config.train.mixed_precision == "none"
        assert bool(config.data.mix_2d_file_pattern) == run.mix_2d
        assert (config.train.heatmap_pretrain_steps > 0) == (run.method in ("I1", "I2", "I3"))
        assert config.data.skeleton == studies.DATA_SETS[part.data].skeleton
        assert (config.model.depth > 1) == (part.key == "3d")


@pytest.mark.parametrize("name", list(studies.STUDIES))
def test_runs_differ_only_in_what_the_study_varies(name):
    study = studies.get_study(name)
    flat = {run: _flat(config.to_dict()) for run, config in _configs(study).items()}
    for part in study.parts:
        names = [run.name for run in study.runs if run.part == part.key]
        for other in names[1:]:
            differing = {key for key in flat[names[0]] if flat[names[0]][key] != flat[other][key]}
            assert differing <= set(study.varies), (names[0], other, differing)
    runs = list(flat)
    for i, first in enumerate(runs):
        for second in runs[i + 1:]:
            assert flat[first] != flat[second], f"{first} and {second} are the same experiment"


@pytest.mark.parametrize("name", list(studies.STUDIES))
def test_base_config_holds_the_small_schedule_and_says_what_it_scales_down(name):
    study = studies.get_study(name)
    for part in study.parts:
        path = studies.CONFIG_DIR / part.base_config
        text = path.read_text()
        assert text.startswith(f"# Reproduction study `{study.name}`"), path
        assert "scaled-down Table" in text, path
        base = runner.load_experiment([str(path)]).train
        run = next(run for run in study.runs if run.part == part.key)
        planned = runner.run_config(study, run, studies.get_budget("small"), "/tmp/out").train
        for key in ("total_steps", "steps_per_epoch", "lr_boundaries", "lr_values", "checkpoint_every_steps"):
            assert getattr(base, key) == getattr(planned, key), (path, key)


@pytest.mark.parametrize("name", list(studies.STUDIES))
def test_rows_name_existing_paper_configs_and_claims_name_runs(name):
    study = studies.get_study(name)
    names = {run.name for run in study.runs}
    assert len(names) == len(study.runs)
    for run in study.runs:
        assert (studies.PAPER_DIR / f"{run.paper_config}.yaml").is_file(), run.paper_config
        for panel in study.panels:
            if panel.part == run.part:
                assert panel.x in run.labels and (panel.series is None or panel.series in run.labels)
    for claim in study.claims:
        assert set(claim.runs()) <= names


def test_resolution_settings_scale_the_papers_four_down_by_four():
    study = studies.get_study("resolution")
    configs = _configs(study)
    sizes = sorted({(c.model.input_hw[0], c.model.heatmap_hw[0]) for c in configs.values()}, reverse=True)
    assert sizes == [(64, 16), (64, 8), (32, 8), (32, 4)]
    for run in study.runs:
        config = configs[run.name]
        if run.part == "3d":
            assert config.model.depth == config.model.heatmap_hw[0]
            assert config.model.integral == ("two_step" if run.method == "I2" else "direct")


def test_strategy_two_mixes_2d_only_data_and_uses_the_two_step_integral():
    configs = _configs(studies.get_study("strategy"), output_dir="/tmp/o")
    for method in ("R1", "H1", "H2", "Istar", "I1", "I2"):
        one, two = configs[f"s1_{method}"], configs[f"s2_{method}"]
        assert one.data.mix_2d_file_pattern == ()
        assert two.data.mix_2d_file_pattern == ("/tmp/o/data/mpii/train-*-of-*.tfrecord",)
        assert two.data.mix_2d_skeleton == "mpii"
        assert two.model.integral == ("two_step" if method in ("Istar", "I1", "I2") else "direct")
        assert one.data.train_file_pattern == two.data.train_file_pattern == (
            "/tmp/o/data/h36m/train-*-of-*.tfrecord",)


def test_data_sets_of_a_study():
    assert studies.get_study("methods").data_sets() == ("mpii",)
    assert studies.get_study("strategy").data_sets() == ("h36m", "mpii")
    assert studies.get_study("resolution").data_sets() == ("mpii", "h36m")
    assert studies.get_study("backbones").data_sets() == ("mpii",)


def test_schedule():
    def overrides(steps, method):
        return dict(item.split("=", 1) for item in studies.schedule_overrides(steps, method))

    assert overrides(600, "I1")["train.lr_boundaries"] == "[450, 540]"
    assert overrides(600, "I1")["train.heatmap_pretrain_steps"] == "200"
    assert overrides(600, "I1")["train.checkpoint_every_steps"] == "150"
    assert overrides(600, "Istar")["train.heatmap_pretrain_steps"] == "0"
    assert overrides(4, "I2")["train.lr_boundaries"] == "[3]"


def test_budgets_and_the_small_plan():
    assert studies.get_budget("quick").steps(1000) == 4
    assert studies.get_budget("small").steps(600) == 600
    assert studies.get_budget("full").steps(600) == 2400
    # Each study's small budget is planned under 50 minutes of training (idle 2-core estimate, data not included).
    for study in studies.STUDIES.values():
        planned = sum(studies.planned_seconds(config) for config in _configs(study).values())
        assert 30 * 60 < planned < 50 * 60, study.name


def test_unknown_names_are_errors_listing_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown study 'method'.*methods, resolution, strategy, backbones"):
        studies.get_study("method")
    with pytest.raises(ValueError, match=r"unknown budget 'large'.*quick, small, full"):
        studies.get_budget("large")
    assert studies.study_names("all") == tuple(studies.STUDIES)
    assert studies.study_names("strategy") == ("strategy",)
