"""Warnings where a result is probably not what the user meant.

Three rules, each computed from the tables the experiment already has (no number of the model
is recomputed):

* **short staff**: a strategy's staff pool left planned work undone in most weeks (more than
  :data:`SHORT_MOST_WEEKS` of them): the strategy ran as an under-delivered version of itself;
* **all losing**: every strategy's mean decision metric is below zero;
* **unscaled**: ``market.customers`` was set (``--set``) to more than twice or less than half
  the scenario file's own value while the fixed costs, acquisition spend and staff counts kept
  the file's values; the warning names the fields and offers ``--set`` lines scaled by the
  same factor.

:func:`result_checks` returns the warnings as plain sentences and the ``--set`` lines.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relsim.analysis import plan

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment
    from relsim.scenario import Scenario

SHORT_MOST_WEEKS = 0.5
"""A pool short in more than this share of the weeks draws the warning."""

SCALE_FACTOR = 2.0
"""A change of the market's size by more than this factor (either way) is checked."""

POOLS = {"desk": "desk", "contact": "contact", "manager": "relationship-manager"}
STAFF_FIELDS = ("desk", "contact_centre", "managers", "senior_manager")


@dataclass
class Checks:
    """The warnings (plain sentences) and the ``--set`` lines they offer: ``warnings`` for
    the whole run (all losing, unscaled), ``staff`` for the strategies short of staff."""

    warnings: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    short: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    """Per strategy, its pools short in most weeks: pool, share of weeks, hours a week."""
    staff: list[str] = field(default_factory=list)
    """The warnings of the short-staff rule (shown with the organisation section)."""


def shortfalls(experiment: Experiment) -> dict[str, list[tuple[str, float, float]]]:
    """Per strategy, each staff pool short in more than :data:`SHORT_MOST_WEEKS` of the
    weeks, with that share (``<pool>_short`` of the weekly service records)."""
    org = plan.organisation(experiment)
    out: dict[str, list[tuple[str, float, float]]] = {}
    for r in org.itertuples():
        if r.weeks_short > SHORT_MOST_WEEKS:
            pool = POOLS.get(r.pool, r.pool)
            out.setdefault(str(r.strategy), []).append((pool, r.weeks_short, r.hours_per_week))
    return out


def short_phrase(pools: list[tuple[str, float, float]]) -> str:
    """'contact pool short in 99.9% of weeks' (and more pools joined by 'and')."""
    return " and ".join(
        f"{pool} pool short in {100 * share:.1f}% of weeks" + ("" if hours else " (no staff in it)")
        for pool, share, hours in pools
    )


def staff_warnings(short: dict[str, list[tuple[str, float, float]]]) -> list[str]:
    """One warning per strategy short of staff in most weeks (:func:`shortfalls`)."""
    return [
        f"Short of staff: {strategy} did not get the staff it needs, its "
        f"{short_phrase(pools)}; its figures are for what it delivered, not for the "
        "strategy as planned. Add staff to that pool (the strategy's staffing) and run "
        "again to see the strategy as planned."
        for strategy, pools in short.items()
    ]


def result_checks(experiment: Experiment, scenario: Scenario) -> Checks:
    """Every warning of the run (:attr:`Checks.warnings`, :attr:`Checks.staff`) with the
    ``--set`` lines that would answer the last rule."""
    checks = Checks(short=shortfalls(experiment))
    checks.staff = staff_warnings(checks.short)
    means = experiment.replications.groupby("strategy", observed=True)[experiment.metric].mean()
    if len(means) and (means < 0).all():
        checks.warnings.append(
            f"Every strategy loses money: the best mean {experiment.metric} is "
            f"{means.max():,.0f}. Check the market's size against the fixed costs and staff, "
            "and the margins (unit cost, prices), before comparing the strategies."
        )
    _unscaled(experiment, scenario, checks)
    return checks


def _reference(experiment: Experiment) -> tuple[Path, int] | None:
    """The scenario file the run was read from and the market size written in it, when the
    run's command line set ``market.customers`` with ``--set``."""
    command = [str(x) for x in experiment.manifest.get("command", [])]
    sets = [v for k, v in itertools.pairwise(command) if k == "--set" and "=" in v]
    sets += [c.split("=", 1)[1] for c in command if c.startswith("--set=")]
    if not any(s.split("=", 1)[0].strip() == "market.customers" for s in sets):
        return None
    files = [Path(c) for c in command if c.endswith((".yaml", ".yml"))]
    if not files or not files[0].exists():
        return None
    from relsim.scenario import load_scenario

    try:
        written = load_scenario(files[0])
    except Exception:  # the file changed since the run: nothing to compare with
        return None
    return files[0], written.market.customers


def _unscaled(experiment: Experiment, scenario: Scenario, checks: Checks) -> None:
    found = _reference(experiment)
    if found is None:
        return
    path, written = found
    from relsim.scenario import load_scenario

    factor = scenario.market.customers / written
    if 1 / SCALE_FACTOR <= factor <= SCALE_FACTOR:
        return
    same = _unchanged_fields(load_scenario(path), scenario)
    if not same:
        return
    names = sorted({name for name, _ in same})
    size = "larger" if factor < 1 else "smaller"
    checks.warnings.append(
        f"Costs and staff look unscaled: the market has {scenario.market.customers:,} "
        f"customers, {factor:.2g} times the "
        f"{written:,} of {path.name}, but {_join(_describe(names))} kept the values "
        f"written for the {size} market, so they look unscaled. Scale them by {factor:.2g}: "
        "the --set lines that do so are suggested at the end of relsim run's output and of "
        "the report's glossary."
    )
    checks.commands += [f"--set {name}={_round(value * factor)}" for name, value in same]


def _unchanged_fields(written: Scenario, run: Scenario) -> list[tuple[str, float]]:
    """The money and staff fields of the run equal to the file's (non-zero): dotted paths
    with their values."""
    out: list[tuple[str, float]] = []
    for i, (a, b) in enumerate(zip(written.firms, run.firms, strict=False)):
        for name in ("fixed_cost_per_week", "acquisition_spend_per_week"):
            value = getattr(b, name)
            if value and value == getattr(a, name):
                out.append((f"firms.{i}.{name}", value))
    for i, (a, b) in enumerate(zip(written.strategies, run.strategies, strict=False)):
        for pool in STAFF_FIELDS:
            value = getattr(b.staffing, pool).count
            if value and value == getattr(a.staffing, pool).count:
                out.append((f"strategies.{i}.staffing.{pool}.count", value))
    return out


def _describe(names: list[str]) -> list[str]:
    kinds = []
    if any(n.endswith("fixed_cost_per_week") for n in names):
        kinds.append("the firms' fixed costs")
    if any(n.endswith("acquisition_spend_per_week") for n in names):
        kinds.append("their acquisition spend")
    if any(n.endswith(".count") for n in names):
        kinds.append("the strategies' staff")
    return kinds


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _round(value: float) -> Any:
    if value >= 100:
        return int(round(value, -1))
    return round(value * 4) / 4 if value >= 1 else round(value, 2)


__all__ = [
    "SCALE_FACTOR",
    "SHORT_MOST_WEEKS",
    "Checks",
    "result_checks",
    "shortfalls",
    "staff_warnings",
]
