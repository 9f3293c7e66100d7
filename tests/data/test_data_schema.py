"""Tests for integral_keras.data.schema: feature keys, validation, defaults, image encoding."""
import cv2
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.data import schema

# The TFRecord table of docs/architecture.md, written out independently: key -> (kind, number of values or "K*d").
ARCHITECTURE_TABLE = {
    "image/encoded": ("bytes", 1), "image/format": ("bytes", 1), "image/height": ("int64", 1),
    "image/width": ("int64", 1), "image/id": ("int64", 1), "image/filename": ("bytes", 1), "dataset": ("bytes", 1),
    "person/bbox": ("float", 4), "person/center": ("float", 2), "person/scale": ("float", 2),
    "person/score": ("float", 1), "keypoints/num": ("int64", 1), "keypoints/2d": ("float", "K*2"),
    "keypoints/visible": ("float", "K*1"), "keypoints/has_3d": ("int64", 1), "keypoints/3d": ("float", "K*3"),
    "camera/focal": ("float", 2), "camera/center": ("float", 2), "camera/root_depth": ("float", 1),
    "mpii/headbox": ("float", 4), "h36m/subject": ("int64", 1), "h36m/action": ("int64", 1),
    "h36m/subaction": ("int64", 1), "h36m/camera": ("int64", 1), "h36m/frame": ("int64", 1),
}
K = 3
KEYPOINTS = np.array([[10.25, 20.5], [30.0, 5.75], [18.0, 40.0]])


def _image(height=24, width=32):
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (height, width, 3)).astype(np.uint8)


def _values(example, key):
    feature = example.features.feature[key]
    return list(getattr(feature, feature.WhichOneof("kind")).value)


def _example(**overrides):
    fields = dict(image=_image(), keypoints_2d=KEYPOINTS, dataset="mpii", image_format="png")
    fields.update(overrides)
    return schema.make_example(**fields)


def test_keys_kinds_and_lengths_follow_the_architecture_table():
    example = _example(keypoints_3d=np.ones((K, 3)))
    assert set(example.features.feature) == set(ARCHITECTURE_TABLE)
    assert set(schema.feature_spec()) == set(ARCHITECTURE_TABLE)
    for key, (kind, length) in ARCHITECTURE_TABLE.items():
        feature = example.features.feature[key]
        assert feature.WhichOneof("kind") == {"bytes": "bytes_list", "int64": "int64_list", "float": "float_list"}[kind]
        expected = K * int(length[-1]) if isinstance(length, str) else length
        assert len(_values(example, key)) == expected, key


def test_every_field_lands_under_its_key():
    fields = dict(
        image_id=42, filename="dir/a.png", bbox=[1, 2, 30, 40], center=[16, 22], scale=[36, 48], score=0.5,
        visible=[1, 0, 1], keypoints_3d=np.arange(9).reshape(3, 3) - 4.0, has_3d=1, focal=[500, 510],
        principal_point=[15.5, 11.5], root_depth=4500.0, headbox=[3, 4, 13, 16], subject=9, action=2,
        subaction=1, camera=4, frame=1234)
    example = _example(**fields)
    assert _values(example, "image/id") == [42]
    assert _values(example, "image/filename") == [b"dir/a.png"]
    assert _values(example, "dataset") == [b"mpii"]
    assert _values(example, "image/format") == [b"png"]
    assert _values(example, "image/height") == [24] and _values(example, "image/width") == [32]
    assert _values(example, "keypoints/num") == [K]
    np.testing.assert_allclose(_values(example, "keypoints/2d"), [10.25, 20.5, 30.0, 5.75, 18.0, 40.0])
    np.testing.assert_allclose(_values(example, "keypoints/3d"), np.arange(9) - 4.0)
    for name, key in (("bbox", "person/bbox"), ("center", "person/center"), ("scale", "person/scale"),
                      ("visible", "keypoints/visible"), ("focal", "camera/focal"),
                      ("principal_point", "camera/center"), ("headbox", "mpii/headbox")):
        np.testing.assert_allclose(_values(example, key), fields[name], err_msg=name)
    for name in ("score", "root_depth"):
        np.testing.assert_allclose(_values(example, {"score": "person/score", "root_depth": "camera/root_depth"}[name]),
                                   [fields[name]])
    for name in ("subject", "action", "subaction", "camera", "frame"):
        assert _values(example, f"h36m/{name}") == [fields[name]]


