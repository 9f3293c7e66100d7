"""Performance benchmarks, reported as ratios measured within one run on one machine.

Usage:
  python scripts/benchmark.py layers      # integral layer cost relative to a ResNet-50 forward
  python scripts/benchmark.py model --config=configs/...yaml   # params / FLOPs report
  python scripts/benchmark.py pipeline    # training pipeline vs decode-only images/s
  python scripts/benchmark.py training    # training-step images/s per mixed-precision setting

Each subcommand lives in `integral_keras/benchmarks/<name>.py` as `main(argv)`;
this binary only dispatches. Results go to docs/benchmarks.md by hand, with the
command that produced them.
"""
import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SUBCOMMANDS = ("layers", "model", "pipeline", "training")


def main(argv):
    if len(argv) < 2 or argv[1] not in SUBCOMMANDS:
        sys.stderr.write(f"usage: {argv[0]} {{{'|'.join(SUBCOMMANDS)}}} [flags]\n")
        return 2
    module = importlib.import_module(f"integral_keras.benchmarks.{argv[1]}")
    return module.main([argv[0]] + argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
