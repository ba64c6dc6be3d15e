"""Where replications run: the worker task and the pool that runs it.

:func:`replicate` is one replication of one strategy, an independent task for any
``concurrent.futures.Executor``; replication ``r`` of every strategy uses the same seed,
:func:`replication_seed` (common random numbers). :class:`WorkerPool` runs such tasks in this
process, in a process pool of its own (rebuilt when a worker dies), or on a given executor
(a Dask client's, say), with a bounded number in flight. A task's result depends only on its
scenario, strategy and replication index, never on the worker or the order of completion.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from relsim import extensions
from relsim.experiment import interrupts, storage
from relsim.experiment.warm_ups import WARM_UPS
from relsim.model.market_pass import simulate_markets
from relsim.results import Run
from relsim.scenario import Scenario
from relsim.simulation import simulate


def replication_seed(root_seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``r``: child ``r`` of ``SeedSequence(root_seed)``."""
    return np.random.SeedSequence(entropy=root_seed, spawn_key=(replication,))


def replicate(scenario: Scenario, strategy: str, replication: int) -> dict[str, Any]:
    """One replication of one strategy: the summary and the tidy tables (the worker task;
    importable and picklable, so any executor can run it)."""
    run = simulate(scenario, strategy=strategy, seed=replication_seed(scenario.seed, replication))
    return _tables(run, strategy, replication)


def replicate_pass(
    scenario: Scenario, tasks: tuple[tuple[str, int], ...], first: int
) -> dict[tuple[str, int], dict[str, Any]]:
    """(strategy, replication) ``tasks`` in one pass of markets
    (:mod:`relsim.model.market_pass`): for each, what :func:`replicate` gives, to the bit,
    with the week's work over customers done once for all of them and the strategies of one
    replication sharing its warm-up. ``first``: the first task's replication (for messages)."""
    seeds = {r: replication_seed(scenario.seed, r) for _, r in tasks}
    raws = simulate_markets(scenario, [(scenario.strategy(s), seeds[r]) for s, r in tasks])
    out = {}
    for (s, r), raw in zip(tasks, raws, strict=True):
        out[s, r] = _tables(Run(raw, seeds[r]), s, r)
    return out


def _tables(run: Run, strategy: str, replication: int) -> dict[str, Any]:
    keys = {"strategy": strategy, "replication": replication}
    out: dict[str, Any] = {"summary": {k: v for k, v in run.summary.items() if k != "seconds"}}
    out["summary"]["seconds"] = run.summary["seconds"]
    for name in storage.TABLES:
        # the keys inserted in front of a shallow copy: assign() and then reordering the
        # columns copied every column twice (8 ms of a classroom part's 17, now 2). Without
        # copy-on-write (pandas 2) the copy shares its columns with the run's: the run is not
        # used after this
        frame = getattr(run, name).copy(deep=False)
        for at, (key, value) in enumerate(keys.items()):
            frame.insert(at, key, value)
        out[name] = frame
    return out


