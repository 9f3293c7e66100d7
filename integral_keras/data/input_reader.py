"""tf.data input pipeline: sharded TFRecords -> decoded examples -> parsed (augmented) examples -> batches.

    glob(file patterns) --> [shard per input pipeline] --> [shuffle files] --> interleave(per file: read, decode,
      number records) --> count skips, drop bad --> training: map(prepare) --> [cache] --> shuffle, repeat
      --> [mix 2D / 3D sources] --> padded_batch --> map(augment, warp, targets per batch) --> prefetch
                                                  evaluation: [cache] --> map(parse_eval | parse_val) --> batch

Training splits the parser in two: `Parser.prepare_train_example` per example (skeleton mapping, the few fields
the augmentation needs) and `Parser.parse_train_batch` per batch (augmentation parameters, crop matrices, the warp
with colour jitter, joint transforms, targets), so the per-element work of tf.data stays small and the `opencv`
warp enters Python once per batch instead of once per image (docs/benchmarks.md). Images of different sizes share
one batch through `Dataset.padded_batch`; the warp reads each image's own size. Parsers that cannot share batches
(mixed sources with different augmentation settings) fall back to `Parser.parse_train` per example.

Bad data is skipped, counted and reported, never silently and never as a crash. A record is skipped for exactly
one reason (`PipelineCounters.REASONS`):
- `damaged_records`: TFRecord framing damage (a length or data CRC that fails, a truncated last record). TF's
  reader is the fast path; a file it did not read to its last byte is resumed by `tfrecord_recovery` at the next
  valid record, so no intact record after the damage is lost (docs/robustness.md);
- `corrupt_records`: a record that is not a valid `tf.train.Example` (or misses `image/encoded` /
  `keypoints/num`, or has per-joint features of the wrong length);
- the decoder's label and image checks (`decoder.SKIP_REASONS`): `undecodable_images`, `missing_features`,
  `non_finite_labels`, `non_positive_scale`, `keypoints_out_of_range`.

How skips are counted: each file's records are numbered (`position`, damaged ones included) before decoding;
decoding errors are dropped (`Dataset.ignore_errors`) and the gaps in the numbering are counted, with an end-of-file
marker so trailing bad records count too (the marker is a tiny valid record, decoded and dropped). Each skip is
keyed by `(reason, file, position)` in a hash table, so a record is counted and warned about once, however many
passes read it (`repeat()`): the counts are distinct records, per reason and per shard (`PipelineCounters.by_shard`),
exact for the records read so far. `examples` counts the usable records of the files read to their end.

Mixed 2D/3D training (the paper's Strategy 2): a second source of 2D-only records, parsed by its own `Parser`
(which maps its skeleton to the model's), is sampled with `Dataset.sample_from_datasets` so that a fraction
`mix_2d_ratio` of every batch is 2D in expectation. The 2D examples carry z weight 0 (see `parser.py`).
"""
import collections
import functools
import os
import sys
from typing import Callable, Dict, Optional, Sequence, Union

from absl import logging
import numpy as np
import tensorflow as tf

from integral_keras.data import decoder as decoder_lib
from integral_keras.data import tfrecord_recovery

AUTOTUNE = tf.data.AUTOTUNE
_EVAL_OUTPUTS = ("meta", "labels")

FilePatterns = Union[str, Sequence[str]]


