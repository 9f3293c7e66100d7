"""Tests for integral_keras.data.writer.ShardedWriter: names, round-robin order, counts, errors."""
import os

import numpy as np
import pytest
import tensorflow as tf

from integral_keras.data import schema
from integral_keras.data.writer import ShardedWriter, shard_paths


def _read(path):
    return [record.numpy() for record in tf.data.TFRecordDataset(path)]


def test_shard_names():
    assert shard_paths("/d/train", 4) == [f"/d/train-0000{i}-of-00004.tfrecord" for i in range(4)]


def test_round_robin_order_and_counts(tmp_path):
    prefix = os.path.join(tmp_path, "sub", "train")
    records = [f"record {i}".encode() for i in range(10)]
    with ShardedWriter(prefix, num_shards=4) as writer:
        for record in records:
            writer.write(record)
    assert writer.count == 10 and writer.shard_counts == [3, 3, 2, 2]
    expected_files = sorted(f"train-{i:05d}-of-00004.tfrecord" for i in range(4))
    assert sorted(os.listdir(os.path.join(tmp_path, "sub"))) == expected_files
    for shard in range(4):
        assert _read(writer.paths[shard]) == records[shard::4]


def test_writes_examples_and_bytes_alike(tmp_path):
    example = schema.make_example(image=np.zeros((4, 4, 3), np.uint8), keypoints_2d=[[1.0, 2.0]], dataset="coco")
    with ShardedWriter(os.path.join(tmp_path, "x"), num_shards=1) as writer:
        writer.write(example)
        writer.write(example.SerializeToString())
    first, second = _read(writer.paths[0])
    assert tf.train.Example.FromString(first) == example
    assert second == example.SerializeToString()  # bytes are written as given


def test_progress_bar_reports_records(tmp_path, capsys):
    with ShardedWriter(os.path.join(tmp_path, "p"), num_shards=2, progress=True, total=3, description="synth") as w:
        for _ in range(3):
            w.write(b"r")
    err = capsys.readouterr().err
    assert "synth" in err and "3/3" in err


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="num_shards"):
        ShardedWriter(os.path.join(tmp_path, "e"), num_shards=0)
    writer = ShardedWriter(os.path.join(tmp_path, "e"), num_shards=2)
    with pytest.raises(RuntimeError, match="outside"):
        writer.write(b"r")
    with writer, pytest.raises(TypeError, match="str"):
        writer.write("text is not a record")
