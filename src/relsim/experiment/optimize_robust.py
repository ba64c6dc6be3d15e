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
  ``d`` among the other designs evaluated that meet the constraints (the baseline is worth 0).
  Regret is therefore relative to the designs evaluated so far: a trial's value for the
  sampler is its regret against the trials before it; the trials table recomputes every
  trial's regret against all of them; the final answer's regret is against the re-run designs.

Constraints are judged on the means over all draws' replications. Replications do not adapt
in robust mode (each trial runs ``draws x replications`` for the design).

The honest answer (:func:`reevaluate`): the best designs by the robust objective are run again,
with the baseline, on **fresh draws and fresh seeds** (the draws of the fresh root seed of
:func:`relsim.experiment.optimize_final.fresh_seed`), and at the scenario's own values
(``fresh_replications`` on that fresh root seed). Each gets its expected value, worst-draw
value, maximum regret (against the re-run designs) and default-assumptions value, so the report
can say whether the robust choice differs from the choice at the defaults.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from relsim.experiment import psa
from relsim.experiment.optimize_final import Settings, candidates, fresh_seed, params_of
from relsim.experiment.optimize_trials import (
    AssumptionDraws,
    Baseline,
    Problem,
    describe,
    rows_of,
    violations_of,
)
from relsim.experiment.pool import WorkerPool
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
    """``strategy``'s kept summary values at every draw, ``draws.replications`` each."""
    n = range(draws.replications)
    return [
        rows_of(pool, at_draw(problem, draws, d, params), strategy, n, problem.columns)
        for d in range(len(draws.points))
    ]


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
    """Run a trial's design at every draw; ``prior``: the earlier feasible trials' values at
    the draws (the alternatives of its regret). ``baseline.rows`` holds the baseline's rows
    at every draw, draw after draw (run at the first trial)."""
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
    }


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
    """A robust trial's progress line."""
    assert problem.robust is not None
    met = "" if a["feasible"] else "; breaks a constraint"
    draws = len(problem.robust.points)
    return (
        f"relsim: trial {k} of {trials}: {describe(problem.levers, a['params'])} -> expected "
        f"{a['expected']:+,.0f}, worst draw {a['worst_draw']:+,.0f}, max regret "
        f"{a['max_regret']:,.0f} of {problem.metric} over {problem.baseline} ({draws} draws x "
        f"{problem.robust.replications} replications{met})"
    )


def fresh_plan(problem: Problem) -> AssumptionDraws:
    """The draws of the re-evaluation: as many as the search's, from the fresh root seed (so
    both the assumptions' points and the seeds at each draw are new)."""
    draws = problem.robust
    assert draws is not None
    robust = Robust(
        objective=draws.objective, draws=len(draws.points), replications=draws.replications
    )
    seed = fresh_seed(problem.scenario.seed)
    return plan(problem.scenario.model_copy(update={"seed": seed}), robust, problem.levers)


def draws_table(problem: Problem) -> pd.DataFrame:
    """``draws.parquet``: one row per draw of the search and of the re-evaluation: its set,
    number, root seed and the uncertain quantities' values."""
    assert problem.robust is not None
    out = []
    for name, draws in (("search", problem.robust), ("fresh", fresh_plan(problem))):
        for d, (seed, inputs) in enumerate(zip(draws.seeds, draws.inputs, strict=True)):
            out.append({"set": name, "draw": d, "seed": seed, **inputs})
    return pd.DataFrame(out)


