"""Performance benchmarks, reported as ratios measured within one run on one machine.

Usage:
  python scripts/benchmark.py layers      # integral layer cost relative to a ResNet-50 forward
  python scripts/benchmark.py model --config=configs/...yaml   # params / FLOPs report
  python scripts/benchmark.py pipeline    # training pipeline vs decode-only images/s
  python scripts/benchmark.py training    # training-step images/s per mixed-precision setting
  python scripts/benchmark.py training --reference=torch   # ... and against the same network in PyTorch
  python scripts/benchmark.py onednn verbose.log --steps=6   # an ONEDNN_VERBOSE=1 log summed by primitive
  python scripts/benchmark.py startup     # the seconds before the first training steps, grappler on and off

Each subcommand is an application in `integral_keras/apps/benchmarks/<name>.py`. This binary owns the absl flags of
`layers` and `training` (defined here, only for the subcommand that runs, since both have a `--batch_size`) and
passes their values on; `model`, `pipeline`, `onednn` and `startup` parse their own few options (`main(argv)`). Results go to
docs/benchmarks.md by hand, with the command that produced them.
"""
import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from integral_keras import console  # noqa: E402

SUBCOMMANDS = ("layers", "model", "pipeline", "training", "onednn", "startup")
FLAGS = flags.FLAGS


def _layers(argv):
    flags.DEFINE_integer("batch_size", 4, "Images per forward pass.")
    flags.DEFINE_integer("repeats", 10, "Timed rounds; the table reports medians.")
    flags.DEFINE_integer("warmup", 2, "Untimed calls of every function before timing.")
    flags.DEFINE_bool("jit_compile", True, "XLA-compile the timed tf.functions.")
    flags.DEFINE_list("cases", ["2d", "3d"], "Which heat-map cases to run: 2d, 3d.")
    FLAGS(argv)
    from integral_keras.apps.benchmarks import layers  # pylint: disable=import-outside-toplevel

    try:
        return layers.run(FLAGS.cases, FLAGS.batch_size, FLAGS.repeats, FLAGS.warmup, FLAGS.jit_compile)
    except ValueError as error:
        raise app.UsageError(str(error)) from None


def _training(argv):
    flags.DEFINE_multi_string("config_file", ["configs/demo_2d.yaml"], "Experiment YAML file(s).")
    flags.DEFINE_multi_string("params_override", [], "Dotted overrides applied after the config files.")
    flags.DEFINE_list("precisions", ["none", "bfloat16"],
                      "train.mixed_precision settings to compare; 'none' first.")
    flags.DEFINE_integer("batch_size", None, "Images per step (default: the config's data.batch_size).")
    flags.DEFINE_integer("repeats", 5, "Timed rounds; the table reports medians.")
    flags.DEFINE_integer("steps", 5, "Training steps per setting and round.")
    flags.DEFINE_integer("warmup", 3, "Untimed steps of every setting before timing.")
    flags.DEFINE_enum("reference", "none", ["none", "torch"],
                      "torch: also time the same network in PyTorch (eager) in the same rounds and report "
                      "the ratio; needs the `bench` extra (docs/benchmarks.md).")
    flags.DEFINE_bool("torch_channels_last", True,
                      "Run the PyTorch reference in the channels_last memory format (NHWC in memory; the faster one "
                      "for ResNet-50 at 256 px here: docs/benchmarks.md); false: contiguous NCHW.")
    flags.DEFINE_enum("torch_precision", "float32", ["float32", "bfloat16"],
                      "The PyTorch reference's precision: bfloat16 runs its forward under torch.autocast (compare "
                      "with --precisions=bfloat16 on our side).")
    FLAGS(argv)
    from integral_keras.apps.benchmarks import training  # pylint: disable=import-outside-toplevel

    try:
        return training.run(FLAGS.config_file, FLAGS.params_override, FLAGS.precisions, FLAGS.batch_size,
                            FLAGS.repeats, FLAGS.steps, FLAGS.warmup, FLAGS.reference, FLAGS.torch_channels_last,
                            FLAGS.torch_precision)
    except (ValueError, ImportError) as error:
        raise app.UsageError(str(error)) from None


def _own_options(name):
    def run(argv):
        return importlib.import_module(f"integral_keras.apps.benchmarks.{name}").main(argv)

    return run


RUNNERS = {"layers": _layers, "model": _own_options("model"), "pipeline": _own_options("pipeline"),
           "training": _training, "onednn": _own_options("onednn_profile"), "startup": _own_options("startup")}


def main(argv):
    if len(argv) < 2 or argv[1] not in SUBCOMMANDS:
        sys.stderr.write(f"usage: {argv[0]} {{{'|'.join(SUBCOMMANDS)}}} [flags]\n")
        return 2
    console.filter_known_noise()  # TensorFlow's known-harmless lines (`failed call to cuInit`, ...), as train.py
    return RUNNERS[argv[1]]([argv[0]] + argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
