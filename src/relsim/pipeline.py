"""The whole path from a scenario to a report, as functions a notebook can call: what ``relsim
run``, ``relsim robustness``, ``relsim decide`` and ``relsim export`` do, without the command
line.

:func:`run_pipeline` runs an experiment, compares the strategies, checks the warm-up's drift,
optionally tests the recommendation against the assumptions register (robustness), and draws
the plots and writes the report. :func:`prepare_scenario` reads a scenario as ``relsim run``
does (plugins, ``--set`` overrides, seed, strategy names); :func:`analyse_robustness` adds the
robustness section to a finished run; :func:`run_decision` runs the decision analysis under
the assumptions' uncertainty and writes its report. (``relsim export``'s work is in
:mod:`relsim.exports`.)

Importing this module is cheap (the work imports numpy and the rest when it starts), so the
command line can import it before a Ctrl-C could land in numpy's import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relsim.errors import Interrupted, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from relsim.experiment import Experiment
    from relsim.experiment.decide import Decision
    from relsim.experiment.robustness import Robustness
    from relsim.scenario import Scenario

DRIFT_WARNING = 0.02
"""Share points per year of warm-up drift above which a run is said not to start steady."""

SHOWN = (
    "customers_end",
    "market_share_end",
    "churn_rate_annual",
    "profit",
    "npv",
    "npv_with_residual",
    "margin_value_new_customers",
)
"""The summary metrics a run shows (their means per strategy)."""

DEFAULT_METRIC = "npv_with_residual"


Notify = Callable[[str], None]
"""Receives the pipeline's progress messages (the command line prints them on stderr)."""


def _quiet(message: str) -> None:
    """The default :data:`Notify`: messages are dropped."""


@dataclass
class RunOutcome:
    """What :func:`run_pipeline` produced."""

    experiment: Experiment
    comparison: pd.DataFrame
    """:meth:`Experiment.compare`: paired differences, P(best), where the value comes from."""
    summary: pd.DataFrame
    """:meth:`Experiment.summary` of the :data:`SHOWN` metrics."""
    drift: str | None
    """The warning when week 0 is not a steady state (:func:`drift_warning`), else None."""
    robustness: Robustness | None = None
    report: tuple[Path, Path] | None = None
    """(report.md, report.html), once written."""


