"""``relsim optimize``: the best design of one strategy, found by a search and checked honestly.

The levers are fields of one strategy (its reward, staff counts, a ``top_share``) with ranges,
from the scenario's ``optimize:`` block or :func:`with_levers`. The objective is the mean
paired difference of the decision metric (or another summary column) between that strategy
and the baseline under common random numbers, subject to a relationship budget and
requirements on summary columns. The search is Optuna's (:mod:`.optimize_search`, trials
evaluated by :mod:`.optimize_trials`); the answer is the best designs re-run on fresh seeds
(:mod:`.optimize_final`), with the search's optimism measured.

Layout of an optimization folder::

    manifest.json, scenario.resolved.yaml   as every results folder (kind "optimize")
    study.db             the Optuna study (SQLite): every finished trial, kept on Ctrl-C
    trials.parquet       one row per trial: levers, replications, estimate, constraints
    candidates.parquet   the best designs: search and fresh estimates side by side
    fresh.parquet        the fresh-seed replications of the candidates and the baseline
    optimization.json    the answer: winner, its lever values, the selection's guarantee
    winner.yaml          the winning design as a strategy block for a scenario's strategies
    pareto.parquet, pareto.yaml   with several objectives, instead of the last four: the
                         Pareto front on fresh seeds and its designs (:mod:`.optimize_pareto`)
    draws.parquet        robust mode: the draws, search and fresh (:mod:`.optimize_robust_fresh`)

``optimize: allocate:`` asks how to split one budget between the bonds instead of searching
levers (:mod:`.optimize_allocate`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.experiment import checks, optimize_robust, optimize_robust_fresh, storage
from relsim.experiment.folder import ResultsFolder
from relsim.experiment.optimize_allocate import BOND_SPEND, allocation_of
from relsim.experiment.optimize_final import (
    Settings,
    design_strategy,
    reevaluate,
    strategy_yaml,
)
from relsim.experiment.optimize_pareto import reevaluate_front, save_front
from relsim.experiment.optimize_search import STUDY_FILE, importance, open_study, trials_table
from relsim.experiment.optimize_shared import search_shared
from relsim.experiment.optimize_trials import Problem
from relsim.experiment.pool import WorkerPool
from relsim.experiment.results import DEFAULT_METRIC
from relsim.experiment.warm_ups import WARM_UPS
from relsim.scenario import Scenario, load_scenario
from relsim.scenario.model import Lever, Objective, Optimize, Requirement
from relsim.scenario.paths import FieldPathError, check_path, get_value, with_values

OPTIMIZE_WRITTEN = (
    STUDY_FILE,
    "trials.parquet",
    "candidates.parquet",
    "fresh.parquet",
    "optimization.json",
    "winner.yaml",
    "pareto.parquet",
    "pareto.yaml",
    "draws.parquet",
)
"""What an optimization writes into its folder besides a run's files (``--force`` clears it)."""


def parse_lever(text: str) -> Lever:
    """A lever from the command line's ``PATH=LOW:HIGH`` (``:log`` appended: log scale;
    ``:int``: whole values)."""
    path, sep, spec = text.partition("=")
    parts = spec.strip().split(":")
    flags = {p for p in parts[2:]}
    if not sep or not path.strip() or len(parts) < 2 or not flags <= {"log", "int"}:
        raise ValueError(f"--lever needs PATH=LOW:HIGH[:log][:int], got {text!r}")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"--lever needs numbers for LOW and HIGH, got {text!r}") from None
    return Lever(
        path=path.strip(), low=low, high=high, log="log" in flags, integer="int" in flags or None
    )


def parse_objective(text: str, metric: str | None = None) -> Objective:
    """An objective from the command line's ``COLUMN`` (maximized), ``COLUMN:min`` or
    ``COLUMN:max``, or ``risk`` (the 5th percentile over replications of ``metric``'s paired
    difference, default the decision metric; ``COLUMN:p5`` for another column's)."""
    if text.strip() == "risk":
        return Objective(column=metric or DEFAULT_METRIC, statistic="p5")
    column, *flags = (part.strip() for part in text.split(":"))
    if not column or not set(flags) <= {"min", "max", "p5"} or {"min", "max"} <= set(flags):
        raise ValueError(
            f"--objective needs COLUMN, COLUMN:min, COLUMN:max, COLUMN:p5 or risk, got {text!r}"
        )
    direction = "minimize" if "min" in flags else "maximize"
    return Objective(
        column=column, direction=direction, statistic="p5" if "p5" in flags else "mean"
    )


def parse_requirement(text: str) -> Requirement:
    """A requirement from the command line's ``COLUMN>=VALUE`` or ``COLUMN<=VALUE``."""
    for sign, key in ((">=", "at_least"), ("<=", "at_most")):
        column, sep, value = text.partition(sign)
        if sep:
            try:
                return Requirement(column=column.strip(), **{key: float(value)})
            except ValueError:
                break
    raise ValueError(f"--require needs COLUMN>=VALUE or COLUMN<=VALUE, got {text!r}")


