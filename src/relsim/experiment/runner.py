"""Monte Carlo experiments: every strategy, many replications, common random numbers.

Replication ``r`` of every strategy uses the same seed, ``SeedSequence(scenario.seed)``'s child
``r`` (common random numbers), so differences between strategies are paired. Each replication
is an independent task for any ``concurrent.futures.Executor`` -- a process pool by default,
none with ``workers=1``, a Dask ``distributed`` client's executor for clusters. A task's result
depends only on its scenario, strategy and replication index, never on the worker or the order
of completion, so results are identical for any number of workers and any executor, and a
resumed run equals an uninterrupted one bit for bit.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim import extensions
from relsim.analysis.value import decomposition, part_values
from relsim.experiment import interrupts, limits, storage
from relsim.experiment.folder import ResultsFolder
from relsim.scenario import Scenario, load_scenario
from relsim.simulation import simulate
from relsim.statistics import (
    Interval,
    could_be_best,
    mean_interval,
    paired_differences,
    probability_best,
)

DEFAULT_REPLICATIONS = 30
DEFAULT_METRIC = "npv_with_residual"
PILOT_REPLICATIONS = 10


def replication_seed(root_seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``r``: child ``r`` of ``SeedSequence(root_seed)``."""
    return np.random.SeedSequence(entropy=root_seed, spawn_key=(replication,))


def replicate(scenario: Scenario, strategy: str, replication: int) -> dict[str, Any]:
    """One replication of one strategy: the summary and the tidy tables (the worker task;
    importable and picklable, so any executor can run it)."""
    run = simulate(scenario, strategy=strategy, seed=replication_seed(scenario.seed, replication))
    keys = {"strategy": strategy, "replication": replication}
    out: dict[str, Any] = {"summary": {k: v for k, v in run.summary.items() if k != "seconds"}}
    out["summary"]["seconds"] = run.summary["seconds"]
    for name in storage.TABLES:
        frame = getattr(run, name)
        out[name] = frame.assign(**keys)[[*keys, *frame.columns]]
    return out


