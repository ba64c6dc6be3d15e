"""Robust mode's honest answer: the best designs re-run on fresh draws and at the scenario's values.

The ``top`` best designs by the robust objective (:mod:`relsim.experiment.optimize_robust`) and
the baseline are run again on **fresh draws with fresh seeds** (as many draws as the search's,
from the fresh root seed of :func:`relsim.experiment.optimize_final.fresh_seed`), where each gets
its expected value, worst-draw value and maximum regret (against the re-run designs meeting the
constraints), and the winner is the best by the objective among those meeting the constraints.

To say whether the robust choice is also the choice at the scenario's own values of the
assumptions, every re-run design **and the design at the scenario's own lever values** (the
``{strategy}_scenario`` row, a comparator: never the winner, no alternative in the regrets) are
run ``fresh_replications`` times at those values on the fresh root seed, replication ``r`` seeded
alike for all. The *best at the scenario's values* is the one with the highest mean paired
difference there among those meeting the constraints there (all when none does). The answer
"differs" only when that design is not the robust winner **and** the paired interval of the
winner minus it, replication by replication on their shared seeds, excludes 0. This compares
the robust winner with the re-run designs and the scenario's own design, not with the answer of
an ordinary optimization (which is never run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from relsim.experiment import storage
from relsim.experiment.optimize_final import Settings, candidates, fresh_seed, params_of
from relsim.experiment.optimize_robust import Rows, draw_rows, plan, regrets, values_at_draws
from relsim.experiment.optimize_trials import AssumptionDraws, Problem, rows_of, violations_of
from relsim.experiment.pool import WorkerPool
from relsim.scenario.model import Robust
from relsim.scenario.paths import get_value, with_values
from relsim.statistics import mean_interval

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment.folder import ResultsFolder


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


def designs(problem: Problem, trials: pd.DataFrame, top: int) -> pd.DataFrame:
    """The re-run designs: the ``top`` best trials (``candidate1``, ...) and, unless one of
    them has the same lever values, the scenario's own (``scenario``, trial 0)."""
    chosen = candidates(trials, problem, top)
    chosen = chosen.assign(candidate=[f"candidate{k + 1}" for k in range(len(chosen))])
    own = {lever.path: get_value(problem.scenario, lever.path) for lever in problem.levers}
    paths = list(own)
    if (chosen[paths] == pd.Series(own)).all(axis=1).any():
        return chosen
    row = {"candidate": "scenario", "trial": 0, **own}
    return pd.concat([chosen, pd.DataFrame([row])], ignore_index=True)


