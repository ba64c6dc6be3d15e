"""Reproducibility and common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import relsim
from relsim import simulate
from relsim.scenario import Scenario
from tests.conftest import SCENARIOS

TABLES = ("weekly", "ladder", "customers", "defections", "trace")


def test_same_seed_gives_identical_tables(small_baseline: Scenario) -> None:
    a = simulate(small_baseline, seed=42)
    b = simulate(small_baseline, seed=np.random.SeedSequence(42))
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    sa = {k: v for k, v in a.summary.items() if k != "seconds"}
    sb = {k: v for k, v in b.summary.items() if k != "seconds"}
    assert pd.Series(sa).equals(pd.Series(sb))  # NaN (e.g. no copy) equals NaN here


def test_different_seeds_give_different_tables(small_baseline: Scenario) -> None:
    a = simulate(small_baseline, seed=1)
    b = simulate(small_baseline, seed=2)
    assert not a.weekly["revenue"].equals(b.weekly["revenue"])


def test_every_strategy_faces_the_same_market(small_baseline: Scenario) -> None:
    """Customers' traits, births, exits and shocks come from strategy-independent streams."""
    runs = [simulate(small_baseline, strategy=s.name, seed=9) for s in small_baseline.strategies]
    base = runs[0]
    assert len({r.strategy.name for r in runs}) == len(runs) >= 2
    columns = ["customer", "segment", "born_week", "in_market", "exit_week", "exit_reason"]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(base.customers[columns], other.customers[columns])
        for name in ("in_market", "births", "exits"):
            np.testing.assert_array_equal(base.raw.market[name], other.raw.market[name])
        assert base.raw.shocks == other.raw.shocks
        # ... yet behaviour differs
        assert not base.weekly["revenue"].equals(other.weekly["revenue"])


def test_the_warm_up_start_is_the_same_for_every_strategy(small_baseline: Scenario) -> None:
    """The warm-up runs under the status quo, so week 0 is identical across strategies."""
    traced = small_baseline.model_copy(update={"trace_share": 0.05})
    a = simulate(traced, strategy="transactional", seed=9)
    b = simulate(traced, strategy="financial", seed=9)
    warm_a = a.trace[a.trace["week"] < 0].reset_index(drop=True)
    warm_b = b.trace[b.trace["week"] < 0].reset_index(drop=True)
    assert len(warm_a) > 100
    pd.testing.assert_frame_equal(warm_a, warm_b)


def test_seed_must_be_an_int_or_seed_sequence(small_baseline: Scenario) -> None:
    with pytest.raises(TypeError, match="seed"):
        simulate(small_baseline, seed="7")  # type: ignore[arg-type]


def test_results_do_not_depend_on_when_arrays_are_compacted(
    small_baseline: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compaction is a memory policy: compacting often, or never, gives identical tables."""
    import relsim.model.engine as engine

    strategy = "relationship_levels"
    runs = []
    for share in (0.01, 10.0):
        monkeypatch.setattr(engine, "COMPACT_SHARE", share)
        runs.append(simulate(small_baseline, strategy=strategy, seed=17))
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(runs[0], name), getattr(runs[1], name))


def test_the_churn_score_does_not_depend_on_when_arrays_are_compacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The churn score's labels read a gone customer as gone, whether its row was compacted
    away or is still held (they differed: the score's campaign moved with the memory policy)."""
    import relsim.model.engine as engine

    scenario = relsim.load_scenario(
        SCENARIOS / "crm.yaml",
        overrides={"market.customers": 2000, "horizon.weeks": 104, "horizon.warmup_weeks": 52},
    )
    runs = []
    for share in (0.0, 10.0):  # compacting every week with a gone row, and never
        monkeypatch.setattr(engine, "COMPACT_SHARE", share)
        runs.append(simulate(scenario, strategy="score", seed=5))
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(runs[0], name), getattr(runs[1], name))
