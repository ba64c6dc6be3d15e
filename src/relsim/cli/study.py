"""``relsim sweep``, ``relsim robustness`` and ``relsim breakeven``: studies over many variants of
a scenario (the work is :func:`relsim.experiment.sweep.run_sweep`,
:func:`relsim.pipeline.analyse_robustness` and :func:`relsim.experiment.breakeven.breakeven`)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from relsim.cli.common import (
    DEFAULT_METRIC,
    EXIT_OK,
    Subparsers,
    add_metric,
    add_overrides,
    add_progress,
    add_results_options,
    add_seed,
    add_strategies,
    add_workers,
    command,
    first_line,
    interrupted,
    metric_of,
    parse_overrides,
    positive_int,
    resumed_folder,
    say,
    strategies_note,
)
from relsim.errors import Interrupted, UsageError


def add_robustness(sub: Subparsers) -> None:
    rob = command(
        sub,
        "robustness",
        handle_robustness,
        "test a finished run's recommendation against the assumptions register",
        "examples:\n  relsim robustness results/baseline-20261124-120000 --replications 5\n"
        "  relsim robustness results/baseline-20261124-120000 --resume",
    )
    rob.add_argument("results", type=Path, help="results folder of relsim run")
    rob.add_argument(
        "--replications", type=positive_int, default=5, help="per strategy and variant (5)"
    )
    add_workers(rob)
    rob.add_argument("--resume", action="store_true", help="complete an interrupted analysis")
    rob.add_argument("--force", action="store_true", help="redo a finished analysis")
    rob.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="TEXT",
        help="vary only the assumptions whose path contains TEXT (repeatable), e.g. service.",
    )
    add_progress(rob)


def handle_robustness(args: argparse.Namespace) -> int:
    from relsim.pipeline import analyse_robustness

    try:
        _, (md, page) = analyse_robustness(
            args.results,
            args.replications,
            args.workers,
            args.progress,
            resume=args.resume,
            force=args.force,
            only=args.only,
            notify=say,
        )
    except Interrupted as stop:
        return interrupted(stop)
    say(f"relsim: report with its robustness section: {page} and {md.name}")
    return EXIT_OK


def add_sweep(sub: Subparsers) -> None:
    sweep = command(
        sub,
        "sweep",
        handle_sweep,
        "run the comparison at many variants of a scenario (its sweep: block or --vary)",
        "examples:\n  relsim sweep scenarios/levels-matrix.yaml\n"
        "  relsim sweep scenarios/baseline.yaml --vary "
        "strategies.financial.bonds.points.reward_value=10,25,40 \\\n"
        "      --vary rivalry.points.lag.mean_weeks=4:104:5 --strategy transactional "
        "--strategy financial\n"
        "  relsim sweep scenarios/baseline.yaml --design lhs --samples 30 \\\n"
        "      --vary firms.0.unit_cost=uniform(0.5,0.7) --vary market.customers=2000:20000\n"
        "  relsim sweep --resume results/baseline-sweep-20261124-120000",
    )
    sweep.add_argument("scenario", type=Path, nargs="?", help="scenario file (YAML)")
    sweep.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="PATH=SPEC",
        help="a field to vary (repeatable; replaces the file's sweep fields): V1,V2,... or "
        "START:STOP:COUNT[:log] or uniform(LOW,HIGH) / loguniform / triangular(LOW,MODE,HIGH)",
    )
    sweep.add_argument("--design", choices=["factorial", "lhs"], default=None)
    sweep.add_argument("--samples", type=positive_int, default=None, help="Latin hypercube points")
    sweep.add_argument(
        "--replications",
        type=positive_int,
        default=None,
        help="per strategy and point (default 10)",
    )
    add_workers(sweep)
    add_seed(sweep)
    add_strategies(sweep)
    add_metric(sweep)
    add_overrides(sweep, "override a scenario field first, e.g. --set horizon.weeks=104")
    sweep.add_argument("--out", type=Path, default=None, help="results folder")
    add_results_options(sweep, "sweep")
    add_progress(sweep)


def handle_sweep(args: argparse.Namespace) -> int:
    from relsim.experiment.folder import ResultsFolder
    from relsim.experiment.sweep import run_sweep
    from relsim.viz.sweep_plots import points_overview
    from relsim.viz.sweep_report import write_sweep_report

    scenario, out, metric = _sweep_scenario(args)
    try:
        result = run_sweep(
            scenario,
            replications=args.replications,
            workers=args.workers,
            out=out,
            resume=bool(args.resume),
            progress=args.progress,
            metric=metric,
            strategies=args.strategy,
            force=args.force,
            memory_check=not args.no_memory_check,
        )
    except KeyboardInterrupt:
        return interrupted(Interrupted("replications", out), "sweep")
    md, page = write_sweep_report(result)
    ResultsFolder(result.out).record(md, page, *(result.out / "plots").glob("sweep_*.png"))
    best = points_overview(result)
    print(best.to_string(index=False))
    say(
        f"relsim: {len(best)} design points; results in {out}/ (points.parquet, "
        f"replications.parquet, points/); report: {page}"
    )
    return EXIT_OK


def _sweep_scenario(args: argparse.Namespace) -> tuple[Any, Path, str]:
    """The scenario with its sweep block, the folder and the decision metric: resumed, or
    new from the options."""
    from relsim.experiment.design import parse_vary, with_sweep
    from relsim.experiment.folder import ResultsFolder
    from relsim.scenario import load_scenario

    if args.resume:
        if args.force or args.vary:
            raise UsageError("--resume completes a sweep as it was started; drop --force/--vary")
        folder = resumed_folder(args, SWEEP_RESUME_FIXES)
        return folder.load_scenario(), args.resume, DEFAULT_METRIC
    if args.scenario is None:
        raise UsageError("relsim sweep needs a SCENARIO file (or --resume DIR)")
    metric = metric_of(args)
    scenario = load_scenario(args.scenario, overrides=parse_overrides(args.overrides))
    strategies_note(args.scenario, scenario, args.strategy)
    if args.seed is not None:
        scenario = scenario.model_copy(update={"seed": args.seed})
    try:
        fields = [parse_vary(text) for text in args.vary]
        scenario = with_sweep(scenario, fields, args.design, args.samples, args.replications)
    except ValueError as error:
        raise UsageError(first_line(error)) from None
    for name in args.strategy or []:
        scenario.strategy(name)
    _check_sweep(args, scenario)
    return scenario, args.out or ResultsFolder.timestamped(scenario.name, "sweep").root, metric


def _check_sweep(args: argparse.Namespace, scenario: Any) -> None:
    """A new sweep's replications and workers within their bounds (the estimate in the
    refusal), and its estimate first when it is long or big (one line, as a run's; at the
    base scenario's size for every point)."""
    from relsim.experiment.design import design
    from relsim.experiment.limits import announcement, check_run
    from relsim.experiment.progress import announce
    from relsim.experiment.sweep import DEFAULT_SWEEP_REPLICATIONS

    block = scenario.sweep.replications if scenario.sweep else None
    replications = args.replications or block or DEFAULT_SWEEP_REPLICATIONS
    strategies = len(args.strategy or scenario.strategies)
    workers = args.workers or os.cpu_count() or 1
    check_run(scenario, replications, workers, strategies)
    if scenario.sweep is not None:
        runs = len(design(scenario)) * replications * strategies
        announce(announcement(scenario, workers, runs))


SWEEP_RESUME_FIXES = {
    "scenario": "SCENARIO",
    "seed": "--seed",
    "replications": "--replications",
    "metric": "--metric",
    "strategy": "--strategy",
    "overrides": "--set",
    "design": "--design",
    "samples": "--samples",
    "out": "--out",
}
"""What a resumed sweep takes from its folder: giving any of them with ``--resume`` is
refused (the sweep's metric and design are its manifest's)."""


def add_breakeven(sub: Subparsers) -> None:
    be = command(
        sub,
        "breakeven",
        handle_breakeven,
        "find the value of a field at which strategy A stops beating strategy B",
        "examples:\n  relsim breakeven scenarios/frequency-war.yaml "
        "--vary rivalry.points.lag.mean_weeks=2:52 \\\n"
        "      --between financial transactional\n"
        "  relsim breakeven scenarios/baseline.yaml "
        "--vary strategies.financial.bonds.points.reward_value=5:60 \\\n"
        "      --between financial transactional --metric profit --replications 30",
    )
    be.add_argument("scenario", type=Path, help="scenario file (YAML)")
    be.add_argument(
        "--vary", required=True, metavar="PATH=LOW:HIGH", help="the field and its range"
    )
    be.add_argument("--between", nargs=2, required=True, metavar=("A", "B"), help="strategies")
    add_metric(be)
    be.add_argument(
        "--replications", type=positive_int, default=20, help="per strategy and value (20)"
    )
    be.add_argument("--grid", type=positive_int, default=5, help="values in the first pass (5)")
    be.add_argument("--refinements", type=positive_int, default=5, help="bisection steps (5)")
    add_workers(be)
    add_seed(be)
    add_overrides(be)
    be.add_argument("--out", type=Path, default=None, help="folder for the evaluations")
    be.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    add_progress(be)


def handle_breakeven(args: argparse.Namespace) -> int:
    from relsim.experiment.breakeven import breakeven
    from relsim.scenario import load_scenario

    metric = metric_of(args)
    scenario = load_scenario(args.scenario, overrides=parse_overrides(args.overrides))
    if args.seed is not None:
        scenario = scenario.model_copy(update={"seed": args.seed})
    path, low, high = _range(args.vary)
    a, b = args.between
    for name in (a, b):
        scenario.strategy(name)
    try:
        result = breakeven(
            scenario,
            path,
            low,
            high,
            a,
            b,
            metric=metric,
            replications=args.replications,
            grid=args.grid,
            refinements=args.refinements,
            workers=args.workers,
            out=args.out,
            progress=args.progress,
        )
    except ValueError as error:
        raise UsageError(first_line(error)) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=float))
    else:
        table = result.evaluations.copy()
        for column in ("difference", "difference_low", "difference_high"):
            table[column] = table[column].map(lambda v: f"{v:,.0f}")
        print(table.to_string(index=False))
        print(result.message)
    return EXIT_OK


def _range(vary: str) -> tuple[str, float, float]:
    """``PATH=LOW:HIGH`` as (path, low, high)."""
    path, sep, spec = vary.partition("=")
    try:
        low, high = (float(v) for v in spec.split(":"))
    except ValueError:
        raise UsageError(f"--vary needs PATH=LOW:HIGH, got {vary!r}") from None
    if not sep:
        raise UsageError(f"--vary needs PATH=LOW:HIGH, got {vary!r}")
    return path.strip(), low, high


__all__ = [
    "add_breakeven",
    "add_robustness",
    "add_sweep",
    "handle_breakeven",
    "handle_robustness",
    "handle_sweep",
]
