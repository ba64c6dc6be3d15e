"""Robust mode of an optimization: each design judged over draws of the uncertain assumptions.

An ordinary optimization finds the design that is best at the scenario's values of its
assumptions. In robust mode (``optimize: robust:`` or ``--robust``) every design is judged
over ``draws`` joint draws of the assumption register's uncertain parameters, drawn as
``relsim decide`` draws them (:func:`relsim.experiment.psa.quantities` and
:func:`relsim.experiment.psa.draw`: Beta-PERT over the register's ranges, a scrambled Sobol
sequence, each draw with its own root seed). The draws are made once and are the same for every
design, and so are the replication seeds at each draw: the designs are compared under common
random numbers both in the assumptions and in the simulation. At draw ``d`` a design and the
baseline run ``replications`` times each; the design's **value at the draw** is the mean paired
difference of the metric from the baseline there.

The objective over the draws:

- ``expected``: the mean of the values over the draws (the expected paired difference under
  the assumptions' distribution), maximized;
- ``regret``: the largest regret over the draws, minimized. The regret of design ``c`` at
  draw ``d`` is ``max(0, best_d, value(c, d)) - value(c, d)``, ``best_d`` the highest value at
  ``d`` among the other designs evaluated that meet the constraints (all of them when none
  does; the baseline is worth 0). Regret is therefore relative to the designs evaluated: the
  sampler sees a trial's regret against the trials before it (the first trial's is against
  the baseline only, so 0 unless it loses to the baseline somewhere), a moving target kept
  because the search only needs it to rank nearby proposals; the trials table, the choice of
  the designs to re-run and the levers' importance use every trial's regret recomputed against
  all the trials (:func:`rescore`); the final answer's regret is against the re-run designs.

Constraints are judged on the means over all draws' replications. Replications do not adapt
in robust mode (each trial runs ``draws x replications`` for the design).

The honest answer, the best designs re-run on fresh draws and compared at the scenario's own
values with the design at the scenario's lever values, is
:mod:`relsim.experiment.optimize_robust_fresh`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from relsim.experiment import psa
from relsim.experiment.optimize_trials import (
    AssumptionDraws,
    Baseline,
    Problem,
    describe,
    kept,
    violations_of,
)
from relsim.experiment.pool import WorkerPool, summarize
from relsim.scenario import Scenario
from relsim.scenario.model import Lever, Robust, Uncertainty
from relsim.scenario.paths import with_values
from relsim.statistics import mean_interval

Rows = list[dict[str, float]]


def plan(scenario: Scenario, robust: Robust, levers: tuple[Lever, ...]) -> AssumptionDraws:
    """``robust.draws`` joint draws of ``scenario``'s uncertain assumptions (its root seed
    gives the Sobol stream and each draw's seed); a lever that is itself uncertain is refused
    (the design sets it)."""
    found, _ = psa.quantities(scenario)
    drawn = {_indexed(scenario, path): q.name for q in found for path in q.paths}
    for lever in levers:
        path = _indexed(scenario, lever.path)
        if path in drawn:
            raise ValueError(
                f"lever {lever.path} is also the uncertain assumption {drawn[path]}: fix it "
                f"(uncertainty: assumptions: {drawn[path]}: {{kind: fixed}}) to search it"
            )
    design = (scenario.uncertainty or Uncertainty()).design
    draws = psa.draw(scenario, found, robust.draws, design)
    points = tuple(
        {k: _plain(v) for k, v in row.items() if k != "seed"}
        for row in draws.points.to_dict("records")
    )
    return AssumptionDraws(
        objective=robust.objective,
        replications=robust.replications,
        points=points,
        seeds=tuple(int(s) for s in draws.points["seed"]),
        inputs=tuple(
            {k: float(v) for k, v in row.items()} for row in draws.inputs.to_dict("records")
        ),
    )


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _indexed(scenario: Scenario, path: str) -> str:
    """``path`` with a strategy named by its index, as the register's paths are."""
    parts = path.split(".")
    if len(parts) > 1 and parts[0] == "strategies" and not parts[1].isdigit():
        names = [s.name for s in scenario.strategies]
        parts[1] = str(names.index(parts[1])) if parts[1] in names else parts[1]
    return ".".join(parts)


