"""The ``relsim`` command line: a thin layer over the Python API.

Exit codes: 0 success, 1 runtime failure, 2 usage error, 65 invalid scenario, 66 missing input
file, 130 interrupted (after saving what finished). Messages go to stderr, data to files (or to
stdout with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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
    "clv_new_customers",
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

        if isinstance(error, ScenarioError):
            print(str(error), file=sys.stderr)
            return EXIT_INVALID
        if isinstance(error, FileNotFoundError):
            print(f"relsim: no such file: {error.filename}", file=sys.stderr)
            return EXIT_NO_INPUT
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            print(f"relsim: error: {error} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relsim",
        description="Compare relationship-marketing strategies by simulating a market.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="simulate every strategy of a scenario and write the results",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  relsim run scenarios/baseline.yaml --seed 7 --set horizon.weeks=104",
    )
    run.add_argument("scenario", type=Path, help="scenario file (YAML)")
    run.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's)")
    run.add_argument(
        "--strategy", action="append", default=None, help="simulate only this strategy (repeatable)"
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
    run.add_argument("--json", action="store_true", help="print the summaries as JSON on stdout")
    run.add_argument("--debug", action="store_true", help="show tracebacks")
    run.set_defaults(handler=_run)

    validate = sub.add_parser(
        "validate",
        help="check scenario files and report every problem with its line",
        epilog="example:\n  relsim validate scenarios/*.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("scenarios", type=Path, nargs="+")
    validate.add_argument("--debug", action="store_true", help="show tracebacks")
    validate.set_defaults(handler=_validate)
    return parser


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
    from relsim import load_scenario, simulate

    started = time.time()
    scenario = load_scenario(args.scenario, overrides=_parse_overrides(args.overrides))
    names = args.strategy or [s.name for s in scenario.strategies]
    for name in names:
        scenario.strategy(name)  # unknown names fail before any work is done
    seed = scenario.seed if args.seed is None else args.seed
    out = args.out or Path("results") / f"{scenario.name}-{datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, dict[str, float]] = {}
    tables: dict[str, list[Any]] = {k: [] for k in ("weekly", "ladder", "defections", "customers")}
    for name in names:
        print(f"relsim: simulating {name!r} ...", file=sys.stderr)
        run = simulate(scenario, strategy=name, seed=seed)
        summaries[name] = run.summary
        for key in tables:
            frame = getattr(run, key)
            tables[key].append(frame.assign(strategy=name))
    _write(out, scenario, seed, summaries, tables, started)
    first = next(iter(summaries.values()))
    drift, se = first["warmup_share_drift_per_year"], first["warmup_share_drift_se"]
    if abs(drift) > DRIFT_WARNING and abs(drift) > 3 * se:
        print(
            f"relsim: warning: the focal firm's share still moved {drift:+.3f} a year at the "
            "end of the warm-up, so week 0 is not a steady state; lengthen horizon.warmup_weeks "
            "or start from initial shares and a ladder mix nearer the market's own (see "
            "docs/model.md, 'Steady state at week 0').",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(summaries, indent=2))
    else:
        _print_table(summaries, scenario.baseline_strategy)
    print(
        f"relsim: results in {out}/ (summary.csv, weekly/ladder/defections/customers.parquet, "
        "run.json). One replication per strategy: differences include simulation noise.",
        file=sys.stderr,
    )
    return EXIT_OK


def _write(
    out: Path,
    scenario: Any,
    seed: int,
    summaries: dict[str, dict[str, float]],
    tables: dict[str, list[Any]],
    started: float,
) -> None:
    import pandas as pd

    from relsim import MODEL_VERSION, __version__

    pd.DataFrame(summaries).T.rename_axis("strategy").to_csv(out / "summary.csv")
    for key, frames in tables.items():
        pd.concat(frames, ignore_index=True).to_parquet(out / f"{key}.parquet", index=False)
    manifest = {
        "scenario": scenario.model_dump(mode="json"),
        "seed": seed,
        "relsim_version": __version__,
        "model_version": MODEL_VERSION,
        "command": sys.argv,
        "started": datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 3),
        "replications_per_strategy": 1,
    }
    (out / "run.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _print_table(summaries: dict[str, dict[str, float]], baseline: str) -> None:
    width = max(len(n) for n in summaries) + 2
    print("strategy".ljust(width) + "".join(f"{k:>20s}" for k in SHOWN))
    for name, summary in summaries.items():
        mark = " *" if name == baseline else ""
        cells = "".join(
            f"{summary[k]:>20,.3f}" if abs(summary[k]) < 10 else f"{summary[k]:>20,.0f}"
            for k in SHOWN
        )
        print(f"{name + mark:<{width}}{cells}")
    print("(* baseline)")


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
    sys.exit(main())
