"""The ``relsim`` command line: a thin layer over the Python API.

Exit codes: 0 success, 1 runtime failure, 2 usage error, 65 invalid scenario, 66 missing input
file, 130 interrupted (after saving what finished). Messages go to stderr, data to files (or to
stdout with ``--json``).

One module per group of commands, each a parser and a handler per command over a public API
call: :mod:`~relsim.cli.run` (run), :mod:`~relsim.cli.study` (sweep, robustness, breakeven),
:mod:`~relsim.cli.decide` (decide), :mod:`~relsim.cli.optimize` (optimize),
:mod:`~relsim.cli.data` (export, calibrate, validate-model), :mod:`~relsim.cli.scenario`
(validate, new, presets, schema) and :mod:`~relsim.cli.present` (report, demo); the options
several commands share are declared once in :mod:`~relsim.cli.common`. Importing the package
imports only the standard library: the command must be able to answer a Ctrl-C during the
imports of numpy and the rest (inside :func:`main`) with its own message.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from types import FrameType

from relsim.cli import data, decide, optimize, present, run, scenario, study
from relsim.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_NO_INPUT,
    EXIT_OK,
    EXIT_USAGE,
)
from relsim.errors import UsageError

COMMANDS = (
    run.add_run,
    scenario.add_presets,
    present.add_demo,
    study.add_robustness,
    study.add_sweep,
    study.add_breakeven,
    decide.add_decide,
    optimize.add_optimize,
    data.add_export,
    data.add_calibrate,
    data.add_validate_model,
    present.add_report,
    scenario.add_schema,
    scenario.add_new,
    scenario.add_validate,
)
"""Each command's parser, in the order ``relsim --help`` lists them."""


_sigints: list[int] = []
"""The Ctrl-Cs :func:`main`'s command received (see :func:`_noted_sigint`)."""


def _noted_sigint(number: int, frame: FrameType | None) -> None:
    """Python's own answer to a Ctrl-C (KeyboardInterrupt), noted first. A compiled module's
    import can turn the KeyboardInterrupt raised inside it into an ImportError (numpy's core:
    "PyCapsule_Import could not import module 'datetime'", seen once in 640 CI tests under
    load); the note lets the command still answer "interrupted" instead of a failed import."""
    _sigints.append(number)
    signal.default_int_handler(number, frame)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default: the process's arguments) and return its exit
    code; every failure becomes a message and an exit code, never a traceback (unless
    ``--debug``). A failure that follows a Ctrl-C is the Ctrl-C's (exit 130)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    noting = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    _sigints.clear()
    if noting:
        signal.signal(signal.SIGINT, _noted_sigint)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("relsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the CLI turns every failure into a message
        if _sigints:  # the failure is the interruption's, in another exception's clothes
            print("relsim: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if getattr(args, "debug", False):
            traceback.print_exc()
        return _exit_code(error, debug=getattr(args, "debug", False))
    finally:
        if noting:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _exit_code(error: Exception, debug: bool) -> int:
    """Print the message for a failure and return its exit code."""
    from relsim.calibration.transactions import TransactionLogError
    from relsim.scenario import ScenarioError

    if isinstance(error, ScenarioError):
        print(str(error), file=sys.stderr)
        return EXIT_INVALID
    if isinstance(error, TransactionLogError):
        print(f"relsim: {error}", file=sys.stderr)
        return EXIT_INVALID
    if isinstance(error, UsageError):
        print(f"relsim: {error}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(error, FileNotFoundError):
        print(f"relsim: no such file: {error.filename}", file=sys.stderr)
        return EXIT_NO_INPUT
    if isinstance(error, IsADirectoryError | PermissionError) and error.filename:
        print(f"relsim: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_NO_INPUT
    hint = "" if debug else " (run with --debug for the traceback)"
    print(f"relsim: error: {error}{hint}", file=sys.stderr)
    return EXIT_FAILURE


def entry() -> int:
    """The ``relsim`` command and ``python -m relsim``: :func:`main`, made to end with its exit
    code even when a Ctrl-C comes as the process ends, and quickly."""
    code = main()
    # The work is done: a Ctrl-C now, while Python shuts down, must not turn the exit code into
    # a death by SIGINT (-2). Python keeps an ignored SIGINT ignored through its shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A Ctrl-C that landed inside a string exec() -- dataclasses and namedtuple build their
    # methods that way while modules import -- is marked "unhandled" by CPython even though
    # main() caught and answered it, and under ``python -m`` the mark ends the process by SIGINT
    # instead of with main()'s code (7 of 20 Ctrl-Cs during the imports of a resumed run). Every
    # string exec clears the mark first, so an empty one clears it.
    exec("")
    # whatever is left is freed with the process: frozen, Python's shutdown does not search it
    # for cycles (0.56 s after the classroom comparison with its plots and report; 0.16 s)
    gc.freeze()
    return code


def build_parser() -> argparse.ArgumentParser:
    """The ``relsim`` parser with every command."""
    parser = argparse.ArgumentParser(
        prog="relsim",
        description="Compare relationship-marketing strategies by simulating a market.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def _version() -> str:
    from relsim.version import MODEL_VERSION, __version__

    return f"relsim {__version__} (model {MODEL_VERSION})"


__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NO_INPUT",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "entry",
    "main",
]
