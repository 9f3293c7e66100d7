"""Tests for integral_keras.data.decoder: round trip of every field, defaults, bad images and corrupt records."""
import cv2
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.data import schema
from integral_keras.data.decoder import decode_example

K = 4
CONTRACT_KEYS = {
    "image", "image_id", "filename", "dataset", "bbox", "center", "scale", "score", "keypoints_2d", "visible",
    "has_3d", "keypoints_3d", "focal", "principal_point", "root_depth", "headbox", "subject", "action",
    "subaction", "camera", "frame", "valid", "skip_reason"}
FIELDS = dict(
    keypoints_2d=np.array([[1.5, 2.25], [10.0, 12.0], [20.125, 3.0], [0.0, 19.0]]), visible=[1, 0, 1, 1],
    keypoints_3d=np.arange(12).reshape(4, 3) * 10.0 - 50.0, has_3d=1, image_id=77, filename="s/img.png",
    dataset="h36m", bbox=[1, 2, 20, 18], center=[11, 11], scale=[22, 22], score=0.75, focal=[1145.0, 1143.5],
    principal_point=[512.5, 515.0], root_depth=5321.5, headbox=[4, 5, 14, 15], subject=11, action=3, subaction=2,
    camera=1, frame=500)


def _image(height=20, width=24):
    return np.random.default_rng(2).integers(0, 256, (height, width, 3)).astype(np.uint8)


def _serialized(**overrides):
    fields = dict(FIELDS, image=_image(), image_format="png")
    fields.update(overrides)
    return schema.make_example(**fields).SerializeToString()


