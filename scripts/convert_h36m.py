"""Converts Human3.6M (the seed's annot/ + images/ layout) to TFRecords for one split of a protocol.

Usage:
  python scripts/convert_h36m.py --root=/data/hm36 --split=train --protocol=2 --output_prefix=/data/h36m/p2_train \
      --num_shards=64
  python scripts/convert_h36m.py --root=/data/hm36 --split=test --protocol=2 --output_prefix=/data/h36m/p2_test

Protocol 1: train S1 S5 S6 S7 S8 S9, test S11; protocol 2: train S1 S5 S6 S7 S8, test S9 S11. Test splits keep
every 64th frame by default. Layout and conventions: docs/datasets.md. Exits with status 1 when nothing was written.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from integral_keras.configs import cli  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("root", None, "Folder holding annot/<sequence>/matlab_meta.txt and images/<sequence>/.")
flags.DEFINE_string("output_prefix", None, "Shard prefix: <prefix>-00000-of-0000N.tfrecord.")
flags.DEFINE_enum("split", "train", ["train", "test"], "Which subjects of the protocol.")
flags.DEFINE_enum("protocol", "1", ["1", "2"], "Evaluation protocol that fixes the subject split.")
flags.DEFINE_integer("frame_step", None, "Keep every N-th frame (default 1 for train, 64 for test).")
flags.DEFINE_float("crop_mm", 2000.0, "Side of the square around the pelvis covered by the crop, mm.")
flags.DEFINE_float("aspect_ratio", 1.0, "Crop width / height (the model input's).")
flags.DEFINE_integer("num_shards", 1, "Number of output files.")
flags.DEFINE_integer("num_workers", 4, "Threads reading and checking images.")
flags.mark_flags_as_required(["root", "output_prefix"])


def main(argv):
    del argv
    from integral_keras.data.converters import h36m

    summary = h36m.convert_h36m(FLAGS.root, FLAGS.output_prefix, split=FLAGS.split, protocol=int(FLAGS.protocol),
                                frame_step=FLAGS.frame_step, crop_mm=FLAGS.crop_mm, aspect_ratio=FLAGS.aspect_ratio,
                                num_shards=FLAGS.num_shards,
                                num_workers=FLAGS.num_workers)
    print(summary)
    sys.exit(0 if summary.written else 1)


if __name__ == "__main__":
    cli.run(main)
