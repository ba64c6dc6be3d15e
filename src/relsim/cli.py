"""The ``relsim`` command line: a thin layer over the Python API.

Exit codes: 0 success, 1 runtime failure, 2 usage error, 65 invalid scenario, 66 missing input
file, 130 interrupted (after saving what finished). Messages go to stderr, data to files (or to
stdout with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import textwrap
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INVALID, EXIT_NO_INPUT, EXIT_INTERRUPTED = (
    0,
    1,
    2,
    65,
    66,
    130,
)

DRIFT_WARNING = 0.02
"""Share points per year of warm-up drift above which `relsim run` warns."""

SHOWN = (
    "customers_end",
    "market_share_end",
    "churn_rate_annual",
    "profit",
    "npv",
    "npv_with_residual",
    "margin_value_new_customers",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("relsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the CLI turns every failure into a message
        from relsim.scenario import ScenarioError

        if getattr(args, "debug", False):
            traceback.print_exc()
        from relsim.calibration.transactions import TransactionLogError

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
        hint = "" if getattr(args, "debug", False) else " (run with --debug for the traceback)"
        print(f"relsim: error: {error}{hint}", file=sys.stderr)
        return EXIT_FAILURE


def entry() -> int:
    """The ``relsim`` command and ``python -m relsim``: :func:`main`, made to end with its exit
    code even when a Ctrl-C comes as the process ends."""
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
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relsim",
        description="Compare relationship-marketing strategies by simulating a market.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    run = _command(
        sub,
        "run",
        _run,
        "simulate every strategy of a scenario and write the results",
        "examples:\n  relsim run scenarios/baseline.yaml --replications 50 --workers 2\n"
        "  relsim run scenarios/baseline.yaml --precision 0.05 --set horizon.weeks=104\n"
        "  relsim run --resume results/baseline-20261124-120000",
    )
    run.add_argument("scenario", type=Path, nargs="?", help="scenario file (YAML)")
    run.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's)")
    run.add_argument(
        "--replications",
        type=int,
        default=None,
        help="replications per strategy (default 30; with --precision: the pilot)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: all cores; 1 runs in this process)",
    )
    run.add_argument(
        "--precision",
        type=float,
        default=None,
        help="add replications until every paired difference's 95%% CI half-width "
        "is at most this share of the baseline's mean (e.g. 0.05)",
    )
    run.add_argument(
        "--metric",
        default="npv_with_residual",
        help="decision metric (a summary column; default npv_with_residual)",
    )
    run.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="DIR",
        help="complete an interrupted run in DIR",
    )
    run.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (pip install 'relsim[dask]')",
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal)",
    )
    run.add_argument(
        "--strategy", action="append", default=None, help="run only this strategy (repeatable)"
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default: results/<scenario>-<timestamp>)",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario field, e.g. --set horizon.weeks=104",
    )
    run.add_argument(
        "--json", action="store_true", help="print the comparison and summary as JSON on stdout"
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="replace the results already in --out (otherwise they are never overwritten)",
    )
    run.add_argument(
        "--robustness",
        action="store_true",
        help="also run every assumption of the register at both ends of its range, one at a "
        "time, and add a robustness section to the report (about 130 variants: slow)",
    )
    run.add_argument(
        "--robustness-replications",
        type=int,
        default=5,
        metavar="N",
        help="replications per strategy and variant for --robustness (5)",
    )
    run.add_argument(
        "--no-memory-check",
        action="store_true",
        help="run even when the memory estimate exceeds what this machine has available",
    )
    run.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a Python module that registers instruments or choice rules "
        "(relsim.extensions) before the scenario is read (repeatable)",
    )

    presets = _command(
        sub,
        "presets",
        _presets,
        "list the strategy presets and their parameters",
        "examples:\n  relsim presets\n  relsim presets financial+social --json",
    )
    presets.add_argument("name", nargs="?", default=None, help="one preset (default: all)")
    presets.add_argument("--json", action="store_true", help="JSON instead of YAML")

    demo = _command(
        sub,
        "demo",
        _demo,
        "write the classroom page: one offline HTML file that replays the strategies",
        "examples:\n  relsim demo                       # the bundled classroom scenario\n"
        "  relsim demo scenarios/classroom.yaml --out class.html\n"
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
        "--replications", type=int, default=10, help="runs per strategy for the curves (10)"
    )
    demo.add_argument(
        "--lever",
        action="append",
        default=None,
        metavar="PATH=V1,V2,...",
        help="a field the page's grid varies (at most two; default: a points program's reward "
        "value x the rivals' copy lag, when a strategy runs points)",
    )
    demo.add_argument("--no-grid", action="store_true", help="no precomputed grid (a faster page)")
    demo.add_argument(
        "--grid-replications", type=int, default=4, help="runs per strategy in each grid cell (4)"
    )
    demo.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's)")
    demo.add_argument("--workers", type=int, default=None, help="worker processes (all cores)")

    rob = _command(
        sub,
        "robustness",
        _robustness,
        "test a finished run's recommendation against the assumptions register",
        "examples:\n  relsim robustness results/baseline-20261124-120000 --replications 5\n"
        "  relsim robustness results/baseline-20261124-120000 --resume",
    )
    rob.add_argument("results", type=Path, help="results folder of relsim run")
    rob.add_argument("--replications", type=int, default=5, help="per strategy and variant (5)")
    rob.add_argument("--workers", type=int, default=None, help="worker processes (all cores)")
    rob.add_argument("--resume", action="store_true", help="complete an interrupted analysis")
    rob.add_argument("--force", action="store_true", help="redo a finished analysis")
    rob.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="TEXT",
        help="vary only the assumptions whose path contains TEXT (repeatable), e.g. service.",
    )
    rob.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)

    sweep = _command(
        sub,
        "sweep",
        _sweep,
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
    sweep.add_argument("--samples", type=int, default=None, help="Latin hypercube points")
    sweep.add_argument(
        "--replications", type=int, default=None, help="per strategy and point (default 10)"
    )
    sweep.add_argument("--workers", type=int, default=None, help="worker processes (all cores)")
    sweep.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's)")
    sweep.add_argument(
        "--strategy", action="append", default=None, help="run only this strategy (repeatable)"
    )
    sweep.add_argument("--metric", default="npv_with_residual", help="decision metric")
    sweep.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario field first, e.g. --set horizon.weeks=104",
    )
    sweep.add_argument("--out", type=Path, default=None, help="results folder")
    sweep.add_argument("--resume", type=Path, default=None, metavar="DIR", help="complete DIR")
    sweep.add_argument("--force", action="store_true", help="replace the results in --out")
    sweep.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    sweep.add_argument("--no-memory-check", action="store_true")

    be = _command(
        sub,
        "breakeven",
        _breakeven,
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
    be.add_argument("--metric", default="npv_with_residual", help="decision metric")
    be.add_argument("--replications", type=int, default=20, help="per strategy and value (20)")
    be.add_argument("--grid", type=int, default=5, help="values in the first pass (5)")
    be.add_argument("--refinements", type=int, default=5, help="bisection steps (5)")
    be.add_argument("--workers", type=int, default=None, help="worker processes (all cores)")
    be.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's)")
    be.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    be.add_argument("--out", type=Path, default=None, help="folder for the evaluations")
    be.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    be.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)

    export = _command(
        sub,
        "export",
        _export,
        "write a results folder's tables as CSV, or a simulated transaction log",
        "examples:\n  relsim export results/baseline-20261124-120000\n"
        "  relsim export results/baseline-20261124-120000 --transactions --strategy financial\n"
        "  relsim export scenarios/baseline.yaml --transactions --to baseline-tx.csv",
    )
    export.add_argument(
        "results",
        type=Path,
        help="results folder of relsim run (or, with --transactions, a scenario file)",
    )
    export.add_argument(
        "--to",
        type=Path,
        default=None,
        help="folder for the CSV files (default: RESULTS/csv); with --transactions the file",
    )
    export.add_argument(
        "--transactions",
        action="store_true",
        help="write one replication's purchases at a firm as a transaction log "
        "(customer,date,amount), the format relsim calibrate reads; the replication is "
        "simulated again from its seed, so it is the run's own",
    )
    export.add_argument("--strategy", default=None, help="with --transactions (default: baseline)")
    export.add_argument("--replication", type=int, default=0, help="with --transactions (0)")
    export.add_argument("--firm", default=None, help="with --transactions (default: the focal)")
    export.add_argument(
        "--start-date",
        default="2026-01-05",
        help="with --transactions: the date of week 0 (weeks are dated on their first day)",
    )

    cal = _command(
        sub,
        "calibrate",
        _calibrate,
        "fit a scenario's customers to a transaction log (purchases, dropout, spend)",
        "examples:\n  relsim calibrate orders.csv --customer-col id --date-col day "
        "--amount-col total \\\n      --calibration-end 2026-06-30 --out my-customers.yaml\n"
        "  relsim export scenarios/baseline.yaml --transactions --to tx.csv && "
        "relsim calibrate tx.csv --amount-col amount --out tx.yaml",
    )
    cal.add_argument("transactions", type=Path, help="CSV file, one row per purchase")
    cal.add_argument("--customer-col", default="customer", help="customer id column")
    cal.add_argument("--date-col", default="date", help="purchase date column")
    cal.add_argument("--amount-col", default=None, help="amount column (fits order value)")
    cal.add_argument("--date-format", default=None, help="strptime format, e.g. %%Y%%m%%d")
    cal.add_argument(
        "--calibration-end",
        default=None,
        help="last date used (default: the log's last); later purchases are left out",
    )
    cal.add_argument(
        "--start", default=None, help="first day of week 0 (default: the log's first date)"
    )
    cal.add_argument("--out", type=Path, required=True, help="scenario file to write")
    cal.add_argument("--name", default=None, help="scenario name (default: the file's stem)")
    cal.add_argument("--weeks", type=int, default=104, help="horizon of the scenario (104)")
    cal.add_argument("--json", action="store_true", help="print the fit as JSON on stdout")

    vm = _command(
        sub,
        "validate-model",
        _validate_model,
        "compare relsim's forecasts with real data and write docs/validation.md",
        "example:\n  pip install lifetimes==0.11.3   # for its CDNOW sample (data only)\n"
        "  relsim validate-model --replications 200",
    )
    vm.add_argument("--out", type=Path, default=Path("docs/validation.md"), help="page to write")
    vm.add_argument(
        "--cdnow", type=Path, default=None, help="CDNOW_sample.txt (default: lifetimes' copy)"
    )
    vm.add_argument("--replications", type=int, default=200, help="CDNOW replications (200)")
    vm.add_argument("--cohort-replications", type=int, default=100, help="cohorts per segment")
    vm.add_argument("--seed", type=int, default=2026)

    report = _command(
        sub,
        "report",
        _report,
        "write report.html and report.md for a finished results folder",
        "example:\n  relsim report results/baseline-20261124-120000",
    )
    report.add_argument("results", type=Path, help="results folder of relsim run")
    report.add_argument("--metric", default=None, help="decision metric (default: the run's)")

    schema = _command(
        sub,
        "schema",
        _schema,
        "write the scenario files' JSON Schema (for editors)",
        "example:\n  relsim schema --out scenarios/scenario.schema.json",
    )
    schema.add_argument("--out", type=Path, default=None, help="file (default: stdout)")

    new = _command(
        sub,
        "new",
        _new,
        "write a commented starter scenario to edit",
        "example:\n  relsim new my-market   # writes my-market.yaml",
    )
    new.add_argument("name", help="scenario name (the file is NAME.yaml unless --out)")
    new.add_argument("--out", type=Path, default=None, help="file to write")

    validate = _command(
        sub,
        "validate",
        _validate,
        "check scenario files and report every problem with its line",
        "example:\n  relsim validate scenarios/*.yaml",
    )
    validate.add_argument("scenarios", type=Path, nargs="+")
    return parser


def _command(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    handler: object,
    help_text: str,
    examples: str,
) -> argparse.ArgumentParser:
    """A subcommand with its examples in --help, --debug, and its handler."""
    parser = sub.add_parser(
        name, help=help_text, epilog=examples, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(handler=handler)
    return parser


def _finished(results: Path) -> dict[str, Any]:
    """The manifest of a complete results folder; a clear error otherwise."""
    from relsim.experiment import storage

    manifest = storage.read_manifest(results)  # FileNotFoundError -> exit 66
    if manifest.get("status") != "complete":
        raise UsageError(f"{results} is not complete; finish it with relsim run --resume {results}")
    return manifest


def _version() -> str:
    from relsim import MODEL_VERSION, __version__

    return f"relsim {__version__} (model {MODEL_VERSION})"


def _parse_overrides(items: list[str]) -> dict[str, Any]:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"relsim: --set needs PATH=VALUE, got {item!r}")
        path, text = item.split("=", 1)
        out[path.strip()] = yaml.load(text) if text.strip() else ""
    return out


def _run(args: argparse.Namespace) -> int:
    from relsim import load_scenario, run_experiment
    from relsim.experiment import storage

    if args.resume:
        if args.force:
            raise UsageError("--resume completes a folder and --force replaces it; choose one")
        if not (args.resume / "manifest.json").exists():
            raise FileNotFoundError(2, "no results to resume", str(args.resume / "manifest.json"))
        scenario = load_scenario(args.resume / "scenario.resolved.yaml")
        out = args.resume
        metric = storage.read_manifest(out).get("metric", args.metric)
    else:
        if args.scenario is None:
            raise UsageError("relsim run needs a SCENARIO file (or --resume DIR)")
        _load_plugins(args.plugin)
        scenario = load_scenario(args.scenario, overrides=_parse_overrides(args.overrides))
        _check_extensions(scenario)
        if args.seed is not None:
            scenario = scenario.model_copy(update={"seed": args.seed})
        for name in args.strategy or []:
            scenario.strategy(name)  # unknown names fail before any work is done
        out = args.out or Path("results") / f"{scenario.name}-{datetime.now():%Y%m%d-%H%M%S}"
        metric = args.metric
    executor = _dask_executor(args.scheduler) if args.scheduler else None
    try:
        experiment = run_experiment(
            scenario,
            replications=args.replications,
            workers=args.workers,
            executor=executor,
            out=out,
            resume=bool(args.resume),
            progress=args.progress,
            precision=args.precision,
            metric=metric,
            strategies=args.strategy,
            memory_check=not args.no_memory_check,
            force=args.force,
        )
    except KeyboardInterrupt:
        return _interrupted(out, "run")
    comparison = experiment.compare()
    summary = experiment.summary(list(SHOWN))
    if args.json:
        records = {
            "compare": comparison.to_dict(orient="records"),
            "summary": summary.to_dict(orient="records"),
        }
        print(json.dumps(records, indent=2))
    else:
        _print_table(experiment, comparison, summary)
    _warn_if_drifting(experiment)
    if args.robustness:
        code = _run_robustness(
            Path(out),
            args.robustness_replications,
            args.workers,
            args.progress,
            resume=bool(args.resume) and (Path(out) / "robustness" / "manifest.json").exists(),
        )
        if code != EXIT_OK:
            return code
    from relsim.viz import save_all
    from relsim.viz.report import write_report

    save_all(experiment, Path(out) / "plots")
    md, page = write_report(experiment)
    n = experiment.manifest["replications_per_strategy"]
    print(
        f"relsim: {n} replications per strategy; results in {out}/ (manifest.json, "
        f"replications/weekly/ladder/defections.parquet, plots/*.png); report: {page} "
        f"and {md.name}",
        file=sys.stderr,
    )
    return EXIT_OK


class UsageError(Exception):
    """The command line is incomplete or contradictory (exit code 2)."""


def _dask_executor(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError as error:
        raise RuntimeError("--scheduler needs Dask: pip install 'relsim[dask]'") from error
    return Client(address).get_executor()


def _warn_if_drifting(experiment: Any) -> None:
    table = experiment.replications
    first = table[table["replication"] == 0].iloc[0]
    drift, se = first["warmup_share_drift_per_year"], first["warmup_share_drift_se"]
    if abs(drift) > DRIFT_WARNING and abs(drift) > 3 * se:
        print(
            f"relsim: warning: the focal firm's share still moved {drift:+.3f} a year at the "
            "end of the warm-up, so week 0 is not a steady state; lengthen horizon.warmup_weeks "
            "or start from initial shares and a ladder mix nearer the market's own (see "
            "docs/model.md, 'Steady state at week 0').",
            file=sys.stderr,
        )


def _print_table(experiment: Any, comparison: Any, summary: Any) -> None:
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


VALUE_COLUMNS = {"npv": "within horizon", "residual_value": "after horizon", "total": "total"}


def _print_value_parts(experiment: Any, comparison: Any) -> None:
    """Where the value comes from: each strategy's NPV within the horizon, the value after
    it and their sum, each with its paired difference from the baseline and its CI."""
    from relsim.analysis import value

    parts = {"npv": value.WITHIN, "residual_value": value.AFTER, "total": value.TOTAL}
    if not all(f"{p}_mean" in comparison.columns for p in parts.values()):
        return
    baseline = experiment.baseline
    lines: list[list[str]] = [["", *VALUE_COLUMNS.values()]]
    for row in comparison.to_dict(orient="records"):
        lines.append([row["strategy"], *(f"{row[f'{p}_mean']:,.0f} " for p in parts.values())])
        if row["strategy"] == baseline:
            continue
        marks = {
            p: "*" if row[f"{p}_difference_low"] > 0 or row[f"{p}_difference_high"] < 0 else " "
            for p in parts.values()
        }
        lines.append(
            [
                f"  - {baseline}",
                *(f"{row[f'{p}_difference']:+,.0f}{marks[p]}" for p in parts.values()),
            ]
        )
        lines.append(
            [
                "",
                *(
                    f"[{row[f'{p}_difference_low']:,.0f}, {row[f'{p}_difference_high']:,.0f}] "
                    for p in parts.values()
                ),
            ]
        )
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


def _fmt(value: float) -> str:
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"


def _export(args: argparse.Namespace) -> int:
    import pandas as pd

    from relsim.experiment import storage

    if args.transactions:
        return _export_transactions(args)
    _finished(args.results)
    target = args.to or args.results / "csv"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("replications", *storage.TABLES):
        pd.read_parquet(args.results / f"{name}.parquet").to_csv(
            target / f"{name}.csv", index=False
        )
    print(f"relsim: CSV tables in {target}/", file=sys.stderr)
    return EXIT_OK


def _export_transactions(args: argparse.Namespace) -> int:
    from datetime import date

    from relsim import load_scenario, simulate
    from relsim.calibration import simulated_log
    from relsim.experiment import replication_seed

    source: Path = args.results
    if source.is_dir():
        _finished(source)
        scenario = load_scenario(source / "scenario.resolved.yaml")
    else:
        scenario = load_scenario(source)
    strategy = args.strategy or scenario.baseline_strategy
    scenario.strategy(strategy)
    firm = args.firm or scenario.focal.name
    if firm not in {f.name for f in scenario.firms}:
        raise UsageError(f"no firm {firm!r}; firms: {', '.join(f.name for f in scenario.firms)}")
    try:
        start = date.fromisoformat(args.start_date)
    except ValueError:
        raise UsageError(f"--start-date needs YYYY-MM-DD, got {args.start_date!r}") from None
    if args.replication < 0:
        raise UsageError("--replication is 0 or more")
    traced = scenario.model_copy(update={"trace_share": 1.0})  # traces every customer; the
    # trace draws no random numbers, so the run is the same replication as in the results
    run = simulate(
        traced, strategy=strategy, seed=replication_seed(scenario.seed, args.replication)
    )
    log = simulated_log(run.trace, firm, start)
    target = args.to or Path("results") / (
        f"{scenario.name}-{strategy}-r{args.replication}-transactions.csv"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    log.to_csv(target, index=False)
    print(
        f"relsim: {len(log)} purchases of {log['customer'].nunique()} customers at {firm} "
        f"({strategy}, replication {args.replication}, warm-up included) in {target}",
        file=sys.stderr,
    )
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    import json

    from relsim.calibration import calibrate, read_transactions
    from relsim.scenario import load_scenario

    log = read_transactions(
        args.transactions, args.customer_col, args.date_col, args.amount_col, args.date_format
    )
    if args.weeks < 1:
        raise UsageError("--weeks is 1 or more")
    result = calibrate(log, args.calibration_end, args.start)
    name = args.name or args.out.stem
    result.write_scenario(args.out, source=str(args.transactions), name=name, weeks=args.weeks)
    load_scenario(args.out)  # the written file is a valid scenario
    values = result.values
    if args.json:
        payload = {
            "values": values.reset_index().to_dict(orient="records"),
            "params": result.params,
            "diagnostics": result.diagnostics,
        }
        print(json.dumps(payload, indent=2, default=float))
    else:
        print(values.round(4).to_string())
        d = result.diagnostics
        print(
            f"\n{d['customers']} customers, {d['repeat_weeks']} repeat purchase weeks, "
            f"log-likelihood {d['log_likelihood']:.2f}"
            + ("" if d["converged"] else f"; the optimiser did NOT converge: {d['optimiser']}")
        )
        print("not identified by the log (assumptions): " + "; ".join(d["not_identified"]))
    print(f"relsim: scenario written: {args.out}", file=sys.stderr)
    return EXIT_OK


def _validate_model(args: argparse.Namespace) -> int:
    from relsim.calibration.validation import find_cdnow, run_validation

    cdnow = args.cdnow or find_cdnow()
    if cdnow is None:
        raise UsageError(
            "the CDNOW sample is not found (hint: pip install lifetimes==0.11.3 -- relsim reads "
            "its data file only -- or give --cdnow CDNOW_sample.txt)"
        )
    if args.replications < 2 or args.cohort_replications < 2:
        raise UsageError("--replications and --cohort-replications are 2 or more")
    command = (
        f"relsim validate-model --replications {args.replications} "
        f"--cohort-replications {args.cohort_replications} --seed {args.seed}"
    )
    page = run_validation(
        args.out, cdnow, args.replications, args.cohort_replications, args.seed, command
    )
    print(f"relsim: validation written: {page}", file=sys.stderr)
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from relsim.experiment import Experiment
    from relsim.viz.report import write_report

    manifest = _finished(args.results)
    metric = args.metric or manifest.get("metric", "npv_with_residual")
    md, page = write_report(Experiment.load(args.results, metric))
    print(f"relsim: report written: {page} and {md}", file=sys.stderr)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from importlib import resources

    from relsim.viz.demo import parse_lever, write_demo

    levers = None
    try:
        if args.no_grid:
            levers = []
        elif args.lever:
            levers = [parse_lever(text) for text in args.lever]
            if len(levers) > 2:
                raise ValueError("at most two --lever options")
    except ValueError as error:
        raise UsageError(f"--lever: {error}") from error
    if args.replications < 2 or args.grid_replications < 2:
        raise UsageError("--replications and --grid-replications must be at least 2")
    with resources.as_file(resources.files("relsim").joinpath("classroom.yaml")) as bundled:
        scenario = args.scenario or bundled
        print(f"relsim: computing the classroom page for {scenario} ...", file=sys.stderr)
        try:
            page = write_demo(
                scenario,
                args.out,
                strategies=args.strategy,
                replications=args.replications,
                levers=levers,
                grid_replications=args.grid_replications,
                seed=args.seed,
                workers=args.workers,
            )
        except KeyError as error:  # an unknown strategy name
            raise UsageError(str(error.args[0] if error.args else error)) from error
    print(
        f"relsim: classroom page written: {page} (open it in any browser; no network needed)",
        file=sys.stderr,
    )
    return EXIT_OK


def _load_plugins(modules: list[str]) -> None:
    """Import the modules named by --plugin (the user's code, asked for on the command line;
    a scenario file can never import anything)."""
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise UsageError(f"--plugin {module}: cannot import it ({error})") from error


def _check_extensions(scenario: Any) -> None:
    """Names of instruments and choice rules must be registered before any work is done."""
    from relsim import extensions

    try:
        extensions.choice_rule(scenario.choice_rule)
        for strategy in scenario.strategies:
            for spec in strategy.instruments:
                extensions.instrument(spec.name, spec.params)
    except (KeyError, ValueError) as error:
        message = error.args[0] if error.args else str(error)
        raise UsageError(f"{message}; load the module that registers it with --plugin") from error


def _presets(args: argparse.Namespace) -> int:
    import json

    from relsim.scenario.presets import preset, preset_names

    names = [args.name] if args.name else preset_names()
    try:
        table = {name: preset(name) for name in names}
    except ValueError as error:
        raise UsageError(str(error)) from error
    if args.json:
        json.dump(table, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    for name, values in table.items():
        sys.stdout.write(f"# preset: {name}\n")
        if values:
            yaml.dump({"preset": name, **values}, sys.stdout)
        else:
            sys.stdout.write(f"preset: {name}   # no bonds, service at the status quo\n")
        sys.stdout.write("\n")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from relsim.scenario.schema import json_schema_text

    text = json_schema_text()
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"relsim: schema written to {args.out}", file=sys.stderr)
    return EXIT_OK


def _new(args: argparse.Namespace) -> int:
    import re
    from importlib import resources

    target = args.out or Path(f"{args.name}.yaml")
    if target.exists():
        raise UsageError(f"{target} exists; choose another name or --out")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", args.name):
        raise UsageError("NAME may use letters, digits, '_', '-' and '.' only")
    text = resources.files("relsim").joinpath("starter.yaml").read_text(encoding="utf-8")
    text = text.replace("name: baseline", f"name: {args.name}", 1)
    target.write_text(text, encoding="utf-8")
    schema = target.parent / "scenario.schema.json"
    if not schema.exists():  # the file's first line points editors at it
        from relsim.scenario.schema import json_schema_text

        schema.write_text(json_schema_text(), encoding="utf-8")
    print(f"relsim: wrote {target}; edit it, then: relsim validate {target}", file=sys.stderr)
    return EXIT_OK


def _run_robustness(
    out: Path,
    replications: int,
    workers: int | None,
    progress: bool | None,
    resume: bool,
    only: list[str] | None = None,
) -> int:
    """Run (or resume) the robustness variants of the finished run in ``out``."""
    from relsim import load_scenario
    from relsim.analysis.assumptions import REGISTER
    from relsim.analysis.robustness import robustness
    from relsim.experiment import storage

    register = tuple(a for a in REGISTER if not only or any(t in a.path for t in only))
    if not register:
        raise UsageError(f"no assumption's path contains any of {only}")

    manifest = storage.read_manifest(out)
    scenario = load_scenario(out / "scenario.resolved.yaml")
    print(
        "relsim: robustness: each assumption of the register at both ends of its range",
        file=sys.stderr,
    )
    try:
        result = robustness(
            scenario,
            out / "robustness",
            replications=replications,
            workers=workers,
            metric=manifest.get("metric", "npv_with_residual"),
            strategies=manifest["strategies"],
            progress=progress,
            resume=resume,
            register=register,
        )
    except KeyboardInterrupt:
        print(
            f"relsim: interrupted; the run's results in {out}/ are complete, the robustness "
            f"variants finished so far are kept. Resume with:\n"
            f"  relsim robustness {out} --resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    changed = result.changes
    print(
        f"relsim: robustness: {result.recommended} stays best at "
        f"{len(result.table) - len(changed)} of {len(result.table)} assumption ends"
        + (
            "; it changes at: "
            + ", ".join(f"{r.assumption}={r.value:g} ({r.best})" for r in changed.itertuples())
            if len(changed)
            else ""
        ),
        file=sys.stderr,
    )
    return EXIT_OK


def _robustness(args: argparse.Namespace) -> int:
    from relsim.analysis.assumptions import REGISTER
    from relsim.experiment import Experiment
    from relsim.viz.report import write_report

    manifest = _finished(args.results)
    if args.only and not any(t in a.path for a in REGISTER for t in args.only):
        raise UsageError(f"no assumption's path contains any of {args.only}")
    folder = args.results / "robustness"
    if (folder / "manifest.json").exists() and not args.resume:
        if not args.force:
            raise UsageError(
                f"{folder} already holds a robustness analysis; --resume completes it, "
                "--force redoes it"
            )
        import shutil

        shutil.rmtree(folder)
    (args.results / "plots" / "robustness.png").unlink(missing_ok=True)
    resume = args.resume and (folder / "manifest.json").exists()
    code = _run_robustness(
        args.results, args.replications, args.workers, args.progress, resume, args.only
    )
    if code != EXIT_OK:
        return code
    md, page = write_report(Experiment(args.results, manifest.get("metric", "npv_with_residual")))
    print(f"relsim: report with its robustness section: {page} and {md.name}", file=sys.stderr)
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    from relsim import load_scenario
    from relsim.experiment.sweep import parse_vary, run_sweep, with_sweep
    from relsim.viz.sweep_plots import points_overview
    from relsim.viz.sweep_report import write_sweep_report

    if args.resume:
        if args.force or args.vary:
            raise UsageError("--resume completes a sweep as it was started; drop --force/--vary")
        if not (args.resume / "manifest.json").exists():
            raise FileNotFoundError(2, "no results to resume", str(args.resume / "manifest.json"))
        scenario = load_scenario(args.resume / "scenario.resolved.yaml")
        out = args.resume
    else:
        if args.scenario is None:
            raise UsageError("relsim sweep needs a SCENARIO file (or --resume DIR)")
        scenario = load_scenario(args.scenario, overrides=_parse_overrides(args.overrides))
        if args.seed is not None:
            scenario = scenario.model_copy(update={"seed": args.seed})
        try:
            fields = [parse_vary(text) for text in args.vary]
            scenario = with_sweep(scenario, fields, args.design, args.samples, args.replications)
        except ValueError as error:
            raise UsageError(_first_line(error)) from None
        for name in args.strategy or []:
            scenario.strategy(name)
        out = args.out or Path("results") / f"{scenario.name}-sweep-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        result = run_sweep(
            scenario,
            replications=args.replications,
            workers=args.workers,
            out=out,
            resume=bool(args.resume),
            progress=args.progress,
            metric=args.metric,
            strategies=args.strategy,
            force=args.force,
            memory_check=not args.no_memory_check,
        )
    except KeyboardInterrupt:
        return _interrupted(out, "sweep")
    _md, page = write_sweep_report(result)
    best = points_overview(result)
    print(best.to_string(index=False))
    print(
        f"relsim: {len(best)} design points; results in {out}/ (points.parquet, "
        f"replications.parquet, points/); report: {page}",
        file=sys.stderr,
    )
    return EXIT_OK


def _breakeven(args: argparse.Namespace) -> int:
    from relsim import load_scenario
    from relsim.experiment.breakeven import breakeven

    scenario = load_scenario(args.scenario, overrides=_parse_overrides(args.overrides))
    if args.seed is not None:
        scenario = scenario.model_copy(update={"seed": args.seed})
    path, sep, spec = args.vary.partition("=")
    try:
        low, high = (float(v) for v in spec.split(":"))
    except ValueError:
        raise UsageError(f"--vary needs PATH=LOW:HIGH, got {args.vary!r}") from None
    if not sep:
        raise UsageError(f"--vary needs PATH=LOW:HIGH, got {args.vary!r}")
    a, b = args.between
    for name in (a, b):
        scenario.strategy(name)
    try:
        result = breakeven(
            scenario,
            path.strip(),
            low,
            high,
            a,
            b,
            metric=args.metric,
            replications=args.replications,
            grid=args.grid,
            refinements=args.refinements,
            workers=args.workers,
            out=args.out,
            progress=args.progress,
        )
    except ValueError as error:
        raise UsageError(_first_line(error)) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=float))
    else:
        table = result.evaluations.copy()
        for column in ("difference", "difference_low", "difference_high"):
            table[column] = table[column].map(lambda v: f"{v:,.0f}")
        print(table.to_string(index=False))
        print(result.message)
    return EXIT_OK


def _interrupted(out: Path, command: str) -> int:
    """Ctrl-C during a run or sweep: say what is kept and how to go on."""
    print(
        f"relsim: interrupted; finished replications are kept in {out}/. Resume with:\n"
        f"  relsim {command} --resume {out}",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _validate(args: argparse.Namespace) -> int:
    from relsim import load_scenario
    from relsim.scenario import ScenarioError

    worst = EXIT_OK
    for path in args.scenarios:
        try:
            load_scenario(path)
            print(f"{path}: ok", file=sys.stderr)
        except ScenarioError as error:
            print(str(error), file=sys.stderr)
            worst = max(worst, EXIT_INVALID)
        except FileNotFoundError:
            print(f"{path}: no such file", file=sys.stderr)
            worst = max(worst, EXIT_NO_INPUT)
    return worst


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
