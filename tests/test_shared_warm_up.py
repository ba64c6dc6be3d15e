"""The strategies of one seed share one warm-up: every number as in separate runs.

``simulate_strategies`` simulates the warm-up once and copies the market for each strategy
(:mod:`relsim.model.shared_warm_up`); the runner uses it for the strategies of a replication.
These tests compare every array of every run with the run of the strategy alone, over every
bundled scenario and a scenario built for the boundary between warm-up and horizon (shocks and
staffing changes in week 0, the status quo's quality ramp running across it, rivals answering
a launch), and whatever the strategies' order or company.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy

from relsim import load_scenario
from relsim.experiment import limits
from relsim.experiment.limits import markets_per_task
from relsim.experiment.pool import in_passes, replicate, replicate_pass
from relsim.model import simulate_arrays, simulate_strategies
from relsim.model.campaigns import FirmCrm
from relsim.model.engine import Market
from relsim.model.raw_run import RawRun
from relsim.model.retention import FirmRetention
from relsim.model.rivals import Rivalry
from relsim.model.service import FirmService
from relsim.scenario import Scenario
from relsim.scenario.load import validate

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def fingerprint(raw: RawRun) -> str:
    """A digest of every recorded array and list of a run (dtype, shape and bytes)."""
    return raw.fingerprint()


def boundary_scenario(lag: int = 4, warmup: int = 10) -> Scenario:
    """Everything that happens at the boundary between warm-up and horizon at once, and what
    outlives the horizon (a rival following the price cut, a shock lasting past the end):
    the status quo's quality ramp starts ``lag`` weeks into a warm-up of ``warmup`` weeks."""
    strategies = [
        {
            "name": "status_quo",  # its quality ramp starts in the warm-up and outlives it
            "retention": {
                "quality": {
                    "target": 0.9,
                    "lag_weeks": lag,
                    "ramp_weeks": 30,
                    "cost_per_week_per_halving": 100,
                }
            },
        },
        {
            "name": "points",  # launched in week 0; the rival copies it, we answer
            "preset": "financial",
            "responds_to_rivals": True,
            "staffing": {
                "desk": {"count": 0.2},
                "changes": [
                    {"week": 0, "pool": "desk", "count": 1.0},
                    {"week": 3, "pool": "desk", "count": 0.1},
                ],
            },
        },
        {
            "name": "cut",
            "price_index": 0.9,
            "staffing": {"changes": [{"week": 0, "pool": "desk", "count": 2.0}]},
        },
    ]
    data = {
        "schema_version": 1,
        "name": "boundary",
        "seed": 4,
        "horizon": {"weeks": 30, "warmup_weeks": warmup},
        "market": {"customers": 400},
        "segments": [
            {"name": "shoppers", "share": 0.7},
            {
                "name": "subscribers",
                "share": 0.3,
                "contractual": True,
                "contract_period_weeks": 4,
                "orders_per_year": {"mean": 2, "shape": 2.0},
            },
        ],
        "firms": [
            {"name": "focal", "initial_share": 0.5, "acquisition_spend_per_week": 100},
            {"name": "rival", "initial_share": 0.5, "price_index": 0.95, "product_quality": 0.65},
        ],
        "shocks": [
            {"kind": "price_cut", "firm": "rival", "week": 0, "size": 0.1, "duration_weeks": 3},
            {"kind": "reputation", "firm": "focal", "week": 0, "size": 0.05, "duration_weeks": 3},
            {"kind": "substitute", "week": 3, "size": 0.002},
            {"kind": "price_cut", "firm": "rival", "week": 20, "size": 0.05, "duration_weeks": 20},
        ],
        "rivalry": {
            "points": {
                "probability": 1.0,
                "lag": {"mean_weeks": 2, "shape": 4, "min_weeks": 1},
                "ratio": 1.25,
            },
            "price": {"probability": 1.0, "lag": {"mean_weeks": 2, "min_weeks": 0}, "match": 0.5},
            "max_reward_rate": 0.06,
        },
        "strategies": strategies,
        "baseline": "status_quo",
    }
    return validate(data, "boundary")