class PipelineCounters:
    """Distinct records the input pipeline skipped, per reason and shard, and the examples it kept.

    Counts live in int64 tf.Variables on the host CPU, updated inside the pipeline; each skipped record is also
    keyed by `(reason, file, position)` in a hash table, so that a record read in several passes counts once.
    Create it outside any `tf.distribute` strategy scope (the reader does), so the counters stay plain variables.

    Attributes:
      damaged_records: records lost to TFRecord framing damage (CRC, truncation).
      corrupt_records: records that did not parse as an Example.
      undecodable_images, missing_features, non_finite_labels, non_positive_scale, keypoints_out_of_range:
        records skipped by the decoder's checks (`integral_keras.data.decoder`).
      examples: usable records of the files read to their end (each counted once).
    """

    REASONS = ("damaged_records", "corrupt_records") + decoder_lib.SKIP_REASONS[1:]
    NAMES = REASONS + ("examples",)
    _SEPARATOR = "\x1f"

    def __init__(self):
        with tf.init_scope(), tf.device("/cpu:0"):
            for name in self.NAMES:
                setattr(self, name, tf.Variable(0, dtype=tf.int64, trainable=False, name=name))
            self._skips = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, default_value=-1)
            self._files = tf.lookup.experimental.MutableHashTable(
                tf.string, tf.int64, default_value=tf.constant([-1, -1], tf.int64))

    def result(self) -> Dict[str, int]:
        """Returns the counts as `{name: int}` (every reason, then `examples`)."""
        return {name: int(getattr(self, name).numpy()) for name in self.NAMES}

    def skipped(self) -> Dict[str, int]:
        """`{reason: count}` of the reasons with at least one skipped record."""
        return {name: count for name, count in self.result().items() if name != "examples" and count}

    def by_shard(self) -> Dict[str, Dict[str, int]]:
        """`{file: {reason: skipped records}}` for every file with a skip."""
        keys, values = self._skips.export()
        shards = collections.defaultdict(collections.Counter)
        for key, value in zip(keys.numpy(), values.numpy()):
            reason, path, _ = key.decode("utf-8", "replace").split(self._SEPARATOR)
            shards[path][reason] += int(value)
        return {path: dict(sorted(counts.items())) for path, counts in sorted(shards.items())}

    def reset(self):
        """Sets every count back to 0 and forgets the records seen."""
        for name in self.NAMES:
            getattr(self, name).assign(0)
        for table in (self._skips, self._files):
            keys, _ = table.export()
            table.remove(keys)

    def summary_lines(self, what="input pipeline"):
        """The summary as text lines: totals by reason, then one line per shard with skips."""
        counts = self.result()
        skipped = self.skipped()
        reasons = ", ".join(f"{name} {count}" for name, count in skipped.items()) or "none"
        lines = [f"{what}: kept {counts['examples']} examples, skipped {sum(skipped.values())} records "
                 f"({reasons})"]
        for path, shard_counts in self.by_shard().items():
            detail = ", ".join(f"{name} {count}" for name, count in shard_counts.items())
            lines.append(f"{what}: {path}: skipped {detail}")
        return lines

    def log_summary(self, what="input pipeline"):
        """Logs the summary (`summary_lines`); a warning when anything was skipped. Returns `result()`."""
        log = logging.warning if self.skipped() else logging.info
        for line in self.summary_lines(what):
            log("%s", line)
        return self.result()

    def write_summaries(self, step, prefix="data/"):
        """Writes every count as a scalar with the default `tf.summary` writer (e.g. the trainer's)."""
        for name in self.NAMES:
            tf.summary.scalar(prefix + name, getattr(self, name), step=step)

    # Used inside the pipeline.

    def _record_skip(self, name, path, position, count):
        """Counts `count` records skipped for `name` at `position` of `path`, unless that key was counted."""
        variable = getattr(self, name)

        def add():
            key = tf.strings.join([name, path, tf.strings.as_string(position)], separator=self._SEPARATOR)

            def first_time():
                with tf.control_dependencies([self._skips.insert(key, count)]):
                    updates = [variable.assign_add(count),
                               tf.print("WARNING: input pipeline: skipped", count, "record(s) for", name,
                                        "at record position", position, "of", path, output_stream=sys.stderr)]
                with tf.control_dependencies(updates):
                    return tf.constant(True)

            return tf.cond(tf.equal(self._skips.lookup(key), -1), first_time, lambda: tf.constant(False))

        return tf.cond(count > 0, add, lambda: tf.constant(False))

    def _record_file(self, path, num_records, kept):
        """At the end of a file: `examples` moves by the change in the file's usable records since last read."""
        previous = tf.maximum(self._files.lookup(path)[1], 0)
        with tf.control_dependencies([self._files.insert(path, tf.stack([num_records, kept]))]):
            return self.examples.assign_add(kept - previous)


