"""``relsim export``, ``relsim calibrate`` and ``relsim validate-model``: data out of relsim and
real data into it (the work is :mod:`relsim.exports` and :mod:`relsim.calibration`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from relsim.cli.common import EXIT_OK, Subparsers, command, say
from relsim.errors import UsageError


def add_export(sub: Subparsers) -> None:
    export = command(
        sub,
        "export",
        handle_export,
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
        "--force",
        action="store_true",
        help="overwrite existing files that relsim did not write (without it they are refused)",
    )
    export.add_argument(
        "--start-date",
        default="2026-01-05",
        help="with --transactions: the date of week 0 (weeks are dated on their first day)",
    )


def handle_export(args: argparse.Namespace) -> int:
    from relsim.exports import export_tables, export_transactions

    if not args.transactions:
        target = export_tables(args.results, args.to, force=args.force, notify=say)
        say(f"relsim: CSV tables in {target}/")
        return EXIT_OK
    written = export_transactions(
        args.results,
        args.to,
        args.strategy,
        args.replication,
        args.firm,
        args.start_date,
        force=args.force,
        notify=say,
    )
    log = written.log
    say(
        f"relsim: {len(log)} purchases of {log['customer'].nunique()} customers at "
        f"{written.firm} ({written.strategy}, replication {written.replication}, warm-up "
        f"included) in {written.path}"
    )
    return EXIT_OK


def add_calibrate(sub: Subparsers) -> None:
    cal = command(
        sub,
        "calibrate",
        handle_calibrate,
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
    _add_model_choices(cal)
    cal.add_argument(
        "--forecast-weeks",
        type=int,
        default=0,
        help="also forecast the log's customers' purchase weeks this many weeks after the log, "
        "with the fit's parameter uncertainty (printed: total, 90%% interval and its parts)",
    )
    cal.add_argument(
        "--replications", type=int, default=100, help="replications of the forecast (100)"
    )
    cal.add_argument(
        "--keep-outlying-dates",
        action="store_true",
        help="keep dates before 1970, after today or far from the log's bulk (refused otherwise)",
    )
    cal.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="keep rows that repeat an earlier row exactly (refused otherwise)",
    )


def _add_model_choices(cal: argparse.ArgumentParser) -> None:
    """``relsim calibrate``'s choices of the fitted model: dropout and spend variants."""
    cal.add_argument(
        "--dropout",
        choices=("weekly", "rate-linked", "stayers", "periodic", "auto"),
        default="weekly",
        help="dropout in any week independent of the purchase rate (weekly, the default), "
        "linked to the rate (rate-linked: defection_rate_power), rate-linked with a share who "
        "never defect (stayers: never_defecting_share), rate-linked at periodic death "
        "opportunities only (periodic: defection_period_weeks), or the lowest BIC (auto)",
    )
    cal.add_argument(
        "--spend",
        choices=("constant", "gamma-gamma"),
        default="constant",
        help="with --amount-col: one order value per customer (constant, the default) or every "
        "order's value varying around the customer's own (gamma-gamma: "
        "order_value_within_shape)",
    )


def handle_calibrate(args: argparse.Namespace) -> int:
    from relsim.calibration import calibrate, read_transactions
    from relsim.scenario import load_scenario

    log = read_transactions(
        *(args.transactions, args.customer_col, args.date_col, args.amount_col, args.date_format),
        keep_outlying_dates=args.keep_outlying_dates,
        keep_duplicates=args.keep_duplicates,
    )
    if args.weeks < 1:
        raise UsageError("--weeks is 1 or more")
    if args.forecast_weeks < 0 or args.replications < 2:
        raise UsageError("--forecast-weeks is 0 or more and --replications 2 or more")
    result = calibrate(
        log, args.calibration_end, args.start, dropout=args.dropout, spend=args.spend
    )
    name = args.name or args.out.stem
    result.write_scenario(args.out, source=str(args.transactions), name=name, weeks=args.weeks)
    load_scenario(args.out)  # the written file is a valid scenario
    values = result.values
    outlook = (
        _forecast(result, args.forecast_weeks, args.replications) if args.forecast_weeks else None
    )
    if args.json:
        payload = {
            "values": values.reset_index().to_dict(orient="records"),
            "params": result.params,
            "diagnostics": result.diagnostics,
            "forecast": outlook,
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
        if d.get("spend_frequency"):
            print(d["spend_frequency"]["reading"] + " (gamma-gamma assumes none)")
        print("not identified by the log (assumptions): " + "; ".join(d["not_identified"]))
        if outlook is not None:
            print(_forecast_text(outlook))
    say(f"relsim: scenario written: {args.out}")
    return EXIT_OK


def _forecast(result: Any, weeks: int, replications: int) -> dict[str, float]:
    """The log's customers' purchase weeks in the ``weeks`` after the log: the engine's
    conditional simulation, each replication with its own draw of the parameters."""
    from relsim.calibration import simulate_history

    sim = simulate_history(
        result.params,
        result.summary,
        weeks,
        replications,
        order_value=result.order_value,
        uncertainty=result.uncertainty,
    )
    low, high = sim.interval(0.9)
    return {
        "weeks": weeks,
        "replications": replications,
        "purchase_weeks": float(sim.totals.mean()),
        "low_90": low,
        "high_90": high,
        **sim.parts(),
    }


def _forecast_text(outlook: dict[str, float]) -> str:
    return (
        f"\nforecast of the log's customers, the next {outlook['weeks']} weeks "
        f"({outlook['replications']} replications): {outlook['purchase_weeks']:.0f} purchase "
        f"weeks, 90% interval {outlook['low_90']:.0f}-{outlook['high_90']:.0f}; spread sd "
        f"{outlook['total_sd']:.1f} = parameters (what the log cannot pin down) sd "
        f"{outlook['parameter_sd']:.1f} + the customers' own randomness sd "
        f"{outlook['simulation_sd']:.1f} (variances add)"
    )


def add_validate_model(sub: Subparsers) -> None:
    vm = command(
        sub,
        "validate-model",
        handle_validate_model,
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


def handle_validate_model(args: argparse.Namespace) -> int:
    from relsim.calibration.validation import find_cdnow, run_validation

    cdnow = args.cdnow or find_cdnow()
    if cdnow is None:
        raise UsageError(
            "the CDNOW sample is not found (hint: pip install lifetimes==0.11.3 -- relsim reads "
            "its data file only -- or give --cdnow CDNOW_sample.txt)"
        )
    if args.replications < 2 or args.cohort_replications < 2:
        raise UsageError("--replications and --cohort-replications are 2 or more")
    command_line = (
        f"relsim validate-model --replications {args.replications} "
        f"--cohort-replications {args.cohort_replications} --seed {args.seed}"
    )
    page = run_validation(
        args.out, cdnow, args.replications, args.cohort_replications, args.seed, command_line
    )
    say(f"relsim: validation written: {page}")
    return EXIT_OK


__all__ = [
    "add_calibrate",
    "add_export",
    "add_validate_model",
    "handle_calibrate",
    "handle_export",
    "handle_validate_model",
]
