"""Input pipeline throughput: decode-only vs the full training pipeline, as a ratio measured in one run.

    python scripts/benchmark.py pipeline [--num_records=256] [--batch_size=32] [--batches=10] [--repeats=5]

Writes `num_records` records of the bundled synthetic data set (256x256 JPEG people on clutter, Human3.6M
skeleton) into a temporary directory, then times, in interleaved rounds, `batches` batches of a fresh iterator
(after `warmup_batches`) of
  (a) decode only: sharded read + `decode_example` (+ skip counting) + batching, and
  (b) the full training pipeline `InputReader(...)()`: (a) + per example `Parser.prepare_train_example` + shuffle
      + padded batching + per batch `Parser.parse_train_batch` (augmentation, one bilinear warp with colour jitter
      per image, `PoseCodec` targets; 256x256 input; I1: 64x64 Gaussian heat maps + joints, with each warp
      backend; Istar: joints only),
and prints the median images per second and per CPU second of each, and (b) / (a) (target: I1 >= 50 %).
"""
import argparse
import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.core import methods
from integral_keras.core import skeletons
from integral_keras.data.input_reader import InputReader
from integral_keras.data.parser import Parser
from integral_keras.data.synthetic import file_pattern, write_dataset
from integral_keras.ops.affine import WARP_BACKENDS

IMAGE_SIZE = 256
SKELETON = "h36m"
INPUT_SIZE = 256
HEATMAP_SIZE = 64


def _image_and_validity(example):
    return example["image"], example["valid"]


def _rates(dataset, warmup_batches, batches):
    """Images per wall-clock second and per process CPU second of a fresh iterator, after a warm-up.

    CPU time (all of the process's threads) is what the pipeline costs; unlike wall time it barely moves when other
    processes load the machine, so the ratios use it.
    """
    iterator = iter(dataset)
    for _ in range(warmup_batches):
        next(iterator)
    count, wall, cpu = 0, time.perf_counter(), time.process_time()
    for _ in range(batches):
        count += int(next(iterator)[0].shape[0])
    return count / (time.perf_counter() - wall), count / (time.process_time() - cpu)


def main(argv):
    flags = argparse.ArgumentParser(prog=f"{argv[0]} pipeline", description=__doc__.split("\n")[0])
    flags.add_argument("--num_records", type=int, default=256)
    flags.add_argument("--batch_size", type=int, default=32)
    flags.add_argument("--shuffle_buffer", type=int, default=256)
    flags.add_argument("--warmup_batches", type=int, default=3)
    flags.add_argument("--batches", type=int, default=10)
    flags.add_argument("--repeats", type=int, default=5)
    args = flags.parse_args(argv[1:])

    codec = PoseCodec(skeletons.get_skeleton(SKELETON).num_joints, INPUT_SIZE, HEATMAP_SIZE)
    variants = {f"I1, {backend} warp": (methods.I1, backend) for backend in WARP_BACKENDS}
    variants["Istar, opencv warp"] = (methods.ISTAR, "opencv")
    with tempfile.TemporaryDirectory() as directory:
        write_dataset(directory, num_train=args.num_records, num_val=0, image_size=IMAGE_SIZE, skeleton=SKELETON)
        pattern = file_pattern(directory, "train")
        readers = {name: InputReader(pattern, Parser(codec, method, SKELETON, warp_backend=backend),
                                     args.batch_size, is_training=True, shuffle_buffer=args.shuffle_buffer)
                   for name, (method, backend) in variants.items()}
        decode_only = next(iter(readers.values())).decoded(pattern).repeat()
        decode_only = decode_only.map(_image_and_validity)
        pipelines = {"decode only": decode_only.batch(args.batch_size).prefetch(tf.data.AUTOTUNE)}
        pipelines.update({name: reader() for name, reader in readers.items()})
        wall = {name: [] for name in pipelines}
        cpu = {name: [] for name in pipelines}
        for _ in range(args.repeats):
            for name, dataset in pipelines.items():
                wall_rate, cpu_rate = _rates(dataset, args.warmup_batches, args.batches)
                wall[name].append(wall_rate)
                cpu[name].append(cpu_rate)

    print(f"{args.num_records} synthetic records, {IMAGE_SIZE}x{IMAGE_SIZE} JPEG; batch {args.batch_size}; "
          f"{args.batches} timed batches after {args.warmup_batches}; median of {args.repeats} interleaved rounds; "
          f"{os.cpu_count()} CPUs")
    print(f"full = decode + augmentation + one bilinear warp to {INPUT_SIZE}x{INPUT_SIZE} + targets "
          f"(I1: {HEATMAP_SIZE}x{HEATMAP_SIZE} Gaussian heat maps + joints; Istar: joints) + shuffle + batching")
    print(f"{'pipeline':<24} {'images/s':>9} {'images/CPU-s':>13} {'% of decode (CPU)':>18} {'% (wall)':>9}")
    for name in pipelines:
        print(f"{name:<24} {np.median(wall[name]):9.1f} {np.median(cpu[name]):13.1f} "
              f"{100 * np.median(cpu[name]) / np.median(cpu['decode only']):17.1f}% "
              f"{100 * np.median(wall[name]) / np.median(wall['decode only']):8.1f}%")
    print("target: full I1 pipeline >= 50 % of decode only")
    return 0