class Experiment:
    """The results of an experiment folder: tables as DataFrames and their statistics."""

    def __init__(self, out: Path, metric: str = DEFAULT_METRIC):
        self.out = Path(out)
        self.manifest = storage.read_manifest(self.out)
        self.metric = metric
        self.baseline = self.manifest["baseline"]
        self.strategies: list[str] = self.manifest["strategies"]

    @classmethod
    def load(cls, out: str | Path, metric: str = DEFAULT_METRIC) -> Experiment:
        """Open a finished results folder."""
        return cls(Path(out), metric)

    def _table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.out / f"{name}.parquet")

    @property
    def replications(self) -> pd.DataFrame:
        """One row per strategy x replication, every summary metric."""
        return self._table("replications")

    @property
    def weekly(self) -> pd.DataFrame:
        return self._table("weekly")

    @property
    def ladder(self) -> pd.DataFrame:
        return self._table("ladder")

    @property
    def defections(self) -> pd.DataFrame:
        return self._table("defections")

    @property
    def survival(self) -> pd.DataFrame:
        """Kaplan-Meier survival of each replication's new focal customers by week since
        acquisition (strategy x replication x week)."""
        return self._table("survival")

    @property
    def focal(self) -> str:
        """Name of the focal firm (listed first in every table)."""
        firm = pd.read_parquet(self.out / "weekly.parquet", columns=["firm"])["firm"]
        return str(firm.iloc[0])

    @property
    def moves(self) -> pd.DataFrame:
        """Every firm's moves (launches, copies, raises, price moves) per replication."""
        return self._table("moves")

    def values(self, metric: str | None = None) -> dict[str, np.ndarray]:
        """The metric per strategy, aligned by replication (paired)."""
        return self._values(self.replications, metric or self.metric)

    def _values(self, replications: pd.DataFrame, metric: str) -> dict[str, np.ndarray]:
        table = replications.sort_values(["strategy", "replication"])
        return {s: table.loc[table["strategy"] == s, metric].to_numpy() for s in self.strategies}

    def summary(self, metrics: list[str] | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """Per strategy and metric: mean, 95% CI, half-width relative to the mean, n."""
        metrics = metrics or [self.metric]
        rows = []
        for metric in metrics:
            for strategy, values in self.values(metric).items():
                ci = mean_interval(values, confidence)
                rows.append(
                    {
                        "strategy": strategy,
                        "metric": metric,
                        "mean": ci.mean,
                        "low": ci.low,
                        "high": ci.high,
                        "relative_half_width": ci.relative_half_width,
                        "n": ci.n,
                    }
                )
        return pd.DataFrame(rows)

    def compare(
        self, baseline: str | None = None, metric: str | None = None, confidence: float = 0.95
    ) -> pd.DataFrame:
        """Paired differences against the baseline with Bonferroni-simultaneous CIs, the share
        of replications in which each strategy is best (Wilson CI), and whether the multiple-
        comparisons-with-the-best screen keeps it as possibly best.

        Then, whatever the metric, where the value comes from: for each part of
        ``npv_with_residual`` -- ``npv`` (within the horizon), ``residual_value`` (after it;
        also ``residual_margin`` and ``residual_costs`` when the summary has them) and the
        total -- the columns ``<part>_mean``, ``<part>_difference``, ``<part>_difference_low``
        and ``<part>_difference_high`` (paired, simultaneous as above)."""
        baseline = baseline or self.baseline
        replications = self.replications
        values = self._values(replications, metric or self.metric)
        differences = paired_differences(values, baseline, confidence)
        best = probability_best(values, confidence)
        keep = set(could_be_best(values, confidence))
        rows = []
        for strategy in self.strategies:
            d = differences.get(strategy, Interval(0.0, 0.0, 0.0, len(values[strategy])))
            rows.append(
                {
                    "strategy": strategy,
                    "mean": float(np.mean(values[strategy])),
                    "difference": d.mean,
                    "difference_low": d.low,
                    "difference_high": d.high,
                    "significant": strategy != baseline and d.excludes_zero(),
                    "p_best": best[strategy].mean,
                    "p_best_low": best[strategy].low,
                    "p_best_high": best[strategy].high,
                    "could_be_best": strategy in keep,
                }
            )
        table = pd.DataFrame(rows)
        parts = decomposition(part_values(replications, self.strategies), baseline, confidence)
        for part, rows_of_part in parts.groupby("part", sort=False):
            by = rows_of_part.set_index("strategy").reindex(table["strategy"])
            for column in ("mean", "difference", "difference_low", "difference_high"):
                table[f"{part}_{column}"] = by[column].to_numpy()
        return table


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
) -> Experiment:
    """Run every strategy of ``scenario`` over many replications and store the results.

    Parameters
    ----------
    replications:
        Replications per strategy (default 30). With ``precision`` it is the pilot size.
    workers:
        Processes (default: all cores); 1 runs in this process. Ignored with ``executor``.
    executor:
        Any ``concurrent.futures.Executor`` (e.g. a Dask client's ``get_executor()``); it is
        used as given and not shut down.
    out:
        Results folder (default ``results/<scenario>-<timestamp>``).
    resume:
        Complete the unfinished run in ``out``: finished replications are kept, the rest run.
    progress:
        Progress bar on stderr (default: when stderr is a terminal).
    precision:
        Relative precision rule: after the pilot, add replications in batches until the 95% CI
        half-width of every paired difference on ``metric`` against the baseline is at most
        ``precision`` x |baseline mean|, or ``max_replications`` is reached.
    memory_check:
        Refuse (``ResourceLimitError``, before anything is written) a run whose replications
        at once would need more memory than this machine has available; off with an
        executor (the work runs elsewhere).
    force:
        Replace the results already in ``out`` (complete or partial). Without it a folder
        holding results is never overwritten.
    pool:
        A :class:`WorkerPool` already open, shared by several experiments (sweeps pass one,
        so worker processes start once); ``workers`` and ``executor`` are then ignored.
    """
    started = time.time()
    scenario, names = checked_strategies(scenario, strategies)
    if memory_check and executor is None and not resume:
        pool_size = workers or os.cpu_count() or 1
        runs = (replications or DEFAULT_REPLICATIONS) * len(names)
        limits.check_memory(scenario, pool_size, runs)
    folder = (ResultsFolder(out) if out else ResultsFolder.timestamped(scenario.name)).create()
    with folder.lock():  # two runs never write into one folder
        if resume:
            manifest = folder.reopen(scenario)
            folder.check_model_version(manifest)
        else:
            target = replications or (PILOT_REPLICATIONS if precision else DEFAULT_REPLICATIONS)
            settings = {
                "strategies": names,
                "baseline": baseline_of(scenario, names),
                "replications_target": target,
                "precision": precision,
                "metric": metric,
                "max_replications": max_replications,
            }
            manifest = folder.start(scenario, settings, force)
        metric = manifest.get("metric", metric)
        max_replications = manifest.get("max_replications", max_replications)
        done = storage.done_parts(folder.root)
        with contextlib.nullcontext(pool) if pool else WorkerPool(workers, executor) as pool:
            target = _replicate(
                pool, scenario, folder, manifest, done, progress, metric, max_replications
            )
        storage.assemble(folder.root, manifest["strategies"], target)
        folder.complete(manifest, started, replications_per_strategy=target)
    return Experiment(folder.root, metric)


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
    progress: bool | None,
    metric: str,
    max_replications: int,
) -> int:
    """Run the replications the manifest asks for that are not ``done``; with a precision
    rule, add batches until precise enough or at ``max_replications``. Returns how many
    replications per strategy the results hold."""
    out, names = folder.root, manifest["strategies"]
    precision = manifest.get("precision")
    target = manifest["replications_target"]
    while True:
        tasks = [(s, r) for r in range(target) for s in names if (s, r) not in done]
        _run_tasks(pool, scenario, tasks, out, progress, done, manifest)
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
    manifest: dict[str, Any],
) -> None:
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(tasks), disable=not show, unit="run", desc="replications", file=sys.stderr)
    try:
        for (strategy, r), result in pool.map(scenario, tasks):
            storage.write_part(out, strategy, r, result)
            done.add((strategy, r))
            bar.update(1)
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


