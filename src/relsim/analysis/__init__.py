"""Analysis of finished experiments: where the value comes from (:mod:`.value`) and the action
plan (:mod:`.plan`). The assumptions register the robustness study varies lives beside the
study, in :mod:`relsim.experiment.assumptions`.

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
