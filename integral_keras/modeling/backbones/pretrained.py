"""Loading backbone weights from a local file (never from the network)."""
import os
import warnings

import h5py
import keras
from absl import logging


def _count_h5_arrays(path: str) -> int:
    count = 0

    def visit(_, obj):
        nonlocal count
        if isinstance(obj, h5py.Dataset):
            count += 1

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return count


def load_pretrained_weights(model: keras.Model, path: str, backbone: str) -> None:
    """Loads `path` into `model`, strictly.

    Accepts a Keras 3 `.weights.h5` file (e.g. from `model.save_weights`) or a
    legacy Keras HDF5 weights file (the format of `keras.applications`' no-top
    ResNet weights).

    Args:
      model: The backbone model (built).
      path: Local file path.
      backbone: Backbone name, for error messages.

    Raises:
      FileNotFoundError: `path` does not exist.
      ValueError: the file does not match the backbone (missing, extra or
        differently shaped weights).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"pretrained weights file for backbone {backbone!r} not found: {path!r} "
            "(weights are only read from local files; pass pretrained=None for random init)")
    try:
        with warnings.catch_warnings():
            # Keras 3 warns about its own bookkeeping containers of functional
            # models; completeness is checked below instead.
            warnings.filterwarnings("ignore", message="Skipping nested container")
            model.load_weights(path)
    except Exception as error:  # Keras raises ValueError/KeyError/OSError depending on the mismatch.
        raise ValueError(f"pretrained weights file {path!r} does not match backbone {backbone!r}: {error}") from error
    if path.endswith(".weights.h5"):
        # Keras silently ignores weights in the file that the model lacks.
        in_file, in_model = _count_h5_arrays(path), len(model.weights)
        if in_file != in_model:
            raise ValueError(f"pretrained weights file {path!r} does not match backbone {backbone!r}: "
                             f"it holds {in_file} arrays, the backbone has {in_model} weights")
    logging.info("Loaded pretrained weights for backbone %s from %s", backbone, path)
