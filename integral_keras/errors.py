"""Errors a user can act on, and the cause of a TensorFlow runtime error in one line.

`UserError` is what the binaries (`scripts/*.py`, through `integral_keras.configs.cli`) print as one line instead
of a traceback: `InputError` (an image that is missing or cannot be decoded, a bad box) and
`integral_keras.serving.client.ServingError` (TF Serving refused or could not be reached) derive from it.

TensorFlow reports a failed op of a `tf.function` or a SavedModel signature as `Graph execution error:`, then the
Python stack of the node, then the cause (e.g. `Unknown image file format. One of JPEG, PNG, GIF, BMP required.` or
`assertion failed: [box width and height must be > 0]`), then the node name. `tf_error_cause` returns the cause.
No TensorFlow import here: this module loads with the configs.
"""
import re

_NODE_SUFFIX = re.compile(r"\s*\[\[\{\{(function_)?node .*$")
_OP_SUFFIX = re.compile(r"\s*\[Op:[^\]]*\]\s*(name:.*)?$")


class UserError(Exception):
    """An error the user can act on; the message states the cause first and fits on one line."""


class InputError(UserError, ValueError):
    """An input the user gave (an image, a box) cannot be used; the message says why."""


def tf_error_cause(message: str) -> str:
    """The cause of a TensorFlow error message: without `Graph execution error:`, the node's stack and the node name.

    Args:
      message: `str(error)` of a `tf.errors.OpError`, or the text TF Serving returns for one.

    Returns:
      The cause lines joined by spaces (e.g. `assertion failed: [box width and height must be > 0] [Condition x > 0
      did not hold ...]`); the message unchanged when it has no such structure.
    """
    lines = [line.rstrip() for line in str(message).splitlines()]
    kept, in_stack = [], False
    for line in lines:
        stripped = line.strip()
        stripped = stripped.replace("<stack traces unavailable>", "").strip()
        if not stripped:
            continue
        if stripped == "Graph execution error:" or stripped.startswith("Detected at node"):
            in_stack = stripped.startswith("Detected at node")
            continue
        if in_stack and (line.startswith(" ") or stripped.startswith("File ")):
            continue  # the Python stack of the node that failed
        in_stack = False
        stripped = _OP_SUFFIX.sub("", _NODE_SUFFIX.sub("", stripped))
        if stripped.startswith(("[[{{", "[Op:")) or not stripped:
            continue
        kept.append(stripped)
    return " ".join(kept) if kept else str(message).strip()
