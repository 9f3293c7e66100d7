"""The study runner with injected train / data / floor functions (no training): resumability, progress lines,
refusal of an output directory made with other settings, and the files it writes."""
import json
import pathlib
import re

from absl import logging
import pytest

from integral_keras.apps.reproduction import claims
from integral_keras.apps.reproduction import runner
from integral_keras.apps.reproduction import studies

STUDY = "backbones"
FLOOR = {"PCK@0.5": 60.0, "PCK@0.1": 10.0, "AUC": 30.0, "num_examples": 8.0}


class FakeTrainer:
    """Records the runs it trains; returns `run_experiment`-like results (I1 better than H1 on ResNet-18 only)."""

    def __init__(self, fail_on=None, checkpoint_before_failing=False):
        self.calls = []
        self.fail_on = fail_on
        self.checkpoint_before_failing = checkpoint_before_failing

    def __call__(self, config, model_dir):
        name = pathlib.Path(model_dir).parent.name
        if name == self.fail_on:
            if self.checkpoint_before_failing:  # as the trainer leaves a killed run: its checkpoint index
                pathlib.Path(model_dir, "checkpoints").mkdir(parents=True)
                pathlib.Path(model_dir, "checkpoints", "checkpoint").write_text('model_checkpoint_path: "ckpt-4"\n')
            raise KeyboardInterrupt(f"interrupted during {name}")
        self.calls.append(name)
        pathlib.Path(model_dir).mkdir(parents=True, exist_ok=True)
        pathlib.Path(model_dir, "config.yaml").write_text(config.to_yaml())  # as run_experiment does
        good = config.model.method == "I1" and config.model.backbone == "resnet18"
        base = 40.0 if good else 30.0
        return {"loss": 1.0, "eval/loss": 2.0, "eval/PCK@0.5": base + 40, "eval/PCK@0.1": base,
                "eval/AUC": base + 20, "eval/num_examples": 8.0}


class StudyEnv:
    """Runs the study on `output_dir` with recorded data writes and floors instead of real ones."""

    def __init__(self, output_dir):
        self.output_dir = output_dir
        self.written, self.floors = [], []

    def write(self, directory, num_train, num_val, **kwargs):
        self.written.append((pathlib.Path(directory).name, num_train, num_val, kwargs["skeleton"], kwargs["with_3d"]))

    def floor(self, train, val, skeleton, root_joint=0):
        self.floors.append((tuple(train), tuple(val), skeleton, root_joint))
        return FLOOR

    def run(self, trainer, budget="small", **kwargs):
        return runner.run_study(STUDY, budget, self.output_dir, train_fn=trainer, write_fn=self.write,
                                floor_fn=self.floor, **kwargs)


@pytest.fixture
def study_env(tmp_path):
    return StudyEnv(str(tmp_path))


def test_finished_runs_are_not_trained_again(study_env):
    first = FakeTrainer()
    outcome = study_env.run(first)
    names = [run.name for run in studies.get_study(STUDY).runs]
    assert first.calls == names
    assert outcome.trained == names
    assert study_env.written == [("mpii", 4000, 400, "mpii", False)]
    assert len(study_env.floors) == 1
    record = json.loads(pathlib.Path(study_env.output_dir, STUDY, "runs", "resnet18_I1", "metrics.json").read_text())
    assert record["metrics"] == {"PCK@0.5": 80.0, "PCK@0.1": 40.0, "AUC": 60.0}
    assert record["budget"] == "small"

    second = FakeTrainer()
    again = study_env.run(second)
    assert second.calls == []  # nothing retrained: the train function is not called for a finished run
    assert again.skipped == names
    assert again.results == outcome.results
    assert len(study_env.written) == 1  # the data set is written once per output directory
    assert len(study_env.floors) == 1  # and its floor computed once


def test_an_interrupted_study_resumes_at_the_unfinished_run(study_env):
    with pytest.raises(KeyboardInterrupt):
        study_env.run(FakeTrainer(fail_on="resnet50_I1"))
    resumed = FakeTrainer()
    outcome = study_env.run(resumed)
    assert resumed.calls == ["resnet50_I1", "hourglass_H1", "hourglass_I1"]
    assert outcome.skipped == ["resnet18_H1", "resnet18_I1", "resnet50_H1"]
    assert len(outcome.results) == 6


