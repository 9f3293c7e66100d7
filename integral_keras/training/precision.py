"""`train.mixed_precision`: which Keras dtype policy a run's model is built under.

Settings: `none` (float32), `float16` (with dynamic loss scaling), `bfloat16`, and `auto`, which picks `bfloat16`
where the hardware computes it natively and `none` elsewhere:

- a GPU of compute capability 8.0 or newer (Ampere, Hopper, ...);
- a CPU whose oneDNN kernels compute bfloat16: Intel AMX-BF16 (Sapphire Rapids and newer Xeons, the tile units)
  or AVX512-BF16 (AMD Zen 4 and newer, Intel Cooper Lake). On the 2-core AMX machine of docs/demo.md the demo's
  HourGlass trains about 1.3x faster in bfloat16, with the same held-out accuracy; on a 2-core AMD EPYC (Zen 4,
  AVX512-BF16, no AMX) its 2D and 3D training steps ran 1.32x and 1.31x faster (docs/benchmarks.md).
  Only where oneDNN may use those instructions: `ONEDNN_MAX_CPU_ISA` set below them (e.g. `AVX2`) or
  `TF_ENABLE_ONEDNN_OPTS=0` (TensorFlow's Eigen kernels) leaves a CPU emulating bfloat16, which is slower, so
  `auto` picks `none` there, as on every other CPU.

The integral layers, losses and model outputs stay float32 under every policy (DESIGN.md).
"""
import contextlib
import functools
import os
import pathlib
from typing import Iterator

from absl import logging
import keras

from integral_keras.configs.train_config import MIXED_PRECISION

SETTINGS = MIXED_PRECISION
KERAS_POLICIES = {"none": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
MIN_BFLOAT16_GPU_CAPABILITY = (8, 0)
# oneDNN's ISA names (`ONEDNN_MAX_CPU_ISA`, lower case) in the order of its dispatcher, oldest first; a cap lets
# oneDNN use its own level and those before it. The aliases of one level share its rank.
ONEDNN_ISA_RANKS = {
    "sse41": 0, "avx": 1, "avx2": 2, "avx2_vnni": 3, "avx2_vnni_2": 4, "avx512_core": 5, "avx512_core_vnni": 6,
    "avx512_core_bf16": 7, "avx10_1_512": 8, "avx512_core_fp16": 8, "avx10_1_512_amx": 9, "avx512_core_amx": 9,
    "avx10_1_512_amx_fp16": 10, "avx512_core_amx_fp16": 10, "avx10_2_512": 11, "avx10_2_512_amx_2": 12,
}
# CPU flag -> (the oneDNN ISA level that computes bfloat16 with it, the reason `native_bfloat16` gives).
CPU_BFLOAT16 = (
    ("amx_bf16", "avx512_core_amx", "CPU with AMX-BF16"),
    ("avx512_bf16", "avx512_core_bf16", "CPU with AVX512-BF16"),
)


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset:
    """The feature flags of the first CPU listed in `cpuinfo` (empty where the file does not exist)."""
    path = pathlib.Path(cpuinfo)
    if not path.is_file():
        return frozenset()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def _gpu_capabilities():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        capabilities.append(tuple(capability) if capability else (0, 0))
    return capabilities


def onednn_allows(isa: str) -> bool:
    """Whether oneDNN may dispatch to `isa` (a lower-case key of `ONEDNN_ISA_RANKS`) under the process's environment.

    `TF_ENABLE_ONEDNN_OPTS=0` turns TensorFlow's oneDNN kernels off (nothing is allowed); `ONEDNN_MAX_CPU_ISA`
    caps the ISA (unset, `ALL`, `DEFAULT` or a name this table does not know count as no cap).
    """
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false"):
        return False
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().lower()
    if cap not in ONEDNN_ISA_RANKS:
        return True
    return ONEDNN_ISA_RANKS[isa] <= ONEDNN_ISA_RANKS[cap]


@functools.lru_cache(maxsize=None)
def native_bfloat16() -> str:
    """Why bfloat16 is native here (`"GPU compute capability 9.0"`, `"CPU with AMX-BF16"`, `"CPU with
    AVX512-BF16"`), or `""` if it is not (see the module docstring)."""
    capabilities = _gpu_capabilities()
    if capabilities:
        lowest = min(capabilities)
        if lowest >= MIN_BFLOAT16_GPU_CAPABILITY:
            return f"GPU compute capability {lowest[0]}.{lowest[1]}"
        return ""
    flags = cpu_flags()
    for flag, isa, reason in CPU_BFLOAT16:
        if flag in flags and onednn_allows(isa):
            return reason
    return ""


def check_bfloat16_runs() -> None:
    """Raises where TensorFlow's bfloat16 convolutions would fail: a CPU with bfloat16 instructions whose oneDNN is
    capped below them by `ONEDNN_MAX_CPU_ISA`.

    TensorFlow routes bfloat16 to oneDNN because the CPU's flags show the instructions, and the capped oneDNN then
    has no kernel: the first convolution stops with "could not create a primitive descriptor" (measured with
    `ONEDNN_MAX_CPU_ISA=AVX2` on an AMD EPYC with AVX512-BF16). A CPU without the instructions, or
    `TF_ENABLE_ONEDNN_OPTS=0`, runs bfloat16 in Eigen kernels instead: slowly, but it runs.

    Raises:
      ValueError: naming the CPU flag, the cap and what to set.
    """
    if _gpu_capabilities() or not onednn_allows("sse41"):
        return
    flags = cpu_flags()
    for flag, isa, _ in CPU_BFLOAT16:
        if flag in flags and not onednn_allows(isa):
            cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "")
            raise ValueError(
                f"mixed_precision=bfloat16 cannot train here: this CPU has bfloat16 instructions ({flag}) but "
                f"ONEDNN_MAX_CPU_ISA={cap} keeps oneDNN from them, and TensorFlow's bfloat16 convolutions then fail. "
                f"Unset ONEDNN_MAX_CPU_ISA (or set it to {isa.upper()} or above), or use mixed_precision=none.")


def resolve(setting: str) -> str:
    """`none`, `float16` or `bfloat16` for a `train.mixed_precision` setting (`auto` decided by the hardware).

    Raises:
      ValueError: for an unknown setting, or `bfloat16` where it cannot run (`check_bfloat16_runs`).
    """
    if setting not in SETTINGS:
        raise ValueError(f"mixed_precision must be one of {SETTINGS}; got {setting!r}")
    if setting == "bfloat16":
        check_bfloat16_runs()
    if setting != "auto":
        return setting
    reason = native_bfloat16()
    resolved = "bfloat16" if reason else "none"
    logging.info("mixed_precision=auto: %s (%s).", resolved,
                 reason or "no GPU of compute capability >= 8.0, and no CPU with AMX-BF16 or AVX512-BF16 whose "
                 "instructions oneDNN may use")
    return resolved


@contextlib.contextmanager
def dtype_policy(setting: str) -> Iterator[str]:
    """Sets Keras' global dtype policy for `setting` (resolved) inside the block, restores the previous one after.

    Layers keep the policy they were built with, so a model built inside the block computes in mixed precision
    while models built later (an export, an evaluation) get the caller's policy back.

    Yields:
      The resolved setting (`none`, `float16` or `bfloat16`).
    """
    resolved = resolve(setting)
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(KERAS_POLICIES[resolved])
    try:
        yield resolved
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
