"""Writes serialized Examples round-robin into `<prefix>-00000-of-00004.tfrecord` shards."""
import os
from typing import List, Optional, Union

import tensorflow as tf


def shard_paths(output_prefix: str, num_shards: int) -> List[str]:
    """The shard file names `<output_prefix>-{i:05d}-of-{num_shards:05d}.tfrecord`, i = 0..num_shards-1."""
    return [f"{output_prefix}-{index:05d}-of-{num_shards:05d}.tfrecord" for index in range(num_shards)]


class ShardedWriter:
    """Context manager spreading records round-robin over `num_shards` TFRecord files.

    Record `i` goes to shard `i % num_shards`, so shards differ in size by at most one record and the order within
    each shard is the write order. Parent directories are created.

    Args:
      output_prefix: path prefix of the shards, e.g. `/data/synthetic/train`.
      num_shards: number of files (>= 1).
      progress: show a tqdm progress bar of the records written.
      total: expected number of records, for the progress bar only.
      description: progress bar label (default: the prefix's base name).

    Attributes:
      paths: the shard file names.
      count: records written so far.
      shard_counts: records written per shard.

    Example:
      >>> with ShardedWriter("/tmp/train", num_shards=4) as writer:
      ...     writer.write(make_example(image=image, keypoints_2d=joints, dataset="synthetic"))
    """

    def __init__(self, output_prefix: str, num_shards: int, progress: bool = False, total: Optional[int] = None,
                 description: Optional[str] = None):
        if num_shards < 1:
            raise ValueError(f"num_shards must be >= 1; got {num_shards}.")
        self.output_prefix = output_prefix
        self.num_shards = num_shards
        self.progress = progress
        self.total = total
        self.description = description
        self.paths = shard_paths(output_prefix, num_shards)
        self.count = 0
        self.shard_counts = [0] * num_shards
        self._writers = None
        self._bar = None

    def __enter__(self) -> "ShardedWriter":
        directory = os.path.dirname(self.output_prefix)
        if directory:
            tf.io.gfile.makedirs(directory)
        self._writers = [tf.io.TFRecordWriter(path) for path in self.paths]
        if self.progress:
            from tqdm import tqdm  # pylint: disable=import-outside-toplevel

            self._bar = tqdm(total=self.total, unit="rec",
                             desc=self.description or os.path.basename(self.output_prefix))
        return self

    def write(self, example: Union[tf.train.Example, bytes]) -> None:
        """Appends one record: a `tf.train.Example` (serialized deterministically) or its serialized bytes."""
        if self._writers is None:
            raise RuntimeError("ShardedWriter.write called outside its `with` block.")
        if isinstance(example, tf.train.Example):
            # The feature map's order is otherwise per process: same data, different bytes.
            example = example.SerializeToString(deterministic=True)
        elif not isinstance(example, bytes):
            raise TypeError(f"ShardedWriter.write expects a tf.train.Example or bytes, got {type(example).__name__}.")
        shard = self.count % self.num_shards
        self._writers[shard].write(example)
        self.shard_counts[shard] += 1
        self.count += 1
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        """Flushes and closes every shard (also done on leaving the `with` block)."""
        for writer in self._writers or ():
            writer.close()
        self._writers = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __exit__(self, *exc_info) -> None:
        self.close()
