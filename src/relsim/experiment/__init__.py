"""Monte Carlo experiments: replications with common random numbers, results on disk.

:func:`run_experiment` (:mod:`.runner`) runs every strategy's replications
(:mod:`.pool`) into a results folder (:mod:`.folder`, :mod:`.storage`); :class:`Experiment`
(:mod:`.results`) reads them back with their statistics. Sweeps (:mod:`.sweep`), break-even
searches (:mod:`.breakeven`), robustness (:mod:`.robustness`) and sensitivity
(:mod:`.sensitivity`) analyses run many experiments through the same runner.
"""

from relsim.experiment.pool import replicate, replication_seed
from relsim.experiment.results import Experiment
from relsim.experiment.runner import run_experiment

__all__ = ["Experiment", "replicate", "replication_seed", "run_experiment"]