def list_files(file_pattern: FilePatterns):
    """Expands glob patterns eagerly so that a pattern matching nothing names itself."""
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    if not patterns:
        raise ValueError("No TFRecord file pattern given.")
    files, seen = [], set()
    for pattern in patterns:
        matched = sorted(tf.io.gfile.glob(pattern))
        if not matched:
            raise FileNotFoundError(f"No TFRecord files match {pattern!r}.")
        files.extend(path for path in matched if path not in seen)  # a file is read once per pass
        seen.update(matched)
    return files


_RECORD_SIGNATURE = (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64), tf.TensorSpec((), tf.int64),
                     tf.TensorSpec((), tf.bool))


def _file_size(path) -> int:
    return tf.io.gfile.stat(os.fsdecode(path)).length


def _recovered_tail(path, consumed, num_read):
    """Python generator: the rest of a file after TF's reader stopped (`consumed` bytes, `num_read` records read).

    Yields `(record, position, lost_before, is_end)` like the fast path, ending with the end-of-file marker. A
    file read to its last byte yields only the marker (one stat, no read).
    """
    position = int(num_read)
    if int(consumed) < _file_size(path):
        logging.warning("TFRecord file %s is damaged at byte %d (after %d records); resuming at the next valid "
                        "record.", os.fsdecode(path), int(consumed), position)
        for record, lost, is_end in tfrecord_recovery.recover_records(path, int(consumed)):
            position += lost
            if is_end:
                yield _end_marker_record(), position, lost, True
                return
            yield record, position, lost, False
            position += 1
    yield _end_marker_record(), position, 0, True


@functools.lru_cache(maxsize=None)
def _end_marker_record() -> bytes:
    """A tiny valid record appended to every file so that trailing corrupt records leave a visible gap."""
    from integral_keras.data.schema import make_example

    image = np.zeros((1, 1, 3), np.uint8)
    return make_example(image=image, image_format="png", keypoints_2d=np.zeros((1, 2)),
                        dataset="synthetic").SerializeToString()


def _default_decode_fn():
    from integral_keras.data.decoder import decode_example

    return decode_example


