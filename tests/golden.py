"""Golden outputs: a few small scenarios' results, stored under ``tests/data/golden/`` and
compared by ``tests/test_golden.py``.

They pin the model. A change that moves them is a change of the model, and the policy
(``CHANGELOG.md``) is: bump ``relsim.MODEL_VERSION``, say in ``CHANGELOG.md`` under
``## Model version N`` what changed in the model and why, then regenerate::

    python -m tests.golden --update

``--update`` refuses to rewrite numbers that moved while ``MODEL_VERSION`` stayed the same, and
refuses a version without its changelog entry, so the stored files and the version never
disagree. Counts are compared exactly; money and rates to 10 significant digits, because
numpy's vectorised ``exp``/``log`` may differ in the last bit between CPUs (SIMD paths).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim import MODEL_VERSION, load_scenario
from relsim.experiment import replicate

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden"
CHANGELOG = ROOT / "CHANGELOG.md"
TABLES = ("summary", "weekly", "ladder", "defections")
REPLICATIONS = (0, 1)
RELATIVE_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Case:
    """One scenario file, shrunk by overrides to run in a second or two per strategy."""

    name: str
    file: str
    overrides: dict[str, Any] = field(default_factory=dict)


SMALL = {"market.customers": 600, "horizon.weeks": 26, "horizon.warmup_weeks": 13}
CASES = (
    Case("ci-smoke", "ci-smoke.yaml"),
    Case("baseline", "baseline.yaml", SMALL),
    Case("frequency-war", "frequency-war.yaml", SMALL),
    Case("key-accounts", "key-accounts.yaml", SMALL),
    Case("club", "club.yaml", SMALL),
    Case("subscription", "subscription.yaml", SMALL),
    Case("retention-tools", "retention-tools.yaml", SMALL),
)


def compute(case: Case) -> dict[str, pd.DataFrame]:
    """Every strategy of the case, replications 0 and 1 as the runner makes them: the summary
    of both, the weekly tables of replication 0 (they pin the path, the summaries the ends),
    after a trip through CSV (so stored and fresh tables have the same dtypes)."""
    scenario = load_scenario(ROOT / "scenarios" / case.file, overrides=case.overrides)
    rows: list[dict[str, Any]] = []
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES[1:]}
    for strategy in scenario.strategies:
        for r in REPLICATIONS:
            result = replicate(scenario, strategy.name, r)
            summary = {k: v for k, v in result["summary"].items() if k != "seconds"}
            rows.append({"strategy": strategy.name, "replication": r, **summary})
            for name in frames:
                if r == REPLICATIONS[0]:
                    frames[name].append(result[name])
    tables = {"summary": pd.DataFrame(rows)}
    tables.update({name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()})
    return {name: pd.read_csv(io.StringIO(to_csv(table))) for name, table in tables.items()}


def to_csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, float_format="%.17g", lineterminator="\n")


def stored(case: Case) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(GOLDEN / case.name / f"{name}.csv") for name in TABLES}


def stored_version() -> str:
    return (GOLDEN / "MODEL_VERSION").read_text().strip()


def differences(fresh: dict[str, pd.DataFrame], old: dict[str, pd.DataFrame]) -> list[str]:
    """What differs between two sets of tables: shape, columns, then values column by column
    (integers exactly, floats to :data:`RELATIVE_TOLERANCE`)."""
    found = []
    for name in TABLES:
        a, b = fresh[name], old[name]
        if list(a.columns) != list(b.columns):
            added = sorted(set(a.columns) - set(b.columns))
            gone = sorted(set(b.columns) - set(a.columns))
            found.append(f"{name}: columns changed (new {added}, gone {gone})")
            continue
        if len(a) != len(b):
            found.append(f"{name}: {len(a)} rows, stored {len(b)}")
            continue
        for column in a.columns:
            x, y = a[column], b[column]
            if x.dtype.kind == "f" or y.dtype.kind == "f":
                xv, yv = x.to_numpy(float), y.to_numpy(float)
                same = np.isclose(xv, yv, rtol=RELATIVE_TOLERANCE, atol=0.0, equal_nan=True)
            else:
                same = ((x == y).fillna(False) | (x.isna() & y.isna())).to_numpy(bool)
            if not same.all():
                row = int(np.flatnonzero(~same)[0])
                found.append(
                    f"{name}.{column}: {int((~same).sum())} of {len(same)} rows differ "
                    f"(first: row {row}, now {x.iloc[row]!r}, stored {y.iloc[row]!r})"
                )
    return found


def changelog_has(version: str) -> bool:
    text = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.exists() else ""
    return re.search(rf"^## Model version {re.escape(version)}\b", text, re.MULTILINE) is not None


def update() -> int:
    """Rewrite the golden files, under the policy in this module's docstring."""
    if not changelog_has(MODEL_VERSION):
        print(
            f"CHANGELOG.md has no '## Model version {MODEL_VERSION}' entry: say what changed "
            "in the model and why before regenerating the golden outputs",
            file=sys.stderr,
        )
        return 1
    same_version = (GOLDEN / "MODEL_VERSION").exists() and stored_version() == MODEL_VERSION
    fresh = {case.name: compute(case) for case in CASES}
    if same_version:
        moved = {
            case.name: differences(fresh[case.name], stored(case))
            for case in CASES
            if (GOLDEN / case.name).exists()
        }
        moved = {name: found for name, found in moved.items() if found}
        if moved:
            for name, found in moved.items():
                print(f"{name}: " + "; ".join(found[:3]), file=sys.stderr)
            print(
                f"the numbers moved but MODEL_VERSION is still {MODEL_VERSION}: bump it in "
                "src/relsim/version.py and add its CHANGELOG.md entry",
                file=sys.stderr,
            )
            return 1
    for case in CASES:
        folder = GOLDEN / case.name
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in fresh[case.name].items():
            (folder / f"{name}.csv").write_text(to_csv(table), encoding="utf-8")
    (GOLDEN / "MODEL_VERSION").write_text(MODEL_VERSION + "\n", encoding="utf-8")
    print(f"golden outputs written for model version {MODEL_VERSION}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the stored outputs")
    args = parser.parse_args(argv)
    if args.update:
        return update()
    worst = 0
    for case in CASES:
        found = differences(compute(case), stored(case))
        print(f"{case.name}: " + ("same" if not found else "; ".join(found[:3])))
        worst = max(worst, 1 if found else 0)
    return worst


if __name__ == "__main__":
    sys.exit(main())
