"""Exports a pose model as a TF Serving SavedModel (and optionally .tflite files).

Usage:
  python scripts/export.py --config_file=configs/synthetic_2d.yaml --checkpoint=runs/x/ckpt \
      --export_dir=saved_models --tflite=float32,float16,dynamic_int8
  python scripts/export.py --config_file=configs/synthetic_2d.yaml --model_path=model.keras

Writes `<export_dir>/<name>/<version>/` (SavedModel with the `serving_default` and
`serve_image_bytes` signatures) and `<export_dir>/<name>/tflite/<name>_<quantization>.tflite`.
The config describes the model (method, sizes, skeleton); `--model_path` loads a
`.keras` file instead of building the network from it. See docs/serving.md.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from integral_keras.configs import cli

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("config_file", None, "Experiment YAML file(s), merged in order.")
flags.DEFINE_multi_string("params_override", None, "Dotted overrides, e.g. model.method=I2 (repeatable).")
flags.DEFINE_string("model_path", None, "A .keras model to export instead of building one from the config.")
flags.DEFINE_string("checkpoint", None, "Weights to restore: a .weights.h5 file or a TF checkpoint (dir or prefix).")
flags.DEFINE_string("export_dir", "saved_models", "Base directory; the model goes to <export_dir>/<name>/<version>.")
flags.DEFINE_string("name", None, "Model name (TF Serving MODEL_NAME); default: <config name>_<model>, as the "
                    "demo names its exports (modeling.pose_model.export_name).")
flags.DEFINE_integer("version", None, "Version directory; default: one above the highest existing.")
flags.DEFINE_float("box_padding", None, "Growth factor of serve_image_bytes person boxes (default 1.25; 1 for "
                   "boxes that are already padded).")
flags.DEFINE_list("tflite", [], "TFLite quantizations to write too: float32, float16, dynamic_int8.")
flags.mark_flag_as_required("config_file")


def main(argv):
    del argv
    from integral_keras.configs.experiment import load_experiment
    from integral_keras.modeling.pose_model import export_name
    from integral_keras import serving

    unknown = sorted(set(FLAGS.tflite) - set(serving.QUANTIZATIONS))
    if unknown:
        raise app.UsageError(f"--tflite: unknown {unknown}; choose from {list(serving.QUANTIZATIONS)}")
    config = load_experiment(FLAGS.config_file, FLAGS.params_override)
    if FLAGS.model_path is None and FLAGS.checkpoint is None:
        logging.warning("Neither --checkpoint nor --model_path given: exporting randomly initialised weights.")
    model = serving.load_pose_model(config, model_path=FLAGS.model_path, checkpoint=FLAGS.checkpoint)
    spec = serving.ServingSpec.from_config(config, name=FLAGS.name or export_name(config),
                                          box_padding=FLAGS.box_padding)
    path = serving.export_saved_model(model, spec, FLAGS.export_dir, version=FLAGS.version)
    logging.info("SavedModel written to %s", path)
    targets = serving.tflite_paths(FLAGS.export_dir, spec.name, FLAGS.tflite)
    for quantization, target in serving.export_tflite_files(model, targets, spec).items():
        logging.info("TFLite (%s) written to %s", quantization, target)


if __name__ == "__main__":
    cli.run(main)
