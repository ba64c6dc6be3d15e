"""The classroom page's computation: journeys from one shared warm-up, a thread beside the
workers, and the live server's workers and journeys kept between recomputations."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from relsim import load_scenario
from relsim.experiment.pool import WorkerPool
from relsim.simulation import simulate
from relsim.viz import demo
from relsim.viz.demo import demo_data, kept_share
from relsim.viz.demo_serve import make_server
from tests.conftest import SCENARIOS
from tests.test_demo import _tiny_scenario

SHOWN = ["transactional", "price_cut", "points_card"]


def test_the_journeys_are_those_of_a_separate_run_of_each_strategy(tmp_path: Path) -> None:
    """The page's journeys share one warm-up; every customer's journey (through the share of
    week 0's customers kept, which reads all of them) is what a run of each strategy on its
    own gives. Fails if the runs of the shared warm-up drift from separate runs."""
    path = _tiny_scenario(tmp_path)
    coded, kept = demo._journeys(path, {"firms.1.price_index": 0.95}, SHOWN, 3)
    traced = load_scenario(
        path, overrides={"firms.1.price_index": 0.95, "trace_share": 1.0, "seed": 3}
    )
    for name in SHOWN:
        journeys = simulate(traced, strategy=name, seed=3).journeys
        assert kept[name] == kept_share(journeys, traced.firms[0].name, traced.horizon.weeks)
    assert kept[SHOWN[0]] != kept[SHOWN[1]]  # the strategies' journeys differ
    assert set(coded) == set(SHOWN)


def _without_clock(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("seconds", "written")}


@pytest.mark.subprocess
def test_the_page_has_the_same_numbers_with_its_journeys_beside_the_workers(
    tmp_path: Path,
) -> None:
    """With two workers the journeys are simulated in a thread while the workers run the
    experiment; with one, one after the other in this process: the same page data."""
    path = _tiny_scenario(tmp_path)
    options = {"replications": 2, "levers": [], "seed": 4, "strategies": SHOWN}
    alone = demo_data(path, workers=1, **options)
    beside = demo_data(path, workers=2, **options)
    assert _without_clock(beside) == _without_clock(alone)


def _ended(pid: int, within: float = 60.0) -> bool:
    """Whether process ``pid`` has ended (or ends within ``within`` seconds); a child that
    ended but was not waited for yet (a zombie) counts as ended."""
    end = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                if stat.read().split(")")[-1].split()[0] == "Z":
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.1)


@pytest.mark.subprocess
def test_the_live_server_keeps_its_workers_and_simulates_journeys_once_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lever change is computed by the workers the server started (not new ones), its
    second stage reuses the first stage's journeys (a new seed or lever simulates them
    again), and closing the server ends its workers."""
    path = _tiny_scenario(tmp_path)
    simulated = []
    journeys = demo._journeys
    monkeypatch.setattr(demo, "_journeys", lambda *args: simulated.append(args) or journeys(*args))
    server, jobs = make_server(path, strategies=SHOWN[:2], stages=(2, 3), workers=2)
    try:
        executor = server.pool.executor
        assert executor is not None
        started = set(executor._processes)  # type: ignore[attr-defined]
        assert started and len(simulated) == 1
        lever = {"firms.1.price_index": 0.95}
        first = jobs.compute(lever, 7, 2)
        refined = jobs.compute(lever, 7, 3)
        assert len(simulated) == 2  # the second stage reused the first stage's journeys
        assert refined["journeys"] == first["journeys"]
        assert refined["comparison"] != first["comparison"]
        jobs.compute(lever, 8, 2)
        jobs.compute({"firms.1.price_index": 0.9}, 8, 2)
        assert len(simulated) == 4
        assert server.pool.executor is executor
        assert started <= set(executor._processes)  # type: ignore[attr-defined]
    finally:
        server.close()
    assert all(_ended(pid) for pid in started)


@pytest.mark.subprocess
def test_workers_started_up_front_outlive_the_thread_that_used_them() -> None:
    """The live server's workers are started on the main thread; a request's thread that
    uses them and ends does not take them along (a worker started from that thread would end
    with it: the parent-death signal follows the spawning thread)."""
    scenario = load_scenario(SCENARIOS / "ci-smoke.yaml")
    with WorkerPool(2, None) as pool:
        pool.start_workers()
        assert pool.executor is not None
        started = set(pool.executor._processes)  # type: ignore[attr-defined]
        assert len(started) == 2
        results: list = []
        task = [(scenario.baseline_strategy, 0)]
        user = threading.Thread(target=lambda: results.extend(pool.map(scenario, task)))
        user.start()
        user.join()
        time.sleep(1.0)  # a worker tied to the ended thread would be killed by now
        assert len(results) == 1
        assert set(pool.executor._processes) == started  # type: ignore[attr-defined]
        assert not any(_ended(pid, within=0.0) for pid in started)


@pytest.mark.subprocess
def test_a_requests_next_stage_adds_to_the_replications_of_the_stage_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second stage computes only the replications the first did not (each has its own
    seed) and shows what a page of that many replications from scratch shows; another lever
    starts afresh, and closing the server removes the kept folders."""
    from relsim.experiment import runner

    path = _tiny_scenario(tmp_path)
    computed: list[int] = []
    run_tasks = runner._run_tasks
    monkeypatch.setattr(
        runner, "_run_tasks", lambda *a, **k: computed.append(len(a[2])) or run_tasks(*a, **k)
    )
    server, jobs = make_server(path, strategies=SHOWN[:2], stages=(2, 3), workers=2)
    try:
        lever = {"firms.1.price_index": 0.95}
        computed.clear()
        jobs.compute(lever, 7, 2)
        refined = jobs.compute(lever, 7, 3)
        assert computed == [2 * 2, 2]  # then only replication 2 of each strategy
        again = jobs.compute(lever, 7, 2)  # the same request sent again: afresh
        assert computed[-1] == 2 * 2 and again["replications"] == 2
        jobs.compute({"firms.1.price_index": 0.9}, 7, 2)
        assert computed[-1] == 2 * 2
        root = server.kept.root
        assert root.is_dir()
    finally:
        server.close()
    assert not root.exists()
    with pytest.raises(RuntimeError, match="closing"):  # a stage that comes after the close
        jobs.compute(lever, 7, 3)
    assert not root.exists()
    options = {"replications": 3, "levers": [], "seed": 7, "strategies": SHOWN[:2]}
    fresh = demo_data(path, workers=1, overrides=lever, **options)
    assert _without_clock(refined) == _without_clock(fresh)
