"""`train.mixed_precision`: which Keras dtype policy a run's model is built under.

Settings: `none` (float32), `float16` (with dynamic loss scaling), `bfloat16`, and `auto`, which picks `bfloat16`
where the hardware computes it natively and `none` elsewhere:

- a GPU of compute capability 8.0 or newer (Ampere, Hopper, ...);
- a CPU with Intel AMX-BF16 (Sapphire Rapids and newer Xeons), where oneDNN runs bfloat16 convolutions on the tile
  units. On the 2-core AMX machine of docs/demo.md the demo's HourGlass trains about 1.3x faster in bfloat16, with
  the same held-out accuracy. A CPU without it emulates bfloat16 and gets slower, hence `none` there.

The integral layers, losses and model outputs stay float32 under every policy (DESIGN.md).
"""
import contextlib
import functools
import pathlib
from typing import Iterator

from absl import logging
import keras

from integral_keras.configs.train_config import MIXED_PRECISION

SETTINGS = MIXED_PRECISION
KERAS_POLICIES = {"none": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
MIN_BFLOAT16_GPU_CAPABILITY = (8, 0)


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


@functools.lru_cache(maxsize=None)
def native_bfloat16() -> str:
    """Why bfloat16 is native here (`"GPU compute capability 9.0"`, `"CPU with AMX-BF16"`), or `""` if it is not."""
    capabilities = _gpu_capabilities()
    if capabilities:
        lowest = min(capabilities)
        if lowest >= MIN_BFLOAT16_GPU_CAPABILITY:
            return f"GPU compute capability {lowest[0]}.{lowest[1]}"
        return ""
    return "CPU with AMX-BF16" if "amx_bf16" in cpu_flags() else ""


def resolve(setting: str) -> str:
    """`none`, `float16` or `bfloat16` for a `train.mixed_precision` setting (`auto` decided by the hardware)."""
    if setting not in SETTINGS:
        raise ValueError(f"mixed_precision must be one of {SETTINGS}; got {setting!r}")
    if setting != "auto":
        return setting
    reason = native_bfloat16()
    resolved = "bfloat16" if reason else "none"
    logging.info("mixed_precision=auto: %s (%s).", resolved,
                 reason or "no GPU of compute capability >= 8.0 and no CPU with AMX-BF16")
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