def test_a_run_resumed_from_its_checkpoint_reports_no_training_time(study_env):
    with pytest.raises(KeyboardInterrupt):
        study_env.run(FakeTrainer(fail_on="resnet50_I1", checkpoint_before_failing=True))
    outcome = study_env.run(FakeTrainer())
    runs_dir = pathlib.Path(study_env.output_dir, STUDY, "runs")
    assert json.loads((runs_dir / "resnet50_I1" / "metrics.json").read_text())["resumed"] is True
    assert json.loads((runs_dir / "hourglass_H1" / "metrics.json").read_text())["resumed"] is False
    assert outcome.seconds["resnet50_I1"] is None  # its recorded time covers only the part after resuming
    assert outcome.seconds["hourglass_H1"] >= 0.0
    row = next(line for line in pathlib.Path(outcome.paths["markdown"]).read_text().splitlines()
               if line.startswith("| resnet50_I1 |"))
    assert [cell.strip() for cell in row.split("|")][7] == "resumed"


def test_results_files_verdicts_and_floor(study_env):
    outcome = study_env.run(FakeTrainer(), command="python scripts/reproduce.py --study=backbones")
    statuses = {v.claim.split(":")[0]: v.status for v in outcome.verdicts}
    assert statuses == {"resnet18": claims.HELD, "resnet50": claims.NOT_HELD, "hourglass": claims.NOT_HELD}
    assert outcome.floors == {"2d": {k: v for k, v in FLOOR.items() if k != "num_examples"}}
    markdown = pathlib.Path(outcome.paths["markdown"]).read_text()
    assert "| mean-pose floor |" in markdown
    assert ("- resnet18: I1 beats H1 on PCK@0.1 and AUC: held (PCK@0.1: resnet18_I1 40.0 vs resnet18_H1 30.0; "
            "AUC: resnet18_I1 60.0 vs resnet18_H1 50.0)") in markdown
    assert "python scripts/reproduce.py --study=backbones" in markdown
    saved = json.loads(pathlib.Path(outcome.paths["json"]).read_text())
    assert [v["status"] for v in saved["verdicts"]] == [claims.HELD, claims.NOT_HELD, claims.NOT_HELD]
    assert pathlib.Path(outcome.paths["plot"]).stat().st_size > 1000


