"""``relsim decide``: the choice of strategy under the assumptions' uncertainty -- the
probability each strategy is best, how often the expected-value choice is wrong, and the
value of knowing each assumption (the work is :func:`relsim.pipeline.run_decision`)."""

from __future__ import annotations

import argparse
import json
import os
import textwrap
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
    interrupted,
    metric_of,
    parse_overrides,
    positive_int,
    resumed_folder,
    say,
    strategies_note,
)
from relsim.errors import Interrupted, UsageError


def add_decide(sub: Subparsers) -> None:
    decide = command(
        sub,
        "decide",
        handle_decide,
        "how sure the choice of strategy is under the assumptions' uncertainty, and which "
        "assumption is worth researching first (EVPI, EVPPI)",
        "examples:\n  relsim decide scenarios/baseline.yaml\n"
        "  relsim decide scenarios/baseline.yaml --samples 128 --replications 2 --workers 2\n"
        "  relsim decide scenarios/baseline.yaml --strategy transactional --strategy financial\n"
        "  relsim decide --resume results/baseline-decide-20261124-120000",
    )
    decide.add_argument("scenario", type=Path, nargs="?", help="scenario file (YAML)")
    decide.add_argument(
        "--samples",
        type=_samples,
        default=None,
        help="joint draws of the assumptions (default: the uncertainty block's, else 32)",
    )
    decide.add_argument(
        "--replications",
        type=_replications,
        default=None,
        help="per strategy and draw, at least 2 (default: the uncertainty block's, else 2)",
    )
    decide.add_argument(
        "--bootstrap",
        type=positive_int,
        default=200,
        help="bootstrap resamples for the intervals (200)",
    )
    add_workers(decide)
    decide.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (pip install 'relsim[dask]')",
    )
    add_seed(decide)
    add_strategies(decide)
    add_metric(decide)
    add_overrides(decide)
    decide.add_argument("--out", type=Path, default=None, help="results folder")
    decide.add_argument(
        "--json", action="store_true", help="print the analysis (decision.json) on stdout"
    )
    add_results_options(decide, "decision analysis")
    add_progress(decide)


def _samples(text: str) -> int:
    value = positive_int(text)
    if value < 8:
        raise argparse.ArgumentTypeError(f"expected at least 8 draws, got {value}")
    return value


def _replications(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(
            "expected at least 2: the simulation noise is measured between replications"
        )
    return value


def handle_decide(args: argparse.Namespace) -> int:
    from relsim.experiment.decide import voi_to_json
    from relsim.pipeline import run_decision
    from relsim.viz.report.decide import summary_lines
    from relsim.viz.words import currency

    scenario, out, metric = _decide_scenario(args)
    executor = _executor(args.scheduler) if args.scheduler else None
    try:
        decision, (_, page) = run_decision(
            scenario,
            out,
            notify=say,
            samples=args.samples,
            replications=args.replications,
            workers=args.workers,
            executor=executor,
            metric=metric,
            strategies=args.strategy,
            progress=args.progress,
            resume=bool(args.resume),
            force=args.force,
            memory_check=not args.no_memory_check,
            bootstrap=args.bootstrap,
        )
    except Interrupted as stop:
        return interrupted(stop, "decide")
    if args.json:
        print(json.dumps(voi_to_json(decision.voi), indent=2, default=float))
    show = say if args.json else print
    show("summary:")
    for line in summary_lines(decision, currency(scenario)):
        show(textwrap.fill(line, width=100, subsequent_indent="  "))
    say(f"relsim: results in {out}/ (decision.json, psa.json, points/); report: {page}")
    return EXIT_OK


def _decide_scenario(args: argparse.Namespace) -> tuple[Any, Path, str]:
    """The scenario, folder and metric: of the analysis to resume, or new from the options."""
    from relsim.experiment.folder import ResultsFolder
    from relsim.pipeline import prepare_scenario

    if args.resume:
        if args.force:
            raise UsageError("--resume completes a folder and --force replaces it; choose one")
        folder = resumed_folder(args, RESUME_FIXES)
        metric = folder.read_manifest().get("metric", DEFAULT_METRIC)
        return folder.load_scenario(), args.resume, metric
    if args.scenario is None:
        raise UsageError("relsim decide needs a SCENARIO file (or --resume DIR)")
    metric = metric_of(args)
    overrides = parse_overrides(args.overrides)
    scenario = prepare_scenario(args.scenario, overrides, args.seed, args.strategy)
    strategies_note(args.scenario, scenario, args.strategy)
    _announce(args, scenario)
    out = args.out or ResultsFolder.timestamped(scenario.name, "decide").root
    return scenario, out, metric


def _announce(args: argparse.Namespace, scenario: Any) -> None:
    """The bounds of a new analysis's settings, and its estimate first when it is long (one
    line, as a run's: every draw at the base scenario's size)."""
    from relsim.experiment.decide import DEFAULT_REPLICATIONS, DEFAULT_SAMPLES
    from relsim.experiment.limits import announcement, check_run
    from relsim.experiment.progress import announce

    block = scenario.uncertainty
    samples = args.samples or (block and block.samples) or DEFAULT_SAMPLES
    replications = args.replications or (block and block.replications) or DEFAULT_REPLICATIONS
    strategies = len(args.strategy or scenario.strategies)
    workers = args.workers or os.cpu_count() or 1
    check_run(scenario, replications, workers, strategies)
    announce(announcement(scenario, workers, samples * replications * strategies))


def _executor(address: str) -> Any:
    from relsim.cli.run import _dask_executor

    return _dask_executor(address)


RESUME_FIXES = {
    "scenario": "SCENARIO",
    "seed": "--seed",
    "samples": "--samples",
    "replications": "--replications",
    "metric": "--metric",
    "strategy": "--strategy",
    "overrides": "--set",
    "out": "--out",
}
"""What a resumed analysis takes from its folder: giving any of them with ``--resume`` is
refused."""


__all__ = ["add_decide", "handle_decide"]
