"""End to end: a training run over a shard set holding every input fault finishes, checkpoints, and its summary
lists each skip by reason (and by shard) with exactly the injected counts."""
import logging
import os

import pytest

from integral_keras.configs.experiment import load_experiment
from integral_keras.training.runner import run_experiment
import faults

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _write_faulty_shards(directory):
    """Three shards; returns ({reason: injected count}, {shard: {reason: count}}, number of usable records)."""
    shard_0 = [faults.serialize(faults.example(i)) for i in range(8)]
    for index, (corrupt, _) in enumerate(faults.LABEL_FAULTS.values()):
        shard_0.insert(2 * index + 1, faults.serialize(corrupt(faults.example(100 + index))))
    shard_0.insert(5, b"\x08\x96\x01 not an Example")
    paths = [str(directory / f"train-{i:05d}-of-00003.tfrecord") for i in range(3)]
    faults.write_records(paths[0], shard_0)
    faults.write_records(paths[1], [faults.serialize(faults.example(20 + i)) for i in range(10)])
    faults.damage_data(paths[1], 3, count=8)  # flipped bytes in the middle of record 3's JPEG
    faults.damage_length(paths[1], 7)
    faults.write_records(paths[2], [faults.serialize(faults.example(40 + i)) for i in range(6)])
    faults.truncate(paths[2], 50)
    by_shard = {
        paths[0]: {"non_finite_labels": 3, "keypoints_out_of_range": 1, "non_positive_scale": 1,
                   "missing_features": 1, "undecodable_images": 1, "corrupt_records": 1},
        paths[1]: {"damaged_records": 2},
        paths[2]: {"damaged_records": 1},
    }
    totals = {}
    for counts in by_shard.values():
        for reason, count in counts.items():
            totals[reason] = totals.get(reason, 0) + count
    return totals, by_shard, 8 + 8 + 5


@pytest.mark.slow
def test_training_over_every_fault_finishes_and_reports_each_skip_exactly(tmp_path, caplog):
    totals, by_shard, usable = _write_faulty_shards(tmp_path)
    # A tiny ResNet-18 (8-filter deconvolution head) traces about twice as fast as the demo's HourGlass.
    config = load_experiment([os.path.join(ROOT, "configs", "synthetic_2d.yaml")], [
        f"data.train_file_pattern={tmp_path}/train-*", "data.val_file_pattern=[]", "model.input_size=64",
        "model.heatmap_size=16", "model.deconv_filters=8", "train.heatmap_pretrain_steps=0", "data.batch_size=4", "data.shuffle_buffer=64", "train.total_steps=3", "train.steps_per_epoch=3",
        "train.checkpoint_every_steps=3", "train.log_every_steps=3", "train.mixed_precision=none",
        "train.progress_bar=off"])

    with caplog.at_level(logging.INFO):
        history = run_experiment(config, str(tmp_path / "run"), mode="train")

    assert history["step"] == 3.0
    assert os.path.exists(tmp_path / "run" / "checkpoints" / "ckpt-3.index")
    for reason in ("damaged_records", "corrupt_records", "undecodable_images", "missing_features",
                   "non_finite_labels", "non_positive_scale", "keypoints_out_of_range"):
        assert history[f"data/{reason}"] == totals.get(reason, 0), reason
    assert history["data/examples"] == usable
    summary = [record.getMessage() for record in caplog.records if record.getMessage().startswith("training input")]
    assert summary[0] == (f"training input: kept {usable} examples, skipped {sum(totals.values())} records "
                          "(damaged_records 3, corrupt_records 1, undecodable_images 1, missing_features 1, "
                          "non_finite_labels 3, non_positive_scale 1, keypoints_out_of_range 1)")
    for path, counts in by_shard.items():
        detail = ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items()))
        assert f"training input: {path}: skipped {detail}" in summary
