"""``relsim run``: simulate every strategy of a scenario, print the comparison, write the results
(the work is :func:`relsim.pipeline.run_pipeline`; this module reads options and prints)."""

from __future__ import annotations

import argparse
import json
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
    resume_ignores,
    say,
    share,
    strategies_note,
)
from relsim.errors import Interrupted, UsageError

VALUE_COLUMNS = {"npv": "within horizon", "residual_value": "after horizon", "total": "total"}


def add_run(sub: Subparsers) -> None:
    run = command(
        sub,
        "run",
        handle_run,
        "simulate every strategy of a scenario and write the results",
        "examples:\n  relsim run scenarios/baseline.yaml --replications 50 --workers 2\n"
        "  relsim run scenarios/baseline.yaml --precision 0.05 --set horizon.weeks=104\n"
        "  relsim run --resume results/baseline-20261124-120000\n"
        "  relsim run --resume results/baseline-20261124-120000 --replications 60",
    )
    run.add_argument("scenario", type=Path, nargs="?", help="scenario file (YAML)")
    add_seed(run)
    run.add_argument(
        "--replications",
        type=positive_int,
        default=None,
        help="replications per strategy (default 30; with --precision: the pilot; with "
        "--resume: more than the run has adds the others, the first ones kept)",
    )
    add_workers(run)
    run.add_argument(
        "--precision",
        type=share,
        default=None,
        help="add replications until every paired difference's 95%% CI half-width "
        "is at most this share of the baseline's mean (e.g. 0.05)",
    )
    add_metric(run)
    add_results_options(run, "run")
    add_progress(run)
    add_strategies(run)
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default: results/<scenario>-<timestamp>)",
    )
    add_overrides(run)
    run.add_argument(
        "--json", action="store_true", help="print the comparison and summary as JSON on stdout"
    )
    _add_run_extras(run)


def _add_run_extras(run: argparse.ArgumentParser) -> None:
    """The options beyond a plain run: a Dask cluster, robustness, kept parts, plugins."""
    run.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (pip install 'relsim[dask]')",
    )
    run.add_argument(
        "--robustness",
        action="store_true",
        help="also run every assumption of the register at both ends of its range, one at a "
        "time, and add a robustness section to the report (about 130 variants: slow)",
    )
    run.add_argument(
        "--robustness-replications",
        type=positive_int,
        default=5,
        metavar="N",
        help="replications per strategy and variant for --robustness (5)",
    )
    run.add_argument(
        "--keep-parts",
        action="store_true",
        default=None,
        help="keep parts/ (a folder per replication) once the tables hold every replication; "
        "by default they are packed into the tables, which a resume verifies instead",
    )
    run.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a Python module that registers instruments or choice rules "
        "(relsim.extensions) before the scenario is read (repeatable)",
    )


def handle_run(args: argparse.Namespace) -> int:
    from relsim.pipeline import run_pipeline

    scenario, out, metric = _run_scenario(args)
    executor = _dask_executor(args.scheduler) if args.scheduler else None
    try:
        outcome = run_pipeline(
            scenario,
            out,
            resume=bool(args.resume),
            robustness_replications=args.robustness_replications if args.robustness else None,
            on_results=lambda outcome: _show(outcome, args.json),
            notify=say,
            replications=args.replications,
            workers=args.workers,
            executor=executor,
            progress=args.progress,
            precision=args.precision,
            metric=metric,
            strategies=args.strategy,
            memory_check=not args.no_memory_check,
            force=args.force,
            keep_parts=bool(args.keep_parts),
        )
    except Interrupted as stop:
        return interrupted(stop, "run")
    assert outcome.report is not None
    md, page = outcome.report
    say(
        f"relsim: {outcome.experiment.manifest['replications_per_strategy']} replications per "
        f"strategy; results in {out}/ (manifest.json, replications/weekly/ladder/"
        f"defections.parquet, plots/*.png); report: {page} and {md.name}"
    )
    from relsim.viz.report import executive_summary

    show = say if args.json else print  # stdout carries only the JSON with --json
    show("\nsummary:")
    for line in executive_summary(outcome.experiment, outcome.comparison):
        wrap = not line.startswith("Suggested settings")  # keep --set lines whole
        show(textwrap.fill(line, width=100, subsequent_indent="  ") if wrap else line)
    return EXIT_OK


def _run_scenario(args: argparse.Namespace) -> tuple[Any, Path, str]:
    """The scenario, results folder and decision metric: of the run to resume, or new from the
    options (plugins, file, --set, --seed, --strategy)."""
    from relsim.experiment.folder import ResultsFolder
    from relsim.pipeline import load_plugins, prepare_scenario

    if args.resume:
        if args.force:
            raise UsageError("--resume completes a folder and --force replaces it; choose one")
        resume_ignores(args, RESUME_FIXES)
        load_plugins(args.plugin)  # the resumed scenario may name their instruments
        folder = _resumable(args.resume)
        scenario = folder.load_scenario()
        return scenario, args.resume, folder.read_manifest().get("metric", DEFAULT_METRIC)
    if args.scenario is None:
        raise UsageError("relsim run needs a SCENARIO file (or --resume DIR)")
    metric = metric_of(args)
    overrides = parse_overrides(args.overrides)
    scenario = prepare_scenario(args.scenario, overrides, args.seed, args.strategy, args.plugin)
    strategies_note(args.scenario, scenario, args.strategy)
    return scenario, args.out or ResultsFolder.timestamped(scenario.name).root, metric


