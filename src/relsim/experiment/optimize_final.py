"""The honest answer of an optimization: the best designs re-run on fresh seeds.

A search on noisy simulations favours the designs that were lucky: the winner's search
estimate is biased upward (the optimizer's curse). So the ``top`` best feasible designs of
the search (distinct lever values) are run again, together with the baseline, on **fresh
seeds**: a root seed derived from the scenario's (:func:`fresh_seed`), whose replication
streams the search never used. Their fresh estimates are unbiased; each design's search
estimate minus its fresh estimate is the curse, measured.

The fresh replications grow (in batches, up to ``max_fresh_replications``) until the chosen
design -- the feasible one with the best fresh mean -- is within the indifference zone ``delta``
of the best of them with probability at least ``confidence``: the upper bounds of Hsu's
multiple comparisons with the best (:func:`relsim.statistics.selection_gap`, the runner's
screen :func:`relsim.statistics.could_be_best` the other half) are all below ``delta``. When the
limit comes first, the answer states the gap it reached instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from relsim.experiment.optimize_trials import Problem, rows_of, violations_of
from relsim.experiment.pool import WorkerPool
from relsim.scenario import Scenario
from relsim.scenario.model import Optimize
from relsim.scenario.paths import with_values
from relsim.statistics import could_be_best, mean_interval, probability_best, selection_gap


def fresh_seed(seed: int) -> int:
    """The root seed of the re-evaluation: never the search's (``seed``)."""
    fresh = int(np.random.SeedSequence([seed, 35]).generate_state(1)[0])
    return fresh if fresh != seed else fresh + 1


@dataclass(frozen=True)
class Settings:
    """How the best designs are re-run on fresh seeds (the ``optimize:`` block's fields)."""

    top: int
    replications: int
    max_replications: int
    indifference: float | None
    confidence: float

    @classmethod
    def of(cls, block: Optimize) -> Settings:
        """The settings of an ``optimize:`` block."""
        return cls(
            block.top,
            block.fresh_replications,
            block.max_fresh_replications,
            block.indifference,
            block.confidence,
        )


def candidates(trials: pd.DataFrame, problem: Problem, top: int) -> pd.DataFrame:
    """The ``top`` best trials by search estimate with distinct lever values, feasible ones
    only (all trials when none was feasible)."""
    paths = [lever.path for lever in problem.levers]
    pool = trials[trials["feasible"]] if trials["feasible"].any() else trials
    ordered = pool.sort_values(["estimate", "trial"], ascending=[False, True])
    return ordered.drop_duplicates(subset=paths).head(top).reset_index(drop=True)


def fresh_scenario(problem: Problem, chosen: pd.DataFrame) -> tuple[Scenario, list[str]]:
    """The scenario of the re-evaluation: the baseline and each candidate as a strategy of
    its own, on the fresh root seed; and the candidates' strategy names."""
    base = problem.scenario.strategy(problem.baseline)
    strategies, names = [base.model_dump(mode="json")], []
    for k, row in chosen.iterrows():
        name = f"{problem.strategy}_candidate{k + 1}"
        strategy = design_strategy(problem, params_of(problem, row), name)
        strategies.append(strategy)
        names.append(name)
    data = problem.scenario.model_dump(mode="json")
    data.update(
        strategies=strategies,
        baseline=problem.baseline,
        seed=fresh_seed(problem.scenario.seed),
        sweep=None,
        optimize=None,
        uncertainty=None,  # read by no run; its paths may name the renamed strategy
    )
    return type(problem.scenario).model_validate(data), names


def design_strategy(problem: Problem, params: dict[str, Any], name: str) -> dict[str, Any]:
    """The optimized strategy with the lever values ``params``, renamed ``name`` (as data)."""
    variant = with_values(problem.scenario, params)
    return (
        variant.strategy(problem.strategy).model_copy(update={"name": name}).model_dump(mode="json")
    )


