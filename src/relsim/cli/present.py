"""``relsim report`` and ``relsim demo``: results for readers -- the report of a finished run and
the offline classroom page (the work is :mod:`relsim.viz.report` and :mod:`relsim.viz.demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from relsim.cli.common import (
    DEFAULT_METRIC,
    EXIT_OK,
    Subparsers,
    add_seed,
    add_workers,
    command,
    say,
)
from relsim.errors import UsageError


def add_report(sub: Subparsers) -> None:
    report = command(
        sub,
        "report",
        handle_report,
        "write report.html and report.md for a finished results folder",
        "example:\n  relsim report results/baseline-20261124-120000",
    )
    report.add_argument("results", type=Path, help="results folder of relsim run")
    report.add_argument("--metric", default=None, help="decision metric (default: the run's)")
    add_force(report, "report.md or report.html")


def add_force(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help=f"overwrite an existing {what} that relsim did not write (refused without it)",
    )


def handle_report(args: argparse.Namespace) -> int:
    from relsim.experiment import Experiment
    from relsim.experiment.folder import ResultsFolder
    from relsim.experiment.owned import refuse_overwrite
    from relsim.pipeline import record_report
    from relsim.viz.report import write_report

    folder = ResultsFolder(args.results)
    manifest = folder.require_complete()
    metric = args.metric or manifest.get("metric", DEFAULT_METRIC)
    for name in ("report.md", "report.html"):
        refuse_overwrite(folder.path(name), args.force, folder.root)
    say(f"relsim: writing the report of {folder.root} ...")
    md, page = record_report(folder, write_report(Experiment.load(args.results, metric)))
    say(f"relsim: report written: {page} and {md}")
    return EXIT_OK


def add_demo(sub: Subparsers) -> None:
    demo = command(
        sub,
        "demo",
        handle_demo,
        "write the classroom page: one offline HTML file that replays the strategies",
        "examples:\n  relsim demo                       # the bundled classroom scenario\n"
        "  relsim demo scenarios/classroom.yaml --out class.html\n"
        "  relsim demo --serve                # live, on this computer: levers, new luck\n"
        "  relsim demo scenarios/frequency-war.yaml --strategy transactional "
        "--strategy financial \\\n"
        "      --lever rivalry.points.lag.mean_weeks=2,8,26",
    )
    demo.add_argument(
        "scenario",
        type=Path,
        nargs="?",
        default=None,
        help="scenario file (default: the bundled classroom scenario)",
    )
    demo.add_argument(
        "--out", type=Path, default=None, help="page to write (default: results/<name>-demo.html)"
    )
    demo.add_argument(
        "--strategy",
        action="append",
        default=None,
        help="a strategy to show (repeatable; default: all of the scenario's)",
    )
    demo.add_argument(
        "--replications", type=int, default=8, help="runs per strategy for the curves (8)"
    )
    demo.add_argument(
        "--lever",
        action="append",
        default=None,
        metavar="PATH=V1,V2,...",
        help="a field the page's grid varies (at most two; default: a points program's reward "
        "value x the rivals' copy lag, when a strategy runs points)",
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="serve the page live on 127.0.0.1 (levers, new luck; Ctrl-C stops) "
        "instead of writing a file: each change shows 2 runs per strategy within seconds, "
        "then --replications",
    )
    demo.add_argument("--port", type=int, default=0, help="port for --serve (0: any free one)")
    demo.add_argument("--no-grid", action="store_true", help="no precomputed grid (a faster page)")
    demo.add_argument(
        "--grid-replications", type=int, default=3, help="runs per strategy in each grid cell (3)"
    )
    add_force(demo, "page")
    add_seed(demo)
    add_workers(demo)


def handle_demo(args: argparse.Namespace) -> int:
    from importlib import resources

    from relsim.viz.demo import write_demo

    levers = _levers(args)
    if args.replications < 2 or args.grid_replications < 2:
        raise UsageError("--replications and --grid-replications must be at least 2")
    with resources.as_file(resources.files("relsim").joinpath("classroom.yaml")) as bundled:
        scenario = args.scenario or bundled
        if args.serve:
            return _serve(scenario, args)
        out = _page(scenario, args.out, args.force)
        say(f"relsim: computing the classroom page for {scenario} ...")
        try:
            page = write_demo(
                scenario,
                out,
                strategies=args.strategy,
                replications=args.replications,
                levers=levers,
                grid_replications=args.grid_replications,
                seed=args.seed,
                workers=args.workers,
                notify=say,
            )
        except KeyError as error:  # an unknown strategy name
            raise UsageError(str(error.args[0] if error.args else error)) from error
    say(f"relsim: classroom page written: {page} (open it in any browser; no network needed)")
    return EXIT_OK


def _serve(scenario: Path, args: argparse.Namespace) -> int:
    from relsim.viz.demo_serve import serve

    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    stages = (2, args.replications) if args.replications > 2 else (2,)
    try:
        serve(scenario, args.port, args.strategy, stages, notify=say, workers=args.workers)
    except KeyError as error:  # an unknown strategy name
        raise UsageError(str(error.args[0] if error.args else error)) from error
    return EXIT_OK


def _page(scenario: Path, out: Path | None, force: bool) -> Path:
    """The classroom page's file (default ``results/<scenario's slug>-demo.html``), refused
    before any work when it exists, is not a classroom page relsim wrote (its title says so)
    and ``force`` is not given."""
    from relsim.experiment.owned import refuse_overwrite
    from relsim.names import slug
    from relsim.scenario import load_scenario

    page = out or Path("results") / f"{slug(load_scenario(scenario).name)}-demo.html"
    refuse_overwrite(page, force or _a_classroom_page(page))
    return page


def _a_classroom_page(path: Path) -> bool:
    """Whether ``path`` is a classroom page relsim wrote (its head names it so)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(1000)
    except OSError:
        return False
    return head.startswith("<!DOCTYPE html>") and "<title>relsim classroom: " in head


def _levers(args: argparse.Namespace) -> list | None:
    """The page's grid: none with --no-grid, the --lever options (at most two), or the
    default (None)."""
    from relsim.viz.demo import parse_lever

    try:
        if args.no_grid:
            return []
        if args.lever:
            levers = [parse_lever(text) for text in args.lever]
            if len(levers) > 2:
                raise ValueError("at most two --lever options")
            return levers
    except ValueError as error:
        raise UsageError(f"--lever: {error}") from error
    return None


__all__ = ["add_demo", "add_report", "handle_demo", "handle_report"]
