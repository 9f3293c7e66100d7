"""The shared converter loop: image grouping, worker threads, crop boxes and image-root confinement."""
import numpy as np
import pytest
import tensorflow as tf

from converter_fixtures import write_image
from integral_keras.data import decoder
from integral_keras.data import writer
from integral_keras.data.converters import common


def _records(num_images=5):
    """Two records per image with a Skipped between them, in image order."""
    items = []
    for index in range(num_images):
        for person in range(2):
            keypoints = np.full((3, 2), 4.0 * index + person)
            items.append(common.Record(f"img{index}/p{person}", f"img{index}.png",
                                       {"keypoints_2d": keypoints, "image_id": index}))
            if person == 0:
                items.append(common.Skipped(f"img{index}/filtered", "filtered", warn=False))
    return items


@pytest.fixture
def image_root(tmp_path):
    for index in range(5):
        write_image(tmp_path / "images" / f"img{index}.png", 12, 16, seed=index)
    return tmp_path / "images"


def _serialized(prefix):
    return [record.numpy() for record in tf.data.TFRecordDataset(writer.shard_paths(str(prefix), 1))]


def test_worker_threads_do_not_change_the_output(image_root, tmp_path):
    single = common.convert(_records(), image_root, str(tmp_path / "one"), "jsonl", progress=False)
    threaded = common.convert(_records(), image_root, str(tmp_path / "three"), "jsonl", progress=False,
                              num_workers=3)
    assert single.written == threaded.written == 10
    assert single.skipped == threaded.skipped == {"filtered": 5}
    assert _serialized(tmp_path / "one") == _serialized(tmp_path / "three")
    ids = [tf.train.Example.FromString(record).features.feature["image/id"].int64_list.value[0]
           for record in _serialized(tmp_path / "three")]
    assert ids == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_consecutive_records_of_an_image_read_it_once(image_root, tmp_path, monkeypatch):
    reads = []
    original = common.read_image
    monkeypatch.setattr(common, "read_image", lambda path: reads.append(path.name) or original(path))
    items = _records(2) + _records(1)  # img0, img0, img1, img1, then img0 again
    summary = common.convert(items, image_root, str(tmp_path / "out"), "jsonl", progress=False)
    assert summary.written == 6
    assert reads == ["img0.png", "img1.png", "img0.png"]


def test_a_bad_image_skips_every_record_of_it(image_root, tmp_path):
    (image_root / "img1.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    summary = common.convert(_records(), image_root, str(tmp_path / "out"), "jsonl", progress=False)
    assert summary.written == 8
    assert summary.skipped == {"filtered": 5, "unreadable_image": 2}


@pytest.mark.parametrize("size, aspect, padding, expected", [
    ((20, 10), 1.0, 1.0, (20, 20)),
    ((10, 20), 1.0, 1.25, (25, 25)),
    ((30, 30), 0.75, 1.0, (30, 40)),
    ((40, 30), 0.75, 2.0, (80, 320 / 3)),
])
def test_crop_box(size, aspect, padding, expected):
    center, crop = common.crop_box((5.0, 6.0), size, aspect, padding)
    np.testing.assert_allclose(center, [5.0, 6.0])
    np.testing.assert_allclose(crop, expected)
    np.testing.assert_allclose(crop[0] / crop[1], aspect)


@pytest.mark.parametrize("relative", ["../x.jpg", "/etc/passwd", "a/../../x.jpg"])
def test_resolve_image_path_rejects_escapes(tmp_path, relative):
    with pytest.raises(ValueError, match="outside the image root"):
        common.resolve_image_path(tmp_path.resolve(), relative)


def test_resolve_image_path_accepts_inner_paths(tmp_path):
    root = tmp_path.resolve()
    assert common.resolve_image_path(root, "a/../b/c.jpg") == root / "b" / "c.jpg"


def test_resolve_image_path_rejects_a_symlink_leading_out(tmp_path):
    root = (tmp_path / "root").resolve()
    root.mkdir()
    (tmp_path / "secret.jpg").write_bytes(b"x")
    (root / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    with pytest.raises(ValueError, match="outside the image root"):
        common.resolve_image_path(root, "link.jpg")


def test_is_complete_image_agrees_with_the_pipeline_decoder(image_root):
    png = (image_root / "img0.png").read_bytes()
    jpeg = bytes(tf.io.encode_jpeg(tf.zeros([8, 8, 3], tf.uint8)).numpy())
    candidates = [png, jpeg, png[:-12], jpeg[:-2], jpeg + b"\0" * 5000, jpeg + b"\0" * 100, b"GIF89a...", b""]
    expected = [True, True, False, False, False, True, False, False]
    assert [common.is_complete_image(data) for data in candidates] == expected
    assert [bool(decoder.is_complete_image(tf.constant(data))) for data in candidates] == expected