def with_levers(scenario: Scenario, levers: list[Lever] | None = None, **settings: Any) -> Scenario:
    """``scenario`` with its optimize block's levers replaced by ``levers`` (when given) and
    its settings updated by ``settings`` (those not None; ``allocate=Allocate(...)`` asks for
    the budget allocation mode instead of levers), validated again."""
    block = (scenario.optimize or Optimize()).model_dump(mode="json")
    if levers:
        block["levers"] = [lever.model_dump(mode="json") for lever in levers]
        block["allocate"] = None
    if settings.get("allocate") is not None:
        block["levers"] = []
    block.update(
        {
            k: [r.model_dump(mode="json") for r in v] if isinstance(v, list) else _plain(v)
            for k, v in settings.items()
            if v is not None
        }
    )
    data = scenario.model_dump(mode="json")
    data["optimize"] = block
    return type(scenario).model_validate(data)


def _plain(value: Any) -> Any:
    """A setting as data (a block such as ``Allocate`` dumped)."""
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def problem_of(scenario: Scenario) -> Problem:
    """The optimization the scenario's optimize block asks for, checked before any work
    (``ValueError`` saying what is wrong)."""
    block = scenario.optimize
    if block is not None and block.allocate is not None:
        return _allocation_problem(scenario, block)
    if block is None or not block.levers:
        raise ValueError(
            "nothing to optimize: give levers (an optimize: block or --lever) or a budget "
            "to allocate (optimize: allocate: or --allocate STRATEGY --budget B)"
        )
    strategy = _strategy_of(scenario, block.levers)
    levers = tuple(_typed(scenario, lever) for lever in block.levers)
    metric = _metric(block)
    base = scenario.model_copy(update={"optimize": None, "sweep": None})
    for lever in levers:
        for value in (lever.low, lever.high):
            try:
                with_values(base, {lever.path: int(value) if lever.integer else value})
            except FieldPathError as error:
                raise ValueError(f"lever {lever.path}: {error}") from None
    return Problem(
        scenario=base,
        strategy=strategy,
        baseline=scenario.baseline_strategy,
        levers=levers,
        metric=metric,
        budget=block.budget,
        requirements=block.requirements,
        replications=block.replications,
        max_replications=block.max_replications,
        confidence=block.confidence,
        objectives=block.objectives,
        robust=optimize_robust.plan(base, block.robust, levers) if block.robust else None,
    )


def _metric(block: Optimize) -> str:
    """The metric (the first objective's column with several), every column checked."""
    for objective in block.objectives:
        checks.metric(objective.column, "objective")
    for requirement in block.requirements:
        checks.metric(requirement.column, "requirement")
    first = block.objectives[0].column if block.objectives else None
    return checks.metric(block.metric or first or DEFAULT_METRIC)


def _allocation_problem(scenario: Scenario, block: Optimize) -> Problem:
    """The budget allocation mode's problem: the bonds' levers bought by the shares, the
    budget a constraint on the bonds' realised spend (:mod:`.optimize_allocate`)."""
    assert block.allocate is not None
    if block.budget is not None:
        raise ValueError(
            "optimize.budget: with allocate, the budget is allocate.budget (give one budget)"
        )
    prepared, allocation = allocation_of(scenario, block.allocate)
    metric = _metric(block)
    return Problem(
        scenario=prepared.model_copy(update={"optimize": None, "sweep": None}),
        strategy=block.allocate.strategy,
        baseline=scenario.baseline_strategy,
        levers=allocation.levers(),
        metric=metric,
        budget=allocation.budget,
        requirements=block.requirements,
        replications=block.replications,
        max_replications=block.max_replications,
        confidence=block.confidence,
        allocation=allocation,
        budget_column=BOND_SPEND,
        objectives=block.objectives,
    )


def _strategy_of(scenario: Scenario, levers: tuple[Lever, ...]) -> str:
    """The one strategy every lever belongs to (not the baseline)."""
    owners = set()
    for lever in levers:
        parts = lever.path.split(".")
        if len(parts) < 3 or parts[0] != "strategies":
            raise ValueError(f"lever {lever.path}: levers are fields of a strategy (strategies.…)")
        owners.add(parts[1])
    if len(owners) != 1:
        raise ValueError(f"levers must belong to one strategy, got {', '.join(sorted(owners))}")
    (owner,) = owners
    name = owner if not owner.isdigit() else scenario.strategies[int(owner)].name
    scenario.strategy(name)
    if name == scenario.baseline_strategy:
        raise ValueError(f"{name} is the baseline: optimize another strategy against it")
    return name


def _typed(scenario: Scenario, lever: Lever) -> Lever:
    """The lever with ``integer`` decided: whole when the field holds a whole number."""
    try:
        check_path(scenario, lever.path)
    except FieldPathError as error:
        raise ValueError(f"lever {lever.path}: {error}") from None
    if lever.integer is not None:
        return lever
    whole = isinstance(get_value(scenario, lever.path), int)
    return lever.model_copy(update={"integer": whole})


