"""Several processes on one optimization's study (issue 35, point 3): the requested number of
trials, none lost or run twice, and every trial's numbers those of its levers alone, whichever
process ran it; a helper claims only what is left, and a killed worker's trial is taken over.

The processes test uses the synthetic instrument of ``tests/test_optimize.py`` (its paired
difference is a known function of the lever plus noise drawn from the replication's market),
with a rendezvous: each process's first trial waits until the other process has begun one
(a file per process in a folder the test names), so both processes surely run trials at the
same time, whatever their start-up times (waiting at most a minute; then the test fails on
the count of workers instead of hanging).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest

import relsim.extensions as ext
from relsim.experiment import optimize_search
from relsim.experiment.folder import ResultsFolder
from relsim.experiment.optimize import optimize, parse_lever, problem_of, with_levers
from relsim.experiment.optimize_final import Settings, reevaluate
from relsim.experiment.optimize_search import RESULT, STUDY_FILE, finished, open_study, search
from relsim.experiment.optimize_shared import Share, Surplus
from relsim.experiment.optimize_trials import paired, rows_of
from relsim.experiment.pool import WorkerPool
from relsim.scenario import Scenario
from relsim.scenario.paths import with_values
from tests.conftest import relsim
from tests.test_optimize import LEVER, Synthetic, quiet, synthetic_scenario
from tests.test_optimize_points import REWARD, small_classroom

MEET = "RELSIM_TEST_OPTIMIZE_MEET"
"""The environment variable naming the rendezvous folder (inherited by spawned processes)."""
RUNNING = (optuna.trial.TrialState.RUNNING,)


class Rendezvous(Synthetic):
    """The synthetic instrument; its first use in a process waits for the other process."""

    met = False

    def weekly(self, market: Any, week: int) -> dict[str, float]:
        folder = os.environ.get(MEET)
        if folder and not Rendezvous.met:
            Rendezvous.met = True
            Path(folder, str(os.getpid())).touch()
            patience = time.monotonic() + 60.0
            while len(list(Path(folder).iterdir())) < 2 and time.monotonic() < patience:
                time.sleep(0.05)
        return super().weekly(market, week)


ext.register_instrument("optimize_test_rendezvous", Rendezvous)


def meeting_scenario(**settings: Any) -> Scenario:
    data = synthetic_scenario(**settings).model_dump(mode="json")
    data["strategies"][1]["instruments"][0]["name"] = "optimize_test_rendezvous"
    return Scenario.model_validate(data)


def test_two_processes_share_one_study_and_each_trial_is_its_levers_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``study_workers=2``: the study ends with exactly the 8 trials asked, each finished once
    (no running or extra trial left), 8 distinct designs, run by both processes; each trial's
    replications and estimate equal a re-evaluation of its levers alone in this process, and
    the fresh re-run of the candidates is the one the trials table gives."""
    (tmp_path / "meet").mkdir()
    monkeypatch.setenv(MEET, str(tmp_path / "meet"))
    monkeypatch.setattr(Rendezvous, "met", False)
    s = meeting_scenario(trials=8)
    result = optimize(s, workers=1, out=tmp_path / "o", say=quiet, study_workers=2)
    study = open_study(tmp_path / "o" / STUDY_FILE, fail_running=False)
    done = finished(study)
    assert len(done) == len(result.trials) == 8
    assert not study.get_trials(states=RUNNING)
    assert len({t.user_attrs[RESULT]["params"][LEVER] for t in done}) == 8
    workers = Counter(t.user_attrs[RESULT]["worker"] for t in done)
    assert len(workers) == 2 and workers[0] >= 1, workers
    problem = problem_of(s)
    with WorkerPool(1, None) as pool:
        for trial in done:
            a = trial.user_attrs[RESULT]
            n = range(a["n"])
            variant = with_values(problem.scenario, a["params"])
            rows = rows_of(pool, variant, problem.strategy, n, problem.columns)
            base = rows_of(pool, problem.scenario, problem.baseline, n, problem.columns)
            assert rows == a["rows"]
            alone = paired(rows, base, problem.metric, problem.confidence)
            assert alone["estimate"] == a["estimate"] == trial.value
        block = s.optimize
        assert block is not None
        fresh = Settings.of(block)
        table, _, _ = reevaluate(pool, problem, result.trials, fresh)
    pd.testing.assert_frame_equal(table, result.candidates)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_helper_claims_only_what_is_left_and_a_silent_trial_is_taken_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds a running trial of a 3-trial study: a helper runs 2 and leaves;
    a trial asked once the 3 places are claimed is refused before its levers are drawn; when
    the holder's heartbeat stops, the starting process fails its trial and runs the third."""
    monkeypatch.setattr(optimize_search, "HEARTBEAT", 1)
    monkeypatch.setattr(optimize_search, "GRACE", 1)
    problem = problem_of(synthetic_scenario(trials=3))
    db = tmp_path / STUDY_FILE
    study = open_study(db)
    other = open_study(db, fail_running=False)  # another process's view
    held = other.ask()
    other._storage.record_heartbeat(held._trial_id)
    with WorkerPool(1, None) as pool:
        search(study, problem, pool, 3, "tpe", quiet, Share(worker=99, leaves=True))
        assert len(finished(study)) == 2
        assert [t.number for t in study.get_trials(states=RUNNING)] == [held.number]
        late = other.ask()
        with pytest.raises(Surplus):
            Share(worker=98, leaves=True).claim(study, late, 3)
        other.tell(late, state=optuna.trial.TrialState.FAIL)
        search(study, problem, pool, 3, "tpe", quiet, Share(worker=0, leaves=False))
    assert len(finished(study)) == 3
    assert study.trials[held.number].state == optuna.trial.TrialState.FAIL
    assert {t.user_attrs[RESULT]["worker"] for t in finished(study)} == {99, 0}


