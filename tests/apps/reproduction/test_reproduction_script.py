"""scripts/reproduce.py: one-line errors for a bad --study / --budget, and a --quick smoke run (two runs of the
smallest study, real training) that writes the tables, the plot and the verdicts, then resumes without retraining."""
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "reproduce.py"


def _reproduce(*args, timeout=600):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


@pytest.mark.parametrize("args, message", [
    (["--study=method"], "reproduce.py: usage error: --study: unknown study 'method'; valid studies: methods, "
                         "resolution, strategy, backbones (or 'all')"),
    (["--study=methods", "--budget=large"], "reproduce.py: usage error: --budget: unknown budget 'large'; valid "
                                            "budgets: small, full (or --quick)"),
    (["--study=all", "--runs=H1"], "reproduce.py: usage error: --runs needs one --study, not 'all'"),
    (["--study=methods", "--runs=H4"], "reproduce.py: error: --runs: ['H4'] not in study 'methods'"),
])
def test_bad_flags_are_one_line(tmp_path, args, message):
    result = _reproduce(*args, f"--output_dir={tmp_path}", timeout=300)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("reproduce.py:")]
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_quick_study_writes_results_and_resumes(tmp_path):
    runs = "resnet18_H1,resnet18_I1"
    args = ["--study=backbones", "--quick", f"--output_dir={tmp_path}", f"--runs={runs}"]
    result = _reproduce(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[run 1/2] backbones/resnet18_H1 (resnet18, H1; 4 steps of 4) elapsed" in result.stderr
    assert "[run 2/2] backbones/resnet18_I1" in result.stderr
    study_dir = tmp_path / "backbones"
    for run in runs.split(","):
        record = json.loads((study_dir / "runs" / run / "metrics.json").read_text())
        assert set(record["metrics"]) == {"PCK@0.5", "PCK@0.1", "AUC"}
        assert 0 <= record["metrics"]["PCK@0.1"] <= record["metrics"]["PCK@0.5"] <= 100
        assert record["budget"] == "quick"
    markdown = (study_dir / "results.md").read_text()
    assert markdown in result.stdout  # the binary prints the results file
    rows = {line.split("|")[1].strip(): line for line in markdown.splitlines() if line.startswith("| ")}
    floor = [cell.strip() for cell in rows["mean-pose floor"].split("|")[1:-1]]
    assert 0 < float(floor[3]) <= 100  # PCK@0.5 of the mean pose on the same held-out data
    assert "not transcribed" in rows["resnet18_H1"]
    # The ResNet-18 claim is decided from the two runs; the other backbones were not run.
    assert "- resnet18: I1 beats H1 on PCK@0.1 and AUC: " in markdown
    assert "- resnet50: I1 beats H1 on PCK@0.1 and AUC: not measured" in markdown
    assert (study_dir / "backbones.png").stat().st_size > 1000
    verdicts = json.loads((study_dir / "results.json").read_text())["verdicts"]
    assert verdicts[0]["status"] in ("held", "not held on this data")

    again = _reproduce(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("finished before, metrics kept (skipped)") == 2
    assert "Saved checkpoint" not in again.stderr  # nothing trained
