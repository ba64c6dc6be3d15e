"""Mechanisms wired into the engine: shocks, word of mouth, acquisition, reasons, heterogeneity.

Metamorphic tests compare paired runs (same seed, one parameter changed); criteria are stated
with the figures they were checked against."""

from __future__ import annotations

import numpy as np
from scipy.special import betaln

from relsim import simulate
from tests.conftest import ONE_FIRM, merge, scenario

TWO_FIRMS = merge(
    ONE_FIRM,
    {
        "market": {"customers": 3000, "initial_ladder_mix": [0, 0.2, 0.5, 0.2, 0.1, 0]},
        "segments": [
            {
                **ONE_FIRM["segments"][0],
                "orders_per_year": {"mean": 26.0, "shape": 2.0},
                "defection_propensity": {"mean": 0.1, "concentration": 4.0},
                "outside_utility": -1.0,
            }
        ],
        "firms": [
            {**ONE_FIRM["firms"][0], "name": "focal", "initial_share": 0.5},
            {**ONE_FIRM["firms"][0], "name": "rival", "initial_share": 0.5},
        ],
        "switching": {"winback_penalty": 1.0},
        "ladder": {"up_probability": [1, 1, 0.1, 0.05, 0.02, 0]},
    },
)


def test_switches_to_a_cheaper_identical_rival_are_price_defections() -> None:
    sc = scenario(
        {"firms": [TWO_FIRMS["firms"][0], {**TWO_FIRMS["firms"][1], "price_index": 0.9}]},
        base=TWO_FIRMS,
    )
    d = simulate(sc, seed=4).defections
    switches = d[(d["firm"] == "focal") & (d["to_firm"] == "rival")]
    assert len(switches) > 100
    assert (switches["reason"] == "price").all()
    back = d[(d["firm"] == "rival") & (d["to_firm"] == "focal")]
    # switching to the dearer firm, which is no better: a chance switch; the history shows
    # no cause, so it is unobserved (never folded into one of the six reasons)
    assert len(back) > 0 and back["chance"].all() and (back["reason"] == "unobserved").all()


def test_switches_to_a_better_rival_are_product_defections() -> None:
    sc = scenario(
        {"firms": [TWO_FIRMS["firms"][0], {**TWO_FIRMS["firms"][1], "product_quality": 0.8}]},
        base=TWO_FIRMS,
    )
    d = simulate(sc, seed=4).defections
    switches = d[(d["firm"] == "focal") & (d["to_firm"] == "rival")]
    assert len(switches) > 100 and (switches["reason"] == "product").all()


def test_unresolved_problems_make_service_defections() -> None:
    bad = {**TWO_FIRMS["firms"][0], "fulfilment_failure": 0.3}
    sc = scenario({"firms": [bad, TWO_FIRMS["firms"][1]]}, base=TWO_FIRMS)
    reasons = simulate(sc, seed=4).defections.query("firm == 'focal'")["reason"]
    good = scenario(base=TWO_FIRMS)
    reasons_good = simulate(good, seed=4).defections.query("firm == 'focal'")["reason"]
    assert (reasons == "service").sum() > 50
    assert (reasons_good == "service").sum() == 0  # no problems, no service defections


def test_a_reputation_event_makes_political_defections_and_costs_share() -> None:
    shock = {
        "kind": "reputation",
        "firm": "focal",
        "week": 10,
        "size": 0.2,
        "penalty": 1.0,
        "duration_weeks": 20,
    }
    hit = simulate(scenario({"shocks": [shock]}, base=TWO_FIRMS), seed=6)
    calm = simulate(scenario(base=TWO_FIRMS), seed=6)
    political = hit.defections.query("reason == 'political'")
    assert set(political["firm"]) == {"focal"}
    # while the penalty lasts (weeks 10-29), switches it drives are political too (the
    # penalty is the largest part of their utility gap); none before or after
    assert political["week"].between(10, 29).all()
    leavers = political[political["to_firm"].isna()]
    assert set(leavers["week"]) == {10}
    customers_at_9 = hit.weekly.query("week == 9 and firm == 'focal'")["customers"].item()
    # 20% of the firm's customers leave at once: binomial, 4.5 standard errors
    n, p = customers_at_9, 0.2
    assert abs(len(leavers) - n * p) < 4.5 * np.sqrt(n * p * (1 - p))
    share = {
        run: run.weekly.query("week == 25 and firm == 'focal'")["share"].item()
        for run in (hit, calm)
    }
    assert share[hit] < share[calm] - 0.05


