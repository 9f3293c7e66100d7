"""The layers on the JAX backend, checked against the numpy reference.

Keras fixes its backend at import, so the JAX run happens in a subprocess that
loads logits from .npy files and prints its outputs as JSON.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import layers_reference as ref

pytest.importorskip("jax")

CHILD = r"""
import json, sys
import jax, keras, numpy as np
from integral_keras.layers import HeatmapArgmax, HeatmapSoftmax, IntegralRegression, TwoStepIntegral
assert keras.backend.backend() == "jax", keras.backend.backend()
results = {}
for case in json.loads(sys.argv[1]):
    k, d, beta = case["num_joints"], case["depth"], case["beta"]
    logits = np.load(case["path"])
    two_step = TwoStepIntegral(k, d, beta=beta)(logits)
    extreme = np.load(case["extreme_path"])
    layer = IntegralRegression(k, d, beta=beta, debias=True)
    grad = jax.grad(lambda x: (layer(x) * np.arange(1.0, k * (2 if d == 1 else 3) + 1).reshape(k, -1)).sum())(extreme)
    results[case["name"]] = {
        "softmax": np.asarray(HeatmapSoftmax(k, d, beta=beta)(logits)).tolist(),
        "integral": np.asarray(IntegralRegression(k, d, beta=beta)(logits)).tolist(),
        "two_step": {key: np.asarray(v).tolist() for key, v in two_step.items()},
        "argmax": np.asarray(HeatmapArgmax(k, d)(logits)).tolist(),
        "extreme_finite": bool(np.isfinite(layer(extreme)).all() and np.isfinite(grad).all()),
    }
print("RESULTS " + json.dumps(results))
"""


@pytest.mark.slow
def test_layers_on_jax_backend_match_reference(tmp_path):
    cases = []
    for name, (k, d, beta, h, w) in {"2d": (3, 1, 1.0, 12, 10), "3d": (2, 5, 2.0, 8, 6)}.items():
        logits = (2.0 * np.random.randn(2, h, w, k * d)).astype(np.float32)
        extreme = (1e4 * np.sign(np.random.randn(1, h, w, k * d))).astype(np.float32)
        np.save(tmp_path / f"{name}.npy", logits)
        np.save(tmp_path / f"{name}_extreme.npy", extreme)
        cases.append({"name": name, "num_joints": k, "depth": d, "beta": beta, "logits": logits,
                      "path": str(tmp_path / f"{name}.npy"), "extreme_path": str(tmp_path / f"{name}_extreme.npy")})
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    args = json.dumps([{key: v for key, v in c.items() if key != "logits"} for c in cases])
    proc = subprocess.run([sys.executable, "-c", CHILD, args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULTS ")][-1]
    results = json.loads(line[len("RESULTS "):])

    for case in cases:
        got = results[case["name"]]
        k, d, beta, logits = case["num_joints"], case["depth"], case["beta"], case["logits"]
        expected = ref.integral(logits, k, d, beta)
        np.testing.assert_allclose(got["softmax"], ref.softmax_channels(logits, k, d, beta), atol=2e-4)
        np.testing.assert_allclose(got["integral"], expected, atol=2e-4)
        np.testing.assert_allclose(got["two_step"]["joints"], expected, atol=2e-4)
        for key, value in ref.marginals(logits, k, d, beta).items():
            np.testing.assert_allclose(got["two_step"][key], value, atol=2e-4, err_msg=key)
        np.testing.assert_array_equal(got["argmax"], ref.argmax(logits, k, d))
        assert got["extreme_finite"], case["name"]
