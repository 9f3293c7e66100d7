"""Where the seconds before a training run's first steps go, with TensorFlow's graph optimiser (grappler) on and off.

    python scripts/benchmark.py startup [--config_file=configs/demo_2d.yaml] [--params_override=a.b=c,...]
        [--grappler=on,off] [--repeats=2] [--steps=60] [--num_records=256] [--image_size=96]

Every run is a fresh Python process (the set-up costs are paid once per process, and grappler's switch is
process-wide), so the rounds alternate the settings: on, off, off, on, ... Each process writes nothing but a JSON
line; the parent prints the medians per setting. The phases, in the order `scripts/train.py` pays them:

- `import`: TensorFlow, Keras and the package;
- `build`: `runner.build_trainer` (model, optimizer, checkpoint manager, the input pipelines' graphs);
- `trace`: tracing the trainer's step loop (`Trainer._train_loop`) into a graph: Keras' forward and backward in Python;
- `first step`: its first call: graph optimisation (grappler, unless `off`), oneDNN's kernel creation and the
  input pipeline filling its shuffle buffer;
- then `steady img/s` over `--steps` steps after 3 more.

The data are synthetic records written to a temporary directory (the config's skeleton; 3D labels when the
config's model has depth; a 2D-only MPII set when it sets `data.mix_2d_skeleton`, as the demo does).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

RESULT_PREFIX = "STARTUP_RESULT "
PHASES = ("import", "build", "trace", "first step")
SETTINGS = ("on", "off")
WARMUP_STEPS = 3
MIX_2D_DIR = "mix_2d"  # under the data directory: the 2D-only set of a Strategy 2 config


def _parse(argv, prog):
    flags = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    flags.add_argument("--config_file", action="append", default=None, help="Experiment YAML file(s).")
    flags.add_argument("--params_override", default="", help="Comma-separated dotted overrides.")
    flags.add_argument("--grappler", default="on,off", help="Comma-separated settings to compare: on, off.")
    flags.add_argument("--repeats", type=int, default=2, help="Processes per setting (alternating).")
    flags.add_argument("--steps", type=int, default=60, help="Steps of the steady-speed measurement.")
    flags.add_argument("--num_records", type=int, default=256, help="Synthetic training records.")
    flags.add_argument("--image_size", type=int, default=96, help="Side of the synthetic images (the demo's).")
    flags.add_argument("--child", default=None, help=argparse.SUPPRESS)  # a grappler setting: run one process
    flags.add_argument("--data_dir", default=None, help=argparse.SUPPRESS)
    args = flags.parse_args(argv[1:])
    args.config_file = args.config_file or ["configs/demo_2d.yaml"]
    args.grappler = [s.strip() for s in args.grappler.split(",") if s.strip()]
    for setting in args.grappler + ([args.child] if args.child else []):
        if setting not in SETTINGS:
            raise ValueError(f"--grappler: unknown {setting!r}; choose from {list(SETTINGS)}")
    if args.repeats < 1 or args.steps < 1:
        raise ValueError("--repeats and --steps must be >= 1")
    return args


def load_config(args, data_dir: Optional[str] = None):
    """The experiment of `--config_file` + `--params_override`; with `data_dir`, reading the records written there."""
    from integral_keras.configs.experiment import load_experiment  # pylint: disable=import-outside-toplevel
    from integral_keras.data import synthetic  # pylint: disable=import-outside-toplevel

    config = load_experiment(args.config_file, args.params_override)
    if data_dir is None:
        return config
    pattern = synthetic.file_pattern(data_dir, "train")
    overrides = [f"data.train_file_pattern=[{pattern}]", f"data.val_file_pattern=[{pattern}]"]
    if config.data.mix_2d_skeleton:
        mix_pattern = synthetic.file_pattern(os.path.join(data_dir, MIX_2D_DIR), "train")
        overrides.append(f"data.mix_2d_file_pattern=[{mix_pattern}]")
    return config.override(overrides)


def write_data(args, data_dir: str) -> None:
    """The synthetic records the runs train on (see the module docstring)."""
    from integral_keras.data import synthetic  # pylint: disable=import-outside-toplevel

    config = load_config(args)
    synthetic.write_dataset(data_dir, args.num_records, 0, image_size=args.image_size,
                            skeleton=config.data.skeleton, num_shards=2, with_3d=config.model.depth > 1)
    if config.data.mix_2d_skeleton:
        synthetic.write_dataset(os.path.join(data_dir, MIX_2D_DIR), args.num_records, 0, image_size=args.image_size,
                                skeleton=config.data.mix_2d_skeleton, seed=1, num_shards=2, with_3d=False)


def measure(args, data_dir: str, grappler: str, start: float) -> Dict[str, float]:
    """One process's phases in seconds (`import` counted from `start`, the process's first line) and its steady
    images per second."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from integral_keras.training import distribution  # pylint: disable=import-outside-toplevel
    from integral_keras.training.runner import build_trainer  # pylint: disable=import-outside-toplevel

    if grappler == "off":
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    times = {"import": time.perf_counter() - start}
    config = load_config(args, data_dir)
    with tempfile.TemporaryDirectory() as model_dir:
        mark = time.perf_counter()
        trainer = build_trainer(config, model_dir, distribution.get_strategy("one_device", 0))
        times["build"] = time.perf_counter() - mark
        iterator = iter(trainer._distribute_train_dataset())  # pylint: disable=protected-access
        loop = trainer._train_loop(trainer.objective.phase(0))  # pylint: disable=protected-access
        mark = time.perf_counter()
        loop.get_concrete_function(iterator, tf.TensorSpec([], tf.int32))
        times["trace"] = time.perf_counter() - mark
        mark = time.perf_counter()
        float(loop(iterator, tf.constant(1, tf.int32))["loss"])
        times["first step"] = time.perf_counter() - mark
        float(loop(iterator, tf.constant(WARMUP_STEPS, tf.int32))["loss"])
        mark = time.perf_counter()
        float(loop(iterator, tf.constant(args.steps, tf.int32))["loss"])
        times["steady img/s"] = args.steps * config.data.batch_size / (time.perf_counter() - mark)
    return times


