"""Writes configs/paper/README.md and each config's `# Reported:` header line from the `paper:` blocks of
configs/paper/*.yaml, or checks that they agree.

    python scripts/make_paper_readme.py            # rewrite the README and the headers' Reported lines
    python scripts/make_paper_readme.py --check    # exit 1 and print the differences when out of date
"""
import os
import sys

from absl import app
from absl import flags

from integral_keras.configs import paper_numbers

FLAGS = flags.FLAGS
PAPER_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "paper"))
flags.DEFINE_string("paper_dir", PAPER_DIR,
                    "Folder of the paper's experiment YAML files.")
flags.DEFINE_bool("check", False, "Only compare the README with the generated text.")


def main(argv):
    del argv
    readme = os.path.join(FLAGS.paper_dir, "README.md")
    if FLAGS.check:
        diff = paper_numbers.check_readme(FLAGS.paper_dir, readme)
        stale = paper_numbers.refresh_reported_lines(FLAGS.paper_dir, write=False)
        if diff or stale:
            print("\n".join(diff + [f"{path}: the '# Reported:' line differs from the paper block" for path in stale]))
            sys.exit("configs/paper is out of date; run python scripts/make_paper_readme.py")
        print(f"{readme} and the headers agree with the configs' paper blocks")
        return
    for path in paper_numbers.refresh_reported_lines(FLAGS.paper_dir):
        print(f"Updated the Reported line of {path}")
    with open(readme, "w", encoding="utf-8") as f:
        f.write(paper_numbers.render_readme(FLAGS.paper_dir))
    print(f"Wrote {readme}")


if __name__ == "__main__":
    app.run(main)
