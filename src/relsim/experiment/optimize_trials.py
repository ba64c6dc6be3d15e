"""One trial of an optimization: a design of the optimized strategy, replicated and compared
with the baseline under common random numbers, with as many replications as it deserves.

A trial runs the optimized strategy with the lever values the sampler proposes, replication
``r`` seeded as every run's replication ``r`` (:func:`relsim.experiment.pool.replication_seed`),
so its paired difference from the baseline's replication ``r`` is a CRN comparison -- and every
trial uses the same seeds, so trials are compared with each other on the same noise. The
baseline does not depend on the levers: its replications are run once and shared.

Adaptive replications (as OptQuest does): a trial starts with ``replications``; while the upper
end of its confidence interval still reaches the best estimate so far, it doubles them, up to
``max_replications``. Designs that cannot be the best stop early; contenders are measured well.

Constraints are judged on the trial's means: the relationship-marketing spend per year (the
cost kinds of :data:`SPEND_KINDS` over the horizon's years) at most the budget, and each
requirement on a summary column (in the allocation mode, the bonds' realised spend a year,
``bond_spend_per_year``, at most the allocated budget). Their violations (positive when
violated) go to Optuna's constrained sampler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relsim.experiment.optimize_allocate import BOND_KINDS, BOND_SPEND, Allocation, spend_column
from relsim.experiment.pool import WorkerPool, summarize
from relsim.model.economics import COST_KINDS
from relsim.scenario import Scenario
from relsim.scenario.model import Lever, Objective, Requirement
from relsim.statistics import mean_interval
from relsim.units import years

SPEND_KINDS = tuple(k for k in COST_KINDS if k not in ("cost_of_goods", "acquisition", "fixed"))
"""Relationship-marketing spend: every cost kind but goods, acquisition and fixed costs (the
staff of the relationship levels, the bonds, the retention tools, the database and campaigns)."""
SPEND = "relationship_spend_per_year"
"""The column a trial's rows carry for the spend (currency a year, mean over the horizon)."""
DERIVED = {SPEND: SPEND_KINDS, **{spend_column(bond): kinds for bond, kinds in BOND_KINDS.items()}}
"""Columns a trial's rows may carry that the summary does not: spends a year, by cost kinds
(and ``bond_spend_per_year``: the sum of the bonds' spends among the kept columns)."""


@dataclass(frozen=True)
class AssumptionDraws:
    """Robust mode's fixed joint draws of the uncertain assumptions
    (:mod:`relsim.experiment.optimize_robust`): the objective (``expected`` or ``regret``),
    the replications at each draw, each draw's scenario values (``points``), root seed and
    the uncertain quantities' values (``inputs``, by the register entry's name)."""

    objective: str
    replications: int
    points: tuple[dict[str, Any], ...]
    seeds: tuple[int, ...]
    inputs: tuple[dict[str, float], ...]


@dataclass(frozen=True)
class Problem:
    """What an optimization asks, checked: the scenario (without its optimize block), the
    strategy whose fields are the levers, the baseline, the metric and the constraints."""

    scenario: Scenario
    strategy: str
    baseline: str
    levers: tuple[Lever, ...]
    metric: str
    budget: float | None
    requirements: tuple[Requirement, ...]
    replications: int
    max_replications: int
    confidence: float = 0.95
    allocation: Allocation | None = None
    budget_column: str = SPEND
    objectives: tuple[Objective, ...] = ()
    robust: AssumptionDraws | None = None

    @property
    def columns(self) -> list[str]:
        """The summary values a trial keeps per replication."""
        wanted = [self.metric, *(o.column for o in self.objectives), SPEND]
        wanted += [r.column for r in self.requirements]
        if self.allocation is not None:
            wanted += self.allocation.columns
        return list(dict.fromkeys(wanted))


def rows_of(
    pool: WorkerPool, scenario: Scenario, strategy: str, replications: range, columns: list[str]
) -> list[dict[str, float]]:
    """The kept summary values of ``strategy``'s replications, in replication order."""
    found: dict[int, dict[str, float]] = {}
    tasks = [(strategy, r) for r in replications]
    for (_, r), result in pool.map(scenario, tasks, summarize):
        found[r] = kept(result["summary"], scenario, columns)
    return [found[r] for r in replications]