class OneEnvironment(Market):
    """The engine as it was before the warm-up could be shared: one SimPy environment from the
    warm-up's first week to the horizon's end, every process queued at the start. The split
    into ``warm_up`` and ``horizon`` must give the same numbers (same-time events included)."""

    def run(self) -> RawRun:
        self.env = env = simpy.Environment()
        self.service = FirmService(self.interface, self.status_quo, env)
        self.retention = FirmRetention(self.interface, self.status_quo, env)
        self.rivalry = Rivalry(self.interface, self.strategy.responds_to_rivals)
        if self.status_quo.crm is not None:
            self.crm = FirmCrm(self.interface, self.status_quo.crm)
        self._populate(-self.W)
        env.process(self._launch_strategy())
        for change in self.strategy.staffing.changes:
            env.process(self._staffing(change.week, change.pool, change.count))
        for shock, weeks in self._shock_times():
            for week in weeks:
                env.process(self._shock(shock, int(week)))
        for process in (self._births, self._leads, self._tick):
            env.process(process(-self.W))
        env.run(until=self.W + self.H)
        return self._result(0.0)


def alone(scenario: Scenario, seed: int) -> dict[str, str]:
    return {s.name: fingerprint(simulate_arrays(scenario, s, seed)) for s in scenario.strategies}


def shared(scenario: Scenario, seed: int, names: list[str] | None = None) -> dict[str, str]:
    chosen = [scenario.strategy(n) for n in names] if names else list(scenario.strategies)
    runs = simulate_strategies(scenario, chosen, seed)
    return {s.name: fingerprint(raw) for s, raw in zip(chosen, runs, strict=True)}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_bundled_scenario_gives_every_strategy_its_own_numbers(path: Path) -> None:
    small = {"market.customers": 300, "horizon.weeks": 40, "horizon.warmup_weeks": 20}
    scenario = load_scenario(path, overrides=small)
    assert shared(scenario, 5) == alone(scenario, 5)


@pytest.mark.parametrize(
    ("seed", "lag", "warmup"),
    [(0, 4, 10), (1, 4, 10), (2, 4, 10), (3, 10, 10), (4, 0, 0), (5, 3, 0), (6, 9, 10)],
)
def test_the_boundary_of_warm_up_and_horizon_keeps_its_order(
    seed: int, lag: int, warmup: int
) -> None:
    """A ramp whose first step falls on week 0 (lag = warm-up) takes it before the launch."""
    scenario = boundary_scenario(lag, warmup)
    runs = simulate_strategies(scenario, list(scenario.strategies), seed)
    assert len(runs[1].moves) >= 2  # the launch and the rival's copy at least
    assert any(m["instrument"] == "price" for m in runs[2].moves)  # the rival follows the cut
    assert runs[0].shocks and runs[0].shocks[0]["week"] == 0
    assert shared(scenario, seed) == alone(scenario, seed)
    one = {s.name: OneEnvironment(scenario, s, seed).run() for s in scenario.strategies}
    assert alone(scenario, seed) == {name: fingerprint(raw) for name, raw in one.items()}


def test_a_strategy_s_numbers_do_not_depend_on_its_company_or_place() -> None:
    scenario = boundary_scenario()
    every = shared(scenario, 8)
    assert len(set(every.values())) == 3  # the strategies do differ
    assert shared(scenario, 8, ["cut", "points", "status_quo"]) == every
    assert shared(scenario, 8, ["points"]) == {"points": every["points"]}
    assert shared(scenario, 8, ["cut", "cut"]) == {"cut": every["cut"]}
    assert simulate_strategies(scenario, [], 8) == []


def test_a_fingerprint_changes_with_any_bit_of_any_array_and_only_then() -> None:
    """The check behind "no number moved" (``RawRun.fingerprint``, the tests above and
    ``scripts/bitwise_fingerprints.py``) sees the last bit of a float and a renamed key."""
    scenario = load_scenario(SCENARIOS[1], overrides={"market.customers": 200})  # ci-smoke
    raw = simulate_arrays(scenario, scenario.strategies[0], 3)
    before = raw.fingerprint()
    assert copy.deepcopy(raw).fingerprint() == before
    revenue = raw.revenue.copy()
    raw.revenue = raw.revenue.astype(np.float64)  # the same numbers, another dtype
    assert raw.fingerprint() != before
    raw.revenue = revenue
    assert raw.fingerprint() == before
    value = raw.customers["value_focal"]
    value[0] = np.nextafter(value[0], np.inf)  # one bit of one float
    assert raw.fingerprint() != before
    value[0] = np.nextafter(value[0], -np.inf)
    assert raw.fingerprint() == before
    raw.market["renamed"] = raw.market.pop(next(iter(raw.market)))
    assert raw.fingerprint() != before