def strategy_yaml(block: dict[str, Any] | list[dict[str, Any]]) -> str:
    """Strategies as YAML list items, ready to paste under a scenario's ``strategies:``."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    text = io.StringIO()
    yaml.dump(block if isinstance(block, list) else [block], text)
    head = "# the optimized design: paste under your scenario's strategies: and run it\n"
    return head + text.getvalue()


def params_of(problem: Problem, row: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lever in problem.levers:
        value = row[lever.path]
        out[lever.path] = int(value) if lever.integer else float(value)
    return out


def reevaluate(
    pool: WorkerPool, problem: Problem, trials: pd.DataFrame, settings: Settings
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Run the candidates and the baseline on fresh seeds until the choice is sure enough;
    returns the candidates' table, the answer and the fresh replications."""
    chosen = candidates(trials, problem, settings.top)
    scenario, names = fresh_scenario(problem, chosen)
    everyone = [problem.baseline, *names]
    rows: dict[str, list[dict[str, float]]] = {s: [] for s in everyone}
    n = 0
    target = settings.replications
    while True:
        for s in everyone:
            rows[s] += rows_of(pool, scenario, s, range(n, target), problem.columns)
        n = target
        delta = settings.indifference or max(1.0, 0.01 * abs(_mean(rows, problem)))
        state = _state(rows, names, problem, settings.confidence)
        if state["gap"] <= delta or n >= settings.max_replications:
            break
        target = min(settings.max_replications, n + max(settings.replications, n // 2))
    table = _table(chosen, names, rows, problem, state, settings.confidence)
    answer = {**state, "delta": delta, "replications": n, "fresh_seed": scenario.seed}
    answer["confidence"] = settings.confidence
    answer["sure"] = bool(state["gap"] <= delta)
    return table, answer, _long(rows)


def _mean(rows: dict[str, list[dict[str, float]]], problem: Problem) -> float:
    return float(np.mean([r[problem.metric] for r in rows[problem.baseline]]))


def _state(
    rows: dict[str, list[dict[str, float]]], names: list[str], problem: Problem, confidence: float
) -> dict[str, Any]:
    """The winner among the designs meeting the constraints on the fresh means (among all
    when none does), and how far the best of those could be above it."""
    means = {s: {c: float(np.mean([r[c] for r in rows[s]])) for c in problem.columns} for s in rows}
    feasible = [s for s in names if all(v <= 0 for v in violations_of(problem, means[s]))]
    contest = feasible or names
    values = {s: np.array([r[problem.metric] for r in rows[s]]) for s in contest}
    winner = max(contest, key=lambda s: (values[s].mean(), -names.index(s)))
    return {
        "winner": winner,
        "feasible": feasible,
        "gap": selection_gap(values, winner, confidence),
        "could_be_best": could_be_best(values, confidence),
    }


def _table(
    chosen: pd.DataFrame,
    names: list[str],
    rows: dict[str, list[dict[str, float]]],
    problem: Problem,
    state: dict[str, Any],
    confidence: float,
) -> pd.DataFrame:
    """One row per candidate: lever values, search and fresh estimates side by side, the
    curse (search minus fresh), the fresh means of the constrained columns and the verdicts."""
    base = np.array([r[problem.metric] for r in rows[problem.baseline]])
    values = {s: np.array([r[problem.metric] for r in rows[s]]) for s in names}
    p_best = probability_best(values, confidence)
    out = []
    for k, name in enumerate(names):
        row = chosen.iloc[k]
        fresh = mean_interval(values[name] - base, confidence)
        out.append(
            {
                "candidate": name,
                "trial": int(row["trial"]),
                **{lever.path: row[lever.path] for lever in problem.levers},
                **{c: float(row[c]) for c in chosen.columns if c.startswith("share_")},
                "search_estimate": float(row["estimate"]),
                "search_replications": int(row["replications"]),
                "fresh_estimate": fresh.mean,
                "fresh_low": fresh.low,
                "fresh_high": fresh.high,
                "fresh_replications": fresh.n,
                "curse": float(row["estimate"]) - fresh.mean,
                **{
                    f"{c}_fresh_mean": float(np.mean([r[c] for r in rows[name]]))
                    for c in problem.columns
                },
                "feasible_fresh": name in state["feasible"],
                "could_be_best": name in state["could_be_best"],
                "p_best": p_best[name].mean,
                "chosen": name == state["winner"],
            }
        )
    return pd.DataFrame(out)


def _long(rows: dict[str, list[dict[str, float]]]) -> pd.DataFrame:
    """The fresh replications: one row per strategy x replication, the kept columns."""
    return pd.DataFrame(
        [{"strategy": s, "replication": r, **row} for s in rows for r, row in enumerate(rows[s])]
    )


__all__ = [
    "Settings",
    "candidates",
    "design_strategy",
    "fresh_seed",
    "params_of",
    "reevaluate",
    "strategy_yaml",
]
