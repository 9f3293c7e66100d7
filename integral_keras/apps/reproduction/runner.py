"""Runs a study: writes its data once, computes the floors, trains every run (resumably), then writes the results.

Layout under `output_dir`:
- `data/<name>/` the synthetic records of `studies.DATA_SETS` (`train-*`, `val-*`), `data.json` (what was written;
  a later call with other sizes is refused) and `mean_pose.json` (the floor, `evaluation.mean_pose_metrics`);
- `<study>/runs/<run>/model/` the run's checkpoints and summaries (`run_experiment`: a half-finished run resumes
  from its last checkpoint) and `<study>/runs/<run>/metrics.json` once it has finished (a run with this file is
  not trained again; a file made with another configuration is refused, naming the run);
- `<study>/results.md`, `<study>/results.json`, `<study>/<study>.png`: the tables, the paper's numbers, the
  verdicts and the plot.

A study repeated with another seed (`seed=1`, ...: `train.seed` and `data.seed`, so other initial weights and
another order and augmentation of the same records) lives in `<study>_seed<N>/` beside the seed-0 one, on the same
data and floors: comparing the two measures how far one seed per run moves a result.

Each run logs a progress line `[run i/n] <study>/<run> (...) elapsed .., ETA ..`; the ETA comes from the planned
idle seconds of the runs left (`studies.planned_seconds`), scaled by how long the runs trained so far took against
their plan.
"""
import dataclasses
import datetime
import json
import os
import pathlib
import time
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from absl import logging

from integral_keras.apps.reproduction import claims as claims_lib
from integral_keras.apps.reproduction import plots
from integral_keras.apps.reproduction import studies
from integral_keras.apps.reproduction import tables
from integral_keras.configs.experiment import load_experiment
from integral_keras.data.synthetic import generator as synthetic
from integral_keras.errors import UserError

TrainFn = Callable[[object, str], Mapping[str, float]]  # (config, model_dir) -> run_experiment's results
WriteFn = Callable[..., object]  # synthetic.write_dataset's signature
FloorFn = Callable[..., Mapping[str, float]]  # evaluation.mean_pose_metrics's signature
METRIC_KEYS = studies.METRICS_2D + studies.METRICS_3D


class StudyError(UserError, ValueError):
    """An output directory made with other settings, or a bad `--runs` selection; the message says what to do."""


@dataclasses.dataclass
class StudyOutcome:
    """What `run_study` measured and wrote.

    Attributes:
      study: the study.
      budget: the budget's name.
      results: run name -> metrics (percent / mm) of every finished run.
      seconds: run name -> wall-clock seconds of its training and evaluation (as recorded when it finished), or
        None for a run resumed from a checkpoint (its recorded time covers only the part after resuming).
      floors: part key -> the mean-pose metrics of its data.
      verdicts: one per claim of the study.
      trained: runs trained (or resumed) in this call; skipped: runs finished before it.
      paths: `markdown`, `json`, `plot` -> the files written.
    """

    study: studies.Study
    budget: str
    results: Dict[str, Dict[str, float]]
    seconds: Dict[str, Optional[float]]
    floors: Dict[str, Dict[str, float]]
    verdicts: Tuple[claims_lib.Verdict, ...]
    trained: List[str]
    skipped: List[str]
    paths: Dict[str, str]


def default_train(config, model_dir: str) -> Mapping[str, float]:
    """`run_experiment(config, model_dir, "train_and_eval")` (resumes from the checkpoint in `model_dir`)."""
    from integral_keras.training.runner import run_experiment  # pylint: disable=import-outside-toplevel

    return run_experiment(config, model_dir, "train_and_eval")


def _default_floor(*args, **kwargs):
    from integral_keras.evaluation import baseline  # pylint: disable=import-outside-toplevel

    return baseline.mean_pose_metrics(*args, **kwargs)


def data_dir(output_dir, name: str) -> str:
    return os.path.join(os.fspath(output_dir), "data", name)


def _read_json(path: pathlib.Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: pathlib.Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)  # never a half-written file: a crash leaves the old one or none