def test_defaults_of_optional_fields():
    example = _example(visible=[1, 1, 0])
    # Tight box of the two visible joints (10.25, 20.5) and (30, 5.75).
    np.testing.assert_allclose(_values(example, "person/bbox"), [10.25, 5.75, 19.75, 14.75])
    np.testing.assert_allclose(_values(example, "person/center"), [20.125, 13.125])
    np.testing.assert_allclose(_values(example, "person/scale"), [19.75, 14.75])
    assert _values(example, "person/score") == [1.0]
    assert _values(example, "keypoints/has_3d") == [0]
    assert _values(example, "keypoints/3d") == [0.0] * 9
    assert _values(example, "mpii/headbox") == [0.0] * 4
    assert _values(example, "h36m/frame") == [0]
    assert _values(_example(), "keypoints/visible") == [1.0] * K
    assert _values(_example(keypoints_3d=np.zeros((K, 3))), "keypoints/has_3d") == [1]


def test_png_array_is_encoded_losslessly_and_jpeg_by_default():
    image = _image()
    encoded = _values(_example(image=image), "image/encoded")[0]
    np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)[..., ::-1], image)
    jpeg = schema.make_example(image=image, keypoints_2d=KEYPOINTS, dataset="coco")
    assert _values(jpeg, "image/format") == [b"jpeg"]
    assert _values(jpeg, "image/encoded")[0][:3] == b"\xff\xd8\xff"


def test_encoded_bytes_keep_their_format_and_size():
    png = cv2.imencode(".png", _image(10, 14))[1].tobytes()
    example = schema.make_example(image=png, keypoints_2d=KEYPOINTS, dataset="jsonl")
    assert _values(example, "image/encoded") == [png]
    assert _values(example, "image/format") == [b"png"]
    assert (_values(example, "image/height"), _values(example, "image/width")) == ([10], [14])
    with pytest.raises(ValueError, match="image_format"):
        schema.make_example(image=png, image_format="jpeg", keypoints_2d=KEYPOINTS, dataset="jsonl")
    with pytest.raises(ValueError, match="neither JPEG nor PNG"):
        schema.make_example(image=b"GIF89a....", keypoints_2d=KEYPOINTS, dataset="jsonl")


@pytest.mark.parametrize("field, value", [
    ("keypoints_2d", np.zeros((K, 3))),
    ("keypoints_2d", np.zeros(2 * K)),
    ("visible", np.ones(K + 1)),
    ("keypoints_3d", np.zeros((K, 2))),
    ("bbox", [0, 0, 1]),
    ("center", [[1, 2]]),
    ("image", np.zeros((8, 8), np.uint8)),
    ("image", np.zeros((8, 8, 3), np.float32)),
    ("image_id", 1.5),
    ("dataset", 3),
    ("image_format", "bmp"),
    ("height", 99),
])
def test_bad_shapes_and_types_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        _example(**{field: value})


@pytest.mark.parametrize("field, shape", [
    ("keypoints_2d", (K, 2)), ("visible", (K,)), ("keypoints_3d", (K, 3)), ("bbox", (4,)), ("scale", (2,)),
    ("root_depth", ()), ("score", ()), ("headbox", (4,)), ("focal", (2,))])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_rejected_naming_the_field(field, shape, bad):
    value = np.ones(shape)
    value.flat[-1] = bad
    with pytest.raises(ValueError, match=rf"'{field}'.*NaN or infinite"):
        _example(**{field: value})


def test_unknown_and_missing_fields():
    with pytest.raises(TypeError, match="unknown field.*'keypoints'.*valid"):
        _example(keypoints=KEYPOINTS)
    with pytest.raises(TypeError, match="missing required.*dataset"):
        schema.make_example(image=_image(), keypoints_2d=KEYPOINTS)


def test_example_serialises():
    serialized = _example().SerializeToString()
    assert tf.train.Example.FromString(serialized) == _example()