def summary_table(results: Dict[str, List[Dict[str, float]]]) -> str:
    """Markdown table: the median of every phase per setting, and their sum before the first timed step."""
    lines = ["| grappler | " + " | ".join(f"{p} s" for p in PHASES) + " | before steady steps s | steady img/s |",
             "|---|" + "---:|" * (len(PHASES) + 2)]
    for setting, runs in results.items():
        medians = {key: statistics.median(run[key] for run in runs) for key in (*PHASES, "steady img/s")}
        total = statistics.median(sum(run[p] for p in PHASES) for run in runs)
        lines.append(f"| {setting} | " + " | ".join(f"{medians[p]:.1f}" for p in PHASES)
                     + f" | {total:.1f} | {medians['steady img/s']:.1f} |")
    return "\n".join(lines)


def _child_command(argv: Sequence[str], setting: str, data_dir: str) -> List[str]:
    return [sys.executable, "-m", __name__, *argv[1:], f"--child={setting}", f"--data_dir={data_dir}"]


def main(argv) -> int:
    """`scripts/benchmark.py startup` (see the module docstring); prints the table, returns the exit status."""
    try:
        args = _parse(argv, f"{argv[0]} startup")
    except ValueError as error:
        sys.stderr.write(f"{argv[0]} startup: {error}\n")
        return 2
    results = {setting: [] for setting in args.grappler}
    with tempfile.TemporaryDirectory() as data_dir:
        write_data(args, data_dir)
        order = list(args.grappler)
        for round_index in range(args.repeats):
            for setting in (order if round_index % 2 == 0 else order[::-1]):
                done = subprocess.run(_child_command(argv, setting, data_dir), capture_output=True, text=True,
                                      check=False)
                lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
                if done.returncode or not lines:
                    raise RuntimeError(f"the grappler={setting} process failed (status {done.returncode}):\n"
                                       f"{done.stderr[-2000:]}")
                results[setting].append(json.loads(lines[-1][len(RESULT_PREFIX):]))
                print(f"round {round_index + 1}/{args.repeats}, grappler {setting}: "
                      + ", ".join(f"{k} {v:.1f}" for k, v in results[setting][-1].items()), flush=True)
    print(f"{' + '.join(args.config_file)} {args.params_override}; {args.num_records} synthetic records of "
          f"{args.image_size} px; medians of {args.repeats} processes per setting; {os.cpu_count()} CPUs; "
          f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset')}")
    print(summary_table(results))
    return 0


def _child_main() -> int:
    start = time.perf_counter()
    args = _parse(sys.argv, "startup (one run)")
    print(RESULT_PREFIX + json.dumps(measure(args, args.data_dir, args.child, start)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