def prepare_data(output_dir, name: str, budget: studies.Budget, write_fn: Optional[WriteFn] = None) -> str:
    """Writes data set `name` (`studies.DATA_SETS`) at the budget's sizes unless it is there; returns its folder.

    Raises:
      StudyError: the folder holds the data set written with other sizes (another budget).
    """
    spec = studies.DATA_SETS[name]
    directory = data_dir(output_dir, name)
    marker = pathlib.Path(directory, "data.json")
    wanted = {"name": name, "skeleton": spec.skeleton, "with_3d": spec.with_3d, "seed": spec.seed,
              "num_train": budget.num_train, "num_val": budget.num_val, "image_size": budget.image_size}
    if marker.is_file():
        found = _read_json(marker)
        if found != wanted:
            raise StudyError(f"{directory} holds data set {name!r} written with {found}, not {wanted} (budget "
                             f"{budget.name!r}): use another --output_dir for this budget")
        return directory
    started = time.perf_counter()
    pathlib.Path(directory, "mean_pose.json").unlink(missing_ok=True)  # a floor of an interrupted earlier write
    (write_fn or synthetic.write_dataset)(directory, budget.num_train, budget.num_val, image_size=budget.image_size,
                                 skeleton=spec.skeleton, seed=spec.seed, num_shards=2, with_3d=spec.with_3d)
    _write_json(marker, wanted)
    logging.info("Wrote data set %s (%d train + %d held-out images of %d px, %s skeleton%s) in %.0f s.", name,
                 budget.num_train, budget.num_val, budget.image_size, spec.skeleton,
                 "" if spec.with_3d else ", 2D-only", time.perf_counter() - started)
    return directory


def floor_metrics(output_dir, name: str, floor_fn: Optional[FloorFn] = None) -> Dict[str, float]:
    """The mean-pose baseline of data set `name` (train mean pose on its held-out split), kept in
    `data/<name>/mean_pose.json`."""
    directory = data_dir(output_dir, name)
    path = pathlib.Path(directory, "mean_pose.json")
    if path.is_file():
        return _read_json(path)
    patterns = {split: [synthetic.file_pattern(directory, split)] for split in synthetic.SPLITS}
    metrics = (floor_fn or _default_floor)(patterns["train"], patterns["val"], studies.DATA_SETS[name].skeleton,
                                           root_joint=0)
    floor = {key: float(metrics[key]) for key in METRIC_KEYS if key in metrics}
    _write_json(path, floor)
    logging.info("Mean-pose floor of %s: %s", name, {k: round(v, 1) for k, v in floor.items()})
    return floor


def study_dir_name(study_name: str, seed: int = 0) -> str:
    """`<study>` for seed 0 (the configs' own seed), `<study>_seed<N>` for a repeat with seed N."""
    return study_name if seed == 0 else f"{study_name}_seed{seed}"


def run_config(study: studies.Study, run: studies.RunSpec, budget: studies.Budget, output_dir, seed: int = 0):
    """The validated `ExperimentConfig` of one run: the part's base YAML, the data of this output directory, the
    budget's schedule (`studies.schedule_overrides`), the run's own overrides, then `seed` (when not 0) as
    `train.seed` and `data.seed`."""
    part = study.part(run.part)
    directory = data_dir(output_dir, part.data)
    overrides = [f"data.train_file_pattern=[{synthetic.file_pattern(directory, 'train')}]",
                 f"data.val_file_pattern=[{synthetic.file_pattern(directory, 'val')}]",
                 *studies.schedule_overrides(budget.steps(study.small_steps), run.method)]
    if run.mix_2d:
        mix = studies.DATA_SETS[part.mix_2d_data]
        mix_pattern = synthetic.file_pattern(data_dir(output_dir, mix.name), "train")
        overrides += [f"data.mix_2d_file_pattern=[{mix_pattern}]",
                      f"data.mix_2d_skeleton={mix.skeleton}"]
    if budget.name == "quick":
        overrides += studies.QUICK_OVERRIDES
    overrides += run.overrides
    if budget.name == "quick" and "model.backbone=hourglass" in run.overrides:
        overrides.append("model.hourglass_features=32")
    if seed:
        overrides += [f"train.seed={seed}", f"data.seed={seed}"]
    return load_experiment([str(studies.CONFIG_DIR / part.base_config)], overrides)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s"


