"""Cost of the integral layers relative to the network that feeds them.

Builds the paper's SimpleBaseline-style network (ResNet-50, 256x256x3 input,
three 4x4 stride-2 deconvolutions with 256 filters + BN + ReLU, and a 1x1
convolution to K*D channels: 64x64 heat maps), then times, in one process and
interleaved round by round (in a rotating order) so that load on a shared
machine affects both alike:
  (a) the network forward pass to the logits,
  (b) each decode layer alone on those logits,
  (c) the building blocks every exact softmax-based layer is made of, alone on
      the same logits (`floor_functions`): the per-joint maximum, one sum over
      H (a single read of the tensor), `exp` fused into that sum, and the
      three together, a lower bound that cannot give all coordinates,
for 2D (K=16, D=1) and 3D (K=17, D=64) heat maps. Every call is a
`tf.function` (XLA-compiled by default, as Keras' `jit_compile="auto"` does on
TensorFlow) and is warmed up before timing. The table reports median times and
the median over rounds of each round's layer / forward ratio, which is less
sensitive to load that changes between rounds.

Usage:
  python scripts/benchmark.py layers [--batch_size=4] [--repeats=10] [--nojit_compile]
"""
import statistics
import time

import keras
from keras import ops
import tensorflow as tf

from integral_keras.layers import HeatmapArgmax, IntegralRegression, TwoStepIntegral
from integral_keras.layers import integral

INPUT_SIZE = 256
HEATMAP_SIZE = 64
# name -> (num_joints, depth, target integral/forward ratio in percent)
CASES = {"2d": (16, 1, 1.0), "3d": (17, 64, 3.0)}


