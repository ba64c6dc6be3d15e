"""Analysis of finished experiments: where the value comes from (:mod:`.value`), the action plan
(:mod:`.plan`), the assumptions register (:mod:`.assumptions`).

The statistics over replications (confidence intervals, paired differences, the best strategy)
live in :mod:`relsim.statistics`, below every layer that uses them; their names stay importable
from here."""

from relsim.statistics import (
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
