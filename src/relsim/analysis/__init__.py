"""Statistics over replications: confidence intervals, paired differences, the best strategy."""

from relsim.analysis.statistics import (
    Interval,
    could_be_best,
    kaplan_meier,
    mean_interval,
    paired_differences,
    probability_best,
)

__all__ = [
    "Interval",
    "could_be_best",
    "kaplan_meier",
    "mean_interval",
    "paired_differences",
    "probability_best",
]
