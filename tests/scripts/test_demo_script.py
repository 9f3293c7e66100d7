"""scripts/demo.py --quick end to end (every stage on tiny sizes), and the results table of demo_lib."""
import pathlib
import re
import subprocess
import sys

import cv2
import pytest

from integral_keras.configs.experiment import load_experiment
from integral_keras.modeling.pose_model import export_name
from integral_keras.apps import demo as demo_lib
from integral_keras.visualization.panels import LEGEND_HEIGHT
from integral_keras.visualization.panels import TITLE_HEIGHT

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMAGE_SIZE = 64


@pytest.mark.slow
def test_quick_demo_runs_every_stage(tmp_path):
    work_dir, export_dir = tmp_path / "demo", tmp_path / "saved_models"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--quick", f"--work_dir={work_dir}",
         f"--export_dir={export_dir}", f"--image_size={IMAGE_SIZE}", "--num_overlays=1", "--tflite=float32"],
        capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]

    rows = [line for line in (work_dir / "results.md").read_text().splitlines() if line.startswith("| demo_")]
    names = tuple(export_name(load_experiment([str(ROOT / "configs" / f"demo_{kind}.yaml")])) for kind in ("2d", "3d"))
    assert names[0].startswith("demo_") and "_2d" in names[0] and "_3d" in names[1]
    assert [row.split("|")[1].strip() for row in rows] == list(names)
    for name, row in zip(names, rows):
        assert (export_dir / name / "1" / "saved_model.pb").is_file()
        assert (export_dir / name / "tflite" / f"{name}_float32.tflite").stat().st_size > 0
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        pck_05, pck_01, auc = (float(cells[i]) for i in (8, 9, 10))
        assert 0 <= pck_01 <= pck_05 <= 100 and 0 <= auc <= 100
        # A float32 .tflite computes the same graph as the SavedModel: joints agree to a small fraction of a pixel.
        assert float(re.search(r"float32 ([\d.]+)", cells[14]).group(1)) < 0.05
        assert cells[2] in ("float32", "bfloat16")  # the dtype that trained, never "none"
        # Prediction | ground truth, each panel enlarged to 256 px, with a title bar and a legend strip; a 3D
        # model's overlay adds its front and side views below.
        overlay = cv2.imread(str(work_dir / "overlays" / f"demo_overlay_{name}_0.png"))
        panels = TITLE_HEIGHT + 256 + LEGEND_HEIGHT
        assert overlay.shape == ((panels + int(512 * 0.6)) if "_3d" in name else panels, 512, 3)
        for figure in ("pck_curve.png", "loss_curve.png", "metrics.json"):
            assert (work_dir / "eval" / name / figure).stat().st_size > 0
    for figure in demo_lib.FIGURE_NAMES:
        assert cv2.imread(str(work_dir / "figures" / figure)) is not None, figure
    three_d = [cell.strip() for cell in rows[1].split("|")[1:-1]]
    assert float(three_d[12]) <= float(three_d[11])  # Procrustes alignment never increases the error
    assert [cell.strip() for cell in rows[0].split("|")[1:-1]][11] == "-"  # no MPJPE for a 2D model
    # Each model row is followed by its mean-pose floor on the same data (3D: MPJPE and PA-MPJPE too).
    lines = (work_dir / "results.md").read_text().splitlines()
    for row in rows:
        floor = [cell.strip() for cell in lines[lines.index(row) + 1].split("|")[1:-1]]
        assert floor[0] == "mean-pose floor" and 0 <= float(floor[8]) <= 100
    floor_3d = [cell.strip() for cell in lines[lines.index(rows[1]) + 1].split("|")[1:-1]]
    assert 0 < float(floor_3d[12]) <= float(floor_3d[11])


def test_results_table_formats_metrics_and_sizes():
    result = demo_lib.DemoResult(
        name="m", method="I1", precision="bfloat16", input_size=64, heatmap="16x16", steps=10, batch_size=4,
        train_seconds=20.0, images_per_second=2.0, metrics={"PCK@0.5": 81.25, "PCK@0.1": 30.0, "AUC": 55.55},
        export_path="x",
        export_bytes={"saved_model": 3_000_000, "float32": 2_500_000, "float16": 1_250_000,
                      "dynamic_int8": 625_000},
        tflite_max_error_px={"float32": 0.001, "dynamic_int8": 0.5}, overlays=[])
    header, rule, row = demo_lib.results_table([result]).splitlines()
    assert rule.count("---") == header.count("|") - 1
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells == ["m", "I1", "bfloat16", "64", "16x16", "10 x 4", "20", "2.0", "81.2", "30.0", "55.5", "-", "-",
                     "3.00 / 2.50 / 1.25 / 0.62", "float32 0.00, dynamic_int8 0.50"]


def test_stage_clock_estimates_time_left_from_shares(monkeypatch):
    times = iter([100.0, 100.0, 130.0])
    monkeypatch.setattr(demo_lib.time, "perf_counter", lambda: next(times))
    logged = []
    monkeypatch.setattr(demo_lib.logging, "info", lambda fmt, *args: logged.append(fmt % args))
    clock = demo_lib.StageClock(["a", "b"], [1.0, 3.0])
    clock.next()
    clock.next()
    # 30 s for the first quarter of the planned work -> 90 s left.
    assert logged == ["[demo 1/2] a (elapsed 0 s)", "[demo 2/2] b (elapsed 30 s, ETA 90 s)"]


def test_every_config_is_validated_before_anything_runs(tmp_path):
    from integral_keras.configs import ConfigError

    bad = tmp_path / "bad_3d.yaml"
    bad.write_text((ROOT / "configs" / "demo_3d.yaml").read_text().replace("\nmodel:\n", "\nmodel:\n  dpeth: 4\n", 1))
    assert "dpeth" in bad.read_text()
    settings = demo_lib.DemoSettings(work_dir=str(tmp_path / "demo"), export_dir=str(tmp_path / "exports"),
                                     configs=(str(ROOT / "configs" / "demo_2d.yaml"), str(bad)))
    with pytest.raises(ConfigError, match="dpeth"):
        demo_lib.run_demo(settings)
    assert not (tmp_path / "demo" / "data").exists()  # failed before generating data or training the 2D model


def test_the_budget_flag_offers_exactly_the_budgets_of_demo_lib():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--budget=nope"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode != 0
    offered = re.search(r"one of <([^>]*)>", result.stderr).group(1).split("|")
    assert sorted(offered) == sorted(demo_lib.BUDGETS)


def test_make_demo_full_runs_the_full_budget():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ndemo-full:"):].splitlines()[2]
    assert recipe.strip() == "$(PY) scripts/demo.py --budget=full"
    assert "demo-full" in makefile.splitlines()[[line.startswith(".PHONY") for line in makefile.splitlines()].index(True)]
