"""Several objectives: the Pareto front of an optimization, re-run on fresh seeds.

With two or more objectives (``optimize: objectives:`` or ``--objective``) there is no single
best design: the search (Optuna's NSGA-II, constraints through its constrained domination)
keeps every trial, and the answer is the **Pareto front**, the feasible designs no other
feasible design beats on every objective at once (at least as good on all, better on one).
A trial's replications do not adapt here (there is no best to reach): each trial has
``replications``.

The front is chosen on the search's estimates, which are optimistic for the designs that were
lucky, as for one objective. So each front design (at most :data:`MAX_FRONT`, evenly spread
along the first objective when the front is longer) is run again with the baseline on the
fresh root seed of :func:`relsim.experiment.optimize_final.fresh_seed`, ``fresh_replications``
each; ``pareto.parquet`` puts each objective's search and fresh values side by side, the
fresh interval, whether the design meets the constraints on the fresh seeds and whether it
is still non-dominated among the re-run designs there.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from relsim.experiment import storage
from relsim.experiment.folder import ResultsFolder
from relsim.experiment.optimize_final import (
    design_strategy,
    fresh_scenario,
    params_of,
    strategy_yaml,
)
from relsim.experiment.optimize_trials import Problem, objective_values, rows_of, violations_of
from relsim.experiment.pool import WorkerPool

MAX_FRONT = 20
"""Most front designs re-run on fresh seeds."""


def signs(problem: Problem) -> np.ndarray:
    """+1 for an objective maximized, -1 for one minimized (so larger is better after)."""
    return np.array([1.0 if o.direction == "maximize" else -1.0 for o in problem.objectives])


def non_dominated(values: np.ndarray) -> np.ndarray:
    """Which rows of ``values`` (larger is better in every column) no other row dominates."""
    keep = np.ones(len(values), dtype=bool)
    for i, row in enumerate(values):
        better = np.all(values >= row, axis=1) & np.any(values > row, axis=1)
        keep[i] = not better.any()
    return keep


def front(trials: pd.DataFrame, problem: Problem) -> pd.DataFrame:
    """The search's Pareto front: the non-dominated feasible trials (all trials when none is
    feasible), distinct designs, ordered by the first objective, at most MAX_FRONT."""
    paths = [lever.path for lever in problem.levers]
    pool = trials[trials["feasible"]] if trials["feasible"].any() else trials
    pool = pool.sort_values("trial").drop_duplicates(subset=paths)
    columns = [f"obj_{o.label}" for o in problem.objectives]
    values = pool[columns].to_numpy(dtype=float) * signs(problem)
    kept = pool[non_dominated(values)].sort_values(columns[0]).reset_index(drop=True)
    if len(kept) > MAX_FRONT:
        picks = np.unique(np.round(np.linspace(0, len(kept) - 1, MAX_FRONT)).astype(int))
        kept = kept.iloc[picks].reset_index(drop=True)
    return kept


def reevaluate_front(
    pool: WorkerPool, problem: Problem, trials: pd.DataFrame, replications: int
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Run the front's designs and the baseline on fresh seeds; returns the Pareto table,
    the answer and the fresh replications."""
    chosen = front(trials, problem)
    scenario, names = fresh_scenario(problem, chosen)
    rows = {
        s: rows_of(pool, scenario, s, range(replications), problem.columns)
        for s in [problem.baseline, *names]
    }
    fresh = [objective_values(rows[s], rows[problem.baseline], problem) for s in names]
    means = [{c: float(np.mean([r[c] for r in rows[s]])) for c in problem.columns} for s in names]
    feasible = [all(v <= 0 for v in violations_of(problem, m)) for m in means]
    values = np.array([f["values"] for f in fresh]) * signs(problem)
    still = non_dominated(values)
    out = []
    for k, name in enumerate(names):
        row = chosen.iloc[k]
        entry: dict[str, Any] = {"candidate": name, "trial": int(row["trial"])}
        entry.update({lever.path: row[lever.path] for lever in problem.levers})
        entry.update({c: float(row[c]) for c in chosen.columns if c.startswith("share_")})
        for j, o in enumerate(problem.objectives):
            search = float(row[f"obj_{o.label}"])
            entry[f"{o.label}_search"] = search
            entry[f"{o.label}_fresh"] = fresh[k]["values"][j]
            entry[f"{o.label}_fresh_low"] = fresh[k]["values_low"][j]
            entry[f"{o.label}_fresh_high"] = fresh[k]["values_high"][j]
            entry[f"{o.label}_curse"] = search - fresh[k]["values"][j]
        entry.update({f"{c}_fresh_mean": v for c, v in means[k].items()})
        entry["feasible_fresh"] = feasible[k]
        entry["non_dominated_fresh"] = bool(still[k])
        out.append(entry)
    table = pd.DataFrame(out)
    answer = {
        "pareto": True,
        "front": len(table),
        "replications": replications,
        "fresh_seed": scenario.seed,
        "objectives": [o.model_dump(mode="json") for o in problem.objectives],
        "feasible": [n for n, ok in zip(names, feasible, strict=True) if ok],
    }
    long = pd.DataFrame(
        [{"strategy": s, "replication": r, **row} for s in rows for r, row in enumerate(rows[s])]
    )
    return table, answer, long


def save_front(
    folder: ResultsFolder,
    problem: Problem,
    table: pd.DataFrame,
    answer: dict[str, Any],
    replications: pd.DataFrame,
) -> None:
    """``pareto.parquet``, ``fresh.parquet``, ``optimization.json`` and ``pareto.yaml`` (the
    front's designs as strategy blocks ``NAME_pareto1``, …, in the table's order)."""
    storage.atomic_parquet(table, folder.path("pareto.parquet"))
    storage.atomic_parquet(replications, folder.path("fresh.parquet"))
    answer = {
        **answer,
        "strategy": problem.strategy,
        "baseline": problem.baseline,
        "metric": problem.metric,
        "levers": [lever.path for lever in problem.levers],
        "budget": problem.budget,
        "requirements": [r.model_dump(mode="json") for r in problem.requirements],
    }
    folder.path("optimization.json").write_text(
        json.dumps(answer, indent=2, default=float), encoding="utf-8"
    )
    blocks = [
        design_strategy(problem, params_of(problem, row), f"{problem.strategy}_pareto{k + 1}")
        for k, row in table.iterrows()
    ]
    folder.path("pareto.yaml").write_text(strategy_yaml(blocks), encoding="utf-8")


__all__ = ["MAX_FRONT", "front", "non_dominated", "reevaluate_front", "save_front", "signs"]
