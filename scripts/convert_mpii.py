"""Converts MPII Human Pose JSON annotations (train.json / valid.json) to TFRecords.

Usage:
  python scripts/convert_mpii.py --json_file=mpii/annot/train.json --image_root=mpii/images \
      --output_prefix=/data/mpii/train --num_shards=16
  python scripts/convert_mpii.py --json_file=mpii/annot/valid.json --gt_valid=mpii/annot/gt_valid.mat \
      --image_root=mpii/images --output_prefix=/data/mpii/valid

Conventions (1-based -> 0-based, centre/scale adjustment, head boxes): docs/datasets.md.
Exits with status 1 when no record was written.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from integral_keras.configs import cli  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("json_file", None, "train.json or valid.json.")
flags.DEFINE_string("image_root", None, "The MPII images/ folder.")
flags.DEFINE_string("output_prefix", None, "Shard prefix: <prefix>-00000-of-0000N.tfrecord.")
flags.DEFINE_string("gt_valid", None, "Optional gt_valid.mat (with valid.json): head boxes for PCKh.")
flags.DEFINE_float("aspect_ratio", 1.0, "Crop width / height (the model input's).")
flags.DEFINE_float("padding", 1.25, "Crop enlargement of scale * 200 px.")
flags.DEFINE_integer("num_shards", 1, "Number of output files.")
flags.DEFINE_integer("num_workers", 4, "Threads reading and checking images.")
flags.mark_flags_as_required(["json_file", "image_root", "output_prefix"])


def main(argv):
    del argv
    from integral_keras.data.converters import mpii

    summary = mpii.convert_mpii(FLAGS.json_file, FLAGS.image_root, FLAGS.output_prefix, gt_valid_file=FLAGS.gt_valid,
                                aspect_ratio=FLAGS.aspect_ratio, padding=FLAGS.padding, num_shards=FLAGS.num_shards,
                                num_workers=FLAGS.num_workers)
    print(summary)
    sys.exit(0 if summary.written else 1)


if __name__ == "__main__":
    cli.run(main)
