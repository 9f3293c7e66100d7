"""End-to-end demo (`make demo`): synthetic data -> train 2D and 3D integral models -> evaluate -> export -> predict.

    python scripts/demo.py                      # full run (about 10-15 min on 2 CPU cores)
    python scripts/demo.py --quick              # tiny sizes, a smoke test of every stage
    python scripts/demo.py --work_dir=runs/demo --export_dir=saved_models --results_md=runs/demo/results.md

Writes data, checkpoints and overlays under --work_dir, SavedModels under <export_dir>/<name>/1/ and TFLite files
under <export_dir>/<name>/tflite/, and prints a results table (see docs/demo.md).
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("work_dir", "runs/demo", "Data, checkpoints and overlays (removed first).")
flags.DEFINE_string("export_dir", "saved_models", "Base directory of the exports.")
flags.DEFINE_multi_string("config_file", ["configs/demo_2d.yaml", "configs/demo_3d.yaml"],
                          "Experiment YAML files, one model each.")
flags.DEFINE_multi_string("params_override", [], "Dotted overrides applied to every config.")
flags.DEFINE_integer("num_train", 3000, "Synthetic training images.", lower_bound=1)
flags.DEFINE_integer("num_val", 320, "Held-out synthetic images.", lower_bound=1)
flags.DEFINE_integer("image_size", 96, "Side of the synthetic images.", lower_bound=32)
flags.DEFINE_list("tflite", ["float32", "float16", "dynamic_int8"], "TFLite quantizations to export and check.")
flags.DEFINE_integer("num_overlays", 4, "Held-out images drawn with the predicted skeleton.", lower_bound=0)
flags.DEFINE_bool("quick", False, "Tiny data and 4 training steps per model: checks every stage in about a minute.")
flags.DEFINE_string("results_md", None, "Also write the results table here (default <work_dir>/results.md).")


def main(argv):
    del argv
    from integral_keras.training import demo_lib

    overrides = list(FLAGS.params_override)
    num_train, num_val = FLAGS.num_train, FLAGS.num_val
    if FLAGS.quick:
        overrides = list(demo_lib.QUICK_OVERRIDES) + overrides
        num_train, num_val = 16, 8
    settings = demo_lib.DemoSettings(
        work_dir=FLAGS.work_dir, export_dir=FLAGS.export_dir, configs=tuple(FLAGS.config_file),
        num_train=num_train, num_val=num_val, image_size=FLAGS.image_size, quantizations=tuple(FLAGS.tflite),
        num_overlays=FLAGS.num_overlays, overrides=tuple(overrides))
    results = demo_lib.run_demo(settings)
    table = demo_lib.results_table(results)
    target = pathlib.Path(FLAGS.results_md or os.path.join(FLAGS.work_dir, "results.md"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(table + "\n", encoding="utf-8")
    print(table)
    logging.info("Results table written to %s; overlays: %s", target, [p for r in results for p in r.overlays])


if __name__ == "__main__":
    app.run(main)