def reevaluate(
    pool: WorkerPool,
    problem: Problem,
    trials: pd.DataFrame,
    settings: Settings,
    folder: ResultsFolder | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Run the re-run designs (:func:`designs`) and the baseline on the fresh draws and at the
    scenario's values (``settings.replications`` on the fresh root seed); returns the
    designs' table, the answer and the fresh replications (``folder``: its draws.parquet
    written first)."""
    assert problem.robust is not None
    if folder is not None:
        storage.atomic_parquet(draws_table(problem), folder.path("draws.parquet"))
    chosen = designs(problem, trials, settings.top)
    fresh = fresh_plan(problem)
    names = [f"{problem.strategy}_{c}" for c in chosen["candidate"]]
    params = {
        s: params_of(problem, row) for s, (_, row) in zip(names, chosen.iterrows(), strict=True)
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
    answer = {
        "winner": won["candidate"],
        "feasible": list(table["candidate"][table["feasible_fresh"] & (table["trial"] > 0)]),
        "fresh_seed": default.seed,
        "replications": settings.replications,
        "confidence": settings.confidence,
        "robust": {
            "objective": problem.robust.objective,
            "draws": len(fresh.points),
            "replications": fresh.replications,
            **{f"winner_{k}": float(won[k]) for k in ("expected", "worst_draw", "max_regret")},
            "winner_default_value": float(won["default_value"]),
            **_versus_defaults(table, plain, params, problem.metric, settings.confidence),
        },
    }
    return table, answer, _long(runs, plain)


def _versus_defaults(
    table: pd.DataFrame,
    plain: dict[str, Rows],
    params: dict[str, dict[str, Any]],
    metric: str,
    confidence: float,
) -> dict[str, Any]:
    """The design best at the scenario's values: the highest value there among the re-run
    designs (the scenario's own included) meeting the constraints there (all when none does);
    the robust winner minus it there, a paired interval replication by replication on their
    shared seeds; ``differs`` when it is another design and that interval excludes 0."""
    pool = table[table["feasible_default"]] if table["feasible_default"].any() else table
    first = pool.sort_values("default_value", ascending=False, kind="stable").iloc[0]
    won = table[table["chosen"]].iloc[0]
    mine, theirs = plain[won["candidate"]], plain[first["candidate"]]
    gap = mean_interval(
        np.asarray([a[metric] - b[metric] for a, b in zip(mine, theirs, strict=True)]), confidence
    )
    return {
        "default_winner": first["candidate"],
        "default_winner_levers": params[first["candidate"]],
        "default_winner_value": float(first["default_value"]),
        "default_gap": gap.mean,
        "default_gap_low": gap.low,
        "default_gap_high": gap.high,
        "differs": bool(first["candidate"] != won["candidate"] and not gap.low <= 0 <= gap.high),
    }


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
    the search's re-run designs meeting the constraints, the objective (``fresh_estimate``),
    the value at the scenario's values, the fresh means, and the verdicts. The scenario's own
    design (``trial`` 0) is judged against the same alternatives but is never chosen."""
    assert problem.robust is not None
    base, metric = runs[problem.baseline], problem.metric
    values = np.array([values_at_draws(runs[s], base, metric) for s in names])
    means = {
        s: {c: float(np.mean([r[c] for rs in runs[s] for r in rs])) for c in problem.columns}
        for s in names
    }
    feasible = np.array([all(v <= 0 for v in violations_of(problem, means[s])) for s in names])
    regret, score, winner = _judge(values, feasible, chosen["trial"].to_numpy() > 0, problem)
    out = []
    for k, name in enumerate(names):
        row = chosen.iloc[k]
        ci = mean_interval(values[k], confidence)
        diffs = [
            a[metric] - b[metric] for a, b in zip(plain[name], plain[problem.baseline], strict=True)
        ]
        at = mean_interval(np.asarray(diffs), confidence)
        at_means = {c: float(np.mean([r[c] for r in plain[name]])) for c in problem.columns}
        search = {k: float(row.get(k, np.nan)) for k in ("estimate", "expected", "max_regret")}
        out.append(
            {
                "candidate": name,
                "trial": int(row["trial"]),
                **{lever.path: row[lever.path] for lever in problem.levers},
                "search_estimate": search["estimate"],
                "search_expected": search["expected"],
                "search_max_regret": search["max_regret"],
                "fresh_estimate": float(score[k]),
                "curse": search["estimate"] - float(score[k]),
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
                "feasible_default": all(v <= 0 for v in violations_of(problem, at_means)),
                "chosen": k == winner,
            }
        )
    return pd.DataFrame(out)


def _judge(
    values: np.ndarray, feasible: np.ndarray, searched: np.ndarray, problem: Problem
) -> tuple[np.ndarray, np.ndarray, int]:
    """Each re-run design's maximum regret and objective, and the winner: the alternatives
    and the contestants are the searched designs meeting the constraints (all searched ones
    when none does); the scenario's own design (not ``searched``) is neither."""
    assert problem.robust is not None
    contest = np.flatnonzero(searched & feasible)
    contest = contest if len(contest) else np.flatnonzero(searched)
    regret = regrets(values, values[contest])
    score = values.mean(axis=1) if problem.robust.objective == "expected" else -regret
    return regret, score, int(contest[np.argmax(score[contest])])


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


__all__ = ["designs", "draws_table", "fresh_plan", "reevaluate"]