RESUME_FIXES = {
    "scenario": "SCENARIO",
    "seed": "--seed",
    "precision": "--precision",
    "metric": "--metric",
    "strategy": "--strategy",
    "overrides": "--set",
    "out": "--out",
    "keep_parts": "--keep-parts",
}
"""What a resumed run takes from its folder (manifest.json, scenario.resolved.yaml), not from
the command line: giving any of them with ``--resume`` is refused. ``--replications`` is not
among them: more than the folder holds extends the run (fewer is refused by the runner)."""


def _resumable(out: Path) -> Any:
    """The results folder to resume (``FileNotFoundError``, exit 66, when it holds none)."""
    from relsim.experiment.folder import ResultsFolder
    from relsim.experiment.runner import heal_manifest

    folder = ResultsFolder(out)
    if not folder.holds_results():
        raise FileNotFoundError(2, "no results to resume", str(folder.manifest_path))
    heal_manifest(folder)  # a damaged manifest is rebuilt from the parts' records, or explained
    return folder


def _dask_executor(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError as error:
        raise RuntimeError("--scheduler needs Dask: pip install 'relsim[dask]'") from error
    return Client(address).get_executor()


def _show(outcome: Any, as_json: bool) -> None:
    """The comparison and the means on stdout (as JSON with ``--json``), then the warm-up's
    drift warning on stderr."""
    if as_json:
        records = {
            "compare": outcome.comparison.to_dict(orient="records"),
            "summary": outcome.summary.to_dict(orient="records"),
        }
        print(json.dumps(records, indent=2))
    else:
        _print_table(outcome.experiment, outcome.comparison, outcome.summary)
    if outcome.drift:
        say(outcome.drift)


def _print_table(experiment: Any, comparison: Any, summary: Any) -> None:
    from relsim.pipeline import SHOWN

    metric, baseline = experiment.metric, experiment.baseline
    print(
        f"{metric} per strategy over replications; differences are paired against the "
        f"baseline ({baseline}) with simultaneous 95% CIs (Bonferroni):"
    )
    width = max(len(s) for s in comparison["strategy"]) + 2
    print(
        f"{'strategy':<{width}}{'mean':>14}{'difference':>15}{'95% CI':>30}"
        f"{'P(best)':>9}  could be best"
    )
    for row in comparison.itertuples():
        if row.strategy == baseline:
            cells = f"{'(baseline)':>15}{'':>30}"
        else:
            mark = "*" if row.significant else " "
            ci = f"[{row.difference_low:,.0f}, {row.difference_high:,.0f}]"
            cells = f"{row.difference:>14,.0f}{mark}{ci:>30}"
        best = "yes" if row.could_be_best else "no"
        print(f"{row.strategy:<{width}}{row.mean:>14,.0f}{cells}{row.p_best:>9.2f}  {best}")
    print("(* significant: the CI excludes zero)")
    _print_value_parts(experiment, comparison)
    print("\nmeans over replications:")
    means = summary.pivot(index="strategy", columns="metric", values="mean")
    print(means.loc[list(comparison["strategy"]), list(SHOWN)].to_string(float_format=_fmt))


def _print_value_parts(experiment: Any, comparison: Any) -> None:
    """Where the value comes from: each strategy's NPV within the horizon, the value after
    it and their sum, each with its paired difference from the baseline and its CI."""
    from relsim.analysis import value

    parts = {"npv": value.WITHIN, "residual_value": value.AFTER, "total": value.TOTAL}
    if not all(f"{p}_mean" in comparison.columns for p in parts.values()):
        return
    baseline = experiment.baseline
    lines = _value_lines(comparison.to_dict(orient="records"), baseline, list(parts.values()))
    first = max(len(line[0]) for line in lines) + 2
    width = max(len(cell) for line in lines for cell in line[1:]) + 2
    print(
        f"\nwhere the value comes from: means, and paired differences from {baseline} with "
        "simultaneous 95% CIs:"
    )
    for line in lines:
        print((f"{line[0]:<{first}}" + "".join(f"{cell:>{width}}" for cell in line[1:])).rstrip())
    check = value.recommendation_within_horizon(experiment)
    if check is not None:
        print(textwrap.fill(value.horizon_sentence(check).replace("**", ""), width=100))


def _value_lines(rows: list[dict[str, Any]], baseline: str, parts: list[str]) -> list[list[str]]:
    """The cells of the value table: a header, each strategy's means, and for each other
    strategy its differences from the baseline (marked * when significant) and their CIs."""
    lines: list[list[str]] = [["", *VALUE_COLUMNS.values()]]
    for row in rows:
        lines.append([row["strategy"], *(f"{row[f'{p}_mean']:,.0f} " for p in parts)])
        if row["strategy"] == baseline:
            continue
        marks = {
            p: "*" if row[f"{p}_difference_low"] > 0 or row[f"{p}_difference_high"] < 0 else " "
            for p in parts
        }
        lines.append(
            [f"  - {baseline}", *(f"{row[f'{p}_difference']:+,.0f}{marks[p]}" for p in parts)]
        )
        lines.append(
            [
                "",
                *(
                    f"[{row[f'{p}_difference_low']:,.0f}, {row[f'{p}_difference_high']:,.0f}] "
                    for p in parts
                ),
            ]
        )
    return lines


def _fmt(value: float) -> str:
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"


__all__ = ["add_run", "handle_run"]