def test_a_copy_is_taken_only_between_warm_up_and_horizon() -> None:
    from relsim.model.shared_warm_up import forked

    scenario = boundary_scenario()
    market = Market(scenario, scenario.strategies[0], 3)
    market.warm_up()
    copy = forked(market)
    assert copy.c is not market.c and copy.streams is not market.streams
    assert copy.scenario is market.scenario  # shared: it never changes
    market.horizon()
    with pytest.raises(RuntimeError, match="between its warm-up and its horizon"):
        forked(market)


def test_the_runner_s_parts_equal_each_strategy_s_own_replication() -> None:
    """A pass of two replications' strategies gives each (strategy, replication) the tables
    of its own run."""
    scenario = load_scenario(SCENARIOS[1], overrides={"market.customers": 300})  # ci-smoke
    names = tuple(s.name for s in scenario.strategies)
    tasks = tuple((s, r) for r in (2, 5) for s in names)
    together = replicate_pass(scenario, tasks, 2)
    assert list(together) == list(tasks)
    for name, r in tasks:
        own = replicate(scenario, name, r)
        got = together[name, r]
        for table in own:
            if table == "summary":  # NaN equals NaN here; the seconds differ
                a, b = (pd.Series(x[table]).drop("seconds") for x in (got, own))
                assert a.equals(b)
            else:
                pd.testing.assert_frame_equal(got[table], own[table])


def test_tasks_are_grouped_into_passes_of_whole_replications_for_the_workers() -> None:
    names = ["a", "b", "c", "d", "e", "f"]
    tasks = [(s, r) for r in range(30) for s in names]
    passes = in_passes(tasks, workers=2)  # 180 markets: a pass of whole replications each
    assert [len(group) for group, _ in passes] == [90, 90]
    assert passes[0][0][:7] == (*((s, 0) for s in names), ("a", 1))
    assert [first for _, first in passes] == [0, 15]
    # as few passes as fit, a multiple of the workers, so that the last round keeps both
    # busy: not 36 x 5 (a round of one) nor 72, 72, 36
    assert [len(group) for group, _ in in_passes(tasks, workers=2, most=40)] == [30] * 6
    assert [len(group) for group, _ in in_passes(tasks, workers=2, most=72)] == [48, 48, 42, 42]
    few = in_passes([(s, 0) for s in names], workers=2)  # one replication: 2 pieces
    assert len(few) == 2 and sorted(s for g, _ in few for s, _ in g) == names
    alone_in_process = in_passes([(s, 0) for s in names], workers=1)  # nothing to spread
    assert alone_in_process == [(tuple((s, 0) for s in names), 0)]
    partial = in_passes([("b", 3), ("e", 3), ("a", 4)], workers=1)
    assert partial == [((("b", 3), ("e", 3), ("a", 4)), 3)]
    assert in_passes(tasks[:12], workers=1, most=8) == [
        (tuple(tasks[:6]), 0),
        (tuple(tasks[6:12]), 1),
    ]
    assert in_passes(tasks[:6], workers=1, most=4) == [
        (tuple(tasks[:3]), 0),
        (tuple(tasks[3:6]), 0),
    ]
    assert in_passes(tasks[:6], workers=1, most=1) == [(((s, 0),), 0) for s in names]
    assert in_passes([], workers=2) == []  # a resumed run with every replication done
    for workers in (1, 2, 3, 8, 64):
        for most in (None, 1, 2, 5, 13, 100):
            passes = in_passes(tasks, workers, most)
            assert all(len(group) <= (most or 180) for group, _ in passes)
            if workers > 1 and most is None:
                assert len(passes) >= min(workers, 30)  # every worker kept busy
            flat = [task for group, _ in passes for task in group]
            assert flat == tasks  # every task once, in order


