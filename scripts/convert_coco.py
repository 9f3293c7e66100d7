"""Converts COCO person keypoints (or person detections, for evaluation) to TFRecords.

Usage:
  python scripts/convert_coco.py --annotation_file=annotations/person_keypoints_train2017.json \
      --image_root=train2017 --output_prefix=/data/coco/train --num_shards=64
  python scripts/convert_coco.py --annotation_file=annotations/person_keypoints_val2017.json \
      --image_root=val2017 --output_prefix=/data/coco/val_det \
      --detections_file=COCO_val2017_detections_AP_H_56_person.json --score_threshold=0.0

Conventions and skip reasons: docs/datasets.md. Exits with status 1 when no record was written.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from integral_keras.configs import cli  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("annotation_file", None, "person_keypoints_{train,val}2017.json (or an image-info JSON).")
flags.DEFINE_string("image_root", None, "Folder of the images named by the annotations' file_name.")
flags.DEFINE_string("output_prefix", None, "Shard prefix: <prefix>-00000-of-0000N.tfrecord.")
flags.DEFINE_string("detections_file", None, "Optional COCO results JSON of person detections (evaluation).")
flags.DEFINE_float("score_threshold", 0.0, "Minimum detection score (with --detections_file).")
flags.DEFINE_float("aspect_ratio", 1.0, "Crop width / height (the model input's).")
flags.DEFINE_float("padding", 1.25, "Crop enlargement of the aspect-fixed box.")
flags.DEFINE_integer("num_shards", 1, "Number of output files.")
flags.DEFINE_integer("num_workers", 4, "Threads reading and checking images.")
flags.mark_flags_as_required(["annotation_file", "image_root", "output_prefix"])


def main(argv):
    del argv
    from integral_keras.data.converters import coco

    summary = coco.convert_coco(FLAGS.annotation_file, FLAGS.image_root, FLAGS.output_prefix,
                                detections_file=FLAGS.detections_file, score_threshold=FLAGS.score_threshold,
                                aspect_ratio=FLAGS.aspect_ratio, padding=FLAGS.padding, num_shards=FLAGS.num_shards,
                                num_workers=FLAGS.num_workers)
    print(summary)
    sys.exit(0 if summary.written else 1)


if __name__ == "__main__":
    cli.run(main)
