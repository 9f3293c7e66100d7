"""Input pipeline throughput: decode-only vs the full training pipeline, as a ratio measured in one run.

    python scripts/benchmark.py pipeline [--num_records=256] [--batch_size=32] [--batches=10] [--repeats=3]

Writes `num_records` records of the bundled synthetic data set (256x256 JPEG people on clutter, Human3.6M
skeleton) into a temporary directory, then times, in turn and `repeats` times each, `batches` batches of a long-lived iterator (after `warmup_batches`) of
  (a) decode only: sharded read + `decode_example` (+ skip counting) + batching, and
  (b) the full training pipeline: (a) + shuffle + augmentation and one bilinear warp + `PoseCodec` targets for I1
      (256x256 input, 64x64 Gaussian heat maps + joints) + batching, once per warp backend,
and prints the best images/s of each and the ratio (b) / (a) (target >= 50 %).
"""
import argparse
import os
import tempfile
import time

import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.data import skeletons
from integral_keras.data.input_reader import InputReader
from integral_keras.data.parser import Parser
from integral_keras.data.synthetic import file_pattern, write_dataset
from integral_keras.ops.affine import WARP_BACKENDS

IMAGE_SIZE = 256
SKELETON = "h36m"
INPUT_SIZE = 256
HEATMAP_SIZE = 64


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
    flags.add_argument("--num_records", type=int, default=256)
    flags.add_argument("--batch_size", type=int, default=32)
    flags.add_argument("--shuffle_buffer", type=int, default=256)
    flags.add_argument("--warmup_batches", type=int, default=3)
    flags.add_argument("--batches", type=int, default=10)
    flags.add_argument("--repeats", type=int, default=3)
    args = flags.parse_args(argv[1:])

    codec = PoseCodec(skeletons.get_skeleton(SKELETON).num_joints, INPUT_SIZE, HEATMAP_SIZE)
    with tempfile.TemporaryDirectory() as directory:
        write_dataset(directory, num_train=args.num_records, num_val=0, image_size=IMAGE_SIZE, skeleton=SKELETON)
        pattern = file_pattern(directory, "train")
        readers = {backend: InputReader(pattern, Parser(codec, "I1", SKELETON, warp_backend=backend), args.batch_size,
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