def in_passes(
    tasks: list[tuple[str, int]], workers: int, most: int | None = None
) -> list[tuple[tuple[tuple[str, int], ...], int]]:
    """(strategy, replication) tasks as tasks of :func:`replicate_pass`: passes of at most
    ``most`` markets (a bound on a task's memory and time:
    :func:`relsim.experiment.limits.markets_per_task`), whole replications together where a
    pass holds several (their strategies share the warm-up) and, with several workers, a pass
    per worker at least, so that none waits (a replication's strategies split into pieces
    where there are fewer replications than workers). Results do not depend on the
    grouping (none where there are none: a resumed run whose replications are all done)."""
    if not tasks:
        return []
    replications: dict[int, list[str]] = {}
    for strategy, r in tasks:
        replications.setdefault(r, []).append(strategy)
    wanted = max(1, workers)  # a pass per worker: more passes would share less
    most = most or len(tasks)
    size = max(1, min(len(tasks) // wanted, most))
    widest = max((len(names) for names in replications.values()), default=1)
    out: list[tuple[tuple[str, int], ...]] = []
    if size >= widest:  # whole replications, spread evenly over a multiple of the workers
        out = _whole_replications(replications, wanted, size)
    else:  # a replication's strategies in even pieces of at most ``size``, enough of them
        spread = -(-wanted // len(replications))
        for r, names in replications.items():
            pieces = max(-(-len(names) // most), min(len(names), spread))
            for part in np.array_split(np.arange(len(names)), pieces):
                out.append(tuple((names[i], r) for i in part))
    return [(group, group[0][1]) for group in out]


def _whole_replications(
    replications: dict[int, list[str]], workers: int, most: int
) -> list[tuple[tuple[str, int], ...]]:
    """Whole replications in passes of at most ``most`` markets, as few as may be but a
    multiple of ``workers`` (the last round of passes keeps every worker busy: 180 markets in
    passes of at most 72 on two workers go 45 a pass, not 72, 72 and 36), each holding
    consecutive replications, as evenly as they split."""
    groups = [[(s, r) for s in names] for r, names in replications.items()]
    tasks = sum(len(group) for group in groups)
    passes = -(-max(workers, -(-tasks // most)) // workers) * workers
    while True:
        cuts = np.array_split(np.arange(len(groups)), min(passes, len(groups)))
        out = [tuple(task for i in cut for task in groups[i]) for cut in cuts if len(cut)]
        if max(len(group) for group in out) <= most or passes >= len(groups):
            return out
        passes += workers


def summarize(scenario: Scenario, strategy: str, replication: int) -> dict[str, Any]:
    """One replication's summary only, seeded as :func:`replicate` (a search's task: no tables
    to build or to send back). Its warm-up is kept for the search's next trials
    (:mod:`relsim.experiment.warm_ups`): the same numbers, one warm-up per replication."""
    seed = replication_seed(scenario.seed, replication)
    raw = WARM_UPS.simulate(scenario, scenario.strategy(strategy), seed)
    return {"summary": Run(raw, seed).summary}


def start_worker(registered: dict[str, dict[str, Any]], parent: int, on_main: bool) -> None:
    """A worker process's initializer: die with the main process ``parent``, however it ends
    (SIGKILL included), then start as :func:`relsim.experiment.interrupts.start_worker` says
    and freeze what it has imported out of the garbage collector's reach.

    Two guards. On Linux, when the pool was made on the main thread (the parent-death signal
    follows the thread that spawned the worker, and the main thread lives as long as the
    process), the kernel sends SIGKILL the moment the parent ends. Everywhere, a daemon thread
    polls the parent's process id every :data:`PARENT_POLL` seconds and ends the worker once it
    changes. A worker holds no file of the results folder open, so ending it loses nothing;
    multiprocessing's resource tracker then sees its pipe close and ends as well."""
    if on_main and sys.platform.startswith("linux"):
        _parent_death_signal()
    if os.getppid() != parent:  # the parent ended before the guards were in place
        os._exit(1)
    watch = threading.Thread(target=_watch_parent, args=(parent,), daemon=True)
    watch.start()
    interrupts.start_worker(registered)
    # what the start-up imported (numpy, pandas, pydantic's models) lives as long as the
    # worker: frozen, the collector's passes and the interpreter's exit leave it alone. The
    # pool's end waits for its workers' exit: 0.21 s for two such workers, 0.04 s frozen
    gc.freeze()


PARENT_POLL = 0.5
"""Seconds between a worker's checks that its main process is still there."""


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _parent_death_signal() -> None:
    """Ask Linux to SIGKILL this process when its parent ends (``PR_SET_PDEATHSIG``)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG


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
        # answer Ctrl-C only inside a replication (see relsim.experiment.interrupts) and end
        # when this process ends (start_worker)
        on_main = threading.current_thread() is threading.main_thread()
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker,
            initargs=(extensions.snapshot(), os.getpid(), on_main),
        )

    def start_workers(self) -> None:
        """Start every worker process of our own pool now, from this thread. A pool that other
        threads use later (the live classroom's) calls it on the main thread: a worker that a
        short-lived thread started would end with that thread (the parent-death signal of
        :func:`start_worker` follows the thread that spawned the worker)."""
        if self.executor is None or self.external is not None:
            return
        # a submit starts a new worker unless one is idle, and none is before the first answer;
        # held from SIGINT like every spawn (a worker importing relsim must not see Ctrl-C)
        with interrupts.sigint_held():
            started = [self.executor.submit(os.getpid) for _ in range(self.workers)]
        cf.wait(started)

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        if self.executor is not None and self.external is None:
            if error is not None:  # Ctrl-C or a failure: unfinished replications are abandoned
                interrupts.stop_workers(self.executor)
            self.executor.shutdown(wait=True, cancel_futures=True)

    def _submit(
        self, scenario: Scenario, task: tuple[Any, int], work: Any = replicate
    ) -> cf.Future[dict[str, Any]]:
        assert self.executor is not None
        if self.external is not None:
            return self.executor.submit(work, scenario, *task)
        return self.executor.submit(interrupts.run_task, work, scenario, *task)

    def _fill(
        self,
        scenario: Scenario,
        queue: deque[tuple[Any, int]],
        pending: dict[cf.Future[dict[str, Any]], tuple[Any, int]],
        limit: int,
        work: Any,
    ) -> bool:
        """Submit queued tasks until ``limit`` are pending; True when the pool is broken."""
        while queue and len(pending) < limit:
            task = queue.popleft()
            try:
                with interrupts.sigint_held():  # a submit may spawn a worker
                    future = self._submit(scenario, task, work)
                pending[future] = task
            except BrokenProcessPool:  # the pool noticed a dead worker first
                queue.appendleft(task)
                return True
        return False

    def map(
        self, scenario: Scenario, tasks: list[tuple[Any, int]], work: Any = replicate
    ) -> Iterator[tuple[tuple[Any, int], dict[str, Any]]]:
        """Run ``work`` (:func:`replicate`, or :func:`summarize`) on every (strategy,
        replication) task, yielding results as they finish."""
        if self.executor is None:
            for task in tasks:
                yield task, work(scenario, *task)
            return
        limit = 2 * self.workers
        pending: dict[cf.Future[dict[str, Any]], tuple[Any, int]] = {}
        queue = deque(tasks)
        deaths: dict[tuple[Any, int], int] = {}
        fruitless = 0  # pool rebuilds since the last finished task
        try:
            while queue or pending:
                broken = self._fill(scenario, queue, pending, limit, work)
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


def _death_message(scenario: Scenario, task: tuple[Any, int]) -> str:
    strategy, r = task
    label = f"strategy {strategy!r}"
    if isinstance(strategy, tuple):  # a pass of (strategy, replication) tasks (in_passes)
        names = dict.fromkeys(name for name, _ in strategy)
        replications = sorted({rep for _, rep in strategy})
        label = "strategies " + ", ".join(repr(name) for name in names)
        if len(replications) > 1:
            label += f" (replications {replications[0]} to {replications[-1]}; the first"
            label += " shown)"
    if hasattr(scenario, "locate"):  # several scenarios in one map (optimize_robust.AtDraws)
        scenario, r = scenario.locate(r)
    return (
        f"a worker process died running {label}, replication {r} (seed: child "
        f"{r} of SeedSequence({scenario.seed})); finished replications are kept, so the run can "
        "be resumed once the cause (often memory) is fixed"
    )
