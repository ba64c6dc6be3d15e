"""Conservation: customers and money are neither created nor lost by the bookkeeping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relsim import load_scenario, simulate
from relsim.domain import REASONS
from relsim.model.economics import COST_KINDS
from relsim.scenario import Scenario
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def churning_run(small_baseline: Scenario):
    """Small baseline with high relocation so that compaction of gone rows happens often."""
    data = small_baseline.model_dump()
    for segment in data["segments"]:
        segment["relocation_per_year"] = 0.5
    data["shocks"] = [*data["shocks"], {"kind": "substitute", "week": 40, "size": 0.002}]
    return simulate(Scenario.model_validate(data), seed=5)


def test_each_firms_customers_change_by_acquisitions_minus_defections(churning_run) -> None:
    raw = churning_run.raw
    customers = raw.weekly_counts["customers"]
    flow = raw.weekly_counts["acquired"] - raw.weekly_counts["defections"]
    np.testing.assert_array_equal(np.diff(customers, axis=0), flow[1:])


def test_market_changes_by_births_minus_exits(churning_run) -> None:
    market = churning_run.raw.market
    np.testing.assert_array_equal(
        np.diff(market["in_market"]), market["births"][1:] - market["exits"][1:]
    )
    assert market["exits"].sum() > 0.2 * market["in_market"][0]  # compaction did happen


def test_every_customer_born_is_in_the_customer_table_once(churning_run) -> None:
    table = churning_run.customers
    sc = churning_run.scenario
    raw = churning_run.raw
    assert table["customer"].is_unique
    assert table["customer"].tolist() == list(range(len(table)))
    assert len(table) >= sc.market.customers + raw.market["births"].sum()
    assert table["in_market"].sum() == raw.market["in_market"][-1]
    gone = table[~table["in_market"]]
    assert gone["exit_week"].notna().all()
    assert set(gone["exit_reason"].dropna().unique()) <= {"market", "technology"}
    assert (table.loc[table["in_market"], "exit_week"].isna()).all()


def test_profit_is_revenue_minus_costs_to_the_cent(churning_run) -> None:
    raw = churning_run.raw
    costs = sum(raw.costs[kind] for kind in COST_KINDS)
    weekly = churning_run.weekly
    cents = np.rint(weekly["profit"].to_numpy() * 100).astype(np.int64)
    np.testing.assert_array_equal(cents, (raw.revenue - costs).ravel())
    market_profit = (raw.revenue - costs).sum()
    assert market_profit == sum((raw.revenue[:, f] - costs[:, f]).sum() for f in range(3))
    summary = churning_run.summary
    assert round(summary["revenue"] - summary["total_costs"], 2) == round(summary["profit"], 2)


def test_customer_values_add_up_to_the_firms_discounted_margin(churning_run) -> None:
    raw = churning_run.raw
    margin = (raw.revenue[:, 0] - raw.costs["cost_of_goods"][:, 0]) / 100.0
    discounted = float((margin * raw.discount).sum())
    assert churning_run.customers["realised_margin"].sum() == pytest.approx(discounted, rel=1e-9)


def test_defection_table_matches_weekly_counts(churning_run) -> None:
    """Relationship endings = customers lost + endings won back; each ending is exactly one
    of the two; losses by reason add up to the losses, in the table, the weekly counts and
    the summary."""
    d = churning_run.defections
    weekly = churning_run.weekly
    summary = churning_run.summary
    assert len(d) == weekly["relationship_endings"].sum()
    assert (d["lost"] ^ d["won_back"]).all()
    lost = d[d["lost"]]
    assert len(lost) == weekly["customers_lost"].sum()
    by_reason = lost.groupby("reason", observed=False).size()
    for reason, count in by_reason.items():
        assert weekly[f"lost_{reason}"].sum() == count
    focal = d[d["firm"] == churning_run.firms[0]]
    assert summary["relationship_endings"] == len(focal)
    assert summary["customers_lost"] + summary["endings_won_back"] == len(focal)
    assert summary["customers_lost"] == sum(summary[f"lost_{r}"] for r in REASONS)
    causes = ("firm_caused", "external", "unobserved")
    assert summary["customers_lost"] == sum(summary[f"lost_{c}"] for c in causes)
    assert (d["tenure_weeks"] >= 0).all()
    assert by_reason["technology"] > 0 and by_reason["market"] > 0


def test_no_negative_or_missing_counts(churning_run) -> None:
    weekly = churning_run.weekly
    numeric = weekly.select_dtypes("number").drop(columns=["profit", "discounted_profit"])
    assert not numeric.isna().any().any()
    assert (numeric >= 0).all().all()


def test_journeys_of_a_fully_traced_market_add_up_to_the_ladder() -> None:
    """With every customer traced, the weekly journeys (primary firm, rung) counted per week,
    firm and rung are the ladder table's customers (prospects are counted differently there:
    per firm, everyone in the market who never bought from it)."""
    sc = load_scenario(SCENARIOS / "ci-smoke.yaml", overrides={"trace_share": 1.0})
    run = simulate(sc, seed=11)
    j = run.journeys.dropna(subset=["firm"])
    counted = j.groupby(["week", "firm", "rung"], observed=True).size()
    ladder = run.ladder.set_index(["week", "firm", "rung"])["customers"]
    ladder = ladder[ladder.index.get_level_values("rung") != "prospect"]
    assert len(j) > 0
    pd.testing.assert_series_equal(
        counted.reindex(ladder.index, fill_value=0), ladder, check_names=False
    )
    in_market = run.journeys.groupby("week").size()
    assert (in_market.to_numpy() == run.weekly.groupby("week")["market_in_market"].first()).all()
