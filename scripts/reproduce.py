"""Tests the paper's claims on the bundled synthetic data: scaled-down versions of its tables (docs/reproduction.md).

    python scripts/reproduce.py --study=methods --budget=small --output_dir=runs/repro     # Table 1, <= 60 min
    python scripts/reproduce.py --study=all --budget=small --output_dir=runs/repro        # the four studies
    python scripts/reproduce.py --study=backbones --quick --output_dir=/tmp/repro_quick   # smoke test
    python scripts/reproduce.py --study=strategy --budget=small --output_dir=runs/repro --runs=s1_I1,s2_I1
    python scripts/reproduce.py --study=strategy --budget=small --output_dir=runs/repro --runs=s1_I1,s2_I1 --seed=1

Studies: methods (Table 1), resolution (Tables 2 and 9), strategy (Table 7), backbones (Table 3). Writes the data
once per --output_dir, trains each run under <output_dir>/<study>/runs/<run>/, and writes
<output_dir>/<study>/results.md (tables next to the mean-pose floor and the paper's numbers, one verdict per claim),
results.json and <study>.png. Rerunning the same command resumes: finished runs are kept, a half-finished run
continues from its checkpoint. Use one --output_dir per budget. --seed=N repeats runs with train.seed = data.seed = N
under <output_dir>/<study>_seed<N>/ (same data): the spread against seed 0 is the seed noise of a result.
"""
import os
import shlex
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from integral_keras.configs import cli  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("study", None, "methods, resolution, strategy, backbones, or all.")
flags.DEFINE_string("budget", "small", "small (each study <= 60 min on 2 CPU cores) or full (4x the steps, 3x the "
                                       "data).")
flags.DEFINE_string("output_dir", None, "Data, runs and results; rerun the same command to resume.")
flags.DEFINE_bool("quick", False, "Smoke test: tiny data, 4 steps of 4 per run (overrides --budget).")
flags.DEFINE_list("runs", [], "Train only these runs of the study (default all); finished runs are reported anyway.")
flags.DEFINE_integer("seed", 0, "0: the configs' seeds; N > 0: repeat with train.seed = data.seed = N under "
                                "<output_dir>/<study>_seed<N>/ to measure seed noise.", lower_bound=0)
flags.mark_flag_as_required("study")
flags.mark_flag_as_required("output_dir")


def main(argv):
    del argv
    from integral_keras.apps.reproduction import runner  # pylint: disable=import-outside-toplevel
    from integral_keras.apps.reproduction import studies  # pylint: disable=import-outside-toplevel

    budget = "quick" if FLAGS.quick else FLAGS.budget
    if budget not in ("small", "full", "quick"):
        raise app.UsageError(f"--budget: unknown budget {budget!r}; valid budgets: small, full "
                                    "(or --quick)")
    try:
        names = studies.study_names(FLAGS.study)
    except ValueError as error:
        raise app.UsageError(f"--study: {error}") from None
    if FLAGS.runs and len(names) > 1:
        raise app.UsageError("--runs needs one --study, not 'all'")
    command = "python " + " ".join(shlex.quote(arg) for arg in ["scripts/reproduce.py", *sys.argv[1:]])
    outcomes = [runner.run_study(name, budget, FLAGS.output_dir, run_names=FLAGS.runs, command=command,
                                 seed=FLAGS.seed) for name in names]
    for outcome in outcomes:
        print(open(outcome.paths["markdown"], encoding="utf-8").read())
        logging.info("Results of %s: %s (plot %s)", outcome.study.name, outcome.paths["markdown"],
                     outcome.paths["plot"])


if __name__ == "__main__":
    cli.run(main)
