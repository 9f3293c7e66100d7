"""scripts/train.py end to end on a few synthetic TFRecords: flags, config merge, training, evaluation, summaries."""
import glob
import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from integral_keras.data.synthetic import write_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tags(directory):
    tags = set()
    for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


@pytest.mark.slow
def test_train_script_trains_evaluates_and_checkpoints(tmp_path):
    write_dataset(str(tmp_path / "data"), num_train=6, num_val=4, image_size=96, num_shards=1)
    overrides = ",".join([
        f"data.train_file_pattern={tmp_path}/data/train-*", f"data.val_file_pattern={tmp_path}/data/val-*",
        "model.input_size=64", "model.heatmap_size=16", "model.deconv_filters=16", "data.batch_size=2",
        "data.eval_batch_size=2", "data.shuffle_buffer=4", "train.total_steps=4", "train.steps_per_epoch=4",
        "train.heatmap_pretrain_steps=2", "train.log_every_steps=2", "eval.max_batches=2"])
    command = [sys.executable, "scripts/train.py", "--config_file=configs/synthetic_2d.yaml",
               f"--model_dir={tmp_path / 'run'}", f"--params_override={overrides}"]
    result = subprocess.run(command + ["--mode=train_and_eval"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("eval at step 4:") == 1  # the final evaluation is not repeated
    assert os.path.exists(tmp_path / "run" / "checkpoints" / "ckpt-4.index")
    assert "total_steps: 4" in (tmp_path / "run" / "config.yaml").read_text()
    assert {"loss/heatmaps", "loss/joints", "learning_rate", "images_per_second",
            "data/corrupt_records"} <= _tags(tmp_path / "run" / "train")
    assert {"PCK@0.5", "PCK@0.1", "AUC", "loss", "predictions"} <= _tags(tmp_path / "run" / "eval")

    # --mode=eval with the benchmark protocol on the same checkpoint (synthetic: torso PCK).
    result = subprocess.run(command + ["--mode=eval", "--params_override=eval.benchmark=true"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "benchmark" / "metrics.json").read_text())
    assert 0.0 <= metrics["PCK@0.5"] <= 100.0 and metrics["PCK@0.1"] <= metrics["PCK@0.5"]
    assert "benchmark/PCK@0.5" in _tags(tmp_path / "run" / "eval")


def test_train_script_rejects_an_unknown_override_naming_the_key(tmp_path):
    command = [sys.executable, "scripts/train.py", "--config_file=configs/synthetic_2d.yaml",
               f"--model_dir={tmp_path}", "--params_override=train.totl_steps=3"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "train.totl_steps: unknown key" in result.stderr
