"""Several processes working on one optimization's study (issue 35, point 3).

The study lives in ``study.db``, a SQLite file that several processes **on one machine** may
open at once: each asks the study for a trial, evaluates it and tells the result, so N
processes run N trials at a time. :func:`helpers` starts N - 1 helper processes beside the
search of the process that started the optimization (``relsim optimize --study-workers N``);
:func:`join` adds one from another terminal (``relsim optimize --join DIR``). Helpers only
search; the starting process waits for the last trial and re-runs the best designs on fresh
seeds as usual.

What stays reproducible. A trial's numbers are a pure function of its lever values, the
scenario's seed and its replication count: replication ``r`` is seeded as every run's
replication ``r`` whichever process runs it, and so is the baseline's, which each process
runs (or reads from the study) for itself. The fresh re-evaluation is deterministic given the
candidates. What is not: which lever values are asked (the sampler learns from the trials
finished, and running, when it asks, and that depends on timing), and hence a trial's
replication count (it doubles while the trial can still reach the best estimate so far). With
one study worker the search is the sequential one, trial for trial.

Claims. The study must end with exactly ``trials`` finished trials. A process asks for a trial
only while fewer than ``trials`` are finished or running; a trial asked when those numbered
before it (the storage numbers trials atomically) already fill the count is failed at once,
before its levers are drawn. A killed worker's running trial falls silent (the heartbeat of
:data:`~relsim.experiment.optimize_search.HEARTBEAT`); after
:data:`~relsim.experiment.optimize_search.GRACE` seconds the next trial's start marks it
failed and another trial takes its place.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from relsim import extensions
from relsim.experiment.folder import ResultsFolder
from relsim.experiment.optimize_search import (
    CLAIMED,
    RESULT,
    STUDY_FILE,
    finished,
    open_study,
    search,
)
from relsim.experiment.optimize_trials import Problem
from relsim.experiment.pool import WorkerPool
from relsim.experiment.warm_ups import WARM_UPS
from relsim.scenario.model import Optimize

POLL = 1.0
"""Seconds the starting process waits between looks at the others' running trials."""
STOP_WAIT = 60.0
"""Seconds a helper gets to end once the search is over (or stopped) before it is ended."""
SIGNAL_WAIT = 2.0
"""Seconds a helper gets to end by itself after the starter stopped, before it is sent SIGINT."""


class Surplus(Exception):
    """A trial asked when the study's trials were all claimed (failed before its levers)."""


