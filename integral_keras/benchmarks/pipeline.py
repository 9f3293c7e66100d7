"""Input pipeline throughput: decode-only vs the full training pipeline, as a ratio measured in one run.

    python scripts/benchmark.py pipeline [--num_records=384] [--batch_size=32] [--batches=10] [--repeats=3]

Writes `num_records` synthetic person records (256x256 JPEG, MPII skeleton) into a temporary directory, then
times, in turn and `repeats` times each, `batches` batches of a long-lived iterator (after `warmup_batches`) of
  (a) decode only: sharded read + `decode_example` (+ skip counting) + batching, and
  (b) the full training pipeline: (a) + shuffle + augmentation and one bilinear warp + `PoseCodec` targets for I1
      (256x256 input, 64x64 Gaussian heat maps + joints) + batching, once per warp backend,
and prints the best images/s of each and the ratio (b) / (a) (target >= 50 %).
"""
import argparse
import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.data import skeletons
from integral_keras.data.input_reader import InputReader
from integral_keras.data.parser import Parser
from integral_keras.ops.affine import WARP_BACKENDS

IMAGE_SIZE = 256
INPUT_SIZE = 256
HEATMAP_SIZE = 64


def _write_records(directory, num_records, num_shards=4):
    """Writes simple synthetic person records (random blobs, random joints in a box); returns the glob."""
    from integral_keras.data.schema import make_example
    from integral_keras.data.writer import ShardedWriter

    rng = np.random.default_rng(0)
    num_joints = skeletons.MPII.num_joints
    with ShardedWriter(os.path.join(directory, "bench"), num_shards=num_shards) as writer:
        for index in range(num_records):
            image = cv2_blobs(rng)
            center = rng.uniform(96, 160, 2)
            size = rng.uniform(100, 180)
            keypoints = center + rng.uniform(-0.45, 0.45, (num_joints, 2)) * size
            writer.write(make_example(
                image=image, image_id=index, dataset="synthetic", center=center, scale=[size, size],
                bbox=[*(center - size / 2), size, size], keypoints_2d=keypoints, visible=np.ones(num_joints)))
    return os.path.join(directory, "bench*")


def cv2_blobs(rng):
    """A 256x256 RGB image of smooth random colour (compresses like a photo, unlike noise)."""
    import cv2

    small = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    return cv2.resize(small, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_CUBIC)


def _images_per_second(dataset, warmup_batches, batches):
    """Steady-state rate of one long-lived iterator: `warmup_batches` untimed, then `batches` timed."""
    iterator = iter(dataset)
    for _ in range(warmup_batches):
        next(iterator)
    count, start = 0, time.perf_counter()
    for _ in range(batches):
        count += int(next(iterator)[0].shape[0])
    return count / (time.perf_counter() - start)


def main(argv):
    flags = argparse.ArgumentParser(prog=f"{argv[0]} pipeline", description=__doc__.split("\n")[0])
    flags.add_argument("--num_records", type=int, default=384)
    flags.add_argument("--batch_size", type=int, default=32)
    flags.add_argument("--shuffle_buffer", type=int, default=256)
    flags.add_argument("--warmup_batches", type=int, default=3)
    flags.add_argument("--batches", type=int, default=10)
    flags.add_argument("--repeats", type=int, default=3)
    args = flags.parse_args(argv[1:])

    codec = PoseCodec(skeletons.MPII.num_joints, INPUT_SIZE, HEATMAP_SIZE)
    with tempfile.TemporaryDirectory() as directory:
        pattern = _write_records(directory, args.num_records)
        readers = {backend: InputReader(pattern, Parser(codec, "I1", "mpii", warp_backend=backend), args.batch_size,
                                        is_training=True, shuffle_buffer=args.shuffle_buffer)
                   for backend in WARP_BACKENDS}
        decode_only = readers["tensorflow"].decoded(pattern).repeat()
        decode_only = decode_only.map(lambda example: (example["image"], example["valid"]))
        pipelines = {"decode": decode_only.batch(args.batch_size).prefetch(tf.data.AUTOTUNE)}
        pipelines.update({backend: reader() for backend, reader in readers.items()})
        rates = {name: [] for name in pipelines}
        for _ in range(args.repeats):
            for name, dataset in pipelines.items():
                rates[name].append(_images_per_second(dataset, args.warmup_batches, args.batches))

    best = {name: max(values) for name, values in rates.items()}
    print(f"records: {args.num_records} x {IMAGE_SIZE}x{IMAGE_SIZE} JPEG, batch {args.batch_size}, "
          f"{args.batches} timed batches after {args.warmup_batches}, best of {args.repeats}, "
          f"{os.cpu_count()} CPUs")
    print(f"decode only:                      {best['decode']:8.1f} images/s")
    for backend in WARP_BACKENDS:
        print(f"full training pipeline ({backend:>10}): {best[backend]:8.1f} images/s = "
              f"{100.0 * best[backend] / best['decode']:5.1f} % of decode only (target >= 50 %)")
    print(f"(full = decode + I1 augmentation / warp to {INPUT_SIZE}x{INPUT_SIZE} + {HEATMAP_SIZE}x{HEATMAP_SIZE} "
          f"Gaussian heat-map and joint targets + batching)")
    return 0