def build_network(num_channels):
    """ResNet-50 + 3 deconvolutions + 1x1 conv: (N, 256, 256, 3) -> (N, 64, 64, C)."""
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3))
    backbone = keras.applications.ResNet50(
        weights=None, include_top=False, input_shape=(INPUT_SIZE, INPUT_SIZE, 3)
    )
    x = backbone(inputs)
    for _ in range(3):
        x = keras.layers.Conv2DTranspose(256, 4, strides=2, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    logits = keras.layers.Conv2D(num_channels, 1)(x)
    return keras.Model(inputs, logits, name="resnet50_deconv")


def decode_layers(num_joints, depth):
    """The layers to time, by table label."""
    return {
        "IntegralRegression": IntegralRegression(num_joints, depth),
        "IntegralRegression(debias)": IntegralRegression(num_joints, depth, debias=True),
        "TwoStepIntegral": TwoStepIntegral(num_joints, depth),
        "HeatmapArgmax": HeatmapArgmax(num_joints, depth),
    }


FLOOR_PREFIX = "floor: "


def floor_functions(num_joints, depth):
    """The building blocks of the integral layers, by table label; each maps `(N, H, W, K*D)` logits to a result.

    The max and the exponentials are the layers' own code (`layers.integral.joint_peaks`, `scaled_exp`), so the
    floor follows any change to them.

    - `max`: each joint's maximum, `(N, K)` (the first pass of a stable softmax);
    - `sum over H`: `sum_h logits`, `(N, W, K*D)` (one read of the tensor, nothing computed per cell);
    - `exp + sum over H`: `sum_h exp(logits)` (the same read with the exponential of every cell);
    - `max, exp, sum over H`: `sum_h exp(logits - max)`, `(N, W, K, D)`, the exact softmax's unnormalised
      x-and-depth mass. It gives neither y nor the normaliser on its own, so every exact layer costs at least this.
    """

    split_joints = IntegralRegression(num_joints, depth).split_joints  # (N, H, W, K*D) -> (N, H, W, K, D)

    def max_exp_sum(logits):
        exp_map, _ = integral.scaled_exp(split_joints(logits), 1.0)
        return ops.sum(exp_map, axis=1)

    return {
        FLOOR_PREFIX + "max": lambda logits: integral.joint_peaks(split_joints(logits)),
        FLOOR_PREFIX + "sum over H": lambda logits: ops.sum(logits, axis=1),
        FLOOR_PREFIX + "exp + sum over H": lambda logits: ops.sum(ops.exp(logits), axis=1),
        FLOOR_PREFIX + "max, exp, sum over H": max_exp_sum,
    }


def _seconds(function, argument):
    start = time.perf_counter()
    function(argument)  # Eager tf.function calls on CPU return computed tensors.
    return time.perf_counter() - start


def time_case(num_joints, depth, batch_size, repeats, warmup, jit_compile):
    """Times the forward pass and each decode layer, interleaved round by round.

    Returns:
      `{label: (median ms, median per-round percentage of the forward pass)}`
      with the forward pass under "forward" and the building blocks under
      `FLOOR_PREFIX + ...` (`floor_functions`).
    """
    network = build_network(num_joints * depth)
    images = keras.random.uniform((batch_size, INPUT_SIZE, INPUT_SIZE, 3), 0.0, 255.0, seed=0)
    functions = {"forward": tf.function(lambda x: network(x, training=False), jit_compile=jit_compile)}
    for label, layer in decode_layers(num_joints, depth).items():
        functions[label] = tf.function(layer, jit_compile=jit_compile)
    for label, block in floor_functions(num_joints, depth).items():
        functions[label] = tf.function(block, jit_compile=jit_compile, autograph=False)
    logits = functions["forward"](images)
    arguments = {label: (images if label == "forward" else logits) for label in functions}
    for label, function in functions.items():
        for _ in range(warmup):
            function(arguments[label])
    samples = {label: [] for label in functions}
    labels = list(functions)
    for round_index in range(repeats):
        # Rotate the order so no function always runs right after the forward.
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            samples[label].append(_seconds(functions[label], arguments[label]))
    forward = samples["forward"]
    return {
        label: (
            1e3 * statistics.median(values),
            statistics.median(100.0 * v / f for v, f in zip(values, forward)),
        )
        for label, values in samples.items()
    }


def format_table(results):
    """Markdown table of per-case forward and layer times."""
    lines = [
        "| case | layer | forward ms | layer ms | layer / forward | target |",
        "|---|---|---:|---:|---:|---|",
    ]
    for case, timings in results.items():
        num_joints, depth, target = CASES[case]
        forward, _ = timings["forward"]
        shape = f"{case} ({HEATMAP_SIZE}x{HEATMAP_SIZE}" + (f"x{depth}" if depth > 1 else "") + f", K={num_joints})"
        for label, (millis, percent) in timings.items():
            if label == "forward":
                continue
            verdict = ""
            if label == "IntegralRegression":
                verdict = f"< {target:g} %: " + ("met" if percent < target else "MISSED")
            lines.append(f"| {shape} | {label} | {forward:.1f} | {millis:.2f} | {percent:.2f} % | {verdict} |")
    return "\n".join(lines)


def run(cases=("2d", "3d"), batch_size=4, repeats=10, warmup=2, jit_compile=True) -> int:
    """Times every case of `cases` and prints the table (the flags of `scripts/benchmark.py layers`).

    Raises:
      ValueError: an unknown case (naming the valid ones).
    """
    unknown = [case for case in cases if case not in CASES]
    if unknown:
        raise ValueError(f"--cases: unknown {unknown}; valid: {sorted(CASES)}")
    keras.utils.set_random_seed(0)
    results = {}
    for case in cases:
        num_joints, depth, _ = CASES[case]
        results[case] = time_case(num_joints, depth, batch_size, repeats, warmup, jit_compile)
    print(
        f"batch_size={batch_size} repeats={repeats} warmup={warmup} "
        f"jit_compile={jit_compile} backend={keras.backend.backend()} "
        f"tensorflow={tf.__version__} keras={keras.__version__}"
    )
    print(format_table(results))
    return 0