def optimize(
    scenario: Scenario | str | Path,
    workers: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    say: Any = None,
    study_workers: int = 1,
) -> Optimization:
    """Search the levers of ``scenario.optimize`` and re-run its best designs on fresh seeds.

    ``workers`` run each trial's replications (default: all cores; 1: in this process).
    ``out`` is the results folder (default ``results/<scenario>-optimize-<timestamp>``);
    ``resume`` continues an interrupted optimization there, keeping every finished trial;
    ``force`` replaces earlier results. ``say`` receives the progress lines (one per trial;
    default: stderr). ``study_workers`` processes search at once (:mod:`.optimize_shared`)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    problem = problem_of(scenario)
    block = scenario.optimize
    assert block is not None
    folder = ResultsFolder(out) if out else ResultsFolder.timestamped(scenario.name, "optimize")
    settings = {
        "kind": "optimize",
        "strategies": [problem.baseline, problem.strategy],
        "baseline": problem.baseline,
        "metric": problem.metric,
        "levers": [lever.path for lever in problem.levers],
    }
    with folder.writing(
        scenario, settings, resume=resume, force=force, kind="optimize", extra=OPTIMIZE_WRITTEN
    ) as writing:
        directions = [o.direction for o in problem.objectives] or None
        study = open_study(folder.path(STUDY_FILE), directions)
        folder.record(folder.path(STUDY_FILE))
        with (
            warnings.catch_warnings(),
            WARM_UPS.kept_until_done(),
            WorkerPool(workers, None) as pool,
        ):
            warnings.simplefilter("ignore", category=Warning)
            search_shared(folder, study, problem, block, pool, say, (study_workers, workers))
            trials = trials_table(study, problem)
            storage.atomic_parquet(trials, folder.path("trials.parquet"))
            if problem.objectives:
                found = reevaluate_front(pool, problem, trials, block.fresh_replications)
                save_front(folder, problem, *found)
                writing.completion["trials"] = len(trials)
                return Optimization(folder.root)
            fresh = Settings.of(block)
            table, answer, replications = _reevaluate(folder, pool, problem, trials, fresh)
            answer["importance"] = importance(study, problem)
        _save(folder, problem, table, answer, replications)
        writing.completion["trials"] = len(trials)
    return Optimization(folder.root)


def _reevaluate(
    folder: ResultsFolder, pool: WorkerPool, problem: Problem, trials: pd.DataFrame, fresh: Settings
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """The best designs re-run on fresh seeds (robust mode: on fresh draws, draws.parquet)."""
    if problem.robust is None:
        return reevaluate(pool, problem, trials, fresh)
    return optimize_robust_fresh.reevaluate(pool, problem, trials, fresh, folder)


def _save(
    folder: ResultsFolder,
    problem: Problem,
    table: pd.DataFrame,
    answer: dict[str, Any],
    replications: pd.DataFrame,
) -> None:
    """The candidates, fresh replications, the answer and the winner's strategy block."""
    storage.atomic_parquet(table, folder.path("candidates.parquet"))
    storage.atomic_parquet(replications, folder.path("fresh.parquet"))
    won = table[table["chosen"]].iloc[0]
    params = {
        lever.path: int(won[lever.path]) if lever.integer else float(won[lever.path])
        for lever in problem.levers
    }
    answer = {
        **answer,
        "strategy": problem.strategy,
        "baseline": problem.baseline,
        "metric": problem.metric,
        "levers": params,
        "winner_fresh_estimate": float(won["fresh_estimate"]),
        "winner_search_estimate": float(won["search_estimate"]),
        "budget": problem.budget,
        "requirements": [r.model_dump(mode="json") for r in problem.requirements],
    }
    if problem.allocation is not None:
        answer["allocation"] = problem.allocation.split(won)
    folder.path("optimization.json").write_text(
        json.dumps(answer, indent=2, default=float), encoding="utf-8"
    )
    block = design_strategy(problem, params, f"{problem.strategy}_optimized")
    folder.path("winner.yaml").write_text(strategy_yaml(block), encoding="utf-8")


class Optimization:
    """A finished optimization folder: its trials, candidates and answer."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.answer: dict[str, Any] = json.loads(
            (self.out / "optimization.json").read_text(encoding="utf-8")
        )

    @property
    def trials(self) -> pd.DataFrame:
        return pd.read_parquet(self.out / "trials.parquet")

    @property
    def candidates(self) -> pd.DataFrame:
        return pd.read_parquet(self.out / "candidates.parquet")

    @property
    def fresh(self) -> pd.DataFrame:
        return pd.read_parquet(self.out / "fresh.parquet")

    @property
    def pareto(self) -> pd.DataFrame:
        """The Pareto front's designs, search and fresh values side by side (several
        objectives only)."""
        return pd.read_parquet(self.out / "pareto.parquet")

    @property
    def draws(self) -> pd.DataFrame:  # robust mode: the search's draws and the fresh ones
        return pd.read_parquet(self.out / "draws.parquet")

    @property
    def winner_yaml(self) -> str:
        return (self.out / "winner.yaml").read_text(encoding="utf-8")


__all__ = [
    "OPTIMIZE_WRITTEN",
    "Optimization",
    "optimize",
    "parse_lever",
    "parse_objective",
    "parse_requirement",
    "with_levers",
]
