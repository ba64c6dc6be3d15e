"""The parts of the decision metric and their paired comparison across strategies.

``npv_with_residual`` is the sum of ``npv`` (within the horizon) and ``residual_value`` (after
it; split into ``residual_margin - residual_costs`` when the summary has them). Each part gets
its mean with a t-interval and its paired difference from the baseline with Bonferroni-
simultaneous intervals, as :meth:`relsim.experiment.Experiment.compare` reports them. This is
the part of the value analysis (:mod:`relsim.analysis.value`) that an experiment's own
comparison needs, so it sits beside the experiment, below the analysis.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from relsim.statistics import Interval, mean_interval, paired_differences

WITHIN, AFTER, TOTAL = "npv", "residual_value", "npv_with_residual"
VALUE_PARTS = (WITHIN, "residual_margin", "residual_costs", AFTER, TOTAL)
"""The parts of the decision metric, in reading order; the split of the value after the
horizon into margin and costs is shown only when the summary has it."""
PART_LABELS = {
    WITHIN: "within the horizon",
    "residual_margin": "margin after the horizon",
    "residual_costs": "costs after the horizon",
    AFTER: "after the horizon",
    TOTAL: "total",
}


def parts_present(columns: pd.Index | list[str]) -> list[str]:
    """The value parts a replications table holds, in reading order."""
    return [part for part in VALUE_PARTS if part in set(columns)]


def decomposition(
    values: Mapping[str, Mapping[str, np.ndarray]], baseline: str, confidence: float = 0.95
) -> pd.DataFrame:
    """One row per strategy and part: the mean with its t-interval, and the paired difference
    from the baseline with its Bonferroni-simultaneous interval (zero for the baseline).

    ``values[part][strategy]`` holds the part's value in every replication, aligned by
    replication across strategies (common random numbers).
    """
    rows = []
    for part, by_strategy in values.items():
        differences = paired_differences(dict(by_strategy), baseline, confidence)
        for strategy, x in by_strategy.items():
            ci = mean_interval(x, confidence)
            d = differences.get(strategy, Interval(0.0, 0.0, 0.0, len(x)))
            rows.append(
                {
                    "strategy": strategy,
                    "part": part,
                    "mean": ci.mean,
                    "low": ci.low,
                    "high": ci.high,
                    "difference": d.mean,
                    "difference_low": d.low,
                    "difference_high": d.high,
                    "significant": strategy != baseline and d.excludes_zero(),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "strategy",
            "part",
            "mean",
            "low",
            "high",
            "difference",
            "difference_low",
            "difference_high",
            "significant",
        ],
    )


def part_values(
    replications: pd.DataFrame, strategies: list[str]
) -> dict[str, dict[str, np.ndarray]]:
    """``values[part][strategy]`` from a replications table, aligned by replication."""
    table = replications.sort_values(["strategy", "replication"])
    return {
        part: {s: table.loc[table["strategy"] == s, part].to_numpy() for s in strategies}
        for part in parts_present(table.columns)
    }
