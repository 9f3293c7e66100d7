"""Shared helpers of the converter tests: tiny image files and reading the written shards back."""
import glob
import logging

import cv2
import numpy as np
import tensorflow as tf

from integral_keras.data import decoder


def write_image(path, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Writes a small random RGB image (format from the suffix) and returns its pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), image[..., ::-1])
    return image


def write_corrupt_image(path) -> None:
    """A `.jpg` file that is not an image."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a jpeg")


def read_shards(output_prefix) -> list:
    """Every record of `<output_prefix>-*.tfrecord`, decoded by `decode_example`, as numpy dicts."""
    paths = sorted(glob.glob(f"{output_prefix}-*.tfrecord"))
    assert paths, f"no shards at {output_prefix}"
    records = []
    for serialized in tf.data.TFRecordDataset(paths):
        decoded = decoder.decode_example(serialized)
        records.append({key: value.numpy() for key, value in decoded.items()})
    return records


def by_filename(records) -> dict:
    return {record["filename"].decode(): record for record in records}


def warnings_of(caplog) -> str:
    """All warning messages logged (absl logs through the standard `logging` module)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