class ProgressClock:
    """The `[run i/n]` lines: elapsed time, and the ETA of the runs left from their planned seconds, scaled by the
    measured / planned time of the runs trained so far."""

    def __init__(self, planned: Sequence[float], clock: Callable[[], float] = time.perf_counter,
                 start: Optional[float] = None):
        self.planned = list(planned)
        self.clock = clock
        self.start = clock() if start is None else start
        self.spent = 0.0  # measured seconds of the runs trained so far
        self.spent_plan = 0.0  # their planned seconds

    def line(self, index: int, label: str) -> str:
        """The progress line before run `index` (0-based)."""
        left = sum(self.planned[index:])
        scale = self.spent / self.spent_plan if self.spent_plan > 0 else 1.0
        return (f"[run {index + 1}/{len(self.planned)}] {label} elapsed {_duration(self.clock() - self.start)}, "
                f"ETA {_duration(left * scale)}")

    def record(self, index: int, seconds: float) -> None:
        self.spent += seconds
        self.spent_plan += self.planned[index]


def _eval_metrics(results: Mapping[str, float]) -> Dict[str, float]:
    return {key[len("eval/"):]: float(value) for key, value in results.items()
            if key.startswith("eval/") and key[len("eval/"):] in METRIC_KEYS}


def _finished(path: pathlib.Path, run: studies.RunSpec, config_yaml: str) -> Optional[Dict]:
    """The record of a finished run, or None; refuses a record made with another configuration."""
    if not path.is_file():
        return None
    record = _read_json(path)
    if record.get("config") != config_yaml:
        raise StudyError(f"{path} holds run {run.name!r} finished with another configuration (budget "
                         f"{record.get('budget')!r}): use another --output_dir, or delete {path.parent} to retrain it")
    return record


def _check_model_dir(model_dir: pathlib.Path, run: studies.RunSpec, config_yaml: str) -> None:
    """A half-finished run resumes only from checkpoints of the same configuration."""
    saved = model_dir / "config.yaml"
    if saved.is_file() and saved.read_text(encoding="utf-8") != config_yaml:
        raise StudyError(f"{model_dir} holds a half-finished run {run.name!r} of another configuration: use another "
                         f"--output_dir, or delete {model_dir} to start it again")


def select_runs(study: studies.Study, names: Optional[Sequence[str]]) -> Tuple[studies.RunSpec, ...]:
    """The study's runs, or those named (in study order).

    Raises:
      StudyError: a name that is not a run of the study (the message lists them).
    """
    if not names:
        return study.runs
    valid = [run.name for run in study.runs]
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise StudyError(f"--runs: {unknown} not in study {study.name!r}; its runs are {valid}")
    return tuple(run for run in study.runs if run.name in names)


