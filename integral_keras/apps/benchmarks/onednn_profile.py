"""Where a training step's time goes inside oneDNN: sums an `ONEDNN_VERBOSE=1` log by primitive.

    ONEDNN_VERBOSE=1 python scripts/benchmark.py training --precisions=none ... > verbose.log 2>&1
    python scripts/benchmark.py onednn verbose.log --steps=6

oneDNN prints one line per executed primitive: `onednn_verbose,[<timestamp>,]v1,primitive,exec,cpu,<kind>,
<implementation>,<propagation>,<memory descriptors>,<attributes>,<algorithm>,<shapes>,<milliseconds>` (oneDNN 3),
or the same without `v1,primitive` (oneDNN 2, prefix `dnnl_verbose`). The table groups the executions by kind and
propagation (convolution `forward_training`, `backward_data`, `backward_weights`, batch normalisation, eltwise,
reorder, ...) and gives each group's calls, milliseconds, share of the oneDNN total and the implementations that
ran (`brg_conv_fwd:avx2`, `jit:avx512_core`, ...: the ISA oneDNN really used, which `ONEDNN_MAX_CPU_ISA` caps).
With `--steps`, the milliseconds per step too; set it to the number of steps the logged process ran (warm-up
included), and compare with the step time of a run without the verbose log (printing costs a little).
What the table does not contain is time spent outside oneDNN: TensorFlow's own (Eigen) kernels and the runtime.
"""
import argparse
import dataclasses
import sys
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

PREFIXES = ("onednn_verbose", "dnnl_verbose")


@dataclasses.dataclass(frozen=True)
class Execution:
    """One executed primitive: its kind (`convolution`), implementation (`brg_conv_fwd:avx2`), propagation
    (`forward_training`) and time in milliseconds."""

    kind: str
    implementation: str
    propagation: str
    milliseconds: float


@dataclasses.dataclass
class Group:
    """All executions of one (kind, propagation): their count, total milliseconds and implementations."""

    kind: str
    propagation: str
    calls: int
    milliseconds: float
    implementations: Tuple[str, ...]


def parse_line(line: str) -> Optional[Execution]:
    """The execution a verbose line reports, or None for any other line (creation, info, the program's output).

    Raises:
      ValueError: an `exec` line whose last field is not a number (names the line).
    """
    fields = line.strip().split(",")
    if not fields or fields[0] not in PREFIXES or "exec" not in fields:
        return None
    at = fields.index("exec")
    if len(fields) < at + 6:  # engine, kind, implementation, propagation, ..., time
        return None
    try:
        milliseconds = float(fields[-1])
    except ValueError:
        raise ValueError(f"oneDNN verbose line without a time in its last field: {line.strip()[:200]}") from None
    return Execution(fields[at + 2], fields[at + 3], fields[at + 4], milliseconds)


def summarize(lines: Iterable[str]) -> List[Group]:
    """Groups the executions of `lines` by (kind, propagation), the most expensive group first."""
    executions: Dict[Tuple[str, str], List[Execution]] = {}
    for execution in filter(None, map(parse_line, lines)):
        executions.setdefault((execution.kind, execution.propagation), []).append(execution)
    groups = [Group(kind, propagation, len(group), sum(e.milliseconds for e in group),
                    tuple(dict.fromkeys(e.implementation for e in group)))  # in order of first appearance
              for (kind, propagation), group in executions.items()]
    return sorted(groups, key=lambda group: -group.milliseconds)


def format_table(groups: Sequence[Group], steps: Optional[int] = None) -> str:
    """The markdown table of `groups` (with a ms-per-step column when `steps` is given) and a total row."""
    total = sum(group.milliseconds for group in groups)
    per_step = steps is not None and steps > 0
    head = ["primitive", "propagation", "calls", "ms", "share"] + (["ms / step"] if per_step else []) + \
        ["implementations"]
    rows = ["| " + " | ".join(head) + " |", "|" + "|".join(["---", "---", "---:", "---:", "---:"] +
                                                       (["---:"] if per_step else []) + ["---"]) + "|"]

    def row(kind, propagation, calls, ms, implementations):
        cells = [kind, propagation, str(calls), f"{ms:.1f}", f"{100.0 * ms / total:.1f} %" if total else "-"]
        cells += [f"{ms / steps:.1f}"] if per_step else []
        return "| " + " | ".join(cells + [implementations]) + " |"

    rows += [row(g.kind, g.propagation, g.calls, g.milliseconds, " ".join(g.implementations)) for g in groups]
    rows.append(row("all oneDNN", "", sum(g.calls for g in groups), total, ""))
    return "\n".join(rows)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{argv[0]} onednn", description=__doc__.split("\n")[0])
    parser.add_argument("logs", nargs="+", help="files holding the output of a run with ONEDNN_VERBOSE=1")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps the logged run executed (warm-up included): adds milliseconds per step")
    args = parser.parse_args(list(argv[1:]))
    lines = []
    for path in args.logs:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines.extend(handle)
        except OSError as error:
            sys.stderr.write(f"error: cannot read oneDNN log {path}: {error.strerror}\n")
            return 2
    try:
        groups = summarize(lines)
    except ValueError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    if not groups:
        sys.stderr.write(f"error: no oneDNN executions in {', '.join(args.logs)}: run the command with "
                         "ONEDNN_VERBOSE=1 (and TensorFlow's oneDNN on: TF_ENABLE_ONEDNN_OPTS unset or 1)\n")
        return 2
    print(format_table(groups, args.steps))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
