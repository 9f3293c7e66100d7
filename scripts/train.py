r"""Trains, evaluates or exports one experiment.

    python scripts/train.py --config_file=configs/synthetic_2d.yaml --model_dir=/tmp/run \
        [--config_file=more.yaml ...] [--params_override=train.total_steps=200,model.method=I2] \
        [--mode=train|eval|train_and_eval|export] [--strategy=one_device|mirrored|multi_worker] [--num_gpus=N]

Restarting the same command after a crash resumes from the last checkpoint in --model_dir. For
--strategy=multi_worker, set TF_CONFIG on every worker (the chief writes --model_dir; the others write to temporary
folders below it).
"""
import json

from absl import flags
from absl import logging

from integral_keras import console
from integral_keras.configs import cli

console.filter_known_noise()  # before TensorFlow loads (the imports below): its import prints such lines too

from integral_keras.configs.experiment import load_experiment  # noqa: E402
from integral_keras.training import distribution  # noqa: E402
from integral_keras.training.runner import MODES, run_experiment  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("config_file", [], "YAML experiment file; repeat to merge several (later files win).")
flags.DEFINE_multi_string("params_override", [], "Dotted overrides 'a.b=value', comma-separated or repeated; "
                                                 "applied after the config files; unknown keys are errors.")
flags.DEFINE_string("model_dir", None, "Directory of checkpoints, summaries, config.yaml and exports.")
flags.DEFINE_enum("mode", "train", MODES, "train, eval (latest checkpoint), train_and_eval, or export "
                                          "(latest checkpoint -> SavedModel in <model_dir>/export).")
flags.DEFINE_enum("strategy", "one_device", distribution.STRATEGIES,
                  "one_device, mirrored (local GPUs) or multi_worker (cluster from TF_CONFIG).")
flags.DEFINE_integer("num_gpus", None, "GPUs to use (default: all visible).")
flags.mark_flag_as_required("model_dir")


def main(argv):
    del argv
    config = load_experiment(FLAGS.config_file, FLAGS.params_override)
    strategy = distribution.get_strategy(FLAGS.strategy, FLAGS.num_gpus)
    results = run_experiment(config, FLAGS.model_dir, FLAGS.mode, strategy)
    logging.info("Results: %s", json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    cli.run(main)
