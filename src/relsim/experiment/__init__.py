"""Monte Carlo experiments: replications with common random numbers, results on disk.

:func:`run_experiment` (:mod:`.runner`) runs every strategy's replications
(:mod:`.pool`) into a results folder (:mod:`.folder`, :mod:`.storage`); :class:`Experiment`
(:mod:`.results`) reads them back with their statistics. Sweeps (:mod:`.sweep`), break-even
searches (:mod:`.breakeven`), robustness (:mod:`.robustness`) and sensitivity
(:mod:`.sensitivity`) analyses run many experiments through the same runner.

The names below are imported on first use (PEP 562), not with the package: a worker process
unpickles its task from :mod:`.pool` and :mod:`.interrupts`, and importing the whole package
there (the statistics' scipy among it) cost each worker about 0.8 s before its first
replication, a tenth of a classroom comparison.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relsim.experiment.pool import replicate, replication_seed
    from relsim.experiment.results import Experiment
    from relsim.experiment.runner import run_experiment

__all__ = ["Experiment", "replicate", "replication_seed", "run_experiment"]

_HOMES = {
    "Experiment": "relsim.experiment.results",
    "replicate": "relsim.experiment.pool",
    "replication_seed": "relsim.experiment.pool",
    "run_experiment": "relsim.experiment.runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # a submodule, as the eager package gave them: relsim.experiment.storage
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups do not come here again
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
