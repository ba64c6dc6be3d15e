"""Many markets in one pass (issue 31): a market's numbers do not depend on the pass it runs in.

Every array of every run (``RawRun.fingerprint``: dtype, shape and bytes, the timing left
out) is compared between a market simulated alone and the same market in passes of several
sizes and companions; the runner's tables do not depend on how its tasks are packed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim import load_scenario
from relsim.model.engine import Market, simulate_arrays
from relsim.model.market_pass import MarketPass, simulate_markets
from relsim.scenario import Scenario, Strategy
from tests.conftest import SCENARIOS


def shrunk(name: str, customers: int = 600, weeks: int = 52, warmup: int = 26) -> Scenario:
    return load_scenario(
        SCENARIOS / name,
        overrides={
            "market.customers": customers,
            "horizon.weeks": weeks,
            "horizon.warmup_weeks": warmup,
        },
    )


def alone(scenario: Scenario, tasks: list[tuple[str, int]]) -> list[str]:
    runs = (simulate_arrays(scenario, scenario.strategy(s), seed) for s, seed in tasks)
    return [run.fingerprint() for run in runs]


def together(scenario: Scenario, tasks: list[tuple[str, int]]) -> list[str]:
    runs = simulate_markets(scenario, [(scenario.strategy(s), seed) for s, seed in tasks])
    return [run.fingerprint() for run in runs]


@pytest.mark.parametrize(
    "name", ["classroom.yaml", "crm.yaml", "subscription.yaml", "club.yaml", "key-accounts.yaml"]
)
def test_every_strategy_of_two_seeds_in_one_pass_gives_each_market_s_own_numbers(
    name: str,
) -> None:
    """Bonds, campaigns, contracts, key accounts and the service desk: every mechanism works
    on its market's block and every rule asks its market for what is its own."""
    scenario = shrunk(name)
    tasks = [(s.name, seed) for seed in (3, 4) for s in scenario.strategies]
    assert together(scenario, tasks) == alone(scenario, tasks)


def test_bonds_the_bundled_scenarios_do_not_reach_are_each_market_s_own_in_a_pass() -> None:
    """The bonds answer for the pass at once (``model/pass_bonds.py``): regulars' discounts
    beside plain points, social bonds whose epoch moves (a half-life of 0.37 weeks: 32
    half-lives every 12 weeks; not a power of two, so a move in another week rescales to other
    bits), structural ties and rivals' less complete copies of them, and
    markets without bonds, in one pass."""
    base = load_scenario(
        SCENARIOS / "baseline.yaml",
        overrides={
            "market.customers": 600,
            "horizon.weeks": 52,
            "horizon.warmup_weeks": 26,
            "bonding.social_half_life_weeks": 0.37,
            "rivalry.structural": {"probability": 1.0, "lag": {"mean_weeks": 8}, "ratio": 0.5},
        },
    )
    regular = Strategy(
        name="regular",
        preset="financial+social+structural",
        bonds={"points": {"regular_discount": 0.05}},
    )
    scenario = base.model_copy(update={"strategies": (*base.strategies, regular)})
    tasks = [(s.name, seed) for seed in (5, 6) for s in scenario.strategies]
    assert together(scenario, tasks) == alone(scenario, tasks)


def test_a_social_epoch_moves_in_the_same_week_alone_and_in_a_pass() -> None:
    """A market of 10 customers goes weeks without a climb or an ending; alone, a climb with no
    climbing customer still read the decay, which moved the epoch, while a pass asked only the
    markets with rows, so the epoch moved a week later there (seed 3: three strategies
    differed, model version 11). The epoch now moves at the start of each week's step."""
    scenario = load_scenario(
        SCENARIOS / "baseline.yaml",
        overrides={
            "market.customers": 10,
            "horizon.weeks": 52,
            "horizon.warmup_weeks": 26,
            "bonding.social_half_life_weeks": 0.37,
        },
    )
    tasks = [(s.name, seed) for seed in (3, 4) for s in scenario.strategies]
    assert together(scenario, tasks) == alone(scenario, tasks)


