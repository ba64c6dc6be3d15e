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

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.experiment.design import tidy
from relsim.experiment.sweep import SweepResult, run_sweep
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
    ``out`` (a temporary folder when None). :func:`relsim.viz.study_plots.plot_sensitivity` draws
    the indices.
    """
    scenario, run = _checked(scenario, ranges, method, strategy, versus)
    strategy = run[0]
    problem = {
        "num_vars": len(ranges),
        "names": list(ranges),
        "bounds": [list(map(float, bounds)) for bounds in ranges.values()],
    }
    seed = int(
        np.random.SeedSequence(scenario.seed, spawn_key=(SENSITIVITY_STREAM,)).generate_state(1)[0]
    )
    x = _sample(problem, method, trajectories, samples, levels, seed)
    points = _design(scenario, ranges, x)
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
        outputs, half_widths = _outputs(result, len(points), metric, strategy, versus)
        indices = _indices(problem, method, x, np.array(outputs), levels, seed)
        design = points.assign(output=outputs, output_half_width=half_widths)
        return Sensitivity(
            method, metric, strategy, versus, indices, design, None if temporary else folder
        )
    finally:
        if temporary is not None:
            temporary.cleanup()


def _checked(
    scenario: Scenario | str | Path,
    ranges: dict[str, tuple[float, float]],
    method: str,
    strategy: str | None,
    versus: str | None,
) -> tuple[Scenario, list[str]]:
    """The scenario without its sweep block and the strategies to run (the analysed one
    first, then ``versus``), after checking the question can be asked."""
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
    return scenario, run


def _sample(
    problem: dict[str, Any], method: str, trajectories: int, samples: int, levels: int, seed: int
) -> np.ndarray:
    """SALib's design in the unit of each field: Morris trajectories or Saltelli samples."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method == "morris":
        return morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    if samples & (samples - 1):
        raise ValueError(f"Sobol samples must be a power of 2, got {samples}")
    return sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)


def _design(
    scenario: Scenario, ranges: dict[str, tuple[float, float]], x: np.ndarray
) -> pd.DataFrame:
    """The design points as the scenario will hold them: whole-number fields get whole
    numbers, the others lose their float noise."""
    points = pd.DataFrame(x, columns=list(ranges))
    for path in ranges:
        current = get_value(scenario, path)
        if isinstance(current, int) and not isinstance(current, bool):
            points[path] = points[path].round().astype(int)
        else:
            points[path] = points[path].map(tidy)
    return points


def _outputs(
    result: SweepResult, count: int, metric: str, strategy: str, versus: str | None
) -> tuple[list[float], list[float]]:
    """At every design point: the mean over replications of the output (the metric of
    ``strategy``, or its paired difference from ``versus``) and its CI's half-width."""
    outputs, half_widths = [], []
    for k in range(count):
        values = result.experiment(k).values(metric)
        y = values[strategy] - values[versus] if versus else values[strategy]
        interval = mean_interval(y)
        outputs.append(interval.mean)
        half_widths.append(interval.high - interval.mean)
    return outputs, half_widths


def _indices(
    problem: dict[str, Any], method: str, x: np.ndarray, y: np.ndarray, levels: int, seed: int
) -> pd.DataFrame:
    """One row per field: SALib's Morris or Sobol indices of the outputs ``y``."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    if method == "morris":
        analysed = morris_analyze.analyze(
            problem, x, y, conf_level=0.95, num_levels=levels, seed=seed
        )
        keys = ["mu_star", "mu_star_conf", "mu", "sigma"]
    else:
        analysed = sobol_analyze.analyze(
            problem, y, calc_second_order=False, conf_level=0.95, seed=seed
        )
        keys = ["S1", "S1_conf", "ST", "ST_conf"]
    return pd.DataFrame(
        {"field": problem["names"], **{k: np.asarray(analysed[k], dtype=float) for k in keys}}
    )
