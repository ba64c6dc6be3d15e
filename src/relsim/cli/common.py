"""What every command shares: exit codes, the subcommand factory, the options declared once,
and the messages for interrupted work.

Only the standard library is imported here: the command must be able to answer a Ctrl-C that
comes while numpy and the rest import (inside :func:`relsim.cli.main`) with its own message.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relsim.errors import Interrupted, UsageError

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


def positive_int(text: str) -> int:
    """An argparse type: a whole number from 1 (``--replications 0`` or ``-3`` is a usage
    error before anything is read; the upper bounds need the scenario's estimate and are
    checked by :func:`relsim.run_experiment` before any folder is created)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1, got {value}")
    return value


def share(text: str) -> float:
    """An argparse type: a share strictly between 0 and 1 (NaN, infinity, 0 and 1 refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.05, got {text!r}") from None
    if not math.isfinite(value) or not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"expected a share strictly between 0 and 1 (0.05 for 5%), got {text!r}"
        )
    return value


def add_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed", type=int, default=None, help="root seed (default: the scenario's)"
    )


def add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=positive_int,
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
        default=None,
        help=f"decision metric (a summary column; default {DEFAULT_METRIC})",
    )


def metric_of(args: argparse.Namespace) -> str:
    """The decision metric asked for (``--metric`` or the default), checked before any work:
    a :class:`UsageError` lists the summary's columns when it is not one of them."""
    from relsim.experiment.checks import metric

    return metric(args.metric or DEFAULT_METRIC, "--metric")


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


def resume_ignores(args: argparse.Namespace, fixes: dict[str, str]) -> None:
    """Refuse options a resume would ignore: ``fixes`` maps each attribute of ``args`` that
    a resumed run takes from its folder to the option that sets it."""
    given = [flag for attr, flag in fixes.items() if getattr(args, attr, None) not in (None, [])]
    if given:
        raise UsageError(
            f"--resume completes {args.resume} as it was started (its settings are in its "
            f"manifest.json and scenario.resolved.yaml), so it would ignore "
            f"{', '.join(given)}: drop {'it' if len(given) == 1 else 'them'}, or start a new "
            "run with --out"
        )


def resumed_folder(args: argparse.Namespace, fixes: dict[str, str]) -> Any:
    """The results folder ``--resume`` names, once the options a resume would ignore are
    refused (:func:`resume_ignores`); ``FileNotFoundError`` (exit 66) when it holds none."""
    from relsim.experiment.folder import ResultsFolder

    resume_ignores(args, fixes)
    folder = ResultsFolder(args.resume)
    if not folder.holds_results():
        raise FileNotFoundError(2, "no results to resume", str(folder.manifest_path))
    return folder


def strategies_note(source: Path, scenario: Any, chosen: list[str] | None) -> None:
    """One line on stderr when the file gives no ``strategies:`` and none is chosen: say what
    will run (the default strategy), so nobody mistakes it for a comparison."""
    if chosen or "strategies" in scenario.model_fields_set:
        return
    names = ", ".join(s.name for s in scenario.strategies)
    say(
        f"relsim: {source} has no strategies: block, so only the default strategy runs "
        f"({names}); add strategies: to compare several"
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
