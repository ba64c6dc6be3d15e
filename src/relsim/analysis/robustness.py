"""TEMPORARY re-export, to be deleted when ``relsim.viz.report`` imports the new homes:
robustness analysis moved to :mod:`relsim.experiment.robustness` and its tornado plot to
:mod:`relsim.viz.study_plots` (issue 26). Import from there."""

from relsim.experiment.robustness import load_robustness
from relsim.viz.study_plots import plot_tornado

__all__ = ["load_robustness", "plot_tornado"]