def kept(summary: dict[str, Any], scenario: Scenario, columns: list[str]) -> dict[str, float]:
    """A replication's ``columns``, the derived spends a year included."""
    horizon = years(scenario.horizon.weeks)
    spends = {c: sum(float(summary[k]) for k in ks) / horizon for c, ks in DERIVED.items()}
    bonds = [spend_column(b) for b in BOND_KINDS if spend_column(b) in columns]
    spends[BOND_SPEND] = sum(spends[c] for c in bonds)
    summary = {**summary, **spends}
    return {c: float(summary[c]) for c in columns}


@dataclass
class Baseline:
    """The baseline's replications, run once and extended as trials need more."""

    rows: list[dict[str, float]] = field(default_factory=list)

    def ensure(self, pool: WorkerPool, problem: Problem, n: int) -> list[dict[str, float]]:
        if len(self.rows) < n:
            more = range(len(self.rows), n)
            self.rows += rows_of(pool, problem.scenario, problem.baseline, more, problem.columns)
        return self.rows[:n]


def evaluate(
    pool: WorkerPool, problem: Problem, variant: Scenario, baseline: Baseline, best: float | None
) -> dict[str, Any]:
    """Run a trial's design: replications until it cannot reach ``best`` (the best feasible
    estimate so far, None at first) or ``max_replications``; returns its estimate and rows."""
    n = problem.replications
    rows = rows_of(pool, variant, problem.strategy, range(n), problem.columns)
    while True:
        base = baseline.ensure(pool, problem, n)
        estimate = paired(rows, base, problem.metric, problem.confidence)
        if n >= problem.max_replications or best is None or estimate["high"] < best:
            break
        more = range(n, min(problem.max_replications, 2 * n))
        rows += rows_of(pool, variant, problem.strategy, more, problem.columns)
        n = more.stop
    means = {c: float(np.mean([row[c] for row in rows])) for c in problem.columns}
    violations = violations_of(problem, means)
    return {
        **estimate,
        **objective_values(rows, base, problem),
        "n": n,
        "means": means,
        "violations": violations,
        "feasible": all(v <= 0 for v in violations),
        "rows": rows,
    }


def paired(
    rows: list[dict[str, float]], base: list[dict[str, float]], metric: str, confidence: float
) -> dict[str, float]:
    """The mean paired difference on ``metric`` and its confidence interval."""
    d = np.array([a[metric] - b[metric] for a, b in zip(rows, base, strict=True)])
    ci = mean_interval(d, confidence)
    return {"estimate": ci.mean, "low": ci.low, "high": ci.high}


def objective_values(
    rows: list[dict[str, float]], base: list[dict[str, float]], problem: Problem
) -> dict[str, list[float]]:
    """Each objective's value (``values``) with its interval (``values_low``/``_high``; the
    5th percentile's are its own value): the paired differences' mean or 5th percentile."""
    found = []
    for o in problem.objectives:
        d = np.array([a[o.column] - b[o.column] for a, b in zip(rows, base, strict=True)])
        if o.statistic == "p5":
            found.append((float(np.percentile(d, 5)),) * 3)
        else:
            ci = mean_interval(d, problem.confidence)
            found.append((ci.mean, ci.low, ci.high))
    if not found:
        return {}
    values, low, high = (list(t) for t in zip(*found, strict=True))
    return {"values": values, "values_low": low, "values_high": high}


def violations_of(problem: Problem, means: dict[str, float]) -> list[float]:
    """Each constraint's violation (positive: violated, by how much; zero or less: met): the
    budget first, then the requirements in their order."""
    out = []
    if problem.budget is not None:
        out.append(means[problem.budget_column] - problem.budget)
    for requirement in problem.requirements:
        value = means[requirement.column]
        if requirement.at_least is not None:
            out.append(requirement.at_least - value)
        else:
            assert requirement.at_most is not None
            out.append(value - requirement.at_most)
    return out


def describe(levers: tuple[Lever, ...], params: dict[str, Any]) -> str:
    """Lever values in a line: the last part of each path, ``=`` and the value."""
    return ", ".join(
        f"{lever.path.rsplit('.', 1)[-1]}={params[lever.path]:.4g}" for lever in levers
    )


__all__ = [
    "SPEND",
    "SPEND_KINDS",
    "AssumptionDraws",
    "Baseline",
    "Problem",
    "evaluate",
    "kept",
    "rows_of",
]
