"""Tests for integral_keras.data.input_reader: skip counting, mixing ratio, batching, determinism, config."""
import glob
import logging
import os

import numpy as np
import pytest
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.configs import ConfigError, DataConfig
from integral_keras.data import skeletons
from integral_keras.data.input_reader import InputReader, PipelineCounters, build_dataset
from integral_keras.data.parser import Parser
from integral_keras.data.schema import encode_image, make_example
from integral_keras.data.writer import ShardedWriter

SIZE = 64


def _example(image_id, skeleton="mpii", has_3d=False, image=None):
    """A small person record whose image holds its id in every pixel; joints around the image centre."""
    rng = np.random.default_rng(image_id)
    num_joints = skeletons.get_skeleton(skeleton).num_joints
    fields = dict(
        image=np.full((SIZE, SIZE, 3), image_id % 256, np.uint8) if image is None else image,
        image_id=image_id, dataset="h36m" if has_3d else "mpii", center=[32.0, 32.0], scale=[48.0, 48.0],
        keypoints_2d=rng.uniform(20, 44, (num_joints, 2)))
    if image is not None:
        fields.update(height=SIZE, width=SIZE)
    if has_3d:
        fields["keypoints_3d"] = rng.uniform(-300, 300, (num_joints, 3))
    return make_example(**fields).SerializeToString()


def _write(path, records):
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)


def _parser(skeleton="mpii", depth=1, method="Istar", **kwargs):
    codec = PoseCodec(skeletons.get_skeleton(skeleton).num_joints, SIZE, SIZE // 4, depth=depth)
    return Parser(codec, method, skeleton, **kwargs)


def test_corrupt_records_and_undecodable_images_are_skipped_and_counted(tmp_path, caplog):
    truncated_jpeg = encode_image(np.full((SIZE, SIZE, 3), 9, np.uint8))[:200]
    _write(str(tmp_path / "a.tfrecord"), [
        _example(1), b"\x00\xffnot a protobuf at all", _example(2), _example(3, image=truncated_jpeg),
        _example(4), b"trailing garbage", b"\x0a\x03abc"])
    missing_keypoints = tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"]))})).SerializeToString()
    _write(str(tmp_path / "b.tfrecord"), [missing_keypoints, _example(5)])

    counters = PipelineCounters()
    dataset = build_dataset(str(tmp_path / "*.tfrecord"), _parser(), batch_size=2, is_training=False,
                            counters=counters)
    image_ids = [int(i) for _, meta in dataset for i in meta["image_id"].numpy()]

    assert sorted(image_ids) == [1, 2, 4, 5]
    assert counters.result() == {"damaged_records": 0, "corrupt_records": 4, "undecodable_images": 1,
                                 "missing_features": 0, "non_finite_labels": 0, "non_positive_scale": 0,
                                 "keypoints_out_of_range": 0, "examples": 4}
    assert counters.by_shard() == {str(tmp_path / "a.tfrecord"): {"corrupt_records": 3, "undecodable_images": 1},
                                   str(tmp_path / "b.tfrecord"): {"corrupt_records": 1}}
    with caplog.at_level(logging.WARNING):
        counters.log_summary("test pipeline")
    assert ("kept 4 examples, skipped 5 records (corrupt_records 4, undecodable_images 1)" in caplog.text)


@pytest.mark.parametrize("flip_prob_2d", [0.5, 0.0])  # same settings: batched parsing; different: per example
def test_mixed_2d_3d_batches_hold_the_configured_fraction(tmp_path, flip_prob_2d):
    with ShardedWriter(str(tmp_path / "h36m"), num_shards=2) as writer:
        for i in range(24):
            writer.write(_example(i, "h36m", has_3d=True))
    with ShardedWriter(str(tmp_path / "mpii"), num_shards=2) as writer:
        for i in range(24):
            writer.write(_example(100 + i, "mpii"))
    parser_3d = _parser("h36m", depth=4, scale_factor=0.0, translation_factor=0.0, rotation_factor=0.0)
    parser_2d = _parser("h36m", depth=4, source_skeleton="mpii", scale_factor=0.0, translation_factor=0.0,
                        rotation_factor=0.0, flip_prob=flip_prob_2d)
    assert parser_3d.can_share_batches_with(parser_2d) == (flip_prob_2d == 0.5)
    dataset = build_dataset(str(tmp_path / "h36m*"), parser_3d, batch_size=20, is_training=True,
                            mix_2d_file_pattern=str(tmp_path / "mpii*"), mix_2d_parser=parser_2d, mix_2d_ratio=0.5,
                            seed=3, shuffle_buffer=16)
    joints = np.concatenate([labels["joints"].numpy() for _, labels in dataset.take(20)])

    assert joints.shape == (400, 17, 6)
    is_3d = joints[:, :, 5].max(axis=1) > 0  # z weight: only 3D examples have any
    # 2D examples are the MPII records: no spine joint; 3D ones have it.
    spine_weight = joints[:, skeletons.H36M.index("spine"), 3]
    np.testing.assert_array_equal(spine_weight > 0, is_3d)
    fraction_2d = 1.0 - is_3d.mean()
    assert abs(fraction_2d - 0.5) < 3 * np.sqrt(0.25 / 400)


def test_training_batches_are_full_shaped_and_reproducible_with_a_seed(tmp_path):
    with ShardedWriter(str(tmp_path / "train"), num_shards=3) as writer:
        for i in range(10):
            writer.write(_example(i))
    pattern = str(tmp_path / "train*")

    def first_batches(seed):
        dataset = build_dataset(pattern, _parser(), batch_size=4, is_training=True, seed=seed,
                                deterministic=True, shuffle_buffer=8)
        return [(images.numpy(), labels["joints"].numpy()) for images, labels in dataset.take(3)]

    a, b, c = first_batches(7), first_batches(7), first_batches(8)
    images, _ = a[0]
    assert images.shape == (4, SIZE, SIZE, 3) and images.dtype == np.uint8  # the model casts training crops
    for (image_a, joints_a), (image_b, joints_b) in zip(a, b):
        np.testing.assert_array_equal(image_a, image_b)
        np.testing.assert_array_equal(joints_a, joints_b)
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, c))


