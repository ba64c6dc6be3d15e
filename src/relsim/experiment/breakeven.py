"""Break-even: the value of a scenario field at which strategy A stops beating strategy B.

The paired difference ``d(x) = metric(A) - metric(B)`` is estimated at a field value ``x`` from
``replications`` replications of both strategies with common random numbers -- and with the
same replication seeds at every ``x``, so the estimated curve is smooth in ``x`` and its
noise does not jump between evaluations. The search:

1. evaluates ``d`` on an even grid over ``[low, high]``;
2. if the mean difference changes sign between two neighbours, bisects that bracket
   ``refinements`` times (evaluating at each midpoint);
3. takes the crossing where the straight line between the last bracket's ends crosses zero;
4. gives the crossing a confidence interval by test inversion: the values ``x`` at which the
   95% confidence interval of ``d(x)`` contains zero, with the bounds of that interval
   interpolated linearly between evaluated values. It is the set of break-even values the
   replications cannot rule out (pointwise, not corrected for the several evaluations).

If the mean difference does not change sign in the range, there is no crossing, and the result
says whether A beats B, or B beats A, throughout -- significantly or not at each end.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.experiment.folder import ResultsFolder
from relsim.experiment.pool import WorkerPool
from relsim.experiment.results import DEFAULT_METRIC
from relsim.experiment.runner import run_experiment
from relsim.scenario import Scenario, load_scenario
from relsim.scenario.paths import FieldPathError, check_path, get_value, with_values
from relsim.statistics import mean_interval

DEFAULT_BREAKEVEN_REPLICATIONS = 20


@dataclass
class BreakEven:
    """The answer: where A stops beating B, how sure, and every evaluation behind it."""

    path: str
    a: str
    b: str
    metric: str
    low: float
    high: float
    crossing: float | None
    ci_low: float | None
    """Lower end of the crossing's 95% interval; None when it reaches below the range."""
    ci_high: float | None
    """Upper end; None when it reaches above the range."""
    message: str
    evaluations: pd.DataFrame = field(repr=False)
    """One row per evaluated value: x, mean difference, its 95% CI, n."""

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "evaluations"}
        data["evaluations"] = self.evaluations.to_dict(orient="records")
        return data


def breakeven(
    scenario: Scenario | str | Path,
    path: str,
    low: float,
    high: float,
    a: str,
    b: str,
    metric: str = DEFAULT_METRIC,
    replications: int = DEFAULT_BREAKEVEN_REPLICATIONS,
    grid: int = 5,
    refinements: int = 5,
    workers: int | None = None,
    out: str | Path | None = None,
    progress: bool | None = None,
) -> BreakEven:
    """Find the value of the field at ``path`` in ``[low, high]`` where ``a`` stops beating
    ``b`` on ``metric`` (see the module docstring for the method). Each evaluation is an
    ordinary results folder under ``out/evaluations/`` (a temporary folder when ``out`` is
    None); ``out`` also receives ``breakeven.json`` and ``evaluations.parquet``."""
    scenario = _checked(scenario, path, low, high, a, b, grid)
    whole = isinstance(get_value(scenario, path), int)
    temporary = tempfile.TemporaryDirectory(prefix="relsim-breakeven-") if out is None else None
    folder = ResultsFolder(temporary.name if temporary else out).create()  # type: ignore[arg-type]
    evaluated: dict[float, tuple[float, float, float, int]] = {}

    def evaluate(x: float, pool: WorkerPool) -> float:
        x = float(round(x)) if whole else x
        if x not in evaluated:
            try:
                variant = with_values(scenario, {path: int(x) if whole else x})
            except FieldPathError as error:
                raise ValueError(f"cannot evaluate {path} = {x:g}: {error}") from None
            experiment = run_experiment(
                variant,
                replications=replications,
                out=folder.path("evaluations", f"e{len(evaluated):03d}"),
                progress=progress,
                metric=metric,
                strategies=[a, b],
                memory_check=False,
                pool=pool,
            )
            values = experiment.values(metric)
            ci = mean_interval(values[a] - values[b])
            evaluated[x] = (ci.mean, ci.low, ci.high, ci.n)
        return evaluated[x][0]

    try:
        with folder.lock():  # its evaluations are results folders of their own (run_experiment)
            with WorkerPool(workers, None) as pool:
                grid_values = np.linspace(low, high, grid)
                bracket = _search(evaluate, evaluated, grid_values, refinements, whole, pool)
            result = _answer(scenario, path, low, high, a, b, metric, evaluated, bracket)
            if out is not None:
                _save(folder, result)
        return result
    finally:
        if temporary is not None:
            temporary.cleanup()


