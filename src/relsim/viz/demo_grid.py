"""The classroom page's "what if?" grid: levers, an experiment per cell, and its lesson.

A cell names the strategy with the highest mean value; it calls it a *clear* winner only when
the two tests on the page agree: it is the only strategy the runs cannot rule out as best
(multiple comparisons with the best) and, unless it is the baseline, its difference from the
baseline is significant. Otherwise the cell says which strategies it cannot separate and why.
The grid's lesson says in one sentence whether the winner changes across the grid.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relsim.experiment import run_experiment
from relsim.scenario import Scenario, ScenarioError, load_scenario
from relsim.scenario.load import Problem
from relsim.scenario.paths import parse_scalar


@dataclass(frozen=True)
class Lever:
    """A scenario field the class can vary on the page's grid, with the values computed."""

    path: str
    values: tuple[Any, ...]
    name: str = ""

    @property
    def label(self) -> str:
        """The name given, or the path's last two fields in words."""
        if self.name:
            return self.name
        parts = self.path.split(".")
        return " ".join(p.replace("_", " ") for p in parts[-2:] if not p.isdigit())


def parse_lever(text: str) -> Lever:
    """``PATH=V1,V2,...`` (as for ``--set``) into a lever; values are YAML-like scalars."""
    path, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not path or len(items) < 2:
        raise ValueError(f"expected PATH=V1,V2[,...] with at least two values, got {text!r}")
    return Lever(path.strip(), tuple(parse_scalar(v) for v in items))


def default_levers(scenario: Scenario) -> list[Lever]:
    """For the first strategy that runs a points program: the chance that a rival copies it x
    how fast (mean weeks): the frequency-program lesson, where copying erodes the card's
    edge. None when no strategy runs points."""
    for strategy in scenario.strategies:
        if strategy.bonds.points is not None:
            return [
                Lever(
                    "rivalry.points.probability",
                    (0.0, 0.5, 1.0),
                    f"chance a rival copies the {strategy.name.replace('_', ' ')}",
                ),
                Lever(
                    "rivalry.points.lag.mean_weeks",
                    (4, 26, 78),
                    "weeks until it copies (mean)",
                ),
            ]
    return []


def grid_strategies(scenario: Scenario, names: list[str], levers: list[Lever]) -> list[str]:
    """The strategies each cell compares: the baseline and the strategies the levers name
    (``strategies.<i>.``), or, when the levers name none, the strategies the page shows.
    A lever on a rule every strategy meets (a rival's copy lag) still changes only the
    strategies whose moves it answers; the others' cells would repeat their one result."""
    named = set()
    for lever in levers:
        match = re.match(r"strategies\.(\d+)\.", lever.path)
        if match and int(match.group(1)) < len(scenario.strategies):
            named.add(scenario.strategies[int(match.group(1))].name)
    if not named:
        named = {s.name for s in scenario.strategies if s.bonds.points is not None}
        if not all(lever.path.startswith("rivalry.points.") for lever in levers):
            named = set(names)
    baseline = scenario.baseline or scenario.strategies[0].name
    return [n for n in names if n in named or n == baseline]


def judge(rows: list[dict[str, Any]], baseline: str) -> dict[str, Any]:
    """A cell's verdict from its comparison rows: the best mean, whether it is clear, and
    why not when it is not."""
    best = max(rows, key=lambda r: r["npv"])
    contenders = [r["strategy"] for r in rows if r["could_be_best"]]
    alone = contenders == [best["strategy"]]
    beats = best["strategy"] == baseline or best["significant"]
    if alone and beats:
        why = ""
    elif alone:
        why = (
            f"only {best['strategy']} could be best, but its difference from {baseline} is "
            "within luck (no ★): more runs would tell"
        )
    else:
        why = "the runs cannot separate " + " and ".join(contenders)
    return {
        "best": best["strategy"],
        "clear": alone and beats,
        "contenders": contenders,
        "why": why,
    }


def lesson(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the winner (the best mean) changes across the grid, in one sentence."""
    counts = Counter(c["best"] for c in cells)
    winners = sorted(counts, key=lambda s: -counts[s])
    if len(winners) > 1:
        text = (
            "The best strategy changes across the grid: "
            + ", ".join(
                f"{w.replace('_', ' ')} in {counts[w]} of {len(cells)} cells" for w in winners
            )
            + ". Look for the line where it changes: that is where the lever decides."
        )
    else:
        text = (
            f"No cell changes the winner: {winners[0].replace('_', ' ')} does best in every "
            "cell, so within these values the levers do not decide the choice."
        )
    return {"winners": winners, "changes": len(winners) > 1, "text": text}


def compute_grid(
    path: Path,
    shown: list[str],
    levers: list[Lever],
    replications: int,
    seed: int,
    tmp: Path,
    pool: Any,
    comparison: Callable[[Any], list[dict[str, Any]]],
    notify: Callable[[str], None],
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """An experiment per combination of lever values: each cell's comparison and verdict."""
    if not levers:
        return None
    base = load_scenario(path, overrides=overrides)
    names = grid_strategies(base, shown, levers)
    baseline = base.baseline or base.strategies[0].name
    cells = []
    combinations = list(itertools.product(*(lever.values for lever in levers)))
    start = time.monotonic()
    for i, values in enumerate(combinations):
        cell = {lever.path: value for lever, value in zip(levers, values, strict=True)}
        experiment = run_experiment(
            _cell_scenario(path, {**(overrides or {}), **cell}, seed),
            replications=replications,
            out=tmp / f"cell-{i}",
            progress=False,
            strategies=names,
            pool=pool,
        )
        rows = comparison(experiment)
        cells.append({"values": list(values), "rows": rows, **judge(rows, baseline)})
        notify(_progress(i + 1, len(combinations), time.monotonic() - start))
    return {
        "levers": [{"path": x.path, "label": x.label, "values": list(x.values)} for x in levers],
        "replications": replications,
        "strategies": names,
        "cells": cells,
        "lesson": lesson(cells),
    }


def _cell_scenario(path: Path, overrides: dict[str, Any], seed: int) -> Scenario:
    try:
        return load_scenario(path, overrides={**overrides, "seed": seed})
    except ScenarioError as error:
        raise ScenarioError(
            error.file, [*error.problems, Problem("demo lever", f"values {overrides}")]
        ) from None


def _progress(done: int, total: int, elapsed: float) -> str:
    left = elapsed / done * (total - done)
    return (
        f"relsim: what-if grid, cell {done} of {total} done "
        f"({elapsed:.0f} s, about {left:.0f} s left)"
    )


__all__ = [
    "Lever",
    "compute_grid",
    "default_levers",
    "grid_strategies",
    "judge",
    "lesson",
    "parse_lever",
]