def load_plugins(modules: Sequence[str]) -> None:
    """Import modules that register instruments or choice rules (:mod:`relsim.extensions`):
    the user's code, asked for by name; a scenario file can never import anything."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise UsageError(f"--plugin {module}: cannot import it ({error})") from error


def check_extensions(scenario: Scenario) -> None:
    """Every instrument and choice rule the scenario names must be registered before any work
    is done (:class:`UsageError` otherwise)."""
    from relsim import extensions

    try:
        extensions.choice_rule(scenario.choice_rule)
        for strategy in scenario.strategies:
            for spec in strategy.instruments:
                extensions.instrument(spec.name, spec.params)
    except (KeyError, ValueError) as error:
        message = error.args[0] if error.args else str(error)
        raise UsageError(f"{message}; load the module that registers it with --plugin") from error


def prepare_scenario(
    source: str | Path,
    overrides: dict[str, Any] | None = None,
    seed: int | None = None,
    strategies: Sequence[str] | None = None,
    plugins: Sequence[str] = (),
) -> Scenario:
    """The scenario of a run, read as ``relsim run`` reads it: ``plugins`` imported first, the
    file read with ``overrides`` (``{"horizon.weeks": 104}``), its extensions checked, its root
    seed replaced by ``seed``, and unknown ``strategies`` refused before any work is done."""
    from relsim.scenario import load_scenario

    load_plugins(plugins)
    scenario = load_scenario(source, overrides=overrides or {})
    check_extensions(scenario)
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    for name in strategies or []:
        scenario.strategy(name)  # unknown names fail before any work is done
    return scenario


def drift_warning(experiment: Experiment) -> str | None:
    """A warning when the focal firm's share still moved at the end of the warm-up (more than
    :data:`DRIFT_WARNING` a year and three standard errors), so week 0 is not steady."""
    table = experiment.replications
    first = table[table["replication"] == 0].iloc[0]
    drift, se = first["warmup_share_drift_per_year"], first["warmup_share_drift_se"]
    if abs(drift) > DRIFT_WARNING and abs(drift) > 3 * se:
        return (
            f"relsim: warning: the focal firm's share still moved {drift:+.3f} a year at the "
            "end of the warm-up, so week 0 is not a steady state; lengthen horizon.warmup_weeks "
            "or start from initial shares and a ladder mix nearer the market's own (see "
            "docs/model.md, 'Steady state at week 0')."
        )
    return None


def run_pipeline(
    scenario: Scenario | str | Path,
    out: str | Path | None = None,
    *,
    resume: bool = False,
    robustness_replications: int | None = None,
    on_results: Callable[[RunOutcome], None] | None = None,
    notify: Notify = _quiet,
    **settings: Any,
) -> RunOutcome:
    """Run every strategy of ``scenario`` into ``out`` and write the plots and the report.

    ``settings`` are :func:`relsim.run_experiment`'s (replications, workers, executor,
    precision, metric, strategies, progress, memory_check, force). In order: the experiment
    (or, with ``resume``, its completion), the comparison and summary, the drift check, then
    ``on_results`` (the command line prints the tables there, before the slow part), then with
    ``robustness_replications`` the robustness variants, then ``plots/*.png`` and the report.
    A Ctrl-C in the replications or the variants raises :class:`Interrupted`.
    """
    from relsim.experiment import run_experiment
    from relsim.experiment.folder import ResultsFolder

    folder = ResultsFolder(out) if out else ResultsFolder.timestamped(_name(scenario))
    try:
        experiment = run_experiment(scenario, out=folder.root, resume=resume, **settings)
    except KeyboardInterrupt as error:
        raise Interrupted("replications", folder.root) from error
    comparison = experiment.compare()
    summary = experiment.summary(list(SHOWN))
    outcome = RunOutcome(experiment, comparison, summary, drift_warning(experiment))
    if on_results is not None:
        on_results(outcome)
    if robustness_replications is not None:
        outcome.robustness = robustness_stage(
            folder.root,
            robustness_replications,
            settings.get("workers"),
            settings.get("progress"),
            resume=resume and ResultsFolder(folder.path("robustness")).holds_results(),
            notify=notify,
        )
    outcome.report = write_outputs(experiment, notify)
    return outcome


def _name(scenario: Scenario | str | Path) -> str:
    from relsim.scenario import Scenario, load_scenario

    return (scenario if isinstance(scenario, Scenario) else load_scenario(scenario)).name


def write_outputs(experiment: Experiment, notify: Notify = _quiet) -> tuple[Path, Path]:
    """Draw every plot into ``plots/`` and write the report; returns (report.md, report.html).
    ``notify`` hears each phase as it starts (they take tens of seconds on a large run)."""
    import time

    from relsim.experiment.folder import ResultsFolder
    from relsim.viz import save_all
    from relsim.viz.report import write_report

    folder = ResultsFolder(experiment.out)
    started = time.perf_counter()
    notify("relsim: drawing the plots")
    with experiment.keeping_tables():
        plots = save_all(experiment, folder.path("plots"))
        folder.record(*plots)
        seconds = time.perf_counter() - started
        notify(f"relsim: {len(plots)} plots drawn in {seconds:.0f} s; writing the report")
        return record_report(folder, write_report(experiment))


def record_report(folder: Any, report: tuple[Path, Path]) -> tuple[Path, Path]:
    """Add the report (and the robustness plot it may draw) to the files ``folder``'s
    manifest lists as relsim's; returns ``report``."""
    drawn = folder.path("plots", "robustness.png")
    folder.record(*report, *([drawn] if drawn.is_file() else []))
    return report


def robustness_stage(
    out: Path,
    replications: int,
    workers: int | None,
    progress: bool | None,
    resume: bool,
    only: Sequence[str] | None = None,
    notify: Notify = _quiet,
) -> Robustness:
    """Run (or resume) the robustness variants of the finished run in ``out`` into
    ``out/robustness``: every assumption of the register (whose path contains a text of
    ``only``, when given) at both ends of its range."""
    from relsim.experiment.assumptions import REGISTER
    from relsim.experiment.folder import ResultsFolder
    from relsim.experiment.robustness import robustness

    register = tuple(a for a in REGISTER if not only or any(t in a.path for t in only))
    if not register:
        raise UsageError(f"no assumption's path contains any of {only}")
    folder = ResultsFolder(out)
    manifest = folder.read_manifest()
    scenario = folder.load_scenario()
    notify("relsim: robustness: each assumption of the register at both ends of its range")
    try:
        result = robustness(
            scenario,
            folder.path("robustness"),
            replications=replications,
            workers=workers,
            metric=manifest.get("metric", DEFAULT_METRIC),
            strategies=manifest["strategies"],
            progress=progress,
            resume=resume,
            register=register,
        )
    except KeyboardInterrupt as error:
        raise Interrupted("robustness", folder.root) from error
    changed = result.changes
    notify(
        f"relsim: robustness: {result.recommended} stays best at "
        f"{len(result.table) - len(changed)} of {len(result.table)} assumption ends"
        + (
            "; it changes at: "
            + ", ".join(f"{r.assumption}={r.value:g} ({r.best})" for r in changed.itertuples())
            if len(changed)
            else ""
        )
    )
    return result


def analyse_robustness(
    results: str | Path,
    replications: int = 5,
    workers: int | None = None,
    progress: bool | None = None,
    resume: bool = False,
    force: bool = False,
    only: Sequence[str] | None = None,
    notify: Notify = _quiet,
) -> tuple[Robustness, tuple[Path, Path]]:
    """Test a finished run's recommendation against the assumptions register and write its
    report again with the robustness section. ``resume`` completes an interrupted analysis,
    ``force`` redoes a finished one (without either, one is refused). Returns the analysis and
    (report.md, report.html)."""
    from relsim.experiment import Experiment
    from relsim.experiment.assumptions import REGISTER
    from relsim.experiment.folder import ResultsFolder
    from relsim.viz.report import write_report

    run = ResultsFolder(results)
    manifest = run.require_complete()
    if only and not any(t in a.path for a in REGISTER for t in only):
        raise UsageError(f"no assumption's path contains any of {only}")
    folder = ResultsFolder(run.path("robustness"))
    if folder.holds_results() and not resume:
        if not force:
            raise UsageError(
                f"{folder.root} already holds a robustness analysis; --resume completes it, "
                "--force redoes it"
            )
        folder.replace()
    run.path("plots", "robustness.png").unlink(missing_ok=True)
    resume = resume and folder.holds_results()
    result = robustness_stage(run.root, replications, workers, progress, resume, only, notify)
    experiment = Experiment(run.root, manifest.get("metric", DEFAULT_METRIC))
    return result, record_report(run, write_report(experiment))


def run_decision(
    scenario: Scenario | str | Path,
    out: str | Path | None = None,
    *,
    notify: Notify = _quiet,
    **settings: Any,
) -> tuple[Decision, tuple[Path, Path]]:
    """What ``relsim decide`` does: the probabilistic sensitivity analysis of ``scenario``
    into ``out`` (:func:`relsim.experiment.decide.decide`; ``settings`` are its options:
    samples, replications, workers, executor, metric, strategies, progress, resume, force,
    memory_check, bootstrap), its analysis, plots and report. Returns the decision and
    (report.md, report.html). A Ctrl-C in the runs raises :class:`Interrupted`."""
    from relsim.experiment.decide import decide
    from relsim.experiment.folder import ResultsFolder
    from relsim.viz.report.decide import write_decision_report
    from relsim.viz.words import currency

    if out is None:
        out = ResultsFolder.timestamped(_name(scenario), "decide").root
    folder = ResultsFolder(out)
    try:
        decision = decide(scenario, folder.root, **settings)
    except KeyboardInterrupt as error:
        raise Interrupted("decide", folder.root) from error
    notify("relsim: decide: drawing the plots and writing the report")
    report = write_decision_report(decision, currency(folder.load_scenario()))
    folder.record(*report, *sorted(folder.path("plots").glob("decide_*.png")))
    return decision, report


__all__ = [
    "DRIFT_WARNING",
    "SHOWN",
    "Interrupted",
    "RunOutcome",
    "UsageError",
    "analyse_robustness",
    "check_extensions",
    "drift_warning",
    "load_plugins",
    "prepare_scenario",
    "robustness_stage",
    "run_decision",
    "run_pipeline",
    "write_outputs",
]