def _checked(
    scenario: Scenario | str | Path, path: str, low: float, high: float, a: str, b: str, grid: int
) -> Scenario:
    """The scenario without its sweep block, after checking the question can be asked."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.model_copy(update={"sweep": None})
    scenario.strategy(a)
    scenario.strategy(b)
    if a == b:
        raise ValueError("compare two different strategies")
    check_path(scenario, path)
    if not low < high:
        raise ValueError(f"expected low < high, got {low} and {high}")
    if grid < 2:
        raise ValueError("the grid needs at least 2 values")
    return scenario


def _search(
    evaluate: Callable[[float, WorkerPool], float],
    evaluated: dict[float, tuple[float, float, float, int]],
    grid_values: np.ndarray,
    refinements: int,
    whole: bool,
    pool: WorkerPool,
) -> tuple[float, float] | None:
    """Evaluate the grid, then bisect the first bracket in which the mean difference changes
    sign ``refinements`` times; returns that first bracket (None: no sign change)."""
    for x in grid_values:
        evaluate(x, pool)
    xs = np.array(sorted(evaluated))
    means = [evaluated[x][0] for x in xs]
    bracket = _first_sign_change(xs, np.array(means))
    if bracket is not None:
        left, right = bracket
        for _ in range(refinements):
            if whole and right - left <= 1:
                break
            middle = (left + right) / 2
            m = evaluate(middle, pool)
            middle = float(round(middle)) if whole else middle
            if np.sign(m) == np.sign(evaluated[left][0]):
                left = middle
            else:
                right = middle
    return bracket


def _save(folder: ResultsFolder, result: BreakEven) -> None:
    """``evaluations.parquet`` and ``breakeven.json`` (the answer and when it was written)."""
    result.evaluations.to_parquet(folder.path("evaluations.parquet"), index=False)
    folder.path("breakeven.json").write_text(
        json.dumps(
            {**result.to_dict(), "written": datetime.now().isoformat(timespec="seconds")},
            indent=2,
            default=float,
        ),
        encoding="utf-8",
    )


def _first_sign_change(xs: np.ndarray, means: np.ndarray) -> tuple[float, float] | None:
    signs = np.sign(means)
    for i in range(len(xs) - 1):
        if signs[i] != signs[i + 1] or signs[i] == 0:
            return float(xs[i]), float(xs[i + 1])
    return None


def _answer(
    scenario: Scenario,
    path: str,
    low: float,
    high: float,
    a: str,
    b: str,
    metric: str,
    evaluated: dict[float, tuple[float, float, float, int]],
    bracket: tuple[float, float] | None,
) -> BreakEven:
    table = pd.DataFrame(
        [
            {"value": x, "difference": m, "difference_low": lo, "difference_high": hi, "n": n}
            for x, (m, lo, hi, n) in sorted(evaluated.items())
        ]
    )
    means = table["difference"].to_numpy()
    common = dict(path=path, a=a, b=b, metric=metric, low=low, high=high, evaluations=table)
    if bracket is None:
        ends = table.iloc[[0, -1]]
        sign = np.sign(means[0])
        who = f"{a} beats {b}" if sign > 0 else f"{b} beats {a}"
        significant = [
            bool(row.difference_low > 0 or row.difference_high < 0) for row in ends.itertuples()
        ]
        detail = ", ".join(
            f"at {path} = {row.value:g}: {row.difference:,.0f} "
            f"[{row.difference_low:,.0f}, {row.difference_high:,.0f}]"
            + ("" if s else " (not significant)")
            for row, s in zip(ends.itertuples(), significant, strict=True)
        )
        message = (
            f"no crossing in [{low:g}, {high:g}]: {who} throughout on the mean {metric} "
            f"difference ({detail})"
        )
        return BreakEven(**common, crossing=None, ci_low=None, ci_high=None, message=message)
    left, right = bracket_after(evaluated, bracket)
    ml, mr = evaluated[left][0], evaluated[right][0]
    crossing = left if ml == mr else left + (right - left) * ml / (ml - mr)
    lower, upper = _inverted_interval(table, crossing)
    before = f"{a} beats {b}" if ml > 0 else f"{b} beats {a}"
    message = (
        f"{a} - {b} on {metric} crosses zero at {path} = {crossing:.6g} (95% interval "
        f"{_bound(lower, low, 'below')} to {_bound(upper, high, 'above')}); below it {before}"
    )
    changes = int(np.sum(np.diff(np.sign(means)) != 0))
    if changes > 1:
        message += f"; the mean difference changes sign {changes} times in the range"
    return BreakEven(**common, crossing=crossing, ci_low=lower, ci_high=upper, message=message)


def bracket_after(
    evaluated: dict[float, tuple[float, float, float, int]], bracket: tuple[float, float]
) -> tuple[float, float]:
    """The narrowest pair of neighbouring evaluated values inside ``bracket`` whose mean
    differences have opposite signs (the bisection's last bracket)."""
    xs = [x for x in sorted(evaluated) if bracket[0] <= x <= bracket[1]]
    for left, right in itertools.pairwise(xs):
        if np.sign(evaluated[left][0]) != np.sign(evaluated[right][0]) or evaluated[left][0] == 0:
            return left, right
    return bracket


def _inverted_interval(table: pd.DataFrame, crossing: float) -> tuple[float | None, float | None]:
    """The connected set of x around ``crossing`` where the interpolated CI of the difference
    contains zero; None for an end that reaches the edge of the evaluated range."""
    x = table["value"].to_numpy(float)
    fine = np.linspace(x[0], x[-1], 20_001)
    lo = np.interp(fine, x, table["difference_low"].to_numpy(float))
    hi = np.interp(fine, x, table["difference_high"].to_numpy(float))
    inside = (lo <= 0) & (hi >= 0)
    k = int(np.argmin(np.abs(fine - crossing)))
    if not inside[k]:  # the crossing sits in a gap of the grid: the interval is that point
        return crossing, crossing
    i = k
    while i > 0 and inside[i - 1]:
        i -= 1
    j = k
    while j < len(fine) - 1 and inside[j + 1]:
        j += 1
    lower = None if i == 0 else float(fine[i])
    upper = None if j == len(fine) - 1 else float(fine[j])
    return lower, upper


def _bound(value: float | None, edge: float, side: str) -> str:
    return f"{side} {edge:g}" if value is None else f"{value:.6g}"


__all__ = ["BreakEven", "breakeven"]
