"""relsim: compare relationship-marketing strategies by simulating a market of customers.

The public API is small::

    import relsim
    scenario = relsim.load_scenario("scenarios/baseline.yaml")
    run = relsim.simulate(scenario, strategy="transactional", seed=7)
    run.summary, run.weekly, run.ladder, run.customers, run.defections, run.trace
    experiment = relsim.run_experiment(scenario, replications=30)
    experiment.summary(), experiment.compare()
    best = relsim.optimize(scenario, out="results/opt")  # what `relsim optimize` does
    outcome = relsim.run_pipeline(scenario, "results/mine")  # what `relsim run` does:
    outcome.comparison, outcome.drift, outcome.report        # the run, its plots and report
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relsim.domain import BONDS, LEVELS, REASONS, RUNGS
    from relsim.experiment import Experiment, run_experiment
    from relsim.experiment.optimize import Optimization, optimize
    from relsim.exports import export_tables, export_transactions
    from relsim.pipeline import analyse_robustness, prepare_scenario, run_decision, run_pipeline
    from relsim.results import Run
    from relsim.scenario import Scenario, ScenarioError, Strategy, load_scenario
    from relsim.simulation import simulate
    from relsim.viz import (
        plot_costs,
        plot_cumulative_difference,
        plot_defection_reasons,
        plot_differences,
        plot_ladder_mix,
        plot_market_share,
        plot_metric,
        plot_retention,
        plot_survival,
        plot_utilisation,
    )

from relsim.version import MODEL_VERSION, __version__  # the literals live in relsim/version.py

__all__ = [
    "BONDS",
    "LEVELS",
    "MODEL_VERSION",
    "REASONS",
    "RUNGS",
    "Experiment",
    "Optimization",
    "Run",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "__version__",
    "analyse_robustness",
    "export_tables",
    "export_transactions",
    "load_scenario",
    "optimize",
    "plot_costs",
    "plot_cumulative_difference",
    "plot_defection_reasons",
    "plot_differences",
    "plot_ladder_mix",
    "plot_market_share",
    "plot_metric",
    "plot_retention",
    "plot_survival",
    "plot_utilisation",
    "prepare_scenario",
    "run_decision",
    "run_experiment",
    "run_pipeline",
    "simulate",
]

_HOMES = {
    **dict.fromkeys(["BONDS", "LEVELS", "REASONS", "RUNGS"], "relsim.domain"),
    **dict.fromkeys(["Experiment", "run_experiment"], "relsim.experiment"),
    **dict.fromkeys(["Optimization", "optimize"], "relsim.experiment.optimize"),
    "Run": "relsim.results",
    **dict.fromkeys(["export_tables", "export_transactions"], "relsim.exports"),
    **dict.fromkeys(
        ["analyse_robustness", "prepare_scenario", "run_decision", "run_pipeline"],
        "relsim.pipeline",
    ),
    **dict.fromkeys(["Scenario", "ScenarioError", "Strategy", "load_scenario"], "relsim.scenario"),
    "simulate": "relsim.simulation",
    **{name: "relsim.viz" for name in __all__ if name.startswith("plot_")},
}
"""Where each public name lives. They are imported on first use (PEP 562), not by ``import
relsim``: numpy, scipy and pandas take over a second to import, and the ``relsim`` command must
be able to answer a Ctrl-C in that second with its own message instead of a traceback."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'relsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups do not come here again
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