@dataclass
class Share:
    """How a process shares the study: ``worker`` 0 is the process that started the
    optimization (it samples as the sequential search and waits for the others' trials);
    another is a helper (a number unique on the machine, its process id: it keeps processes'
    samplers apart) that leaves once no trial is left to claim."""

    worker: int
    leaves: bool
    asked: int = -1

    def claimable(self, study: optuna.Study, trials: int) -> bool:
        """Whether fewer than ``trials`` trials are finished or running."""
        return len(study.get_trials(deepcopy=False, states=CLAIMED)) < trials

    def claim(self, study: optuna.Study, trial: optuna.Trial, trials: int) -> None:
        """Raise :class:`Surplus` when the trials numbered before ``trial`` fill the count."""
        self.asked = trial.number
        claims = study.get_trials(deepcopy=False, states=CLAIMED)
        if sum(t.number < trial.number for t in claims) >= trials:
            raise Surplus(f"the study already holds its {trials} trials")

    def wait(self, study: optuna.Study) -> None:
        """Fail the trials of workers whose heartbeat stopped, then wait a little."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optuna.storages.fail_stale_trials(study)
        time.sleep(POLL)

    def run(self, study: optuna.Study, objective: Callable[[optuna.Trial], Any]) -> bool:
        """One trial; False when it ended without a result: a surplus, or failed by another
        process while it ran (its heartbeat was late: a stopped process), so its place is
        claimed again."""
        level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # a surplus is no failure to show
        self.asked = -1
        try:
            study.optimize(objective, n_trials=1, catch=(Surplus,))
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError) as error:
            if not _failed_by_another(error):
                raise
            return False
        finally:
            optuna.logging.set_verbosity(level)
        return any(t.number == self.asked for t in finished(study))


def _failed_by_another(error: Exception) -> bool:
    """Whether ``error`` says the trial was finished by another process while it ran: its
    result could not be written (Optuna's UpdateFinishedTrialError) or told ("Cannot tell a
    FAIL trial", Optuna's ValueError)."""
    if isinstance(error, optuna.exceptions.UpdateFinishedTrialError):
        return True
    return str(error).startswith("Cannot tell a FAIL trial")


def search_shared(
    folder: ResultsFolder,
    study: optuna.Study,
    problem: Problem,
    block: Optimize,
    pool: WorkerPool,
    say: Callable[[str], None] | None,
    processes: tuple[int, int | None],
) -> None:
    """The search of the process that started the optimization in ``folder``, ``processes``
    being the study workers and each one's replication workers: on ``pool`` (one study
    worker: the sequential search, trial for trial, which processes joining later share), or
    beside helpers, each process then with a pool of its own (:func:`pool_size`; ``pool``,
    idle meanwhile, runs the fresh re-run after the search)."""
    study_workers, workers = processes
    if study_workers <= 1:  # alone, unless someone joins (--join): so it counts claims
        search(study, problem, pool, block.trials, block.sampler, say, Share(0, leaves=False))
        return
    size = pool_size(workers, study_workers)
    db = folder.path(STUDY_FILE)
    with WorkerPool(size, None) as own, helpers(db, problem, block, study_workers, size) as share:
        search(study, problem, own, block.trials, block.sampler, say, share)


def pool_size(workers: int | None, study_workers: int) -> int | None:
    """Each study worker's replication processes: ``workers``, or by default the cores
    divided between the study workers (None: all cores, for one study worker)."""
    if workers is not None or study_workers <= 1:
        return workers
    return max(1, (os.cpu_count() or 1) // study_workers)


@contextlib.contextmanager
def helpers(
    db: Path, problem: Problem, block: Optimize, study_workers: int, workers: int | None
) -> Iterator[Share | None]:
    """``study_workers - 1`` helper processes searching the study in ``db`` while the body
    runs the starting process's own search with the :class:`Share` yielded (None for one
    study worker: the sequential search; each process's replications run on ``workers``).
    On Ctrl-C or an error the helpers are stopped (their running trials are marked failed);
    they are always waited for."""
    count = study_workers - 1
    if count < 1:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    started = [
        context.Process(
            target=_help,
            args=(db, problem, block, workers, extensions.snapshot()),
            name=f"relsim-study-worker-{k}",
        )
        for k in range(1, count + 1)
    ]
    for process in started:
        process.start()
    try:
        yield Share(worker=0, leaves=False)
    except BaseException:
        for process in started:  # Ctrl-C in a terminal reached them too: let them end first
            process.join(SIGNAL_WAIT)
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGINT)
        raise
    finally:
        for process in started:
            process.join(STOP_WAIT)
            if process.is_alive():
                process.terminate()
                process.join()
            elif process.exitcode:
                print(
                    f"relsim: study worker {process.pid} ended with exit code "
                    f"{process.exitcode}; the others took its trials over",
                    file=sys.stderr,
                )


def _help(
    db: Path,
    problem: Problem,
    block: Optimize,
    workers: int | None,
    registered: dict[str, dict[str, Any]],
) -> None:
    """A helper process: the extensions of the starting process restored, then :func:`join`
    (Ctrl-C ends it quietly: its running trial is marked failed by Optuna)."""
    extensions.restore(registered)
    with contextlib.suppress(KeyboardInterrupt):
        search_with_others(db, problem, block, workers)


def join(out: Path, problem: Problem, block: Optimize, workers: int | None = None) -> int:
    """Help the optimization in folder ``out`` (started elsewhere, its ``problem`` and
    optimize ``block`` from that folder's scenario): search its study until no trial is
    left to claim. Returns the number of trials this process finished."""
    folder = ResultsFolder(out)
    db = folder.path(STUDY_FILE)
    if not db.is_file():
        raise FileNotFoundError(2, "no study to join (start the optimization first)", str(db))
    folder.check_model_version(folder.read_manifest())
    return search_with_others(db, problem, block, workers)


def search_with_others(db: Path, problem: Problem, block: Optimize, workers: int | None) -> int:
    """Search the study in ``db`` as a helper; the number of trials this process finished."""
    directions = [o.direction for o in problem.objectives] or None
    study = open_study(db, directions, fail_running=False)
    share = Share(worker=os.getpid(), leaves=True)
    before = _mine(study, share.worker)
    with warnings.catch_warnings(), WARM_UPS.kept_until_done(), WorkerPool(workers, None) as pool:
        warnings.simplefilter("ignore", category=Warning)
        search(study, problem, pool, block.trials, block.sampler, _helper_say, share)
    return _mine(study, share.worker) - before


def _mine(study: optuna.Study, worker: int) -> int:
    """How many finished trials worker ``worker`` ran."""
    return sum(t.user_attrs[RESULT].get("worker") == worker for t in finished(study))


def _helper_say(line: str) -> None:
    print(line.replace("relsim: ", f"relsim (study worker {os.getpid()}): ", 1), file=sys.stderr)


__all__ = ["Share", "helpers", "join", "pool_size", "search_shared", "search_with_others"]