def _raw_example(features):
    """An Example built feature by feature, bypassing make_example's checks."""
    def feature(value):
        if isinstance(value, bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        if all(isinstance(v, int) for v in value):
            return tf.train.Feature(int64_list=tf.train.Int64List(value=value))
        return tf.train.Feature(float_list=tf.train.FloatList(value=value))

    return tf.train.Example(features=tf.train.Features(
        feature={key: feature(value) for key, value in features.items()})).SerializeToString()


def _check_round_trip(decoded, image):
    assert set(decoded) == CONTRACT_KEYS
    np.testing.assert_array_equal(decoded["image"].numpy(), image)
    assert decoded["image"].dtype == tf.uint8
    assert bool(decoded["valid"])
    for name in ("keypoints_2d", "visible", "keypoints_3d", "bbox", "center", "scale", "score", "focal",
                 "principal_point", "root_depth", "headbox"):
        assert decoded[name].dtype == tf.float32, name
        np.testing.assert_allclose(decoded[name].numpy(), np.asarray(FIELDS[name], np.float32), err_msg=name)
    assert decoded["keypoints_2d"].shape == (K, 2) and decoded["keypoints_3d"].shape == (K, 3)
    assert decoded["has_3d"].dtype == tf.float32 and float(decoded["has_3d"]) == 1.0
    for name in ("image_id", "subject", "action", "subaction", "camera", "frame"):
        assert decoded[name].dtype == tf.int64 and int(decoded[name]) == FIELDS[name], name
    assert decoded["filename"].numpy() == b"s/img.png" and decoded["dataset"].numpy() == b"h36m"


def test_round_trip_every_field_eager():
    _check_round_trip(decode_example(tf.constant(_serialized())), _image())


def test_round_trip_inside_dataset_map():
    dataset = tf.data.Dataset.from_tensor_slices([_serialized(), _serialized()]).map(decode_example)
    for decoded in dataset:
        _check_round_trip(decoded, _image())


def test_jpeg_round_trip_is_close_and_trailing_bytes_are_tolerated():
    image = np.full((16, 16, 3), (200, 100, 50), np.uint8)
    jpeg = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    for encoded in (jpeg, jpeg + b"\x00" * 64):
        decoded = decode_example(tf.constant(_serialized(image=encoded, image_format="jpeg", height=16, width=16)))
        assert bool(decoded["valid"])
        assert np.abs(decoded["image"].numpy().astype(int) - image).max() <= 3


def test_missing_optional_features_take_defaults():
    serialized = _raw_example({"image/encoded": cv2.imencode(".png", _image())[1].tobytes(), "keypoints/num": [2],
                               "keypoints/2d": [1.0, 2.0, 3.0, 4.0]})
    decoded = decode_example(tf.constant(serialized))
    assert bool(decoded["valid"]) and decoded["image"].shape == (20, 24, 3)
    np.testing.assert_array_equal(decoded["visible"].numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(decoded["keypoints_3d"].numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(decoded["keypoints_2d"].numpy(), [[1, 2], [3, 4]])
    assert float(decoded["score"]) == 1.0 and float(decoded["has_3d"]) == 0.0
    np.testing.assert_array_equal(decoded["headbox"].numpy(), np.zeros(4))
    assert decoded["dataset"].numpy() == b"" and int(decoded["frame"]) == 0


def _bad_images():
    png = cv2.imencode(".png", _image())[1].tobytes()
    jpeg = cv2.imencode(".jpg", _image())[1].tobytes()
    return {"garbage": b"definitely not an image", "empty": b"", "truncated_png": png[: len(png) // 2],
            "truncated_jpeg": jpeg[: len(jpeg) // 2], "gif": b"GIF89a" + b"\x00" * 40}


def _bad_image_record(name, image_id=5):
    return _raw_example({"image/encoded": _bad_images()[name], "keypoints/num": [1], "keypoints/2d": [1.0, 2.0],
                         "image/id": [image_id]})


def _check_invalid(decoded, image_id):
    assert not bool(decoded["valid"])
    assert decoded["image"].shape == (1, 1, 3) and decoded["image"].dtype == tf.uint8
    assert int(decoded["image_id"]) == image_id
    np.testing.assert_array_equal(decoded["keypoints_2d"].numpy(), [[1.0, 2.0]])


@pytest.mark.parametrize("name", sorted(_bad_images()))
def test_undecodable_image_gives_invalid_dummy_without_raising(name):
    _check_invalid(decode_example(tf.constant(_bad_image_record(name))), 5)


def test_undecodable_images_do_not_stop_a_dataset():
    names = sorted(_bad_images())
    records = [_bad_image_record(name, index) for index, name in enumerate(names)] + [_serialized()]
    decoded = list(tf.data.Dataset.from_tensor_slices(records).map(decode_example))
    for index in range(len(names)):
        _check_invalid(decoded[index], index)
    assert bool(decoded[-1]["valid"])


def test_image_size_differing_from_the_record_is_invalid():
    png = cv2.imencode(".png", _image(20, 24))[1].tobytes()
    decoded = decode_example(tf.constant(_serialized(image=png, height=21, width=24)))
    assert not bool(decoded["valid"]) and decoded["image"].shape == (1, 1, 3)


@pytest.mark.parametrize("features", [
    {"keypoints/num": [2], "keypoints/2d": [1.0, 2.0, 3.0]},
    {"keypoints/num": [2], "keypoints/2d": [1.0, 2.0, 3.0, 4.0], "keypoints/visible": [1.0]},
    {"keypoints/num": [2], "keypoints/2d": [1.0, 2.0, 3.0, 4.0], "keypoints/3d": [1.0] * 5},
    {"keypoints/num": [0], "keypoints/2d": [1.0]},
    {"keypoints/2d": [1.0, 2.0]},
], ids=["2d_length", "visible_length", "3d_length", "zero_joints", "no_num"])
def test_corrupt_records_raise_invalid_argument(features):
    features = dict(features, **{"image/encoded": cv2.imencode(".png", _image())[1].tobytes()})
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode_example(tf.constant(_raw_example(features)))


def test_bytes_that_are_not_an_example_raise_and_ignore_errors_drops_them():
    dataset = tf.data.Dataset.from_tensor_slices([b"\x01garbage", _serialized()]).map(decode_example)
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(dataset)
    kept = list(dataset.ignore_errors())
    assert len(kept) == 1 and int(kept[0]["image_id"]) == 77
