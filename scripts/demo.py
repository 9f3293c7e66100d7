"""End-to-end demo (`make demo`): synthetic data -> train 2D and 3D integral models -> evaluate -> export -> predict.

    python scripts/demo.py                      # `make demo`: about 10-15 min on 2 CPU cores
    python scripts/demo.py --budget=full        # `make demo-full`: 3D trained long enough for the paper's gap
    python scripts/demo.py --quick              # tiny sizes, a smoke test of every stage
    python scripts/demo.py --work_dir=runs/demo --export_dir=saved_models --results_md=runs/demo/results.md
    python scripts/demo.py --copy_figures_to=docs/images   # also refresh the README's pictures

Writes data, checkpoints, overlays, curves and the README's figures (<work_dir>/figures/) under --work_dir,
SavedModels under <export_dir>/<name>/1/ and TFLite files under <export_dir>/<name>/tflite/, and prints a results
table with the mean-pose floor under every model (see docs/demo.md).
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from integral_keras.configs import cli

FLAGS = flags.FLAGS
flags.DEFINE_enum("budget", "demo", ["demo", "full"],
                  "demo: `make demo` (about 10-15 min on 2 cores); full: `make demo-full`, the same networks trained "
                  "long enough for the 3D targets (docs/demo.md). Sets --config_file, --num_train and --work_dir "
                  "where those are not given.")
flags.DEFINE_string("work_dir", None, "Data, checkpoints and overlays (removed first); default runs/demo, "
                    "runs/demo_full for --budget=full.")
flags.DEFINE_string("export_dir", "saved_models", "Base directory of the exports.")
flags.DEFINE_multi_string("config_file", None, "Experiment YAML files, one model each; default the budget's "
                          "(configs/demo_2d.yaml and demo_3d.yaml, or demo_full_*.yaml).")
flags.DEFINE_multi_string("params_override", [], "Dotted overrides applied to every config.")
flags.DEFINE_integer("num_train", None, "Synthetic training images (default the budget's: 3000, full 12000).",
                     lower_bound=1)
flags.DEFINE_integer("num_val", 320, "Held-out synthetic images.", lower_bound=1)
flags.DEFINE_integer("image_size", 96, "Side of the synthetic images.", lower_bound=32)
flags.DEFINE_list("tflite", ["float32", "float16", "dynamic_int8"], "TFLite quantizations to export and check.")
flags.DEFINE_integer("num_overlays", 4, "Held-out images drawn with the predicted skeleton.", lower_bound=0)
flags.DEFINE_bool("quick", False, "Tiny data and 4 training steps per model: checks every stage in about a minute.")
flags.DEFINE_string("results_md", None, "Also write the results table here (default <work_dir>/results.md).")
flags.DEFINE_integer("panel_size", 256, "Side of each overlay panel in pixels (the crop is enlarged).", lower_bound=64)
flags.DEFINE_bool("warm_start_3d", True, "Start a 3D model from the weights of the run's 2D model of the same "
                  "network, its heat-map layer inflated along depth (docs/demo.md); --nowarm_start_3d: from scratch.")
flags.DEFINE_string("copy_figures_to", None, "Also copy the README's figures (<work_dir>/figures/*.png) here, "
                    "e.g. docs/images.")


def main(argv):
    del argv
    from integral_keras.apps import demo as demo_lib

    overrides = list(FLAGS.params_override)
    num_train, num_val = FLAGS.num_train, FLAGS.num_val
    if FLAGS.quick:
        overrides = list(demo_lib.QUICK_OVERRIDES) + overrides
        num_train, num_val = 16, 8
    settings = demo_lib.DemoSettings.for_budget(
        FLAGS.budget, work_dir=FLAGS.work_dir, configs=FLAGS.config_file, num_train=num_train,
        export_dir=FLAGS.export_dir, num_val=num_val, image_size=FLAGS.image_size, quantizations=tuple(FLAGS.tflite),
        num_overlays=FLAGS.num_overlays, overrides=tuple(overrides), panel_size=FLAGS.panel_size,
        warm_start_3d=FLAGS.warm_start_3d)
    logging.info("Demo budget %s: %s, %d training images per set.", FLAGS.budget, ", ".join(settings.configs),
                 settings.num_train)
    results = demo_lib.run_demo(settings)
    table = demo_lib.results_table(results)
    target = pathlib.Path(FLAGS.results_md or os.path.join(settings.work_dir, "results.md"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(table + "\n", encoding="utf-8")
    print(table)
    logging.info("Results table written to %s; overlays: %s", target, [p for r in results for p in r.overlays])
    if FLAGS.copy_figures_to:
        copied = demo_lib.copy_figures(settings.work_dir, FLAGS.copy_figures_to)
        logging.info("Copied the README's figures to %s: %s", FLAGS.copy_figures_to, [str(p) for p in copied])


if __name__ == "__main__":
    cli.run(main)
