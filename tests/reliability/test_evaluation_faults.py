"""Fault injection into an evaluation set: damaged records, an undecodable image and unusable labels are not
scored, and `metrics.json` carries the skips by reason (and shard) with exactly the injected counts."""
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.configs.experiment import load_experiment
from integral_keras.evaluation import protocols
from integral_keras.evaluation.transforms import apply_affine
import faults

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _oracle(images, meta):
    """Predicts the labelled joints (a NaN label would make its example fail the PCK)."""
    joints = apply_affine(np.asarray(meta["keypoints_2d"]), np.linalg.inv(meta["crop_to_image"]))
    return {"joints": joints, "confidence": np.ones(joints.shape[:2])}


EXPECTED = {"damaged_records": 3, "corrupt_records": 1, "undecodable_images": 1, "missing_features": 0,
            "non_finite_labels": 1, "non_positive_scale": 0, "keypoints_out_of_range": 0}
USABLE = 6 + 3


def _damaged_validation_set(directory):
    """Two shards: 6 usable + 3 bad records, and 6 records of which 3 are damaged in the file."""
    shard_0 = str(directory / "val-00000-of-00002.tfrecord")
    shard_1 = str(directory / "val-00001-of-00002.tfrecord")
    faults.write_records(shard_0, [faults.serialize(faults.example(i)) for i in range(6)]
                         + [b"\x12\x05junk", faults.serialize(faults.nan_keypoint(faults.example(6))),
                            faults.serialize(faults.truncated_jpeg(faults.example(7)))])
    faults.write_records(shard_1, [faults.serialize(faults.example(10 + i)) for i in range(6)])
    faults.damage_data(shard_1, 1)
    faults.damage_length(shard_1, 3)
    faults.truncate(shard_1, 30)
    return shard_0, shard_1


@pytest.mark.slow
def test_damaged_validation_set_reports_every_skip_and_scores_only_usable_examples(tmp_path):
    shard_0, shard_1 = _damaged_validation_set(tmp_path)
    config = load_experiment([os.path.join(ROOT, "configs", "demo_2d.yaml")],
                             ["data.eval_batch_size=4", "model.hourglass_features=8"])

    metrics = protocols.run_benchmark(config, _oracle, file_pattern=str(tmp_path / "val-*"), dataset="synthetic",
                                      output_dir=str(tmp_path / "eval"))

    written = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    for result in (metrics, written):
        assert result["num_examples"] == USABLE
        assert result["records_skipped"] == EXPECTED and result["records_skipped_total"] == 6
        assert result["records_skipped_by_shard"] == [
            {"file": shard_0, "corrupt_records": 1, "non_finite_labels": 1, "undecodable_images": 1},
            {"file": shard_1, "damaged_records": 3}]
        assert result["PCK@0.5"] == 100.0  # the NaN-labelled example was not scored


@pytest.mark.slow
def test_evaluate_script_prints_and_writes_the_skips(tmp_path):
    _damaged_validation_set(tmp_path)
    overrides = ["model.input_size=64", "model.heatmap_size=16", "model.deconv_filters=8", "data.eval_batch_size=4"]
    config = load_experiment([os.path.join(ROOT, "configs", "synthetic_2d.yaml")], overrides)
    from integral_keras.models import build_pose_model  # pylint: disable=import-outside-toplevel

    keras.utils.set_random_seed(0)
    model = build_pose_model(config.model)
    tf.train.CheckpointManager(tf.train.Checkpoint(model=model), str(tmp_path / "ckpt"), max_to_keep=1).save()
    result = subprocess.run(
        [sys.executable, "scripts/evaluate.py", "--config_file=configs/synthetic_2d.yaml",
         f"--params_override={','.join(overrides)}", f"--checkpoint={tmp_path / 'ckpt'}",
         f"--file_pattern={tmp_path / 'val-*'}", f"--output_dir={tmp_path / 'eval'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (f"Scored {USABLE} examples; skipped 6 records (damaged_records 3, corrupt_records 1, "
            "undecodable_images 1, non_finite_labels 1).") in result.stdout
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["num_examples"] == USABLE and metrics["records_skipped"] == EXPECTED