def test_progress_lines_name_each_run_with_elapsed_and_eta(study_env, caplog):
    logging.get_absl_logger().propagate = True
    with caplog.at_level("INFO"):
        study_env.run(FakeTrainer())
        study_env.run(FakeTrainer(), run_names=["hourglass_I1"])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[run ")]
    assert len(lines) == 7
    assert re.match(r"^\[run 1/6\] backbones/resnet18_H1 \(resnet18, H1; 850 steps of 32\) "
                    r"elapsed \d+m\d\ds, ETA \d+m\d\ds$", lines[0]), lines[0]
    assert lines[5].startswith("[run 6/6] backbones/hourglass_I1 ")
    assert re.match(r"^\[run 1/1\] backbones/hourglass_I1 .*: finished before, metrics kept \(skipped\)$",
                    lines[6]), lines[6]


def test_progress_clock_scales_the_plan_by_the_measured_speed():
    now = [0.0]
    clock = runner.ProgressClock([100.0, 100.0, 200.0], clock=lambda: now[0])
    assert clock.line(0, "a") == "[run 1/3] a elapsed 0m00s, ETA 6m40s"
    now[0] = 200.0
    clock.record(0, 200.0)  # twice as slow as planned: the 300 s left become 600 s
    assert clock.line(1, "b") == "[run 2/3] b elapsed 3m20s, ETA 10m00s"


def test_selected_runs_only(study_env):
    trainer = FakeTrainer()
    outcome = study_env.run(trainer, run_names=["hourglass_I1", "resnet18_I1"])
    assert trainer.calls == ["resnet18_I1", "hourglass_I1"]  # in study order
    assert sorted(outcome.results) == ["hourglass_I1", "resnet18_I1"]
    assert claims.NOT_MEASURED in [v.status for v in outcome.verdicts]
    with pytest.raises(runner.StudyError, match=r"--runs: \['resnet101_I1'\] not in study 'backbones'"):
        study_env.run(trainer, run_names=["resnet101_I1"])


def test_an_output_dir_of_another_budget_is_refused(study_env):
    with pytest.raises(KeyboardInterrupt):  # the data is written, no run finished
        study_env.run(FakeTrainer(fail_on="resnet18_H1"))
    with pytest.raises(runner.StudyError, match=r"data set 'mpii' written with .*use another --output_dir"):
        study_env.run(FakeTrainer(), budget="full")
    study_env.run(FakeTrainer(), run_names=["resnet18_H1"])
    trainer = FakeTrainer()
    with pytest.raises(runner.StudyError, match=r"run 'resnet18_H1' finished with another configuration \(budget "
                                                r"'small'\): use another --output_dir"):
        study_env.run(trainer, budget="full")
    assert trainer.calls == []
    # A finished run whose configuration changed (here: its recorded config edited) is refused, not reused.
    path = pathlib.Path(study_env.output_dir, STUDY, "runs", "resnet18_H1", "metrics.json")
    record = json.loads(path.read_text())
    record["config"] = record["config"].replace("total_steps: 850", "total_steps: 851")
    path.write_text(json.dumps(record))
    with pytest.raises(runner.StudyError, match=r"run 'resnet18_H1' finished with another configuration"):
        study_env.run(FakeTrainer())


def test_a_half_finished_run_of_another_configuration_is_refused(study_env):
    model_dir = pathlib.Path(study_env.output_dir, STUDY, "runs", "resnet18_H1", "model")
    model_dir.mkdir(parents=True)
    (model_dir / "config.yaml").write_text("model: {}\n")
    trainer = FakeTrainer()
    with pytest.raises(runner.StudyError, match=r"half-finished run 'resnet18_H1' of another configuration"):
        study_env.run(trainer)
    assert trainer.calls == []


class SeedRecorder(FakeTrainer):
    """A `FakeTrainer` that also records each run's `train.seed` and `data.seed`."""

    def __init__(self):
        super().__init__()
        self.seeds = {}

    def __call__(self, config, model_dir):
        self.seeds[pathlib.Path(model_dir).parent.name] = (config.train.seed, config.data.seed)
        return super().__call__(config, model_dir)


def test_a_seed_repeat_trains_with_that_seed_beside_seed_zero_on_the_same_data(study_env):
    first = SeedRecorder()
    study_env.run(first, run_names=["resnet18_H1"])
    assert first.seeds == {"resnet18_H1": (0, 0)}  # the configs' own seeds
    repeat = SeedRecorder()
    outcome = study_env.run(repeat, run_names=["resnet18_H1", "resnet18_I1"], seed=3)
    assert repeat.seeds == {"resnet18_H1": (3, 3), "resnet18_I1": (3, 3)}  # seed 0's finished run is not reused
    root = pathlib.Path(study_env.output_dir)
    assert sorted(p.name for p in (root / "backbones_seed3" / "runs").iterdir()) == ["resnet18_H1", "resnet18_I1"]
    assert sorted(p.name for p in (root / "backbones" / "runs").iterdir()) == ["resnet18_H1"]
    assert len(study_env.written) == 1 and len(study_env.floors) == 1  # data and floor shared with seed 0
    assert json.loads(pathlib.Path(outcome.paths["json"]).read_text())["seed"] == 3
    assert pathlib.Path(outcome.paths["markdown"]).read_text().startswith(
        "## Study `backbones` (paper Table 3), budget `small`, seed 3\n")
    again = SeedRecorder()
    assert study_env.run(again, run_names=["resnet18_H1"], seed=3).skipped == ["resnet18_H1"]
    assert again.seeds == {}
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        study_env.run(FakeTrainer(), seed=-1)