def test_a_trial_failed_by_another_process_while_it_ran_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process whose heartbeat was late (suspended) finds its trial failed by another when
    it ends: its result is dropped, not an error, and a new trial takes the place."""
    problem = problem_of(synthetic_scenario(trials=1))
    db = tmp_path / STUDY_FILE
    study = open_study(db)
    other = open_study(db, fail_running=False)
    real = optimize_search.evaluate
    calls = {"n": 0}

    def failed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            (running,) = other.get_trials(states=RUNNING)
            other._storage.set_trial_state_values(running._trial_id, optuna.trial.TrialState.FAIL)
        return real(*args, **kwargs)

    monkeypatch.setattr(optimize_search, "evaluate", failed_meanwhile)
    with WorkerPool(1, None) as pool:
        search(study, problem, pool, 1, "tpe", quiet, Share(worker=0, leaves=False))
    states = [t.state for t in study.get_trials()]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]


@pytest.mark.subprocess
def test_join_from_another_terminal_searches_and_leaves_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An optimization stopped before its first trial; ``relsim optimize --join DIR`` runs its
    2 trials and leaves the folder to its starter (still partial), which resumes to the answer
    with no trial more."""
    s = with_levers(
        small_classroom(),
        [parse_lever(f"{REWARD}=30:210")],
        trials=2,
        replications=2,
        max_replications=2,
        fresh_replications=3,
        max_fresh_replications=3,
    )
    out = tmp_path / "o"

    def stopping(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(optimize_search, "evaluate", stopping)
    with pytest.raises(KeyboardInterrupt):
        optimize(s, workers=1, out=out, say=quiet)
    monkeypatch.undo()
    done = relsim("optimize", "--join", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "trial 2 of 2" in done.stderr and "this process ran 2 trials" in done.stderr
    assert not ResultsFolder(out).is_complete()
    resumed = optimize(s, workers=1, out=out, resume=True, say=quiet)
    assert len(resumed.trials) == 2
    assert len(finished(open_study(out / STUDY_FILE))) == 2
