"""Markdown results of a study: one table per part (its runs, then the mean-pose floor of the same data, then the
paper's numbers for the same rows) and the verdict lines of its claims."""
import math
from typing import Mapping, Optional, Sequence

from integral_keras.apps.reproduction import paper
from integral_keras.apps.reproduction import studies

FLOOR_LABEL = "mean-pose floor"
NOT_RUN = "-"
RESUMED = "resumed"  # a run continued from a checkpoint: its recorded seconds cover only the last part


def _cell(value: Optional[float]) -> str:
    return NOT_RUN if value is None or not math.isfinite(value) else f"{value:.1f}"


def _label_keys(study: studies.Study, part: studies.Part) -> Sequence[str]:
    keys = []
    for run in study.runs:
        if run.part == part.key:
            keys += [key for key in run.labels if key not in keys]
    return keys


def _units(metric: str) -> str:
    return f"{metric} mm" if metric in ("MPJPE", "PA-MPJPE") else metric


def part_table(study: studies.Study, part: studies.Part, results: Mapping[str, Mapping[str, float]],
               floor: Optional[Mapping[str, float]], seconds: Mapping[str, float] = None, paper_dir=None) -> str:
    """The markdown table of one part.

    Args:
      study: the study.
      part: one of its parts.
      results: run name -> metrics (percent / mm); a run not in it prints `-` (not run yet).
      floor: the mean-pose baseline of the part's data (`evaluation.mean_pose_metrics`), or None (not computed).
      seconds: run name -> training seconds (wall clock, evaluation included); None for a run resumed from a
        checkpoint, whose cell says `RESUMED` (its recorded time covers only the part after resuming).
      paper_dir: `configs/paper/` (default `studies.PAPER_DIR`).

    Returns:
      `| run | <labels> | <metrics> | train s | paper row | paper <metric> ... |`, one row per run of the part, then
      the `FLOOR_LABEL` row with the floor's metrics in the same columns.
    """
    paper_dir = studies.PAPER_DIR if paper_dir is None else paper_dir
    seconds = seconds or {}
    labels = _label_keys(study, part)
    paper_names = [paper.PAPER_METRIC[m][0] for m in part.metrics]
    header = (["run", *labels, *(_units(m) for m in part.metrics), "train s", "paper row"]
              + [f"paper {name}" for name in paper_names])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in study.runs:
        if run.part != part.key:
            continue
        metrics = results.get(run.name, {})
        reference = paper.paper_reference(run.paper_config, paper_dir)
        cells = paper.paper_cells(reference, part.metrics)
        row = [run.name, *(run.labels.get(key, "") for key in labels),
               *(_cell(metrics.get(m)) for m in part.metrics),
               _seconds_cell(seconds, run.name),
               paper.row_label(reference), *(cells[m] for m in part.metrics)]
        lines.append("| " + " | ".join(row) + " |")
    floor_row = [FLOOR_LABEL, *([""] * len(labels)),
                 *(_cell((floor or {}).get(m)) for m in part.metrics), "", "", *([""] * len(part.metrics))]
    lines.append("| " + " | ".join(floor_row) + " |")
    return "\n".join(lines)


def _seconds_cell(seconds: Mapping[str, Optional[float]], name: str) -> str:
    if name not in seconds:
        return NOT_RUN
    return RESUMED if seconds[name] is None else f"{seconds[name]:.0f}"


def verdict_lines(verdicts: Sequence) -> str:
    """A markdown list, one `claims.Verdict.line()` per claim."""
    return "\n".join(f"- {verdict.line()}" for verdict in verdicts)


def study_markdown(study: studies.Study, budget: str, results: Mapping[str, Mapping[str, float]],
                   floors: Mapping[str, Mapping[str, float]], verdicts: Sequence, seconds: Mapping[str, float] = None,
                   plot_name: Optional[str] = None, command: str = "", paper_dir=None, seed: int = 0) -> str:
    """The whole results file of a study: description, each part's table, the plot and the verdicts.

    Args:
      floors: part key -> mean-pose metrics of its data.
      plot_name: file name of the study's plot (next to the markdown file), if written.
      command: the command that made the results (printed first).
      seed: 0 for the configs' own seeds, else the `train.seed` / `data.seed` of this repeat (named in the title).
    """
    steps = studies.get_budget(budget).steps(study.small_steps)
    repeat = f", seed {seed}" if seed else ""
    lines = [f"## Study `{study.name}` (paper {study.paper_tables}), budget `{budget}`{repeat}", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += [study.description, "", f"Every run: {steps} training steps; metrics on the held-out split. The "
              "synthetic 2D metric is the torso PCK (percent); the paper's is MPII's PCKh, Human3.6M's MPJPE "
              f"is in mm under its protocol: the paper's columns are for reference, `{paper.NOT_TRANSCRIBED}` "
              "where `configs/paper/` has no transcribed number.", ""]
    for part in study.parts:
        lines += [f"### {part.title}", "", part_table(study, part, results, floors.get(part.key), seconds,
                                                      paper_dir), ""]
    if plot_name:
        lines += [f"![{study.name}]({plot_name})", ""]
    lines += ["### The paper's claims on this data", "", verdict_lines(verdicts), ""]
    return "\n".join(lines)
