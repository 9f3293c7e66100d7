"""Fault injection for the reliability tests: person records with bad labels, and TFRecord files with damaged
framing (flipped bytes in a record's data or length, a truncated tail), built by hand."""
import struct

import numpy as np
import tensorflow as tf

from integral_keras.data import skeletons
from integral_keras.data.schema import encode_image, make_example

SIZE = 64


def image(seed=0, size=SIZE):
    """A smooth random RGB image (JPEG-friendly)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (size // 8, size // 8, 3))
    return np.kron(coarse, np.ones((8, 8, 1))).astype(np.uint8)


def example(image_id, skeleton="h36m", size=SIZE, with_3d=False):
    """A usable person record (tf.train.Example): joints inside the image, crop around them."""
    rng = np.random.default_rng(image_id)
    num_joints = skeletons.get_skeleton(skeleton).num_joints
    fields = dict(image=encode_image(image(image_id, size)), height=size, width=size, image_id=image_id,
                  dataset="synthetic", center=[size / 2, size / 2], scale=[size * 0.75, size * 0.75],
                  keypoints_2d=rng.uniform(size * 0.3, size * 0.7, (num_joints, 2)))
    if with_3d:
        fields["keypoints_3d"] = rng.uniform(-300, 300, (num_joints, 3))
    return make_example(**fields)


def _set_floats(proto, key, values):
    proto.features.feature[key].float_list.value[:] = list(values)
    return proto


# Label faults: name -> (function of an Example, the skip reason the pipeline must report).
def nan_center(proto):
    return _set_floats(proto, "person/center", [float("nan"), 32.0])


def nan_keypoint(proto):
    values = list(proto.features.feature["keypoints/2d"].float_list.value)
    values[3] = float("nan")
    return _set_floats(proto, "keypoints/2d", values)


def inf_keypoint(proto):
    values = list(proto.features.feature["keypoints/2d"].float_list.value)
    values[0] = float("inf")
    return _set_floats(proto, "keypoints/2d", values)


def huge_keypoint(proto):
    values = list(proto.features.feature["keypoints/2d"].float_list.value)
    values[4] = 1e6
    return _set_floats(proto, "keypoints/2d", values)


def zero_scale(proto):
    return _set_floats(proto, "person/scale", [0.0, 48.0])


def missing_keypoints(proto):
    del proto.features.feature["keypoints/2d"]
    return proto


def truncated_jpeg(proto):
    encoded = proto.features.feature["image/encoded"].bytes_list.value[0]
    proto.features.feature["image/encoded"].bytes_list.value[:] = [encoded[:len(encoded) // 2]]
    return proto


LABEL_FAULTS = {
    "nan_center": (nan_center, "non_finite_labels"),
    "nan_keypoint": (nan_keypoint, "non_finite_labels"),
    "inf_keypoint": (inf_keypoint, "non_finite_labels"),
    "huge_keypoint": (huge_keypoint, "keypoints_out_of_range"),
    "zero_scale": (zero_scale, "non_positive_scale"),
    "missing_keypoints": (missing_keypoints, "missing_features"),
    "truncated_jpeg": (truncated_jpeg, "undecodable_images"),
}


def serialize(proto):
    return proto.SerializeToString(deterministic=True)


def write_records(path, records):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)


def frame_offsets(path):
    """Byte offset of each record of a TFRecord file (read from its framing)."""
    content = open(path, "rb").read()
    offsets, offset = [], 0
    while offset < len(content):
        offsets.append(offset)
        (length,) = struct.unpack_from("<Q", content, offset)
        offset += 12 + length + 4
    return offsets


def flip_bytes(path, offset, count=1):
    content = bytearray(open(path, "rb").read())
    for index in range(offset, offset + count):
        content[index] ^= 0xFF
    open(path, "wb").write(bytes(content))


def damage_data(path, record_index, count=1):
    """Flips bytes inside a record's data (e.g. the middle of its JPEG): its data CRC fails."""
    offset = frame_offsets(path)[record_index]
    length = struct.unpack_from("<Q", open(path, "rb").read(), offset)[0]
    flip_bytes(path, offset + 12 + length // 2, count)


def damage_length(path, record_index):
    """Flips a byte of a record's length field: its length CRC fails and the framing is lost at that record."""
    flip_bytes(path, frame_offsets(path)[record_index] + 1)


def truncate(path, num_bytes):
    content = open(path, "rb").read()
    open(path, "wb").write(content[:-num_bytes])