class InputReader:
    """Builds the batched dataset for training or evaluation.

    Args:
      file_pattern: glob or list of globs of TFRecord shards.
      parser: an `integral_keras.data.parser.Parser`.
      batch_size: global batch size (split across replicas when called with a `tf.distribute.InputContext`).
      is_training: shuffle, repeat, augment (`parse_train`) and drop the last partial batch; otherwise one
        deterministic pass with `parse_eval` (`eval_output="meta"`) or `parse_val` (`"labels"`).
      mix_2d_file_pattern: glob(s) of 2D-only records mixed into training; empty for no mixing.
      mix_2d_parser: the parser of those records (its `source_skeleton` is theirs).
      mix_2d_ratio: expected fraction of 2D examples per batch.
      shuffle_buffer: examples held for shuffling (training: person windows of `prepare_train_example`; their
        images are what takes the memory).
      cache: keep decoded examples in memory after the first pass (augmentation still varies per epoch).
      deterministic: reproducible element order; with `seed` also reproducible augmentation and mixing.
      seed: seed for file order, shuffling, augmentation and mixing; None for fresh randomness.
      num_parallel_calls: parallelism of reads and maps; `tf.data.AUTOTUNE` by default.
      cycle_length: files read at once; None lets tf.data choose.
      eval_output: `"meta"` or `"labels"` (see `is_training`).
      decode_fn: serialized Example -> decoded dict; `integral_keras.data.decoder.decode_example` by default.
        It must decode `schema.make_example` records (the end-of-file marker is one).
      counters: `PipelineCounters` to update (e.g. shared by several readers); a new one by default.

    Attributes:
      counters: the `PipelineCounters` this reader's pipeline updates.
    """

    def __init__(
        self,
        file_pattern: FilePatterns,
        parser,
        batch_size: int,
        is_training: bool,
        mix_2d_file_pattern: FilePatterns = (),
        mix_2d_parser=None,
        mix_2d_ratio: float = 0.5,
        shuffle_buffer: int = 1024,
        cache: bool = False,
        deterministic: bool = False,
        seed: Optional[int] = None,
        num_parallel_calls: int = AUTOTUNE,
        cycle_length: Optional[int] = None,
        eval_output: str = "meta",
        decode_fn: Optional[Callable] = None,
        counters: Optional[PipelineCounters] = None,
    ):
        if eval_output not in _EVAL_OUTPUTS:
            raise ValueError(f"eval_output must be one of {_EVAL_OUTPUTS}; got {eval_output!r}.")
        if mix_2d_file_pattern and (mix_2d_parser is None or not is_training):
            raise ValueError("mix_2d_file_pattern needs is_training=True and a mix_2d_parser.")
        if mix_2d_file_pattern and not 0.0 < mix_2d_ratio < 1.0:
            raise ValueError(f"mix_2d_ratio must be in (0, 1); got {mix_2d_ratio!r}.")
        if mix_2d_file_pattern and (mix_2d_parser.skeleton != parser.skeleton
                                    or mix_2d_parser.target_keys() != parser.target_keys()):
            raise ValueError("mix_2d_parser must produce the same targets as parser (same skeleton, method and "
                             f"stages); got {mix_2d_parser.skeleton.name}/{mix_2d_parser.target_keys()} vs "
                             f"{parser.skeleton.name}/{parser.target_keys()}.")
        if mix_2d_file_pattern and (getattr(mix_2d_parser, "train_image_dtype", None)
                                    != getattr(parser, "train_image_dtype", None)):
            raise ValueError("mix_2d_parser must produce training images of the same dtype as parser; got "
                             f"{getattr(mix_2d_parser, 'train_image_dtype', None)!r} vs "
                             f"{getattr(parser, 'train_image_dtype', None)!r}.")
        self.file_pattern = file_pattern
        self.parser = parser
        self.batch_size = batch_size
        self.is_training = is_training
        self.mix_2d_file_pattern = mix_2d_file_pattern
        self.mix_2d_parser = mix_2d_parser
        self.mix_2d_ratio = mix_2d_ratio
        self.shuffle_buffer = shuffle_buffer
        self.cache = cache
        self.deterministic = deterministic
        self.seed = seed
        self.num_parallel_calls = num_parallel_calls
        self.cycle_length = cycle_length
        self.eval_output = eval_output
        self.decode_fn = decode_fn or _default_decode_fn()
        self.counters = counters if counters is not None else PipelineCounters()
        with tf.init_scope(), tf.device("/cpu:0"):
            # file -> [bytes, records] its fast path read in the current pass (where recovery resumes).
            self._progress = tf.lookup.experimental.MutableHashTable(
                tf.string, tf.int64, default_value=tf.zeros([2], tf.int64))

    @classmethod
    def from_config(cls, data_config, parser, is_training, mix_2d_parser=None, decode_fn=None, counters=None):
        """Builds a reader from a `DataConfig` (training or validation files by `is_training`)."""
        mixing = is_training and bool(data_config.mix_2d_file_pattern)
        return cls(
            data_config.train_file_pattern if is_training else data_config.val_file_pattern,
            parser,
            data_config.batch_size if is_training else data_config.eval_batch_size,
            is_training,
            mix_2d_file_pattern=data_config.mix_2d_file_pattern if mixing else (),
            mix_2d_parser=mix_2d_parser if mixing else None,
            mix_2d_ratio=data_config.mix_2d_ratio,
            shuffle_buffer=data_config.shuffle_buffer,
            cache=data_config.cache,
            deterministic=data_config.deterministic,
            seed=data_config.seed,
            num_parallel_calls=data_config.num_parallel_calls,
            decode_fn=decode_fn,
            counters=counters,
        )

    def __call__(self, input_context: Optional[tf.distribute.InputContext] = None) -> tf.data.Dataset:
        """Returns the batched, prefetched dataset.

        Args:
          input_context: given by `strategy.distribute_datasets_from_function`; shards the files across input
            pipelines and uses the per-replica batch size.
        """
        batch_size = self.batch_size
        if input_context is not None:
            batch_size = input_context.get_per_replica_batch_size(self.batch_size)
        per_batch = self._augments_per_batch()
        dataset = self._parsed(self.file_pattern, self.parser, input_context, 0, per_batch)
        if self.mix_2d_file_pattern:
            dataset_2d = self._parsed(self.mix_2d_file_pattern, self.mix_2d_parser, input_context, 1, per_batch)
            dataset = tf.data.Dataset.sample_from_datasets(
                [dataset, dataset_2d], weights=[1.0 - self.mix_2d_ratio, self.mix_2d_ratio],
                seed=self._seed(2))
        if per_batch:
            dataset = dataset.padded_batch(batch_size, drop_remainder=True)
            dataset = self._map_with_seeds(dataset, self.parser.parse_train_batch, self._seed(6))
        else:
            dataset = dataset.batch(batch_size, drop_remainder=self.is_training)
        options = tf.data.Options()
        options.deterministic = self.deterministic or not self.is_training
        return dataset.with_options(options).prefetch(AUTOTUNE)

    def decoded(self, file_pattern: FilePatterns, input_context=None) -> tf.data.Dataset:
        """Good decoded examples of `file_pattern`, in file order when not training; bad ones counted, dropped."""
        paths = list_files(file_pattern)
        files = tf.data.Dataset.from_tensor_slices(paths)
        if input_context is not None and input_context.num_input_pipelines > 1:
            if len(paths) < input_context.num_input_pipelines:
                raise ValueError(f"{len(paths)} TFRecord file(s) match {file_pattern!r}, fewer than the "
                                 f"{input_context.num_input_pipelines} input pipelines; write more shards.")
            files = files.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if self.is_training:
            files = files.shuffle(len(paths), seed=self._seed(3), reshuffle_each_iteration=True)
        dataset = files.interleave(
            self._decode_file, cycle_length=self.cycle_length, num_parallel_calls=self.num_parallel_calls,
            deterministic=self.deterministic or not self.is_training)
        return dataset.map(self._count).filter(self._is_good).map(lambda flags, example: example)

    # Internals.

    def _seed(self, offset):
        return None if self.seed is None else self.seed + offset

    def _augments_per_batch(self):
        """Training with a parser that splits `parse_train` in a per-example and a per-batch half (cheaper)."""
        if not self.is_training or not hasattr(self.parser, "parse_train_batch"):
            return False
        return not self.mix_2d_file_pattern or self.parser.can_share_batches_with(self.mix_2d_parser)

    def _parsed(self, file_pattern, parser, input_context, seed_offset, per_batch):
        dataset = self.decoded(file_pattern, input_context)
        if per_batch:
            # Before the cache and the shuffle buffer, which then hold only what the augmentation needs.
            dataset = dataset.map(parser.prepare_train_example, num_parallel_calls=self.num_parallel_calls)
        if self.cache:
            dataset = dataset.cache()
        if not self.is_training:
            parse = parser.parse_eval if self.eval_output == "meta" else parser.parse_val
            return dataset.map(parse, num_parallel_calls=self.num_parallel_calls, deterministic=True)
        dataset = dataset.shuffle(self.shuffle_buffer, seed=self._seed(10 * seed_offset + 4)).repeat()
        if per_batch:
            return dataset
        return self._map_with_seeds(dataset, parser.parse_train, self._seed(10 * seed_offset + 5))

    def _map_with_seeds(self, dataset, parse, seed):
        """`dataset.map(parse)`; with a reader seed, each element gets its own stateless `(2,)` seed, which makes
        the augmentation independent of the map's parallelism."""
        if seed is None:
            return dataset.map(parse, num_parallel_calls=self.num_parallel_calls)
        seeds = tf.data.Dataset.random(seed=seed).batch(2)
        return tf.data.Dataset.zip(dataset, seeds).map(parse, num_parallel_calls=self.num_parallel_calls)

    def _decode_file(self, path):
        """One file's records as `((path, position, corrupt, lost, reason, is_end, kept), decoded)`, in order.

        `corrupt`: records dropped by decoding errors just before this one; `lost`: damaged records skipped just
        before it; `reason`: its `decoder.SKIP_REASONS` index; `kept`: usable records of the file so far.
        """
        progress = self._progress

        def reset(file_path):
            with tf.control_dependencies([progress.insert(file_path, tf.zeros([2], tf.int64))]):
                return tf.constant(b""), tf.constant(-1, tf.int64), tf.constant(0, tf.int64), tf.constant(False)

        def read(state, record):
            state = state + tf.stack([tf.cast(tf.strings.length(record), tf.int64) + 16, 1])
            with tf.control_dependencies([progress.insert(path, state)]):
                state = tf.identity(state)
            return state, (record, state[1] - 1, tf.constant(0, tf.int64), tf.constant(False))

        def tail(file_path):
            consumed_and_read = progress.lookup(file_path)
            return tf.data.Dataset.from_generator(
                _recovered_tail, args=(file_path, consumed_and_read[0], consumed_and_read[1]),
                output_signature=_RECORD_SIGNATURE)

        # Fast path: TF's reader, which stops at the first damaged record (ignore_errors ends the file there); the
        # tail is built lazily after it, from the bytes it consumed.
        start = tf.data.Dataset.from_tensors(path).map(reset).filter(lambda *unused: False)
        fast = tf.data.TFRecordDataset(path).ignore_errors().scan(tf.zeros([2], tf.int64), read)
        records = start.concatenate(fast).concatenate(tf.data.Dataset.from_tensors(path).flat_map(tail))

        def decode(record, position, lost, is_end):
            return position, lost, is_end, self.decode_fn(record)

        decoded = records.map(decode, num_parallel_calls=self.num_parallel_calls,
                              deterministic=True).ignore_errors()

        def count_gap(state, element):
            previous, kept = state[0], state[1]
            position, lost, is_end, example = element
            if "skip_reason" in example:
                reason = tf.cast(example["skip_reason"], tf.int64)
            else:  # a custom decode_fn: only the image check
                reason = 1 - tf.cast(example["valid"], tf.int64)
            reason = tf.where(is_end, tf.constant(0, tf.int64), reason)
            kept = kept + tf.cast(tf.logical_not(is_end) & tf.equal(reason, 0), tf.int64)
            corrupt = position - previous - 1 - lost
            return tf.stack([position, kept]), ((path, position, corrupt, lost, reason, is_end, kept), example)

        return decoded.scan(tf.constant([-1, 0], tf.int64), count_gap)

    def _count(self, flags, example):
        path, position, corrupt, lost, reason, is_end, kept = flags
        counters = self.counters
        # Runs of dropped records are keyed by the position of their first record.
        updates = [counters._record_skip("corrupt_records", path, position - lost - corrupt, corrupt),
                   counters._record_skip("damaged_records", path, position - lost, lost)]
        for index, name in enumerate(decoder_lib.SKIP_REASONS[1:], start=1):
            updates.append(counters._record_skip(name, path, position, tf.cast(tf.equal(reason, index), tf.int64)))
        updates.append(tf.cond(is_end, lambda: counters._record_file(path, position, kept),
                               lambda: tf.identity(counters.examples)))
        with tf.control_dependencies(updates):
            return tf.logical_not(is_end) & tf.equal(reason, 0), example

    @staticmethod
    def _is_good(kept, example):
        return kept


def build_dataset(file_pattern: FilePatterns, parser, batch_size: int, is_training: bool,
                  **kwargs) -> tf.data.Dataset:
    """One-call form of `InputReader(...)()`; pass `counters=PipelineCounters()` to read the skip counts.

    Returns:
      The batched dataset: `(images (N, H, W, 3), labels dict)` for training / `eval_output="labels"`, else
      `(images, meta dict)`.
    """
    return InputReader(file_pattern, parser, batch_size, is_training, **kwargs)()