def test_the_social_decay_is_read_only_from_the_markets_a_question_has_rows_of() -> None:
    """The pass reads the decay only from the markets with rows in the question and social
    bonds, as each is asked alone when it has rows (a read where no step has settled the
    epoch could move it: ``BondBook.settle_epoch``); the others' rows read zero (they hold no
    social bond)."""
    from types import SimpleNamespace

    from relsim.model.pass_bonds import PassBonds

    asked: list[tuple[int, int]] = []

    class Bonds:
        def __init__(self, k: int) -> None:
            self.k = k

        def decay_since_epoch(self, week: int) -> np.float32:
            asked.append((self.k, week))
            return np.float32(0.5 + self.k / 8)

    def market(k: int, social: bool) -> SimpleNamespace:
        return SimpleNamespace(c=SimpleNamespace(uses=lambda name: social), bonds=Bonds(k))

    bonds = PassBonds()
    bonds.markets = [market(0, True), market(1, True), market(2, False), market(3, True)]
    bonds.storage = SimpleNamespace(cap=10)
    rows = np.array([1, 2, 25, 27, 31])  # markets 0, 2 and 3; none of market 1's
    decay = bonds._social_decay(rows // 10, week=7)
    assert asked == [(0, 7), (3, 7)]
    assert decay.dtype == np.float32
    assert decay.tolist() == [0.5, 0.5, 0.0, 0.0, 0.875]


@pytest.mark.slow
def test_a_market_s_numbers_do_not_depend_on_the_pass_s_size_or_companions() -> None:
    scenario = shrunk("ci-smoke.yaml", customers=300)
    names = [s.name for s in scenario.strategies]
    tasks = [(names[i % len(names)], 10 + i) for i in range(30)]  # 30 markets, other seeds
    own = alone(scenario, tasks)
    assert together(scenario, tasks) == own  # a pass of 30
    assert together(scenario, tasks[:7]) == own[:7]  # of 7
    assert together(scenario, tasks[7:14][::-1]) == own[7:14][::-1]  # other companions, order
    assert together(scenario, [tasks[20]]) == [own[20]]  # of 1
    # a pass of one market through the pass's own machinery, too
    market = Market(scenario, scenario.strategy(tasks[3][0]), tasks[3][1])
    assert MarketPass([market]).run()[0].fingerprint() == own[3]


def test_a_block_that_fills_grows_every_block_and_keeps_the_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A growing market's births outrun its block: the pass re-lays every block out, and
    every market keeps its numbers (compaction within the blocks as well)."""
    from relsim.model import pass_storage

    grown: list[int] = []
    original = pass_storage.PassStorage.grow

    def spied(self: pass_storage.PassStorage, capacity: int) -> None:
        original(self, capacity)
        grown.append(self.cap)

    monkeypatch.setattr(pass_storage.PassStorage, "grow", spied)
    scenario = shrunk("baseline.yaml", customers=400, weeks=104)
    data = scenario.model_dump()
    data["market"]["growth_per_year"] = 0.5
    growing = Scenario.model_validate(data)
    tasks = [(s.name, seed) for seed in (1, 2) for s in growing.strategies[:3]]
    assert together(growing, tasks) == alone(growing, tasks)
    assert grown  # the blocks grew at least once


def test_births_and_leads_of_every_market_come_at_once_with_each_market_s_own_draws() -> None:
    """The pass adds every market's newborns together and picks every market's leads together
    (relsim.model.pass_arrivals), each market drawing from its own streams in its own order.
    Every branch of a birth is taken: a growing market (births every week), a segment whose
    order values are inverse-gamma, whose dropout follows its purchase rate and whose stayers
    never defect, contract holders, traced customers, a substitute technology's hazard on the
    newborns (ci-smoke's shock)."""
    data = shrunk("ci-smoke.yaml", customers=300).model_dump()
    data["market"]["growth_per_year"] = 0.3
    data["trace_share"] = 0.05
    shoppers = data["segments"][0]
    shoppers["order_value"]["shape"] = 3.0
    shoppers["order_value_between"] = "inverse-gamma"
    shoppers["defection_rate_power"] = 0.5
    shoppers["never_defecting_share"] = 0.3
    scenario = Scenario.model_validate(data)
    tasks = [(s.name, seed) for seed in (5, 6) for s in scenario.strategies]
    assert together(scenario, tasks) == alone(scenario, tasks)


@pytest.mark.parametrize("count_slice", [65_536, 100])
def test_traced_events_and_journeys_are_kept_for_the_pass_and_handed_to_each_market(
    monkeypatch: pytest.MonkeyPatch, count_slice: int
) -> None:
    """The week's rules trace every market's customers in one buffer of the pass, and each
    market's own events and (blocks too large for one count: ``count_slice`` 100) its own
    census's journeys go there through its recorder; each market gets back its rows in their
    order, and its recorder its own methods."""
    from relsim.model import market_pass

    monkeypatch.setattr(market_pass, "COUNT_SLICE", count_slice)
    data = shrunk("crm.yaml", customers=300).model_dump()
    data["trace_share"] = 0.1
    scenario = Scenario.model_validate(data)
    tasks = [(s.name, seed) for seed in (7, 8) for s in scenario.strategies]
    assert together(scenario, tasks) == alone(scenario, tasks)
    pair = [Market(scenario, scenario.strategy(s), seed) for s, seed in tasks[:2]]
    runs = MarketPass(pair).run()
    for market, run in zip(pair, runs, strict=True):
        assert len(run.trace["customer"]) and len(run.journeys["customer"])
        assert {"trace", "journeys"}.isdisjoint(vars(market.recorder))


def test_the_pass_s_arrays_hold_each_market_s_rows_in_its_block() -> None:
    scenario = shrunk("ci-smoke.yaml", customers=200)
    markets = [Market(scenario, s, 5) for s in scenario.strategies]
    run = MarketPass(markets)
    run.run_warm_up()
    storage = run.storage
    for k, market in enumerate(markets):
        block = slice(storage.offset(k), storage.offset(k) + market.c.n)
        assert np.shares_memory(market.c.id, storage.c.id)
        np.testing.assert_array_equal(storage.c.id[block], market.c.id[: market.c.n])
        rest = slice(storage.offset(k) + market.c.n, storage.offset(k + 1))
        assert (storage.c.next_occasion[rest] == np.iinfo(np.int16).max).all()  # inert
    run.detached()
    assert not np.shares_memory(markets[0].c.id, storage.c.id)


def test_a_pass_refuses_markets_of_different_scenarios() -> None:
    a, b = shrunk("ci-smoke.yaml"), shrunk("ci-smoke.yaml")
    with pytest.raises(ValueError, match="share one scenario"):
        MarketPass([Market(a, a.strategies[0], 1), Market(b, b.strategies[0], 1)])
    with pytest.raises(ValueError, match="at least one market"):
        MarketPass([])


@pytest.mark.slow
def test_the_runner_s_tables_do_not_depend_on_how_tasks_are_packed_into_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relsim.experiment import limits, run_experiment

    scenario = shrunk("classroom.yaml", customers=300, weeks=26, warmup=13)
    folders = []
    for most in (1, 3, 100):
        monkeypatch.setattr(limits, "markets_per_task", lambda _scenario, most=most: most)
        out = tmp_path / f"most{most}"
        run_experiment(scenario, 3, workers=1, out=out, progress=False)
        folders.append(out)
    for name in ("weekly", "ladder", "defections", "replications"):
        first, *others = (pd.read_parquet(folder / f"{name}.parquet") for folder in folders)
        for frame in others:
            if name == "replications":  # each replication's own timing differs
                frame, frame_first = frame.drop(columns="seconds"), first.drop(columns="seconds")
            else:
                frame_first = first
            pd.testing.assert_frame_equal(frame, frame_first)


class _RelativeLogit:
    """A plugin's rule that looks at its whole batch (utilities against the batch's mean):
    alone it sees its own market's occasions, so in a pass it must too."""

    def probabilities(self, v: np.ndarray, outside: np.ndarray) -> np.ndarray:
        from relsim.model import choice

        return choice.probabilities(v - v.mean(axis=1, keepdims=True), outside)

    def sample(self, v: np.ndarray, outside: np.ndarray, u: np.ndarray) -> np.ndarray:
        cdf = np.cumsum(self.probabilities(v, outside), axis=0)
        return (u[None, :] > cdf).sum(axis=0).clip(0, len(cdf) - 1)


def test_a_plugin_s_choice_rule_sees_only_its_own_market_s_customers() -> None:
    from relsim import extensions

    extensions.register_choice_rule("relative_to_batch", _RelativeLogit())
    try:
        scenario = shrunk("ci-smoke.yaml", customers=300, weeks=26, warmup=8)
        scenario = scenario.model_copy(update={"choice_rule": "relative_to_batch"})
        tasks = [(s.name, seed) for seed in (1, 2) for s in scenario.strategies]
        assert together(scenario, tasks) == alone(scenario, tasks)
    finally:
        extensions.unregister("relative_to_batch")


def test_markets_too_large_for_a_pass_to_pay_run_seed_by_seed_with_the_same_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from relsim.model import market_pass

    scenario = shrunk("club.yaml", customers=400)
    tasks = [(s.name, seed) for seed in (7, 8) for s in scenario.strategies]
    monkeypatch.setattr(market_pass, "PASS_MAX_CUSTOMERS", 400)
    assert not market_pass.pays(scenario)
    passes = []
    monkeypatch.setattr(market_pass.MarketPass, "run_horizon", lambda self: passes.append(self))
    assert together(scenario, tasks) == alone(scenario, tasks)
    assert not passes  # no pass was run
