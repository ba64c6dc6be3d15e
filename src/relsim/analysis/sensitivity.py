"""Global sensitivity of the decision metric to the fields a user names (SALib).

Two methods, both over ranges the user gives (``{path: (low, high)}``):

* **Morris** elementary effects (screening): ``trajectories`` one-at-a-time paths through the
  ranges; ``mu_star``, the mean absolute elementary effect, is in the metric's units per move
  across the field's whole range (SALib scales each range to [0, 1]: a metric linear in a
  field with slope b over a range of width w has mu_star = |b| w), and ranks fields by
  influence; ``sigma`` large against ``mu_star`` marks interactions or non-linearity. Cheap:
  trajectories x (fields + 1) points.
* **Sobol** indices (variance decomposition, Saltelli sampling): ``S1`` is the share of the
  metric's variance over the ranges explained by a field alone, ``ST`` including its
  interactions. Costly: ``samples`` x (fields + 2) points, ``samples`` a power of 2.

Every design point is an ordinary results folder run through the sweep runner, with the same
replication seeds at every point (common random numbers), so the noise of the simulation does
not masquerade as an effect. The output at a point is the mean over ``replications`` of the
metric of ``strategy`` -- or, with ``versus``, the mean paired difference ``strategy - versus``,
the quantity a decision turns on. Confidence intervals of the indices are SALib's bootstrap
intervals over design points; they do not include the simulation noise at each point, which
the table reports separately (the mean half-width of the point estimates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.scenario import Scenario, load_scenario
from relsim.scenario.paths import check_path, get_value
from relsim.statistics import mean_interval

SENSITIVITY_STREAM = 0x5A11
"""Spawn key of the SALib sampler's seed (apart from every replication's stream)."""


@dataclass
class Sensitivity:
    """Indices per field, with the evaluated design behind them."""

    method: str
    metric: str
    strategy: str
    versus: str | None
    indices: pd.DataFrame
    """One row per field: Morris mu_star, mu_star_conf, mu, sigma; or Sobol S1, S1_conf, ST,
    ST_conf."""
    design: pd.DataFrame = field(repr=False)
    """The evaluated points: one column per field, then ``output`` and ``output_half_width``."""
    out: Path | None = None

    @property
    def label(self) -> str:
        return self.metric + (
            f": {self.strategy} - {self.versus}" if self.versus else f" of {self.strategy}"
        )


def sensitivity(
    scenario: Scenario | str | Path,
    ranges: dict[str, tuple[float, float]],
    method: str = "morris",
    strategy: str | None = None,
    versus: str | None = None,
    metric: str = "npv_with_residual",
    trajectories: int = 10,
    samples: int = 64,
    levels: int = 4,
    replications: int = 5,
    workers: int | None = None,
    out: str | Path | None = None,
    progress: bool | None = None,
) -> Sensitivity:
    """Morris screening or Sobol indices of ``metric`` over the fields in ``ranges``.

    ``strategy`` defaults to the first strategy that is not the baseline, ``versus`` to none
    (give the baseline's name to analyse the paired difference). Results folders go under
    ``out`` (a temporary folder when None).
    """
    import tempfile

    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    from relsim.experiment.sweep import run_sweep, tidy

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.model_copy(update={"sweep": None})
    if method not in ("morris", "sobol"):
        raise ValueError(f"method must be 'morris' or 'sobol', got {method!r}")
    if len(ranges) < 1:
        raise ValueError("name at least one field and its range")
    for path, (low, high) in ranges.items():
        check_path(scenario, path)
        if not low < high:
            raise ValueError(f"{path}: expected low < high, got {low} and {high}")
    names = [s.name for s in scenario.strategies]
    strategy = strategy or next((n for n in names if n != scenario.baseline_strategy), names[0])
    run = [strategy] + ([versus] if versus else [])
    for name in run:
        scenario.strategy(name)
    problem = {
        "num_vars": len(ranges),
        "names": list(ranges),
        "bounds": [list(map(float, bounds)) for bounds in ranges.values()],
    }
    seed = int(
        np.random.SeedSequence(scenario.seed, spawn_key=(SENSITIVITY_STREAM,)).generate_state(1)[0]
    )
    if method == "morris":
        x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    else:
        if samples & (samples - 1):
            raise ValueError(f"Sobol samples must be a power of 2, got {samples}")
        x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    points = pd.DataFrame(x, columns=list(ranges))
    for path in ranges:  # whole-number fields get whole numbers
        current = get_value(scenario, path)
        if isinstance(current, int) and not isinstance(current, bool):
            points[path] = points[path].round().astype(int)
        else:
            points[path] = points[path].map(tidy)
    temporary = tempfile.TemporaryDirectory(prefix="relsim-sensitivity-") if out is None else None
    folder = Path(temporary.name if temporary else out)  # type: ignore[arg-type]
    try:
        result = run_sweep(
            scenario,
            replications=replications,
            workers=workers,
            out=folder,
            progress=progress,
            metric=metric,
            strategies=run,
            points=points,
        )
        outputs, half_widths = [], []
        for k in range(len(points)):
            values = result.experiment(k).values(metric)
            y = values[strategy] - values[versus] if versus else values[strategy]
            interval = mean_interval(y)
            outputs.append(interval.mean)
            half_widths.append(interval.high - interval.mean)
        y_all = np.array(outputs)
        analysed = (
            morris_analyze.analyze(problem, x, y_all, conf_level=0.95, num_levels=levels, seed=seed)
            if method == "morris"
            else sobol_analyze.analyze(
                problem, y_all, calc_second_order=False, conf_level=0.95, seed=seed
            )
        )
        keys = (
            ["mu_star", "mu_star_conf", "mu", "sigma"]
            if method == "morris"
            else ["S1", "S1_conf", "ST", "ST_conf"]
        )
        indices = pd.DataFrame(
            {"field": list(ranges), **{k: np.asarray(analysed[k], dtype=float) for k in keys}}
        )
        design = points.assign(output=outputs, output_half_width=half_widths)
        return Sensitivity(
            method, metric, strategy, versus, indices, design, None if temporary else folder
        )
    finally:
        if temporary is not None:
            temporary.cleanup()


def plot_sensitivity(result: Sensitivity, ax: Any = None) -> Any:
    """Bar chart of the indices with their 95% intervals: Morris mu_star (bars) and sigma
    (dots); Sobol S1 and ST side by side."""
    from relsim.viz.axes import axes_or_new

    ax = axes_or_new(ax)
    table = result.indices
    y = np.arange(len(table))
    if result.method == "morris":
        ax.barh(y, table["mu_star"], xerr=table["mu_star_conf"], color="C0", alpha=0.8, label="μ*")
        ax.plot(table["sigma"], y, "o", color="C3", label="σ (interaction / non-linearity)")
        ax.set_xlabel(f"elementary effect on {result.label} (whole range)")
    else:
        ax.barh(y - 0.2, table["S1"], height=0.4, xerr=table["S1_conf"], label="S1 (alone)")
        ax.barh(y + 0.2, table["ST"], height=0.4, xerr=table["ST_conf"], label="ST (total)")
        ax.set_xlabel(f"share of the variance of {result.label}")
        ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(y, table["field"])
    ax.invert_yaxis()
    ax.legend(fontsize="small")
    ax.set_title(f"{result.method.capitalize()} sensitivity", fontsize="medium")
    return ax
