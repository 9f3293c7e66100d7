"""Generates the synthetic pose data set as sharded TFRecords (and optionally a labelled contact sheet).

    python scripts/make_synthetic.py --output_dir=/tmp/synthetic --num_train=3000 --num_val=300 \
        --image_size=256 --skeleton=h36m --seed=0 --num_shards=4 --num_workers=2
    python scripts/make_synthetic.py --contact_sheet=docs/synthetic_contact_sheet.jpg --num_train=0 --num_val=0

Writes `<output_dir>/train-0000i-of-0000n.tfrecord` and `val-*`; the same seed gives byte-identical files.
"""
import time

from absl import app
from absl import flags
from absl import logging
import cv2

from integral_keras.configs import cli
from integral_keras.data.synthetic import contact_sheet as sheet_lib
from integral_keras.data.synthetic import generator

FLAGS = flags.FLAGS
flags.DEFINE_string("output_dir", None, "Folder for the TFRecord shards (needed when num_train + num_val > 0).")
flags.DEFINE_integer("num_train", 3000, "Training records.", lower_bound=0)
flags.DEFINE_integer("num_val", 300, "Validation records.", lower_bound=0)
flags.DEFINE_integer("image_size", 256, "Side of the square images in pixels.", lower_bound=16)
flags.DEFINE_enum("skeleton", "h36m", list(generator.SKELETONS), "Joint topology of the labels.")
flags.DEFINE_integer("seed", 0, "Data-set seed; the same seed gives identical bytes.")
flags.DEFINE_integer("num_shards", 4, "Shards per split.", lower_bound=1)
flags.DEFINE_enum("image_format", "jpeg", ["jpeg", "png"], "Encoding of the images.")
flags.DEFINE_integer("jpeg_quality", 95, "JPEG quality.", lower_bound=1, upper_bound=100)
flags.DEFINE_integer("num_workers", 0, "Processes rendering images (0: render here); output is identical.",
                     lower_bound=0)
flags.DEFINE_string("contact_sheet", None, "If set, write a labelled grid of validation samples to this image path.")
flags.DEFINE_integer("contact_sheet_size", 16, "Samples on the contact sheet (4 per row).", lower_bound=1)
flags.DEFINE_bool("progress", True, "Show progress bars.")


def main(argv):
    del argv
    # The images are small: OpenCV's thread pool costs more CPU than it saves (about 15 % here).
    cv2.setNumThreads(1)
    total = FLAGS.num_train + FLAGS.num_val
    if total and not FLAGS.output_dir:
        raise app.UsageError("--output_dir is required to write records (or set --num_train=0 --num_val=0).")
    if total:
        start = time.perf_counter()
        written = generator.write_dataset(
            FLAGS.output_dir, FLAGS.num_train, FLAGS.num_val, image_size=FLAGS.image_size, skeleton=FLAGS.skeleton,
            seed=FLAGS.seed, num_shards=FLAGS.num_shards, image_format=FLAGS.image_format,
            jpeg_quality=FLAGS.jpeg_quality, num_workers=FLAGS.num_workers, progress=FLAGS.progress)
        seconds = time.perf_counter() - start
        logging.info("Wrote %d records in %.1f s (%.0f images/s): %s", total, seconds, total / seconds,
                     {split: generator.file_pattern(FLAGS.output_dir, split) for split in written})
    if FLAGS.contact_sheet:
        synth = generator.SyntheticPoseGenerator(FLAGS.skeleton, FLAGS.image_size, FLAGS.seed)
        sheet = sheet_lib.contact_sheet(list(synth.samples(FLAGS.contact_sheet_size, "val")))
        sheet_lib.save_image(FLAGS.contact_sheet, sheet)
        logging.info("Wrote contact sheet %s", FLAGS.contact_sheet)


if __name__ == "__main__":
    cli.run(main)
