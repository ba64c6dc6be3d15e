"""What every command shares: exit codes, the subcommand factory, the options declared once,
and the messages for interrupted work.

Only the standard library is imported here: the command must be able to answer a Ctrl-C that
comes while numpy and the rest import (inside :func:`relsim.cli.main`) with its own message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relsim.errors import Interrupted

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INVALID, EXIT_NO_INPUT, EXIT_INTERRUPTED = (
    0,
    1,
    2,
    65,
    66,
    130,
)
DEFAULT_METRIC = "npv_with_residual"

Handler = Callable[[argparse.Namespace], int]
Subparsers = argparse._SubParsersAction  # type: ignore[type-arg]


def command(
    sub: Subparsers, name: str, handler: Handler, help_text: str, examples: str
) -> argparse.ArgumentParser:
    """A subcommand with its examples in --help, --debug, and its handler."""
    parser = sub.add_parser(
        name, help=help_text, epilog=examples, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(handler=handler)
    return parser


def say(message: str) -> None:
    """A message for the user: on stderr (stdout carries data)."""
    print(message, file=sys.stderr)


def add_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed", type=int, default=None, help="root seed (default: the scenario's)"
    )


def add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: all cores; 1 runs in this process)",
    )


def add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal)",
    )


def add_metric(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metric",
        default=DEFAULT_METRIC,
        help=f"decision metric (a summary column; default {DEFAULT_METRIC})",
    )


def add_overrides(
    parser: argparse.ArgumentParser,
    help_text: str = "override a scenario field, e.g. --set horizon.weeks=104",
) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help=help_text,
    )


def add_strategies(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strategy", action="append", default=None, help="run only this strategy (repeatable)"
    )


def add_results_options(parser: argparse.ArgumentParser, command_name: str) -> None:
    """--resume DIR, --force and --no-memory-check: the options of a command that writes a
    results folder (``relsim run``, ``relsim sweep``)."""
    parser.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"complete an interrupted {command_name} in DIR",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the results already in --out (otherwise they are never overwritten)",
    )
    parser.add_argument(
        "--no-memory-check",
        action="store_true",
        help="run even when the memory estimate exceeds what this machine has available",
    )


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``--set PATH=VALUE`` options as a dict; each VALUE is read as YAML."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"relsim: --set needs PATH=VALUE, got {item!r}")
        path, text = item.split("=", 1)
        out[path.strip()] = yaml.load(text) if text.strip() else ""
    return out


def interrupted(stop: Interrupted, command_name: str = "run") -> int:
    """Ctrl-C during a run, sweep or robustness analysis: say what is kept and how to go on."""
    if stop.stage == "robustness":
        say(
            f"relsim: interrupted; the run's results in {stop.out}/ are complete, the robustness "
            f"variants finished so far are kept. Resume with:\n"
            f"  relsim robustness {stop.out} --resume"
        )
    else:
        say(
            f"relsim: interrupted; finished replications are kept in {stop.out}/. Resume with:\n"
            f"  relsim {command_name} --resume {stop.out}"
        )
    return EXIT_INTERRUPTED


def first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