def test_training_batches_mix_image_sizes_without_leaking_the_padding(tmp_path):
    """Records of different image sizes share padded batches; each crop shows only its own image and fill."""
    records = []
    for i in range(12):
        size = (SIZE, SIZE) if i % 2 else (SIZE + 16, SIZE + 40)
        image = np.full((*size, 3), 10 + i, np.uint8)
        records.append(make_example(image=image, image_id=i, dataset="mpii", center=[size[1] / 2, size[0] / 2],
                                    scale=[1.5 * size[1], 1.5 * size[1]], height=size[0], width=size[1],
                                    keypoints_2d=np.full((16, 2), size[0] / 2)).SerializeToString())
    _write(str(tmp_path / "sizes.tfrecord"), records)
    parser = _parser(method="I1", rotation_prob=1.0, color_factor=0.0, fill_value=3.0)
    dataset = build_dataset(str(tmp_path / "sizes.tfrecord"), parser, batch_size=4, is_training=True, seed=1,
                            shuffle_buffer=12)
    for images, labels in dataset.take(6):
        assert images.shape == (4, SIZE, SIZE, 3) and labels["heatmaps"].shape == (4, SIZE // 4, SIZE // 4, 32)
        for crop in images.numpy():
            values = set(np.unique(crop)) - {3}
            # The image's own value (the box is 1.5x the image, so the fill shows too) and its bilinear blends
            # with the fill at the border; a zero from the padding never appears.
            own = max(values)
            assert own >= 10 and 3 in np.unique(crop) and min(values) > 3 and own == crop[SIZE // 2, SIZE // 2, 0]


def test_eval_pass_is_in_file_order_and_keeps_the_last_partial_batch(tmp_path):
    _write(str(tmp_path / "val-0.tfrecord"), [_example(i) for i in range(5)])
    _write(str(tmp_path / "val-1.tfrecord"), [_example(i) for i in range(5, 7)])
    dataset = InputReader(str(tmp_path / "val-*"), _parser(), batch_size=3, is_training=False)()
    batches = [meta["image_id"].numpy().tolist() for _, meta in dataset]
    assert sorted(sum(batches, [])) == list(range(7)) and [len(b) for b in batches] == [3, 3, 1]
    assert [meta["image_id"].numpy().tolist() for _, meta in dataset] == batches
    labels_reader = InputReader(str(tmp_path / "val-*"), _parser(), batch_size=7, is_training=False,
                                eval_output="labels")
    _, labels = next(iter(labels_reader()))
    assert set(labels) == {"joints"} and labels["joints"].shape == (7, 16, 4)


def test_missing_files_name_the_pattern(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        build_dataset(str(tmp_path / "nothing-here*"), _parser(), 2, is_training=False)


def test_input_context_shards_files_and_splits_the_batch(tmp_path):
    for shard in range(2):
        _write(str(tmp_path / f"s-{shard}.tfrecord"), [_example(10 * shard + i) for i in range(3)])
    reader = InputReader(str(tmp_path / "s-*"), _parser(), batch_size=4, is_training=False)
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=2)
    batches = [meta["image_id"].numpy().tolist() for _, meta in reader(context)]
    assert batches == [[10, 11], [12]]
    too_many = tf.distribute.InputContext(num_input_pipelines=3, input_pipeline_id=0, num_replicas_in_sync=4)
    with pytest.raises(ValueError, match="fewer than the 3 input pipelines"):
        reader(too_many)


def test_counters_write_tensorboard_scalars(tmp_path):
    counters = PipelineCounters()
    counters.corrupt_records.assign(3)
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        counters.write_summaries(step=5)
    writer.flush()
    values = {}
    for path in glob.glob(os.path.join(str(tmp_path), "events*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                values[value.tag] = (event.step, float(tf.make_ndarray(value.tensor)))
    assert values["data/corrupt_records"] == (5, 3.0) and values["data/examples"] == (5, 0.0)


def test_reader_from_data_config(tmp_path):
    config = DataConfig(train_file_pattern=(str(tmp_path / "t*"),), val_file_pattern=(str(tmp_path / "t*"),),
                        batch_size=2, eval_batch_size=3, shuffle_buffer=4, seed=1)
    train = InputReader.from_config(config, _parser(), is_training=True)
    assert train.batch_size == 2 and train.shuffle_buffer == 4 and train.seed == 1
    assert train.file_pattern == (str(tmp_path / "t*"),) and train.is_training
    assert InputReader.from_config(config, _parser(), is_training=False).batch_size == 3
    with pytest.raises(ConfigError, match="mix_2d_ratio"):
        config.override(["mix_2d_file_pattern=x*", "mix_2d_ratio=1.0"])
    with pytest.raises(ConfigError, match="num_parallel_calls"):
        config.override(["num_parallel_calls=0"])


def test_mixing_needs_parsers_with_the_same_targets(tmp_path):
    with pytest.raises(ValueError, match="same targets"):
        InputReader("a*", _parser("h36m", depth=4), 4, is_training=True, mix_2d_file_pattern="b*",
                    mix_2d_parser=_parser("mpii"))
    with pytest.raises(ValueError, match="is_training=True"):
        InputReader("a*", _parser(), 4, is_training=False, mix_2d_file_pattern="b*", mix_2d_parser=_parser())
    with pytest.raises(ValueError, match="same dtype"):
        InputReader("a*", _parser("h36m"), 4, is_training=True, mix_2d_file_pattern="b*",
                    mix_2d_parser=_parser("h36m", source_skeleton="mpii", train_image_dtype="float32"))