def reevaluate(
    pool: WorkerPool, problem: Problem, trials: pd.DataFrame, settings: Settings
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Run the ``settings.top`` best designs and the baseline on the fresh draws, and at the
    scenario's values (``settings.replications`` on the fresh root seed); returns the
    candidates' table, the answer and the fresh replications."""
    assert problem.robust is not None
    chosen = candidates(trials, problem, settings.top)
    fresh = fresh_plan(problem)
    names = [f"{problem.strategy}_candidate{k + 1}" for k in range(len(chosen))]
    params = {
        s: params_of(problem, row) for s, (_, row) in zip(names, chosen.iterrows(), strict=False)
    }
    default = problem.scenario.model_copy(update={"seed": fresh_seed(problem.scenario.seed)})
    n = range(settings.replications)
    runs = {problem.baseline: draw_rows(pool, problem, fresh, problem.baseline, None)}
    plain = {problem.baseline: rows_of(pool, default, problem.baseline, n, problem.columns)}
    for s in names:
        runs[s] = draw_rows(pool, problem, fresh, problem.strategy, params[s])
        at_default = with_values(default, params[s])
        plain[s] = rows_of(pool, at_default, problem.strategy, n, problem.columns)
    table = _table(chosen, names, runs, plain, problem, settings.confidence)
    won = table[table["chosen"]].iloc[0]
    first = table.sort_values(["default_value"], ascending=False, kind="stable").iloc[0]
    answer = {
        "winner": won["candidate"],
        "feasible": [s for s, ok in zip(names, table["feasible_fresh"], strict=False) if ok],
        "fresh_seed": default.seed,
        "replications": settings.replications,
        "confidence": settings.confidence,
        "robust": {
            "objective": problem.robust.objective,
            "draws": len(fresh.points),
            "replications": fresh.replications,
            **{f"winner_{k}": float(won[k]) for k in ("expected", "worst_draw", "max_regret")},
            "winner_default_value": float(won["default_value"]),
            "default_winner": first["candidate"],
            "default_winner_levers": params[first["candidate"]],
            "default_winner_value": float(first["default_value"]),
            "differs": bool(first["candidate"] != won["candidate"]),
        },
    }
    return table, answer, _long(runs, plain)


def _table(
    chosen: pd.DataFrame,
    names: list[str],
    runs: dict[str, list[Rows]],
    plain: dict[str, Rows],
    problem: Problem,
    confidence: float,
) -> pd.DataFrame:
    """One row per re-run design: levers, the search's robust estimate, and on the fresh
    draws its expected value (interval over the draws), worst draw, maximum regret against
    the re-run designs meeting the constraints, the objective (``fresh_estimate``), the
    value at the scenario's assumptions, the fresh means, and the verdicts."""
    assert problem.robust is not None
    base, metric = runs[problem.baseline], problem.metric
    values = np.array([values_at_draws(runs[s], base, metric) for s in names])
    means = {
        s: {c: float(np.mean([r[c] for rs in runs[s] for r in rs])) for c in problem.columns}
        for s in names
    }
    feasible = np.array([all(v <= 0 for v in violations_of(problem, means[s])) for s in names])
    regret = regrets(values, values[feasible] if feasible.any() else values)
    score = values.mean(axis=1) if problem.robust.objective == "expected" else -regret
    contest = np.flatnonzero(feasible) if feasible.any() else np.arange(len(names))
    winner = int(contest[np.argmax(score[contest])])
    out = []
    for k, name in enumerate(names):
        row = chosen.iloc[k]
        ci = mean_interval(values[k], confidence)
        diffs = [
            a[metric] - b[metric]
            for a, b in zip(plain[name], plain[problem.baseline], strict=False)
        ]
        at = mean_interval(np.asarray(diffs), confidence)
        out.append(
            {
                "candidate": name,
                "trial": int(row["trial"]),
                **{lever.path: row[lever.path] for lever in problem.levers},
                "search_estimate": float(row["estimate"]),
                "search_expected": float(row["expected"]),
                "search_max_regret": float(row["max_regret"]),
                "fresh_estimate": float(score[k]),
                "curse": float(row["estimate"]) - float(score[k]),
                "expected": ci.mean,
                "expected_low": ci.low,
                "expected_high": ci.high,
                "worst_draw": float(values[k].min()),
                "max_regret": float(regret[k]),
                "default_value": at.mean,
                "default_low": at.low,
                "default_high": at.high,
                **{f"draw_{d}": float(v) for d, v in enumerate(values[k])},
                **{f"{c}_fresh_mean": means[name][c] for c in problem.columns},
                "feasible_fresh": bool(feasible[k]),
                "chosen": k == winner,
            }
        )
    return pd.DataFrame(out)


def _long(runs: dict[str, list[Rows]], plain: dict[str, Rows]) -> pd.DataFrame:
    """The fresh replications: one row per strategy x draw x replication (``draw`` -1: at
    the scenario's own assumptions)."""
    out = [
        {"strategy": s, "draw": d, "replication": r, **row}
        for s, draws in runs.items()
        for d, rows in enumerate(draws)
        for r, row in enumerate(rows)
    ]
    out += [
        {"strategy": s, "draw": -1, "replication": r, **row}
        for s, rows in plain.items()
        for r, row in enumerate(rows)
    ]
    return pd.DataFrame(out)


__all__ = [
    "at_draw",
    "draw_columns",
    "draw_rows",
    "draws_table",
    "evaluate",
    "line",
    "plan",
    "reevaluate",
    "regrets",
    "rescore",
    "values_at_draws",
]