def run_study(name: str, budget: str, output_dir, train_fn: Optional[TrainFn] = None,
              write_fn: Optional[WriteFn] = None, floor_fn: Optional[FloorFn] = None,
              run_names: Optional[Sequence[str]] = None, command: str = "", seed: int = 0) -> StudyOutcome:
    """Runs study `name` at `budget` under `output_dir` (see the module docstring) and writes its results.

    Args:
      name: a key of `studies.STUDIES`.
      budget: `quick`, `small` or `full`.
      output_dir: data, runs and results go here; rerunning the same call resumes it.
      train_fn: trains and evaluates one run, `(config, model_dir) -> results` with `eval/<metric>` keys; default
        `run_experiment(..., "train_and_eval")`.
      write_fn: writes a data set, `synthetic.write_dataset`'s signature (default that function).
      floor_fn: the mean-pose baseline, `evaluation.mean_pose_metrics`'s signature (default that function).
      run_names: train only these runs (the others are reported if finished before); default all.
      command: the command line, printed at the head of the results file.
      seed: 0 runs the configs as they are, under `<study>/`; another value repeats the study with that
        `train.seed` and `data.seed` under `<study>_seed<N>/` (same data and floors).

    Raises:
      ValueError: unknown study or budget (names the valid ones), a negative seed; `StudyError`: see
        `prepare_data`, `select_runs`.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    study = studies.get_study(name)
    sizes = studies.get_budget(budget)
    selected = select_runs(study, run_names)
    started = time.perf_counter()
    study_dir = pathlib.Path(output_dir, study_dir_name(study.name, seed))
    # Every config is built (validated) and every finished run checked first: a bad setting fails in seconds.
    configs = {run.name: run_config(study, run, sizes, output_dir, seed) for run in study.runs}
    finished = {run.name: _finished(study_dir / "runs" / run.name / "metrics.json", run,
                                    configs[run.name].to_yaml()) for run in study.runs}
    for key in study.data_sets():
        prepare_data(output_dir, key, sizes, write_fn)
    floors = {part.key: floor_metrics(output_dir, part.data, floor_fn) for part in study.parts}
    results, seconds, trained, skipped = {}, {}, [], []
    clock = ProgressClock([0.0 if finished[run.name] else studies.planned_seconds(configs[run.name])
                           for run in selected], start=started)
    for index, run in enumerate(selected):
        config = configs[run.name]
        run_dir = study_dir / "runs" / run.name
        config_yaml = config.to_yaml()
        label = (f"{study.name}/{run.name} ({', '.join(run.labels.values())}; {config.train.total_steps} steps of "
                 f"{config.data.batch_size})")
        if finished[run.name] is not None:
            logging.info("%s: finished before, metrics kept (skipped)", clock.line(index, label))
            skipped.append(run.name)
            continue
        logging.info("%s", clock.line(index, label))
        _check_model_dir(run_dir / "model", run, config_yaml)
        resumed = (run_dir / "model" / "checkpoints" / "checkpoint").is_file()
        run_started = time.perf_counter()
        metrics = _eval_metrics((train_fn or default_train)(config, str(run_dir / "model")))
        took = time.perf_counter() - run_started
        clock.record(index, took)
        _write_json(run_dir / "metrics.json", {
            "study": study.name, "run": run.name, "budget": budget, "labels": run.labels, "metrics": metrics,
            "seconds": took, "resumed": resumed, "finished": datetime.datetime.now().isoformat(timespec="seconds"),
            "config": config_yaml})
        logging.info("%s/%s done in %s: %s", study.name, run.name, _duration(took),
                     {k: round(v, 1) for k, v in metrics.items()})
        trained.append(run.name)
    for run in study.runs:  # every finished run counts, also those not selected in this call
        record = finished[run.name] or _finished(study_dir / "runs" / run.name / "metrics.json", run,
                                                 configs[run.name].to_yaml())
        if record is not None:
            results[run.name] = record["metrics"]
            seconds[run.name] = None if record.get("resumed") else record["seconds"]
    verdicts = claims_lib.evaluate_claims(study.claims, results)
    paths = write_results(study, budget, results, seconds, floors, verdicts, study_dir, command, seed)
    for verdict in verdicts:
        logging.info("Claim: %s", verdict.line())
    logging.info("Study %s finished in %s (%d runs trained, %d kept): %s", study.name,
                 _duration(time.perf_counter() - started), len(trained), len(skipped), paths["markdown"])
    return StudyOutcome(study, budget, results, seconds, floors, verdicts, trained, skipped, paths)


def write_results(study: studies.Study, budget: str, results, seconds, floors, verdicts, study_dir,
                  command: str = "", seed: int = 0) -> Dict[str, str]:
    """Writes `results.md` (tables, paper numbers, verdicts), `results.json` and `<study>.png`; returns the paths."""
    study_dir = pathlib.Path(study_dir)
    study_dir.mkdir(parents=True, exist_ok=True)
    plot_path = study_dir / f"{study.name}.png"
    plots.plot_study(study, results, floors, str(plot_path))
    markdown = tables.study_markdown(study, budget, results, floors, verdicts, seconds, plot_path.name, command,
                                     seed=seed)
    (study_dir / "results.md").write_text(markdown, encoding="utf-8")
    _write_json(study_dir / "results.json", {
        "study": study.name, "budget": budget, "seed": seed, "results": results, "seconds": seconds, "floors": floors,
        "verdicts": [dataclasses.asdict(v) for v in verdicts]})
    return {"markdown": str(study_dir / "results.md"), "json": str(study_dir / "results.json"),
            "plot": str(plot_path)}
