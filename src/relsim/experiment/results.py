"""The results of an experiment folder: its tables as DataFrames and their statistics.

:class:`Experiment` reads what :func:`relsim.experiment.runner.run_experiment` stored; its
:meth:`~Experiment.summary` gives each strategy's means with confidence intervals and its
:meth:`~Experiment.compare` the paired differences against the baseline, the probability of
being best and where the value comes from (:mod:`relsim.experiment.value_parts`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.experiment import limits, storage
from relsim.experiment.value_parts import decomposition, part_values
from relsim.statistics import (
    Interval,
    could_be_best,
    mean_interval,
    paired_differences,
    probability_best,
)

DEFAULT_METRIC = "npv_with_residual"

_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3
"""pandas 3 always copies on write: a shallow copy of a kept table is then a table of the
caller's own; before it, only a deep copy is."""


class Experiment:
    """The results of an experiment folder: tables as DataFrames and their statistics."""

    _kept: dict[str, pd.DataFrame] | None = None  # tables kept by keeping_tables(), or None

    def __init__(self, out: Path, metric: str = DEFAULT_METRIC):
        self.out = Path(out)
        self.manifest = storage.read_manifest(self.out)
        self.metric = metric
        self.baseline = self.manifest["baseline"]
        self.strategies: list[str] = self.manifest["strategies"]

    @classmethod
    def load(cls, out: str | Path, metric: str = DEFAULT_METRIC) -> Experiment:
        """Open a finished results folder."""
        return cls(Path(out), metric)

    @contextlib.contextmanager
    def keeping_tables(self) -> Iterator[Experiment]:
        """Within the block each table is read from its file once and kept (each use gets a
        copy of its own), up to the runner's budget for held tables
        (:func:`relsim.experiment.limits.held_tables_budget`, counted at 8 bytes a cell): the
        plots and the report read the weekly table 21 times, 1.9 s of the default run's plots
        and report. Outside it nothing is kept, so an experiment open in a notebook holds no
        table it is not using."""
        if self._kept is not None:  # already keeping: the outer block lets go
            yield self
            return
        self._kept = {}
        try:
            yield self
        finally:
            self._kept = None

    def __getstate__(self) -> dict[str, Any]:
        """A pickle or copy never carries kept tables (they belong to the block that kept
        them)."""
        state = dict(self.__dict__)
        state.pop("_kept", None)
        return state

    def _table(self, name: str) -> pd.DataFrame:
        if self._kept is None:
            return pd.read_parquet(self.out / f"{name}.parquet")
        if name not in self._kept:
            table = pd.read_parquet(self.out / f"{name}.parquet")
            kept_cells = sum(t.size for t in self._kept.values())
            if 8 * (kept_cells + table.size) > limits.held_tables_budget():
                return table  # a large run's tables are read each time, as outside the block
            self._kept[name] = table
        return self._kept[name].copy(deep=not _COPY_ON_WRITE)

    @property
    def replications(self) -> pd.DataFrame:
        """One row per strategy x replication, every summary metric."""
        return self._table("replications")

    @property
    def weekly(self) -> pd.DataFrame:
        return self._table("weekly")

    @property
    def ladder(self) -> pd.DataFrame:
        return self._table("ladder")

    @property
    def defections(self) -> pd.DataFrame:
        return self._table("defections")

    @property
    def survival(self) -> pd.DataFrame:
        """Kaplan-Meier survival of each replication's new focal customers by week since
        acquisition (strategy x replication x week)."""
        return self._table("survival")

    @property
    def focal(self) -> str:
        """Name of the focal firm (listed first in every table)."""
        firm = pd.read_parquet(self.out / "weekly.parquet", columns=["firm"])["firm"]
        return str(firm.iloc[0])

    @property
    def moves(self) -> pd.DataFrame:
        """Every firm's moves (launches, copies, raises, price moves) per replication."""
        return self._table("moves")

    def values(self, metric: str | None = None) -> dict[str, np.ndarray]:
        """The metric per strategy, aligned by replication (paired)."""
        return self._values(self.replications, metric or self.metric)

    def _values(self, replications: pd.DataFrame, metric: str) -> dict[str, np.ndarray]:
        table = replications.sort_values(["strategy", "replication"])
        return {s: table.loc[table["strategy"] == s, metric].to_numpy() for s in self.strategies}

    def summary(self, metrics: list[str] | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """Per strategy and metric: mean, 95% CI, half-width relative to the mean, n."""
        metrics = metrics or [self.metric]
        rows = []
        for metric in metrics:
            for strategy, values in self.values(metric).items():
                ci = mean_interval(values, confidence)
                rows.append(
                    {
                        "strategy": strategy,
                        "metric": metric,
                        "mean": ci.mean,
                        "low": ci.low,
                        "high": ci.high,
                        "relative_half_width": ci.relative_half_width,
                        "n": ci.n,
                    }
                )
        return pd.DataFrame(rows)

    def compare(
        self, baseline: str | None = None, metric: str | None = None, confidence: float = 0.95
    ) -> pd.DataFrame:
        """Paired differences against the baseline with Bonferroni-simultaneous CIs, the share
        of replications in which each strategy is best (Wilson CI), and whether the multiple-
        comparisons-with-the-best screen keeps it as possibly best.

        Then, whatever the metric, where the value comes from: for each part of
        ``npv_with_residual`` -- ``npv`` (within the horizon), ``residual_value`` (after it;
        also ``residual_margin`` and ``residual_costs`` when the summary has them) and the
        total -- the columns ``<part>_mean``, ``<part>_difference``, ``<part>_difference_low``
        and ``<part>_difference_high`` (paired, simultaneous as above)."""
        baseline = baseline or self.baseline
        replications = self.replications
        values = self._values(replications, metric or self.metric)
        differences = paired_differences(values, baseline, confidence)
        best = probability_best(values, confidence)
        keep = set(could_be_best(values, confidence))
        rows = []
        for strategy in self.strategies:
            d = differences.get(strategy, Interval(0.0, 0.0, 0.0, len(values[strategy])))
            rows.append(
                {
                    "strategy": strategy,
                    "mean": float(np.mean(values[strategy])),
                    "difference": d.mean,
                    "difference_low": d.low,
                    "difference_high": d.high,
                    "significant": strategy != baseline and d.excludes_zero(),
                    "p_best": best[strategy].mean,
                    "p_best_low": best[strategy].low,
                    "p_best_high": best[strategy].high,
                    "could_be_best": strategy in keep,
                }
            )
        table = pd.DataFrame(rows)
        parts = decomposition(part_values(replications, self.strategies), baseline, confidence)
        for part, rows_of_part in parts.groupby("part", sort=False):
            by = rows_of_part.set_index("strategy").reindex(table["strategy"])
            for column in ("mean", "difference", "difference_low", "difference_high"):
                table[f"{part}_{column}"] = by[column].to_numpy()
        return table
