"""Monte Carlo experiments: replications with common random numbers, results on disk."""

from relsim.experiment.runner import Experiment, replicate, replication_seed, run_experiment

__all__ = ["Experiment", "replicate", "replication_seed", "run_experiment"]
