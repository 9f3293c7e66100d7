"""scripts/evaluate.py end to end: a tiny model on a tiny synthetic set (subprocess), and --compare."""
import json
import pathlib
import subprocess
import sys

import cv2
import keras
import pytest
import tensorflow as tf

from integral_keras.configs.experiment import load_experiment
from integral_keras.data.synthetic import file_pattern, write_dataset
from integral_keras.evaluation import protocols
from integral_keras.serving import predict_fns
from integral_keras.evaluation import report
from integral_keras.models import build_pose_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
NUM_VAL = 5


def _run(*args, check=True):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), *args], capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def run_files(tmp_path_factory):
    work = tmp_path_factory.mktemp("evaluate")
    write_dataset(str(work / "synthetic"), 0, NUM_VAL, image_size=64, num_shards=1)
    overrides = ["model.input_size=64", "model.heatmap_size=16", "model.deconv_filters=8",
                 f"data.val_file_pattern=[{file_pattern(str(work / 'synthetic'), 'val')}]", "data.eval_batch_size=2"]
    config = load_experiment([str(ROOT / "configs" / "synthetic_2d.yaml")], overrides)
    keras.utils.set_random_seed(0)
    model = build_pose_model(config.model)
    # Saved like the trainer does (`tf.train.Checkpoint(model=...)` in <model_dir>/checkpoints) and as `.keras`.
    tf.train.CheckpointManager(tf.train.Checkpoint(model=model), str(work / "checkpoints"), max_to_keep=1).save()
    model.save(work / "tiny.keras")
    return {"work": work, "overrides": ",".join(overrides), "config": config, "model": model}


def test_evaluate_writes_metrics_table_and_curve(run_files):
    work = run_files["work"]
    out = work / "I1_tiny"
    result = _run("--config_file=configs/synthetic_2d.yaml", f"--params_override={run_files['overrides']}",
                  f"--checkpoint={work / 'checkpoints'}", "--flip_test", f"--output_dir={out}")
    with open(out / "metrics.json") as f:
        metrics = json.load(f)
    assert metrics["dataset"] == "synthetic"  # from the records' dataset feature
    assert metrics["num_examples"] == NUM_VAL and metrics["flip_test"] is True
    assert len(metrics["curve"]) == 51 and 0.0 <= metrics["PCK@0.5"] <= 100.0
    table = (out / "metrics.md").read_text()
    assert table.startswith("| Run | PCK@0.5 |") and "| I1_tiny |" in table
    assert table in result.stdout
    assert cv2.imread(str(out / "pck_curve.png")) is not None
    # The script evaluates the restored weights exactly like the library call with the same model.
    expected = protocols.run_benchmark(run_files["config"],
                                       predict_fns.model_predict_fn(run_files["model"], run_files["config"].model),
                                       flip_test=True)
    for key in ("PCK@0.5", "PCK@0.1", "AUC"):
        assert metrics[key] == pytest.approx(expected[key], abs=1e-6)


def test_evaluate_a_keras_file_on_part_of_the_records(run_files, tmp_path):
    _run("--config_file=configs/synthetic_2d.yaml", f"--params_override={run_files['overrides']}",
         f"--model_path={run_files['work'] / 'tiny.keras'}", "--dataset=synthetic", "--max_batches=1",
         "--label=keras_file", f"--output_dir={tmp_path}")
    with open(tmp_path / "metrics.json") as f:
        metrics = json.load(f)
    assert metrics["num_examples"] == 2 and metrics["flip_test"] is False  # one batch of eval_batch_size 2
    assert "| keras_file |" in (tmp_path / "metrics.md").read_text()


def test_compare_plots_several_runs(run_files, tmp_path):
    runs = []
    for name, value in (("H1", 20.0), ("I1", 60.0)):
        metrics = {"dataset": "mpii", "AUC": value, "thresholds": [0.0, 0.25, 0.5], "curve": [0.0, value, value]}
        runs.append(report.write_metrics_json(metrics, tmp_path / name / "metrics.json"))
    _run(f"--compare={','.join(runs)}", f"--output_dir={tmp_path / 'fig2'}")
    assert cv2.imread(str(tmp_path / "fig2" / "pck_curves.png")) is not None


def test_evaluate_refuses_an_untrained_model(run_files, tmp_path):
    result = _run("--config_file=configs/synthetic_2d.yaml", f"--output_dir={tmp_path}", check=False)
    assert result.returncode != 0 and "--checkpoint, --model_path" in result.stderr
