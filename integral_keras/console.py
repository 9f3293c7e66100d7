"""What the binaries print: TensorFlow's known-harmless error-looking lines are dropped from standard error.

A successful run must not print lines that look like errors. TensorFlow prints some that are known to be harmless
(docs/demo.md, "What a run prints"); `KNOWN_HARMLESS` lists them, and this is the one place that silences them.
`filter_known_noise()` (called once by `integral_keras.configs.cli.run`, so by every `scripts/*.py`) routes file
descriptor 2 through a small filter process that drops exactly those lines and passes everything else through
unchanged, as it comes (a progress bar's partial lines too). C++ code writes to that descriptor directly, so a
Python logging filter could not catch them. The filter process outlives a crash of the binary: it forwards what is
left in the pipe, then ends.
"""
import atexit
import os
import re
import subprocess
import sys

#: Lines TensorFlow prints on a successful run that are known to be harmless, as regular expressions.
KNOWN_HARMLESS = (
    # No GPU driver on a CPU machine: TensorFlow tries CUDA, fails, and runs on the CPU (it said so just before).
    r"failed call to cuInit",
    # Graph import of Keras' Cast ops during SavedModel loading and TFLite conversion: the attribute is ignored.
    r"NodeDef mentions attribute Truncate which is not in the op definition",
    # SavedModel export: Keras variable names such as `resource` are renamed in the signature (absl INFO).
    r"contains input name\(s\) .* with unsupported characters which will be renamed",
    # CPUs without AVX-512 (e.g. AVX2-only AMD EPYC): oneDNN falls back to Eigen for int32 ops.
    r"oneDNN supports DT_INT32 only on platforms with AVX-512",
    # Printed by each TensorFlow shared library at import, before its logging is set up.
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
)
#: Set in the environment once the filter runs, so that child processes do not start another one.
ENV_FLAG = "INTEGRAL_KERAS_STDERR_FILTER"

# The filter process: reads the pipe, drops the complete lines that match, passes everything else through at once.
_FILTER_SOURCE = r"""
import os, re, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the binary; keep forwarding until it is gone
pattern = re.compile(sys.argv[1].encode())
pending = b""
while True:
    try:
        chunk = os.read(0, 65536)
    except OSError:
        chunk = b""
    if not chunk:
        break
    pending += chunk
    *lines, pending = pending.split(b"\n")
    out = b"".join(line + b"\n" for line in lines if not pattern.search(line))
    if pending and b"\r" in pending:  # a progress bar redraws its line without a newline: show it now
        out, pending = out + pending, b""
    if out:
        os.write(1, out)
if pending and not pattern.search(pending):
    os.write(1, pending)
"""

_state = {"terminal": None, "process": None}


def harmless(line: str) -> bool:
    """Whether `line` is one of the `KNOWN_HARMLESS` lines."""
    return re.search("|".join(KNOWN_HARMLESS), line) is not None


def stderr_is_terminal() -> bool:
    """Whether standard error was a terminal before `filter_known_noise` put its pipe there (for progress bars)."""
    if _state["terminal"] is not None:
        return _state["terminal"]
    try:
        return os.isatty(2)
    except OSError:
        return False


def filter_known_noise() -> bool:
    """Drops the `KNOWN_HARMLESS` lines from this process's standard error (file descriptor 2), from now on.

    Idempotent, and a no-op in a child of a filtered process (`ENV_FLAG`) or when the filter process cannot start.
    Also sets `TF_CPP_MIN_LOG_LEVEL=2` (no TensorFlow C++ INFO / WARNING lines) unless it is set already.

    Returns:
      Whether the filter is running.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if _state["process"] is not None or os.environ.get(ENV_FLAG):
        return _state["process"] is not None
    try:
        sys.stderr.flush()
        terminal = os.isatty(2)
        original = os.dup(2)
        process = subprocess.Popen([sys.executable, "-S", "-c", _FILTER_SOURCE, "|".join(KNOWN_HARMLESS)],
                                   stdin=subprocess.PIPE, stdout=original, stderr=original, close_fds=True)
    except (OSError, ValueError):
        return False
    os.dup2(process.stdin.fileno(), 2)
    process.stdin.close()
    os.environ[ENV_FLAG] = "1"
    _state.update(terminal=terminal, process=process, original=original)
    atexit.register(restore_stderr)
    return True


def restore_stderr() -> None:
    """Hands descriptor 2 back and waits for the filter to forward what is left (at exit: before the prompt)."""
    process = _state.get("process")
    if process is None:
        return
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.dup2(_state["original"], 2)  # closes our end of the pipe: the filter reads to the end and stops
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    _state["process"] = None
