"""Converts a custom data set in the package's JSON-lines format to TFRecords.

Usage:
  python scripts/convert_jsonl.py --jsonl_file=people.jsonl --image_root=images --skeleton=coco \
      --output_prefix=/data/custom/train --num_shards=4

One person per line: {"image", "keypoints", optional "visible", "box", "keypoints_3d", "camera", "root_depth",
"skeleton", "image_id", "score"}; see docs/datasets.md. Exits with status 1 when no record was written.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from integral_keras.configs import cli  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("jsonl_file", None, "The .jsonl annotation file.")
flags.DEFINE_string("image_root", None, "Folder the lines' image paths are relative to.")
flags.DEFINE_string("output_prefix", None, "Shard prefix: <prefix>-00000-of-0000N.tfrecord.")
flags.DEFINE_enum("skeleton", None, ["mpii", "coco", "h36m"], "Optional skeleton every line must match.")
flags.DEFINE_float("aspect_ratio", 1.0, "Crop width / height (the model input's).")
flags.DEFINE_float("padding", 1.25, "Crop enlargement of the aspect-fixed box.")
flags.DEFINE_integer("num_shards", 1, "Number of output files.")
flags.DEFINE_integer("num_workers", 4, "Threads reading and checking images.")
flags.mark_flags_as_required(["jsonl_file", "image_root", "output_prefix"])


def main(argv):
    del argv
    from integral_keras.data.converters import jsonl

    summary = jsonl.convert_jsonl(FLAGS.jsonl_file, FLAGS.image_root, FLAGS.output_prefix, skeleton=FLAGS.skeleton,
                                  aspect_ratio=FLAGS.aspect_ratio, padding=FLAGS.padding, num_shards=FLAGS.num_shards,
                                  num_workers=FLAGS.num_workers)
    print(summary)
    sys.exit(0 if summary.written else 1)


if __name__ == "__main__":
    cli.run(main)