def at_draw(
    problem: Problem, draws: AssumptionDraws, d: int, params: dict[str, Any] | None = None
) -> Scenario:
    """The scenario at draw ``d`` (its assumptions and root seed), with the lever values
    ``params`` set (None: the scenario's own, as the baseline runs)."""
    variant = with_values(problem.scenario, {**draws.points[d], **(params or {})})
    return variant.model_copy(update={"seed": draws.seeds[d]})


def draw_rows(
    pool: WorkerPool,
    problem: Problem,
    draws: AssumptionDraws,
    strategy: str,
    params: dict[str, Any] | None,
) -> list[Rows]:
    """``strategy``'s kept summary values at every draw, ``draws.replications`` each; all the
    draws' replications go to the pool at once (so as many workers as there are tasks are
    busy, not ``replications``), each seeded as a run of its draw's scenario."""
    r = draws.replications
    at = AtDraws(tuple(at_draw(problem, draws, d, params) for d in range(len(draws.points))), r)
    tasks = [(strategy, k) for k in range(len(at.scenarios) * r)]
    found = {
        k: kept(result["summary"], at.scenarios[k // r], problem.columns)
        for (_, k), result in pool.map(at, tasks, summarize_at)  # type: ignore[arg-type]
    }
    return [[found[d * r + i] for i in range(r)] for d in range(len(at.scenarios))]


@dataclass(frozen=True)
class AtDraws:
    """The scenarios at the draws, in place of one scenario in a pool's map: task ``k`` is
    replication ``k % replications`` of draw ``k // replications``."""

    scenarios: tuple[Scenario, ...]
    replications: int

    def locate(self, k: int) -> tuple[Scenario, int]:
        """Task ``k``'s scenario and replication."""
        return self.scenarios[k // self.replications], k % self.replications


def summarize_at(at: AtDraws, strategy: str, k: int) -> dict[str, Any]:
    """Task ``k`` of :class:`AtDraws` (a worker task: importable, picklable)."""
    scenario, replication = at.locate(k)
    return summarize(scenario, strategy, replication)


def values_at_draws(rows: list[Rows], base: list[Rows], metric: str) -> list[float]:
    """Each draw's mean paired difference of ``metric`` (design minus baseline)."""
    return [
        float(np.mean([a[metric] - b[metric] for a, b in zip(mine, theirs, strict=True)]))
        for mine, theirs in zip(rows, base, strict=True)
    ]


def regrets(values: np.ndarray, rivals: np.ndarray) -> np.ndarray:
    """Each design's largest regret over the draws: ``values`` (designs x draws) against the
    best of ``rivals`` (alternatives x draws, may be empty) and the baseline's 0 at each draw,
    a design's own value counted as an alternative (so a regret is never negative)."""
    best = np.zeros(values.shape[1])
    if len(rivals):
        best = np.maximum(best, rivals.max(axis=0))
    return (np.maximum(best, values) - values).max(axis=1)


def judged(values: list[float], rivals: np.ndarray, objective: str, confidence: float) -> dict:
    """A design's robust summary: expected value with its interval over the draws, worst
    draw, maximum regret, and ``estimate`` (larger is better: the expected value, or minus
    the maximum regret, whose ``low`` and ``high`` are itself: no interval is computed)."""
    ci = mean_interval(np.asarray(values), confidence)
    regret = float(regrets(np.asarray([values]), rivals)[0])
    summary = {"expected": ci.mean, "worst_draw": float(min(values)), "max_regret": regret}
    if objective == "expected":
        return {**summary, "estimate": ci.mean, "low": ci.low, "high": ci.high}
    return {**summary, "estimate": -regret, "low": -regret, "high": -regret}


def evaluate(
    pool: WorkerPool,
    problem: Problem,
    params: dict[str, Any],
    baseline: Baseline,
    prior: list[list[float]],
) -> dict[str, Any]:
    """Run a trial's design at every draw; ``prior``: the earlier trials' values at the draws
    (the alternatives of its regret: :func:`rivals`). ``baseline.rows`` holds the baseline's
    rows at every draw, draw after draw (run at the first trial)."""
    draws = problem.robust
    assert draws is not None
    r = draws.replications
    if not baseline.rows:
        runs = draw_rows(pool, problem, draws, problem.baseline, None)
        baseline.rows = [row for rows in runs for row in rows]
    base = [baseline.rows[d * r : (d + 1) * r] for d in range(len(draws.points))]
    rows = draw_rows(pool, problem, draws, problem.strategy, params)
    values = values_at_draws(rows, base, problem.metric)
    flat = [row for each in rows for row in each]
    means = {c: float(np.mean([row[c] for row in flat])) for c in problem.columns}
    violations = violations_of(problem, means)
    rivals = np.asarray(prior).reshape(len(prior), len(values))
    return {
        **judged(values, rivals, draws.objective, problem.confidence),
        "n": len(flat),
        "means": means,
        "violations": violations,
        "feasible": all(v <= 0 for v in violations),
        "rows": flat,
        "draw_values": values,
        "rivals": len(prior),
    }


def rivals(results: list[dict[str, Any]]) -> list[list[float]]:
    """The alternatives of a new trial's regret in the search: the earlier trials' values at
    the draws, those meeting the constraints (all of them when none does, as in
    :func:`rescore` and the re-evaluation)."""
    feasible = [a["draw_values"] for a in results if a["feasible"]]
    return feasible or [a["draw_values"] for a in results]


def draw_columns(result: dict[str, Any]) -> dict[str, float]:
    """A robust trial's columns in the trials table: expected, worst draw, maximum regret,
    and its value at each draw (``draw_0``, ``draw_1``, ...)."""
    if "draw_values" not in result:
        return {}
    keys = ("expected", "worst_draw", "max_regret")
    return {
        **{k: result[k] for k in keys},
        **{f"draw_{d}": v for d, v in enumerate(result["draw_values"])},
    }


def rescore(trials: pd.DataFrame, problem: Problem) -> pd.DataFrame:
    """The trials table with every trial's maximum regret against all the trials meeting the
    constraints (all trials when none does), the estimate and the best so far following it in
    regret mode."""
    assert problem.robust is not None
    values = trials[[f"draw_{d}" for d in range(len(problem.robust.points))]].to_numpy(float)
    feasible = trials["feasible"].to_numpy(bool)
    rivals = values[feasible] if feasible.any() else values
    out = trials.assign(max_regret=regrets(values, rivals))
    if problem.robust.objective == "regret":
        out = out.assign(
            estimate=-out["max_regret"],
            estimate_low=-out["max_regret"],
            estimate_high=-out["max_regret"],
        )
        best = out["estimate"].where(out["feasible"]).cummax().ffill()
        out = out.assign(best_so_far=best)
    return out


def line(k: int, trials: int, problem: Problem, a: dict[str, Any]) -> str:
    """A robust trial's progress line; its maximum regret is against the earlier trials only
    (the trials table recomputes it against all of them)."""
    assert problem.robust is not None
    met = "" if a["feasible"] else "; breaks a constraint"
    draws = len(problem.robust.points)
    n = a.get("rivals", k - 1)
    return (
        f"relsim: trial {k} of {trials}: {describe(problem.levers, a['params'])} -> expected "
        f"{a['expected']:+,.0f}, worst draw {a['worst_draw']:+,.0f}, max regret "
        f"{a['max_regret']:,.0f} against {n} earlier trial{'s' * (n != 1)} and the baseline, "
        f"of {problem.metric} over {problem.baseline} ({draws} draws x "
        f"{problem.robust.replications} replications{met})"
    )


__all__ = [
    "AtDraws",
    "at_draw",
    "draw_columns",
    "draw_rows",
    "evaluate",
    "line",
    "plan",
    "regrets",
    "rescore",
    "rivals",
    "summarize_at",
    "values_at_draws",
]
