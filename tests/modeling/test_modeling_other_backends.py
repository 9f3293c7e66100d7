"""The model code without TensorFlow: a pose model built, fitted with the package's losses, saved to `.keras` and
loaded back on the JAX backend (and on PyTorch where it is installed).

This is the core install of the README (`pip install integral_keras[jax]` / `[torch]`): layers, losses, the
backbones and `build_pose_model` import no TensorFlow, which the child process checks after building, compiling and
fitting (Keras itself may import an installed TensorFlow when it saves; where TensorFlow is not installed it does
not). Keras fixes its backend at import, so each backend runs in a subprocess.
"""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import json, os, sys, tempfile

import numpy as np
import keras
import integral_keras as ik
from integral_keras.configs import ModelConfig
from integral_keras.models import build_pose_model

config = ModelConfig(backbone="hourglass", method="I1", num_joints=17, input_size=64, heatmap_size=16, depth=4,
                     num_stages=1, num_deconv=0, hourglass_features=16, integral="two_step")
model = build_pose_model(config)
rng = np.random.default_rng(0)
images = rng.uniform(0, 255, (4, 64, 64, 3)).astype("float32")
# Packed targets (README): joints (N, K, 2C) = coordinates then weights; heatmaps (N, H, W, K*D + K).
joints = rng.uniform(0, 15, (4, 17, 3)).astype("float32")
maps = rng.uniform(0, 1, (4, 16, 16, 17 * 4)).astype("float32")
targets = {"joints": np.concatenate([joints, np.ones_like(joints)], -1),
           "heatmaps": np.concatenate([maps, np.ones((4, 16, 16, 17), "float32")], -1)}
losses = ik.losses.losses_for_method("I1", 17, 4)
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=losses)
before = [np.array(keras.ops.convert_to_numpy(w)) for w in model.trainable_weights]
history = model.fit(images, {key: targets[key] for key in losses}, batch_size=2, epochs=2, verbose=0)
after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
tensorflow_loaded = "tensorflow" in sys.modules  # by the package's code: building, compiling and fitting
path = os.path.join(tempfile.mkdtemp(), "model.keras")
model.save(path)
loaded = keras.saving.load_model(path, safe_mode=True)
mine = keras.ops.convert_to_numpy(model.predict(images, verbose=0)["joints"])
theirs = keras.ops.convert_to_numpy(loaded.predict(images, verbose=0)["joints"])
print("RESULTS " + json.dumps({
    "backend": keras.backend.backend(), "losses": [float(v) for v in history.history["loss"]],
    "changed": sum(not np.allclose(a, b) for a, b in zip(before, after)), "weights": len(after),
    "max_reload_difference": float(np.max(np.abs(mine - theirs))), "joints_shape": list(mine.shape),
    "tensorflow_loaded": tensorflow_loaded}))
"""


def _run(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULTS ")][-1]
    return json.loads(line[len("RESULTS "):])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_build_fit_save_and_load_without_tensorflow(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed here (`pip install integral_keras[{backend}]`); the JAX one is, "
                    "through the test extra")
    result = _run(backend)
    assert result["backend"] == backend and not result["tensorflow_loaded"]
    assert result["joints_shape"] == [4, 17, 3]
    assert all(value == value and value < 1e6 for value in result["losses"])  # finite
    assert result["changed"] > 0.9 * result["weights"]  # the fit moved (nearly) every weight
    assert result["max_reload_difference"] < 1e-4
