"""The README's commands run as written on what `scripts/demo.py --quick` leaves; user mistakes print one line.

One `--quick` demo runs per module, in a folder that links `scripts/` and `configs/`, so that the README's relative
paths (`runs/demo/...`, `saved_models/...`) resolve there exactly as after `make demo` in a clone.
"""
import pathlib
import shlex
import subprocess
import sys

import pytest

from integral_keras import console
from integral_keras.configs import cli
from integral_keras.apps import demo as demo_lib

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Only the training commands get these, appended: they shrink a run to the quick demo's 4 steps.
QUICK_TRAIN = "--params_override=" + ",".join(demo_lib.QUICK_OVERRIDES)


def readme_commands():
    """The commands of the README's "Training, evaluation, export" block (continuations joined, comments cut)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Training, evaluation, export"):]
    start = section.index("```bash\n") + len("```bash\n")
    block = section[start:section.index("```", start)]
    commands, current = [], ""
    for line in block.splitlines():
        line = line.split(" #")[0].rstrip() if not line.startswith("#") else ""
        if not line:
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        commands.append((current + line.strip()).strip())
        current = ""
    return commands


def run(command, cwd):
    args = shlex.split(command)
    if args[0] == "python":
        args[0] = sys.executable
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900)


def assert_clean(result, command):
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command}\n{output[-3000:]}"
    assert "Traceback" not in output, command
    noisy = [line for line in output.splitlines() if console.harmless(line)]
    assert not noisy, noisy  # the known-harmless TensorFlow lines are filtered out
    assert not [line for line in output.splitlines() if line.startswith(("E0000", "F0000"))], output[-3000:]


@pytest.fixture(scope="module")
def demo_clone(tmp_path_factory):
    """A folder like a clone after `make demo`: the `--quick` demo's runs/demo and saved_models."""
    root = tmp_path_factory.mktemp("clone")
    for name in ("scripts", "configs"):
        (root / name).symlink_to(ROOT / name)
    result = run("python scripts/demo.py --quick --num_overlays=1 --tflite=float32", root)
    assert_clean(result, "demo.py --quick")
    return root


@pytest.mark.slow
def test_every_readme_command_runs_on_the_quick_demo(demo_clone):
    commands = readme_commands()
    programs = [shlex.split(c)[1] if c.startswith("python") else shlex.split(c)[0] for c in commands]
    assert programs == ["scripts/evaluate.py", "scripts/export.py", "scripts/predict.py", "scripts/make_synthetic.py",
                        "scripts/train.py", "docker", "scripts/serving_client.py"]
    for command, program in zip(commands, programs):
        if program == "docker":
            continue  # TF Serving itself (a docker image) is not installed here; the client is checked below
        if program == "scripts/serving_client.py":
            # No TF Serving runs here: the client must say so in one line, not in a traceback.
            result = run(command, demo_clone)
            assert result.returncode == cli.USAGE_EXIT_CODE and "Traceback" not in result.stderr
            assert "Cannot reach TF Serving at http://localhost:8501" in result.stderr.strip().splitlines()[-1]
            continue
        result = run(command + (f" {QUICK_TRAIN}" if program == "scripts/train.py" else ""), demo_clone)
        assert_clean(result, command)
    assert (demo_clone / "runs/demo/eval_flip/metrics.json").is_file()
    # The next version, next to the demo's 1.
    assert (demo_clone / "saved_models/demo_hourglass_Istar_2d_128features/2/saved_model.pb").is_file()
    assert (demo_clone / "saved_models/demo_hourglass_Istar_2d_128features/tflite").is_dir()
    assert '"joints"' in (demo_clone / "runs/demo/person.json").read_text()
    assert (demo_clone / "runs/demo/person.png").stat().st_size > 0
    assert list((demo_clone / "runs/synthetic_2d/checkpoints").glob("ckpt-4.index"))


@pytest.mark.slow
def test_user_mistakes_print_one_line(demo_clone):
    saved = "--saved_model=saved_models/demo_hourglass_Istar_2d_128features/1"
    (demo_clone / "not_an_image.png").write_bytes(b"this is text")
    cases = {
        f"python scripts/predict.py {saved} --image=not_an_image.png": "input error: Cannot decode not_an_image.png",
        f"python scripts/predict.py {saved} --image=missing.png": "file not found: Image not found: missing.png",
        f"python scripts/predict.py {saved} --image=runs/demo/overlays/held_out_0.png --box=1,2,x,4":
            "input error: --box needs 4 numbers",
        "python scripts/predict.py --image=runs/demo/overlays/held_out_0.png":
            "usage error: Give exactly one of --saved_model and --model_path.",
        # The demo's config carries no data paths (the run's config.yaml does): a config error naming the key.
        "python scripts/evaluate.py --config_file=configs/demo_2d.yaml "
        "--checkpoint=runs/demo/demo_hourglass_Istar_2d_128features/checkpoints --output_dir=runs/demo/e":
            "config error: data.val_file_pattern: is empty",
    }
    for command, expected in cases.items():
        result = run(command, demo_clone)
        assert result.returncode != 0, command
        assert "Traceback" not in result.stderr, (command, result.stderr[-2000:])
        assert expected in result.stderr.strip().splitlines()[-1], (command, result.stderr[-2000:])
