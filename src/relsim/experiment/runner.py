"""Monte Carlo experiments: every strategy, many replications, common random numbers.

Replication ``r`` of every strategy uses the same seed, ``SeedSequence(scenario.seed)``'s child
``r`` (common random numbers), so differences between strategies are paired. Each replication
is an independent task for any ``concurrent.futures.Executor`` -- a process pool by default,
none with ``workers=1``, a Dask ``distributed`` client's executor for clusters
(:mod:`relsim.experiment.pool`). A task's result depends only on its scenario, strategy and
replication index, never on the worker or the order of completion, so results are identical
for any number of workers and any executor, and a resumed run equals an uninterrupted one bit
for bit.

The runner runs and stores replications (:mod:`relsim.experiment.storage`) in a results folder
(:class:`relsim.experiment.folder.ResultsFolder`); :class:`relsim.experiment.results.Experiment`
reads them back with their statistics.

Every setting is checked before a folder is created: ``replications``, ``workers`` and
``max_replications`` whole numbers from 1 within what the memory and time estimate allows
(:func:`relsim.experiment.limits.check_run`), ``precision`` a share in (0, 1), ``metric`` a
summary column. A run expected to take more than a minute or more than half the free memory
prints its estimate first (one line on stderr, even without progress); on a non-terminal
stderr, progress comes as plain lines at least once a minute (:mod:`relsim.experiment.progress`;
``RELSIM_LONG_RUN_SECONDS`` lowers the minute).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from relsim.experiment import checks, extend, interrupts, limits, records, storage
from relsim.experiment.folder import ResultsFolder, Writing
from relsim.experiment.pool import WorkerPool, in_passes, replicate_pass
from relsim.experiment.progress import Progress as progress_of
from relsim.experiment.progress import announce, restart_clock
from relsim.experiment.results import DEFAULT_METRIC, Experiment
from relsim.scenario import Scenario, load_scenario
from relsim.statistics import paired_differences

DEFAULT_REPLICATIONS = 30
PILOT_REPLICATIONS = 10


def run_experiment(
    scenario: Scenario | str | Path,
    replications: int | None = None,
    workers: int | None = None,
    executor: cf.Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool | None = None,
    precision: float | None = None,
    metric: str = DEFAULT_METRIC,
    max_replications: int = 200,
    strategies: list[str] | None = None,
    memory_check: bool = True,
    force: bool = False,
    pool: WorkerPool | None = None,
    keep_parts: bool = False,
) -> Experiment:
    """Run every strategy over many replications, store the results (bad settings: ValueError).

    Parameters
    ----------
    replications:
        Replications per strategy (default 30). With ``precision`` it is the pilot size.
    workers:
        Processes (default: all cores); 1 runs in this process. Ignored with ``executor``.
    executor:
        Any ``concurrent.futures.Executor`` (a Dask client's ``get_executor()``), not shut down.
    out:
        Results folder (default ``results/<scenario>-<timestamp>``).
    resume, progress:
        Complete the run in ``out``, keeping what finished (more ``replications`` than it holds
        add the others: :mod:`~relsim.experiment.extend`); progress: lines or a bar on stderr.
    precision:
        After the pilot, add replications in batches until every paired difference's 95% CI
        half-width on ``metric`` is at most ``precision`` x |baseline mean|, or at the maximum.
    memory_check:
        Refuse (``ResourceLimitError``, before any write) a run whose replications at once
        would need more memory than this machine has (not with an executor, nor a plain resume).
    force:
        Replace the results in ``out`` (complete or partial); without it none is overwritten.
    pool:
        An open :class:`WorkerPool` several experiments share (a sweep's), for ``workers``.
    keep_parts:
        Keep ``parts/`` once the tables hold everything (default: packed, ``storage.pack_parts``).
    """
    scenario, names = checked_strategies(scenario, strategies)
    asked = {"replications": replications, "workers": workers, "precision": precision}
    memory = memory_check and executor is None and (not resume or replications is not None)
    _check_settings(scenario, names, asked, metric, max_replications, memory)
    folder = ResultsFolder(out) if out else ResultsFolder.timestamped(scenario.name)
    settings = _settings(scenario, names, asked, metric, max_replications)
    settings["keep_parts"] = keep_parts
    if resume:  # writing() takes the folder's own settings; a damaged manifest is rebuilt first
        heal_manifest(folder)
    with folder.writing(scenario, settings, resume=resume, force=force) as writing:
        if resume:
            _resumed(writing, asked, strategies)
        with contextlib.nullcontext(pool) if pool else WorkerPool(workers, executor) as running:
            metric = _fill(writing, running, scenario, progress, metric, max_replications, not pool)
    return Experiment(folder.root, metric)


def _resumed(writing: Writing, asked: dict[str, Any], strategies: list[str] | None) -> None:
    """Refuse settings a resume would ignore (it completes the folder as it was started, as
    ``relsim run --resume`` says) or cannot honour: fewer ``replications`` than the folder's,
    or other strategies or precision. More replications extend it (:mod:`.extend`)."""
    manifest, root = writing.manifest, writing.folder.root
    held, asked_for = manifest.get("replications_target"), asked["replications"]
    # a precision rule's target grew from the pilot size given; more than held extends
    if asked_for is not None and manifest.get("precision") is None and asked_for < held:
        raise checks.SettingError(
            f"{root} is a run of {held} replications per strategy (its "
            "manifest.json's replications_target); a resume can add replications, not take "
            f"them away (replications={asked_for}): leave it out, or read the "
            "first ones from the folder's tables"
        )
    kept = {"precision": manifest.get("precision"), "strategies": manifest.get("strategies")}
    differ: dict[str, Any] = {}
    if asked["precision"] is not None and asked["precision"] != kept["precision"]:
        differ["precision"] = asked["precision"]
    if strategies is not None and sorted(strategies) != sorted(kept["strategies"] or []):
        differ["strategies"] = strategies  # the same strategies in another order are fine
    if differ:
        shown = ", ".join(f"{k}={v!r} (the folder's: {kept[k]!r})" for k, v in differ.items())
        raise checks.SettingError(
            f"resume completes {root} as it was started (its manifest.json), so it would "
            f"ignore {shown}: leave them out, or start a new run in another folder"
        )
    if asked_for is not None:
        extend.widen(writing, asked_for)


def _check_settings(
    scenario: Scenario,
    names: list[str],
    settings: dict[str, Any],
    metric: str,
    max_replications: int,
    memory: bool,
) -> None:
    """Every setting of :func:`run_experiment` in its range, before any work
    (:class:`~relsim.experiment.checks.SettingError` names the one that is not), and with
    ``memory`` the memory check (:class:`~relsim.experiment.limits.ResourceLimitError`)."""
    replications, workers = settings["replications"], settings["workers"]
    precision = settings["precision"]
    if replications is not None:
        checks.count("replications", replications)
    if precision is not None:
        checks.share("precision", precision)
    checks.count("max_replications", max_replications, checks.MAX_REPLICATIONS)
    checks.metric(metric)
    pool_size = workers if workers is not None else os.cpu_count() or 1
    runs = replications or DEFAULT_REPLICATIONS
    limits.check_run(scenario, runs, pool_size, len(names))
    if memory:
        limits.check_memory(scenario, pool_size, runs * len(names))


def _settings(
    scenario: Scenario, names: list[str], asked: dict[str, Any], metric: str, max_replications: int
) -> dict[str, Any]:
    """The manifest's fields that describe a new experiment (the runner's settings)."""
    replications, precision = asked["replications"], asked["precision"]
    target = replications or (PILOT_REPLICATIONS if precision else DEFAULT_REPLICATIONS)
    return {
        "strategies": names,
        "baseline": baseline_of(scenario, names),
        "replications_target": target,
        "precision": precision,
        "metric": metric,
        "max_replications": max_replications,
    }


def _fill(
    writing: Writing,
    pool: WorkerPool,
    scenario: Scenario,
    progress: bool | None,
    metric: str,
    max_replications: int,
    announcing: bool = True,
) -> str:
    """Run the replications the folder still lacks and assemble its tables; returns the
    decision metric (a resumed folder's own). ``announcing``: a run of its own (not a sweep's
    design point) prints its estimate first when it is long or big."""
    folder, manifest = writing.folder, writing.manifest
    metric = manifest.get("metric", metric)
    max_replications = manifest.get("max_replications", max_replications)
    if _tables_stand(writing):
        return metric
    check = storage.check_parts(folder.root, manifest["strategies"], storage.run_settings(manifest))
    for line in check.lines():
        _say(f"relsim: resume: {line}")
    done = check.done
    if announcing:
        restart_clock()
        left = manifest["replications_target"] * len(manifest["strategies"]) - len(done)
        announce(limits.announcement(scenario, pool.workers, max(1, left)))
    held = storage.HeldParts(limits.held_tables_budget())
    target = _replicate(
        pool, scenario, folder, manifest, done, held, progress, metric, max_replications
    )
    storage.assemble(folder.root, manifest["strategies"], target, held)
    if not manifest.get("keep_parts"):
        run = storage.run_settings(manifest)
        storage.pack_parts(folder.root, manifest["strategies"], target, run)
    writing.completion["replications_per_strategy"] = target
    return metric


def _tables_stand(writing: Writing) -> bool:
    """Whether the folder's parts were packed into tables that match their record (a resume
    then has nothing to compute); packed tables that do not match are set aside, saying so,
    and every replication is computed again from its seed."""
    folder, manifest = writing.folder, writing.manifest
    packed, damage = storage.packed_tables(folder.root, manifest)
    if not packed:
        return False
    if damage is None:
        record = records.read_record(folder.root, records.TABLES_RECORD) or {}
        parts, names = record.get("packed_parts", 0), manifest["strategies"]
        if parts < manifest["replications_target"] * len(names):  # an extension under way
            folder.path(records.TABLES_RECORD).unlink()  # its parts were unpacked (extend.py)
            return False
        writing.completion["replications_per_strategy"] = parts // len(names)
        return True
    _say(
        f"relsim: resume: the tables the parts were packed into are damaged ({damage}); "
        "computing every replication again (the same numbers: each has its own seed)"
    )
    folder.path(records.TABLES_RECORD).unlink()
    return False


def heal_manifest(folder: ResultsFolder) -> None:
    """Before resuming: rebuild a damaged manifest from the parts' records (saying so), or
    refuse with what to do (:class:`~relsim.experiment.records.DamagedManifest`)."""
    if folder.manifest_path.exists():
        with folder.lock():
            done = storage.heal_manifest(folder)
        if done:
            _say(f"relsim: resume: {done}")


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def checked_strategies(
    scenario: Scenario | str | Path, strategies: list[str] | None
) -> tuple[Scenario, list[str]]:
    """The scenario (read when given a path) and the strategies to run (default: all of
    them), every name checked before any work is done."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    names = strategies or [s.name for s in scenario.strategies]
    for name in names:
        scenario.strategy(name)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise checks.SettingError(
            f"strategies: {', '.join(repr(n) for n in twice)} listed more than once "
            "(hint: name each strategy once; every strategy runs every replication)"
        )
    return scenario, names