def test_a_very_large_market_runs_alone() -> None:
    """A pass holds every market of its task at once: a million customers run one market a
    task, as before; a market too large for a pass to pay (40 000 customers), one
    replication's six strategies (sharing its warm-up); the default market's and the
    classroom's passes several replications'."""
    path = SCENARIOS[0]  # baseline
    assert load_scenario(path).market.customers == 10_000
    markets = markets_per_task(load_scenario(path))
    assert markets > 6
    assert markets_per_task(load_scenario(SCENARIOS[0].parent / "classroom.yaml")) > 20
    large = load_scenario(path, overrides={"market.customers": 40_000})
    assert markets_per_task(large) == 6
    big = load_scenario(path, overrides={"market.customers": 1_000_000})
    assert markets_per_task(big) == 1
    # the memory a run plans for counts every market of a pass
    one = limits.estimate(load_scenario(path)).bytes_per_replication
    assert limits.bytes_per_task(load_scenario(path)) == one + min(
        limits.SHARED_WARM_UP_BYTES, markets * one
    )
    assert limits.bytes_per_task(big) == limits.estimate(big).bytes_per_replication
    # and a task stays short enough for progress to move about once a minute
    slow = load_scenario(path, overrides={"market.customers": 300_000})
    assert markets_per_task(slow) * limits.estimate(slow).seconds_per_replication <= 60


def test_a_strategy_listed_twice_is_refused_before_any_work(tmp_path: Path) -> None:
    from relsim.experiment import run_experiment
    from relsim.experiment.checks import SettingError

    scenario = load_scenario(SCENARIOS[1])  # ci-smoke
    with pytest.raises(SettingError, match="'transactional' listed more than once"):
        run_experiment(scenario, 2, workers=1, out=tmp_path / "r", strategies=["transactional"] * 2)
    assert not (tmp_path / "r").exists()


def test_an_optimization_s_trials_reuse_a_warm_up_and_keep_their_numbers() -> None:
    """Trials that differ in a non-baseline strategy's levers start from the same kept
    warm-up; a change to the baseline or to the scenario itself gets a warm-up of its own.
    Every run equals the run from the start."""
    from relsim.experiment.warm_ups import WarmUps, warm_up_key
    from relsim.scenario.paths import with_values

    base = boundary_scenario()
    trials = [
        with_values(base, {"strategies.cut.price_index": value}) for value in (0.9, 0.8, 0.95)
    ]
    other_baseline = with_values(base, {"strategies.status_quo.price_index": 0.97})
    other_market = with_values(base, {"market.customers": 380})
    assert len({warm_up_key(t) for t in trials}) == 1
    assert len({warm_up_key(s) for s in (trials[0], other_baseline, other_market)}) == 3
    store = WarmUps()
    for scenario in [*trials, other_baseline, other_market]:
        for seed in (0, 1):
            for name in ("cut", "status_quo"):
                strategy = scenario.strategy(name)
                got = store.simulate(scenario, strategy, seed)
                assert got.scenario is scenario and got.strategy is strategy
                assert fingerprint(got) == fingerprint(simulate_arrays(scenario, strategy, seed))
    assert len(store.kept) == 3 * 2  # three warm-ups, two seeds
    assert store.reused == 5 * 2 * 2 - 3 * 2
    sizes = [size for _, size in store.kept.values()]
    assert store.held == sum(sizes) and min(sizes) > 400 * 100  # the customers' arrays at least
    store.clear()
    store.budget = 2 * max(sizes)  # room for two: the least recently used goes
    for seed in (0, 1, 2):
        store.simulate(trials[0], trials[0].strategy("cut"), seed)
    assert [key[1] for key in store.kept] == ["1", "2"] and store.held <= store.budget
    store.budget = 1  # a market larger than the budget is run, not kept
    store.clear()
    store.simulate(trials[0], trials[0].strategy("cut"), 0)
    assert not store.kept


def test_the_runner_sends_whole_replications_as_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relsim.experiment import pool, run_experiment, runner

    scenario = load_scenario(SCENARIOS[1], overrides={"market.customers": 200})  # ci-smoke
    sent: list[tuple[tuple[tuple[str, int], ...], int]] = []

    def spied(*args: Any, **kwargs: Any) -> list[tuple[tuple[tuple[str, int], ...], int]]:
        sent.extend(groups := pool.in_passes(*args, **kwargs))
        return groups

    monkeypatch.setattr(runner, "in_passes", spied)
    run_experiment(scenario, 3, workers=1, out=tmp_path / "r", progress=False)
    names = tuple(s.name for s in scenario.strategies)
    assert sent == [(tuple((s, r) for r in range(3) for s in names), 0)]
    message = pool._death_message(scenario, (sent[0][0], 0))
    assert "strategies 'transactional', 'every_level' (replications 0 to 2" in message
    assert "replication 0 (seed: child 0 of SeedSequence(" in message
