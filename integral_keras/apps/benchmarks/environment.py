"""What a benchmark table must name about its machine: the CPU, its vector ISA and the thread / oneDNN settings.

`cpu_info()` reads the CPU model and its best vector ISA from `/proc/cpuinfo` (`parse_cpuinfo` does the parsing,
so it is tested on a hand-written text); `environment_rows()` lists the settings that change CPU speed: the
environment variables oneDNN and TensorFlow read, the libraries' versions and their thread counts.
"""
import dataclasses
import os
from typing import Iterable, List, Optional, Sequence, Tuple

CPUINFO_PATH = "/proc/cpuinfo"
# ISA levels, best first, each with the /proc/cpuinfo flags any one of which shows it.
ISA_LEVELS = (
    ("AMX", ("amx_tile", "amx_bf16")),
    ("AVX-512", ("avx512f",)),
    ("AVX2", ("avx2",)),
)
BELOW_AVX2 = "below AVX2"
UNKNOWN = "unknown"
# Environment variables that change the speed of the CPU kernels (unset ones are reported as such).
SPEED_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY")


@dataclasses.dataclass(frozen=True)
class CpuInfo:
    """The CPU a benchmark ran on.

    Attributes:
      model_name: e.g. `Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz` (`unknown` when not listed).
      isa: the best vector ISA its flags show: `AMX`, `AVX-512`, `AVX2` or `below AVX2` (`unknown` without flags).
      logical_cpus: the number of `processor` entries (0 when not listed).
    """

    model_name: str
    isa: str
    logical_cpus: int


def isa_level(flags: Iterable[str]) -> str:
    """The best ISA level of `ISA_LEVELS` that the CPU flags show, or `below AVX2`."""
    flags = set(flags)
    for level, markers in ISA_LEVELS:
        if flags & set(markers):
            return level
    return BELOW_AVX2


def parse_cpuinfo(text: str) -> CpuInfo:
    """Reads the first processor's `model name` and `flags` (x86) or `Features` (ARM) lines of a /proc/cpuinfo text.

    Args:
      text: the file's contents.

    Returns:
      A `CpuInfo`; fields the text lacks are `unknown` (`logical_cpus` 0).
    """
    fields = {}
    processors = 0
    for line in text.splitlines():
        key, separator, value = line.partition(":")
        if not separator:
            continue
        key = key.strip().lower()
        if key == "processor":
            processors += 1
        fields.setdefault(key, value.strip())
    flags = fields.get("flags", fields.get("features"))
    return CpuInfo(model_name=fields.get("model name") or UNKNOWN,
                   isa=isa_level(flags.split()) if flags is not None else UNKNOWN,
                   logical_cpus=processors)


def cpu_info(path: str = CPUINFO_PATH) -> CpuInfo:
    """The `CpuInfo` of this machine (all `unknown` where `path` cannot be read, e.g. not on Linux)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return parse_cpuinfo(handle.read())
    except OSError:
        return CpuInfo(UNKNOWN, UNKNOWN, 0)


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def tensorflow_threads() -> Tuple[int, int]:
    """TensorFlow's `(intra-op, inter-op)` thread settings; 0 means its default (one per usable core)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return (tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads())


def environment_rows(cpu: CpuInfo, torch_settings: Optional[Sequence[Tuple[str, str]]] = None,
                     environ=None) -> List[Tuple[str, str]]:
    """`(setting, value)` rows naming the machine and the settings of a CPU benchmark.

    Args:
      cpu: the machine's `CpuInfo`.
      torch_settings: rows of the PyTorch side (version, threads, memory format), when there is one.
      environ: the environment variables (default `os.environ`).
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    environ = os.environ if environ is None else environ
    intra, inter = tensorflow_threads()
    cores = usable_cores()
    rows = [("CPU", cpu.model_name), ("ISA (CPU flags)", cpu.isa),
            ("cores usable / logical", f"{cores} / {cpu.logical_cpus}")]
    rows += [(name, environ.get(name, "unset")) for name in SPEED_VARIABLES]
    rows += [("TensorFlow", tf.__version__),
             ("TF intra-op / inter-op threads", f"{intra} / {inter} (0: one per usable core)")]
    return rows + list(torch_settings or [])


def markdown_rows(rows: Sequence[Tuple[str, str]]) -> str:
    """A two-column markdown table `| setting | value |` of `rows`."""
    lines = ["| setting | value |", "|---|---|"] + [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)
