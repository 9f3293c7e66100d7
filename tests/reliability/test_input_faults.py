"""Fault injection into the input pipeline: every bad record is skipped with its reason, counted once (per
distinct record, however many passes read it) and per shard, and no intact record is lost to a damaged one."""
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.data import decoder, input_reader, tfrecord_recovery
from integral_keras.data.input_reader import PipelineCounters, build_dataset
from integral_keras.data.parser import Parser
from integral_keras.ops import affine
import faults

NO_SKIPS = {name: 0 for name in PipelineCounters.REASONS}


def _parser():
    return Parser(PoseCodec(17, faults.SIZE, faults.SIZE // 4), "Istar", "h36m")


def _read_ids(pattern, counters, passes=1):
    dataset = build_dataset(str(pattern), _parser(), batch_size=4, is_training=False, counters=counters)
    ids = []
    for _ in range(passes):
        ids.append(sorted(int(i) for _, meta in dataset for i in meta["image_id"].numpy()))
    return ids


@pytest.mark.parametrize("fault", sorted(faults.LABEL_FAULTS))
def test_decoder_names_the_skip_reason_of_each_label_fault(fault):
    corrupt, reason = faults.LABEL_FAULTS[fault]
    decoded = decoder.decode_example(tf.constant(faults.serialize(corrupt(faults.example(3)))))
    assert decoder.SKIP_REASONS[int(decoded["skip_reason"])] == reason
    assert int(decoder.decode_example(tf.constant(faults.serialize(faults.example(3))))["skip_reason"]) == 0


def test_keypoints_just_outside_the_image_are_kept_far_ones_are_not():
    proto = faults.example(1)
    values = list(proto.features.feature["keypoints/2d"].float_list.value)
    values[0] = -0.9 * faults.SIZE  # a truncated person's ankle, within one image size of the border
    kept = decoder.decode_example(tf.constant(faults.serialize(faults._set_floats(proto, "keypoints/2d", values))))
    assert int(kept["skip_reason"]) == 0
    values[0] = 2.5 * faults.SIZE
    far = decoder.decode_example(tf.constant(faults.serialize(faults._set_floats(proto, "keypoints/2d", values))))
    assert decoder.SKIP_REASONS[int(far["skip_reason"])] == "keypoints_out_of_range"


def test_every_label_fault_is_skipped_and_counted_once_per_record_over_several_passes(tmp_path, capfd):
    records, good = [], []
    for index, (corrupt, _) in enumerate(faults.LABEL_FAULTS.values()):
        records.append(faults.serialize(corrupt(faults.example(100 + index))))
        records.append(faults.serialize(faults.example(index)))
        good.append(index)
    records += [b"\x00not an example", faults.serialize(faults.example(50))]
    good.append(50)
    faults.write_records(tmp_path / "a.tfrecord", records)
    counters = PipelineCounters()

    ids = _read_ids(tmp_path / "a.tfrecord", counters, passes=3)

    assert ids == [sorted(good)] * 3
    expected = dict(NO_SKIPS, non_finite_labels=3, keypoints_out_of_range=1, non_positive_scale=1,
                    missing_features=1, undecodable_images=1, corrupt_records=1)
    assert counters.result() == dict(expected, examples=len(good))
    assert counters.by_shard() == {str(tmp_path / "a.tfrecord"): {k: v for k, v in expected.items() if v}}
    assert capfd.readouterr().err.count("WARNING: input pipeline: skipped") == 8  # each record warned about once


@pytest.mark.parametrize("damage, lost", [
    (lambda path: faults.damage_data(path, 5), 1),
    (lambda path: faults.damage_data(path, 5, count=64), 1),
    (lambda path: faults.damage_length(path, 5), 1),
    (lambda path: (faults.damage_data(path, 3), faults.damage_length(path, 9)), 2),
    (lambda path: (faults.damage_data(path, 1), faults.damage_length(path, 0)), 2),
    (lambda path: faults.truncate(path, 100), 1),
], ids=["data_crc", "data_crc_block", "length_crc", "two_damaged", "first_two", "truncated_tail"])
def test_damaged_records_lose_no_intact_record_after_them(tmp_path, damage, lost):
    path = tmp_path / "shard.tfrecord"
    faults.write_records(path, [faults.serialize(faults.example(i)) for i in range(16)])
    damage(str(path))
    counters = PipelineCounters()

    (ids,) = _read_ids(path, counters)

    assert len(ids) == 16 - lost and set(ids) <= set(range(16))
    assert counters.result() == dict(NO_SKIPS, damaged_records=lost, examples=16 - lost)
    assert counters.by_shard() == {str(path): {"damaged_records": lost}}


def test_recovery_reports_the_damaged_record_and_finds_every_intact_one(tmp_path):
    path = str(tmp_path / "r.tfrecord")
    faults.write_records(path, [b"record-%02d" % i * 7 for i in range(16)])
    faults.damage_data(path, 5)
    offsets = faults.frame_offsets(path)
    items = list(tfrecord_recovery.recover_records(path, offsets[5]))
    assert [record for record, _, end in items if not end] == [b"record-%02d" % i * 7 for i in range(6, 16)]
    assert [lost for _, lost, _ in items] == [1] + [0] * 9 + [0] and items[-1][2]


def test_masked_crc_matches_the_tfrecord_framing(tmp_path):
    path = str(tmp_path / "c.tfrecord")
    faults.write_records(path, [b"x" * n for n in (0, 1, 300)])
    content = open(path, "rb").read()
    for offset in faults.frame_offsets(path):
        stored = int.from_bytes(content[offset + 8:offset + 12], "little")
        assert tfrecord_recovery.masked_crc32c(content[offset:offset + 8]) == stored


def test_clean_files_never_enter_recovery(tmp_path, monkeypatch):
    def fail(*args):
        raise AssertionError("recovery ran on a clean file")

    monkeypatch.setattr(tfrecord_recovery, "recover_records", fail)
    faults.write_records(tmp_path / "clean.tfrecord", [faults.serialize(faults.example(i)) for i in range(5)])
    counters = PipelineCounters()
    assert _read_ids(tmp_path / "clean.tfrecord", counters) == [list(range(5))]
    assert counters.result() == dict(NO_SKIPS, examples=5)


def test_skips_are_reported_per_shard(tmp_path, caplog):
    faults.write_records(tmp_path / "s-0.tfrecord", [faults.serialize(faults.example(i)) for i in range(4)])
    faults.write_records(tmp_path / "s-1.tfrecord", [faults.serialize(faults.zero_scale(faults.example(4))),
                                                   faults.serialize(faults.example(5))])
    faults.damage_data(str(tmp_path / "s-0.tfrecord"), 2)
    counters = PipelineCounters()
    _read_ids(tmp_path / "s-*", counters)
    assert counters.by_shard() == {str(tmp_path / "s-0.tfrecord"): {"damaged_records": 1},
                                   str(tmp_path / "s-1.tfrecord"): {"non_positive_scale": 1}}
    lines = counters.summary_lines("val")
    assert lines[0] == "val: kept 4 examples, skipped 2 records (damaged_records 1, non_positive_scale 1)"
    assert lines[1:] == [f"val: {tmp_path / 's-0.tfrecord'}: skipped damaged_records 1",
                         f"val: {tmp_path / 's-1.tfrecord'}: skipped non_positive_scale 1"]
    counters.reset()
    assert counters.result() == dict(NO_SKIPS, examples=0) and counters.by_shard() == {}


def test_opencv_warp_of_a_nan_matrix_gives_the_fill_value_instead_of_crashing():
    images = tf.constant(faults.image(0)[None])
    matrices = tf.constant(np.full((1, 3, 3), np.nan), tf.float32)
    crops = affine.warp_images(images, matrices, (16, 16), fill_value=7.0, backend="opencv")
    np.testing.assert_array_equal(crops.numpy(), np.full((1, 16, 16, 3), 7.0))
    empty = tf.zeros((1, 0, 0, 3), tf.uint8)
    crops = affine.warp_images(empty, tf.eye(3)[None], (8, 8), fill_value=2.0, backend="opencv")
    np.testing.assert_array_equal(crops.numpy(), np.full((1, 8, 8, 3), 2.0))


def test_end_marker_is_an_example_the_default_decoder_reads():
    decoded = decoder.decode_example(tf.constant(input_reader._end_marker_record()))
    assert bool(decoded["valid"])