class WorkerDied(RuntimeError):
    """A worker process died (killed, out of memory) while running a replication."""


class WorkerPool:
    """Runs tasks in this process, in a process pool, or on a given executor, with a bounded
    number of tasks in flight, yielding results as they finish.

    If a worker process dies, our own pool is rebuilt and the unfinished tasks are submitted
    again (a task's result does not depend on where it runs); a task that breaks the pool twice,
    or a death on an external executor, is reported with its strategy, replication and seed."""

    def __init__(self, workers: int | None, executor: cf.Executor | None):
        self.external = executor
        self.workers = 1 if executor is None and workers == 1 else (workers or os.cpu_count() or 1)
        self.executor = executor

    def __enter__(self) -> WorkerPool:
        if self.executor is None and self.workers > 1:
            self.executor = self._new_pool()
        return self

    def _new_pool(self) -> cf.Executor:
        # registered extensions travel to the workers (pickled by reference); the workers
        # answer Ctrl-C only inside a replication (see relsim.experiment.interrupts)
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=interrupts.start_worker,
            initargs=(extensions.snapshot(),),
        )

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        if self.executor is not None and self.external is None:
            if error is not None:  # Ctrl-C or a failure: unfinished replications are abandoned
                interrupts.stop_workers(self.executor)
            self.executor.shutdown(wait=True, cancel_futures=True)

    def _submit(self, scenario: Scenario, task: tuple[str, int]) -> cf.Future[dict[str, Any]]:
        assert self.executor is not None
        if self.external is not None:
            return self.executor.submit(replicate, scenario, *task)
        return self.executor.submit(interrupts.run_task, replicate, scenario, *task)

    def map(
        self, scenario: Scenario, tasks: list[tuple[str, int]]
    ) -> Iterator[tuple[tuple[str, int], dict[str, Any]]]:
        if self.executor is None:
            for task in tasks:
                yield task, replicate(scenario, *task)
            return
        limit = 2 * self.workers
        pending: dict[cf.Future[dict[str, Any]], tuple[str, int]] = {}
        queue = deque(tasks)
        deaths: dict[tuple[str, int], int] = {}
        fruitless = 0  # pool rebuilds since the last finished task
        try:
            while queue or pending:
                broken = False
                while queue and len(pending) < limit:
                    task = queue.popleft()
                    try:
                        with interrupts.sigint_held():  # a submit may spawn a worker
                            future = self._submit(scenario, task)
                        pending[future] = task
                    except BrokenProcessPool:  # the pool noticed a dead worker first
                        queue.appendleft(task)
                        broken = True
                        break
                finished = (
                    cf.wait(pending, return_when=cf.FIRST_COMPLETED)[0]
                    if (pending and not broken)
                    else set()
                )
                for future in finished:
                    task = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        deaths[task] = deaths.get(task, 0) + 1
                        if deaths[task] > 1 or self.external is not None:
                            raise WorkerDied(_death_message(scenario, task)) from None
                        queue.appendleft(task)
                        continue
                    fruitless = 0
                    yield task, result
                if broken:  # every task still in the dead pool must run again
                    if self.external is not None:
                        raise WorkerDied(_death_message(scenario, queue[0]))
                    fruitless += 1
                    if fruitless > MAX_FRUITLESS_RESTARTS:
                        raise WorkerDied(
                            "worker processes keep dying before finishing any "
                            "replication; " + _death_message(scenario, queue[0])
                        )
                    queue.extendleft(reversed(list(pending.values())))
                    pending.clear()
                    assert self.executor is not None
                    self.executor.shutdown(wait=False, cancel_futures=True)
                    self.executor = self._new_pool()
        finally:
            for future in pending:
                future.cancel()


MAX_FRUITLESS_RESTARTS = 3
"""Pool rebuilds allowed without a replication finishing in between."""


def _death_message(scenario: Scenario, task: tuple[str, int]) -> str:
    strategy, r = task
    return (
        f"a worker process died running strategy {strategy!r}, replication {r} (seed: child "
        f"{r} of SeedSequence({scenario.seed})); finished replications are kept, so the run can "
        "be resumed once the cause (often memory) is fixed"
    )
