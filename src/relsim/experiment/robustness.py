"""Robustness of the recommendation to the assumptions register, one assumption at a time.

For every entry of :data:`relsim.experiment.assumptions.REGISTER` the scenario is run with that
assumption at the low end of its plausible range and at the high end, everything else as in the
scenario, every strategy, with the same replication seeds as the base (common random numbers
across variants and strategies). The answer has two parts:

* a **tornado**: for each assumption, the recommended strategy's advantage over the runner-up
  (both as recommended in the base run; a paired difference of the decision metric) at the low
  and the high end; bars sorted by their swing, and a bar that crosses zero means the ranking of
  the two flips within the range;
* a **table of changes**: each assumption and end at which another strategy has the highest
  mean, with its margin and whether it is clearly best there (the only one that could be best).

One at a time means what it says: interactions between assumptions are not explored (that is
sensitivity analysis, :mod:`relsim.experiment.sensitivity`). The variants run through the sweep
runner into ``<results>/robustness/``, resumable like any sweep. The tornado is drawn by
:func:`relsim.viz.study_plots.plot_tornado`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.errors import ResultsExist
from relsim.experiment import owned
from relsim.experiment.assumptions import REGISTER, Assumption, concrete_paths
from relsim.experiment.folder import ResultsFolder
from relsim.experiment.sweep import SweepResult, run_sweep
from relsim.scenario import Scenario, load_scenario
from relsim.scenario.paths import FieldPathError, get_value, with_values
from relsim.statistics import mean_interval

DEFAULT_ROBUSTNESS_REPLICATIONS = 5


@dataclass
class Robustness:
    """The recommendation in the base run and how each assumption's range moves it."""

    metric: str
    recommended: str
    runner_up: str
    base_advantage: float
    table: pd.DataFrame
    """One row per assumption x end: assumption, end, value, best, margin, clear, advantage,
    advantage_low, advantage_high, changes."""
    skipped: list[str]
    """Variants that make the scenario invalid or leave it unchanged, with the reason."""

    @property
    def changes(self) -> pd.DataFrame:
        """The variants at which another strategy has the highest mean."""
        return self.table[self.table["changes"]]


def variants(
    scenario: Scenario, register: tuple[Assumption, ...] = REGISTER
) -> tuple[pd.DataFrame, list[dict[str, Any]], list[str]]:
    """The design: row 0 the base, then each assumption at its low and high end (rows whose
    values equal the base or make the scenario invalid are left out, with a reason)."""
    entries: list[dict[str, Any]] = []
    skipped: list[str] = []
    columns: dict[str, Any] = {}
    for assumption in register:
        paths = concrete_paths(scenario, assumption)
        if not paths:
            skipped.append(f"{assumption.path}: no such field in this scenario")
            continue
        for end, value in (("low", assumption.low), ("high", assumption.high)):
            value = int(value) if assumption.whole else float(value)
            base = [get_value(scenario, p) for p in paths]
            if all(b == value for b in base):
                skipped.append(f"{assumption.path} = {value:g}: the scenario's own value")
                continue
            try:
                with_values(scenario, dict.fromkeys(paths, value))
            except FieldPathError as error:
                skipped.append(f"{assumption.path} = {value:g}: {error}")
                continue
            entries.append(
                {"assumption": assumption.path, "end": end, "value": value, "paths": paths}
            )
            for path in paths:
                columns.setdefault(path, get_value(scenario, path))
    rows = [dict(columns)]
    for entry in entries:
        row = dict(columns)
        row.update(dict.fromkeys(entry["paths"], entry["value"]))
        rows.append(row)
    return pd.DataFrame(rows), entries, skipped


def robustness(
    scenario: Scenario | str | Path,
    out: str | Path,
    replications: int = DEFAULT_ROBUSTNESS_REPLICATIONS,
    workers: int | None = None,
    metric: str = "npv_with_residual",
    strategies: list[str] | None = None,
    progress: bool | None = None,
    register: tuple[Assumption, ...] = REGISTER,
    resume: bool = False,
) -> Robustness:
    """Run every variant (see the module docstring) into ``out`` and summarise them."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.model_copy(update={"sweep": None})
    folder = ResultsFolder(out)
    out = folder.root
    if resume:  # the variants as they were chosen when the analysis started
        design, (entries, skipped) = None, _read_variants(out)
    else:
        design, entries, skipped = variants(scenario, register)
        if folder.holds_results():
            raise ResultsExist(f"{out} already holds a robustness analysis")
        owned.refuse_foreign_folder(out, allowed=(owned.LOCK,))  # empty before variants.json
        folder.create()
        folder.path(VARIANTS).write_text(
            json.dumps({"entries": entries, "skipped": skipped}, indent=1), encoding="utf-8"
        )
    result = run_sweep(
        scenario,
        replications=replications,
        workers=workers,
        out=out,
        resume=resume,
        progress=progress,
        metric=metric,
        strategies=strategies,
        points=design,
    )
    folder.record(folder.path(VARIANTS))
    return summarise(result, entries, skipped)


VARIANTS = "variants.json"
"""Which assumption and end each design point after the base stands for."""


def _read_variants(out: Path) -> tuple[list[dict[str, Any]], list[str]]:
    data = json.loads((Path(out) / VARIANTS).read_text(encoding="utf-8"))
    return data["entries"], data["skipped"]


def summarise(result: SweepResult, entries: list[dict[str, Any]], skipped: list[str]) -> Robustness:
    """The tornado and the table of changes from a finished robustness sweep."""
    metric = result.metric
    base = result.experiment(0).values(metric)
    ranked = sorted(base, key=lambda s: -float(np.mean(base[s])))
    recommended, runner_up = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
    base_advantage = float(np.mean(base[recommended] - base[runner_up]))
    rows = []
    for k, entry in enumerate(entries, start=1):
        values = result.experiment(k).values(metric)
        means = {s: float(np.mean(v)) for s, v in values.items()}
        order = sorted(means, key=lambda s: -means[s])
        compare = result.experiment(k).compare(metric=metric)
        clear = int(compare["could_be_best"].sum()) == 1
        advantage = mean_interval(values[recommended] - values[runner_up])
        rows.append(
            {
                "assumption": entry["assumption"],
                "end": entry["end"],
                "value": entry["value"],
                "best": order[0],
                "margin": means[order[0]] - means[order[1]] if len(order) > 1 else 0.0,
                "clear": clear,
                "advantage": advantage.mean,
                "advantage_low": advantage.low,
                "advantage_high": advantage.high,
                "changes": order[0] != recommended,
            }
        )
    table = pd.DataFrame(rows)
    return Robustness(metric, recommended, runner_up, base_advantage, table, skipped)


def load_robustness(out: str | Path) -> Robustness:
    """Summarise a finished robustness folder again (the design is in its manifest)."""
    result = SweepResult.load(out)
    entries, skipped = _read_variants(Path(out))
    return summarise(result, entries, skipped)
