"""Known-harmless TensorFlow lines are filtered from standard error; errors lead with their cause; losses' API."""
import subprocess
import sys

import integral_keras.losses
from integral_keras import console
from integral_keras.errors import InputError
from integral_keras.errors import UserError
from integral_keras.errors import tf_error_cause

WRITER = r"""
import os, sys
from integral_keras import console
assert console.filter_known_noise()
os.write(2, b"E0000 00:00:1 1 cuda_platform.cc:52] failed call to cuInit: INTERNAL: UNKNOWN ERROR (303)\n")
os.write(2, b"kept line one\n")
sys.stderr.write("I1204 signature_serialization.py:156] Function `f` contains input name(s) resource with "
                 "unsupported characters which will be renamed to x in the SavedModel.\n")
os.write(2, b"E0000 node_def_util.cc:682] NodeDef mentions attribute Truncate which is not in the op definition\n")
os.write(2, b"\rtrain: 50%|bar")
print("stdout untouched")
sys.stderr.write("E0000 a real error\n")
"""


def test_filter_drops_known_harmless_lines_only():
    result = subprocess.run([sys.executable, "-c", WRITER], capture_output=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"stdout untouched\n"
    # A progress bar's partial line passes at once, unchanged.
    assert result.stderr == b"kept line one\n\rtrain: 50%|barE0000 a real error\n"


def test_harmless_matches_the_lines_of_the_issue():
    assert console.harmless("E0000 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)")
    assert not console.harmless("E0000 something else failed")


def test_tf_error_cause_puts_the_cause_first():
    message = ("Graph execution error:\n\nDetected at node DecodeImage defined at (most recent call last):\n"
               '  File "a.py", line 1, in <module>\n\nUnknown image file format. One of JPEG, PNG required.\n'
               "\t [[{{function_node __inference_f_1}}{{node map/DecodeImage}}]] [Op:__inference_signature_2]")
    assert tf_error_cause(message) == "Unknown image file format. One of JPEG, PNG required."
    assert tf_error_cause("Invalid argument: box must be finite") == "Invalid argument: box must be finite"
    assert issubclass(InputError, UserError) and issubclass(InputError, ValueError)


def test_losses_export_their_public_names_only():
    names = set(integral_keras.losses.__all__)
    assert {"HeatmapMSE", "HeatmapCrossEntropy", "HeatmapBinaryCrossEntropy", "JointL1", "JointL2"} <= names
    assert all(not name.startswith("_") and hasattr(integral_keras.losses, name) for name in names)
    assert not names & {"factory", "heatmap", "joint", "marginal", "keras"}


DONE_SCRIPT = r"""
import os, pathlib, threading
from integral_keras.configs import cli
from integral_keras.training import trainer

release_may_end = threading.Event()

class SlowToRelease:
    def __del__(self):
        release_may_end.wait(600)  # tf.data's autotuning thread can hold a pipeline's release this long
        pathlib.Path(os.environ["RELEASED_FILE"]).write_text("released")

def main(argv):
    trainer.release_in_background([SlowToRelease()], "test input")
    print("final table")

cli.run(main)
"""


def test_a_finished_binary_does_not_wait_for_the_pipeline_release(tmp_path):
    released = tmp_path / "released"
    result = subprocess.run([sys.executable, "-c", DONE_SCRIPT], capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "RELEASED_FILE": str(released)})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "final table\n"
    assert "not waiting for tf.data to finish releasing" in result.stderr
    assert not released.exists()  # the process ended while the release was still blocked
