"""Runs the absl binaries (`scripts/*.py`) so that a bad setting prints one line, not a traceback.

A `ConfigError` (a bad config key or value: the message names the dotted key, the bad value and the valid
choices or range) or a `FileNotFoundError` (a config, annotation or record file that is not there: the message
names the path) ends the binary with that one line on standard error and the usage exit status `USAGE_EXIT_CODE`.
`--verbose` shows the full traceback instead (so does absl's `--pdb_post_mortem`, which opens a debugger).
"""
import os
import sys

from absl import app
from absl import flags

from integral_keras import console
from integral_keras.configs.base import ConfigError
from integral_keras.errors import InputError
from integral_keras.errors import UserError

#: Exit status of a binary stopped by a bad setting (the conventional command-line usage error, as argparse).
USAGE_EXIT_CODE = 2
# UserError: an input that cannot be used (`InputError`: an undecodable image) or TF Serving's refusal (ServingError).
USER_ERRORS = (ConfigError, FileNotFoundError, UserError)

VERBOSE_HELP = "Show the full traceback of a configuration or missing-file error instead of one line."


def define_flags() -> None:
    """Defines `--verbose` (once): called by `run`, so only a binary that runs has the flag, not a library import."""
    if "verbose" not in flags.FLAGS:
        flags.DEFINE_bool("verbose", False, VERBOSE_HELP)


def guarded(main):
    """`main` wrapped: `USER_ERRORS` become one line on standard error and `SystemExit(USAGE_EXIT_CODE)`."""

    def wrapped(argv):
        try:
            result = main(argv)
        except USER_ERRORS as error:
            if getattr(flags.FLAGS, "verbose", False) or getattr(flags.FLAGS, "pdb_post_mortem", False):
                raise
            program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "integral_keras"
            kind = ("config error" if isinstance(error, ConfigError) else "file not found"
                    if isinstance(error, FileNotFoundError) else "input error" if isinstance(error, InputError)
                    else "error")
            sys.stderr.write(f"{program}: {kind}: {error} (--verbose shows the traceback)\n")
            sys.stderr.flush()
            raise SystemExit(USAGE_EXIT_CODE) from None
        except app.UsageError as error:  # a missing or contradictory flag: one line, not absl's whole docstring
            program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "integral_keras"
            sys.stderr.write(f"{program}: usage error: {error} (--helpshort lists the flags)\n")
            sys.stderr.flush()
            raise SystemExit(error.exitcode) from None
        _exit_without_waiting_for_releases(result)
        return result

    return wrapped


def _exit_without_waiting_for_releases(result) -> None:
    """Ends the process now if a training input pipeline is still being released on a helper thread.

    `training.trainer.release_in_background` destroys the pipeline on a helper thread, which tf.data can hold for
    up to a minute; waiting for it at exit was the pause after the demo's final table. Everything the binary
    writes is written by now (checkpoints, summaries, results), so the process ends without that teardown.
    """
    trainer = sys.modules.get("integral_keras.training.trainer")
    if trainer is None or not trainer.pending_releases():
        return
    from absl import logging  # pylint: disable=import-outside-toplevel

    logging.info("Done; not waiting for tf.data to finish releasing the training input pipeline.")
    logging.flush()
    sys.stdout.flush()
    console.restore_stderr()
    os._exit(result if isinstance(result, int) else 0)  # pylint: disable=protected-access


def run(main):
    """`absl.app.run(guarded(main))`, with TensorFlow's known-harmless lines silenced (`console.filter_known_noise`)."""
    console.filter_known_noise()
    define_flags()
    app.run(guarded(main))