def test_a_price_cut_wins_share_while_it_lasts() -> None:
    shock = {"kind": "price_cut", "firm": "rival", "week": 5, "size": 0.1, "duration_weeks": 30}
    cut = simulate(scenario({"shocks": [shock]}, base=TWO_FIRMS), seed=8).weekly
    calm = simulate(scenario(base=TWO_FIRMS), seed=8).weekly

    def rival_share(weekly, week):
        return weekly.query(f"week == {week} and firm == 'rival'")["share"].item()

    assert rival_share(cut, 4) == rival_share(calm, 4)  # identical before the shock (CRN)
    assert rival_share(cut, 34) > rival_share(calm, 34) + 0.03


def test_a_substitute_technology_removes_customers_from_the_market() -> None:
    shock = {"kind": "substitute", "week": 10, "size": 0.01}
    run = simulate(scenario({"shocks": [shock]}, base=TWO_FIRMS), seed=3)
    exits = run.customers.dropna(subset=["exit_week"])
    assert (exits["exit_reason"] == "technology").all() and len(exits) > 200
    assert exits["exit_week"].min() >= 10
    # weekly hazard 1%: in-market customers decay geometrically after week 10
    in_market = run.weekly.groupby("week")["market_in_market"].first()
    expected = in_market[9] * 0.99**30
    assert abs(in_market[39] - expected) < 4.5 * np.sqrt(in_market[9] * 0.99**30 * (1 - 0.99**30))


def test_referrals_and_acquisition_spend_bring_leads_with_diminishing_returns() -> None:
    def leads(**changes):
        data = merge(TWO_FIRMS, changes)
        return simulate(scenario(base=data), seed=2).weekly.query("firm == 'focal'")["leads"].sum()

    assert leads() == 0
    referrals = leads(ladder={"referrals_per_year": [0, 0, 0, 0, 2, 4]})
    assert referrals > 0
    spend = [
        leads(
            firms=[
                {**TWO_FIRMS["firms"][0], "acquisition_spend_per_week": a},
                TWO_FIRMS["firms"][1],
            ],
            acquisition={"leads_at_saturation_per_week": 0.01},
        )
        for a in (1000, 3000, 9000)
    ]
    assert spend[0] < spend[1] < spend[2]
    assert spend[2] - spend[1] < 2 * (spend[1] - spend[0])  # 3x the spend, less than 2x gain


def test_retention_rises_with_tenure_from_heterogeneity_alone() -> None:
    """Contract holders with heterogeneous churn and no ladder or satisfaction effects: the
    period retention rate S(t+1)/S(t) rises with tenure, as the sBG model predicts."""
    a, b = 0.6, 2.4
    sc = scenario(
        {
            "horizon": {"weeks": 52},
            "market": {"customers": 8000},
            "segments": [
                {
                    **ONE_FIRM["segments"][0],
                    "contractual": True,
                    "contract_period_weeks": 4,
                    "defection_propensity": {"mean": 0.2, "concentration": 3.0},
                }
            ],
        }
    )
    lost = simulate(sc, seed=12).customers["lost_week"].to_numpy(dtype=float, na_value=np.inf)
    survival = np.array([np.mean(lost > 4 * t) for t in range(0, 13)])
    retention = survival[1:] / survival[:-1]
    assert retention[-1] - retention[0] > 0.05  # sBG: 0.800 -> 0.957 over these 12 periods
    expected = np.exp(betaln(a, b + 12) - betaln(a, b + 11))
    at_risk = len(lost) * survival[-2]  # customers facing the 12th renewal
    se = np.sqrt(expected * (1 - expected) / at_risk)
    assert abs(retention[-1] - expected) < 4.5 * se