def baseline_of(scenario: Scenario, names: list[str]) -> str:
    """The strategy the others are compared with: the scenario's baseline when it runs,
    else the first strategy that runs."""
    return scenario.baseline_strategy if scenario.baseline_strategy in names else names[0]


def _replicate(
    pool: WorkerPool,
    scenario: Scenario,
    folder: ResultsFolder,
    manifest: dict[str, Any],
    done: set[tuple[str, int]],
    held: storage.HeldParts,
    progress: bool | None,
    metric: str,
    max_replications: int,
) -> int:
    """Run the replications the manifest asks for that are not ``done`` (each written, and
    ``held`` for the tables while its budget lasts); with a precision rule, add batches until
    precise enough or at ``max_replications``. Returns how many replications per strategy the
    results hold."""
    out, names = folder.root, manifest["strategies"]
    precision = manifest.get("precision")
    target = manifest["replications_target"]
    while True:
        tasks = [(s, r) for r in range(target) for s in names if (s, r) not in done]
        _run_tasks(pool, scenario, tasks, out, progress, done, held, manifest)
        if precision is None or target >= max_replications:
            return target
        if _precise_enough(out, names, manifest["baseline"], target, metric, precision):
            return target
        target = min(max_replications, target + max(PILOT_REPLICATIONS, target // 2))
        manifest["replications_target"] = target
        folder.write_manifest(manifest)


def _run_tasks(
    pool: WorkerPool,
    scenario: Scenario,
    tasks: list[tuple[str, int]],
    out: Path,
    progress: bool | None,
    done: set[tuple[str, int]],
    held: storage.HeldParts,
    manifest: dict[str, Any],
) -> None:
    """Run ``tasks``, writing each part as it finishes (added to ``done``, and ``held`` for
    the tables while the budget lasts)."""
    label = out.name if out.parent.name == "points" else ""  # a sweep's design point
    bar = progress_of(len(tasks), progress, label)
    try:
        run = storage.run_settings(manifest)
        passes = in_passes(tasks, pool.workers, limits.markets_per_task(scenario))
        for _, results in pool.map(scenario, passes, replicate_pass):
            for (strategy, r), result in results.items():
                # a part on disk is a part counted: a Ctrl-C between its rename and its count
                # left the manifest one short of the parts kept
                with interrupts.sigint_held():
                    storage.write_part(out, strategy, r, result, run)
                    done.add((strategy, r))
                held.keep(strategy, r, result)
                bar.update()
    except BaseException:
        manifest["status"] = "partial"
        manifest["finished_parts"] = len(done)
        storage.write_manifest(out, manifest)
        raise
    finally:
        bar.close()


def _precise_enough(
    out: Path, names: list[str], baseline: str, replications: int, metric: str, precision: float
) -> bool:
    values = {
        s: np.array([storage.read_summary(out, s, r)[metric] for r in range(replications)])
        for s in names
    }
    scale = abs(values[baseline].mean()) or 1.0
    differences = paired_differences(values, baseline)
    return all(d.half_width <= precision * scale for d in differences.values())
