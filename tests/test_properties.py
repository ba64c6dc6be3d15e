"""Property-based tests: invariants that must hold for every valid scenario, not just the
shipped ones. Hypothesis draws small random markets (short horizons, few customers) with every
mechanism switched on at random strengths: levels, staff, key accounts, shocks, bonds of any
preset and rivals that copy them after random lags.

The fast profile runs 300 cases; ``RELSIM_FUZZ_CASES`` sets another number (the deep profile
in ``benchmarks/soak.py`` runs thousands)."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relsim import simulate
from relsim.domain import LEVELS
from relsim.model.economics import COST_KINDS
from relsim.scenario import Scenario

CASES = int(os.environ.get("RELSIM_FUZZ_CASES", "300"))
probability = st.floats(0.0, 0.6)
level = st.sampled_from(LEVELS)
preset = st.sampled_from(
    ["transactional", "financial", "social", "structural", "financial+social+structural"]
)
copy_rule = st.fixed_dictionaries(
    {
        "probability": st.floats(0.0, 1.0),
        "lag": st.fixed_dictionaries(
            {"mean_weeks": st.floats(1.0, 20.0), "shape": st.floats(0.5, 5.0)}
        ),
        "ratio": st.floats(0.2, 2.0),
    }
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n_segments = draw(st.integers(1, 3))
    n_firms = draw(st.integers(1, 4))
    shares = np.array([draw(st.floats(0.1, 1.0)) for _ in range(n_segments)])
    shares = shares / shares.sum()
    shares[-1] = 1.0 - shares[:-1].sum()
    firm_shares = np.array([draw(st.floats(0.1, 1.0)) for _ in range(n_firms)])
    firm_shares = firm_shares / firm_shares.sum()
    firm_shares[-1] = 1.0 - firm_shares[:-1].sum()
    segments = [
        {
            "name": f"s{i}",
            "share": float(shares[i]),
            "contractual": draw(st.booleans()),
            "contract_period_weeks": draw(st.integers(1, 13)),
            "orders_per_year": {
                "mean": draw(st.floats(1.0, 30.0)),
                "shape": draw(st.one_of(st.none(), st.floats(0.3, 5.0))),
            },
            "order_value": {"mean": draw(st.floats(1.0, 500.0)), "shape": 3.0},
            "defection_propensity": {
                "mean": draw(st.floats(0.0, 0.8)),
                "concentration": draw(st.one_of(st.none(), st.floats(0.5, 20.0))),
            },
            "price_sensitivity": draw(st.floats(0.0, 8.0)),
            "quality_sensitivity": draw(st.floats(0.0, 8.0)),
            "outside_utility": draw(st.floats(-5.0, 2.0)),
            "relocation_per_year": draw(probability),
            "voice_share": draw(st.floats(0.0, 1.0)),
        }
        for i in range(n_segments)
    ]
    firms = [
        {
            "name": f"f{i}",
            "initial_share": float(firm_shares[i]),
            "price_index": draw(st.floats(0.5, 1.5)),
            "unit_cost": draw(st.floats(0.0, 1.2)),
            "product_quality": draw(st.floats(0.0, 1.0)),
            "fulfilment_failure": draw(st.floats(0.0, 0.5)),
            "fault_rate": draw(st.floats(0.0, 0.3)),
            "acquisition_spend_per_week": draw(st.floats(0.0, 5000.0)),
            "fixed_cost_per_week": draw(st.floats(0.0, 1000.0)),
        }
        for i in range(n_firms)
    ]
    strategy = {
        "name": "s",
        "preset": draw(preset),
        "responds_to_rivals": draw(st.booleans()),
        "levels": {"default": draw(level), "rungs": {"partner": draw(level)}},
        "staffing": {
            pool: {"count": draw(st.floats(0.0, 3.0))}
            for pool in ("desk", "contact_centre", "managers", "senior_manager")
        },
        "key_accounts": draw(st.one_of(st.none(), st.just({"top_share": 0.05}))),
    }
    shocks = draw(
        st.lists(
            st.sampled_from(
                [
                    {
                        "kind": "price_cut",
                        "firm": "f0",
                        "week": 3,
                        "size": 0.2,
                        "duration_weeks": 5,
                    },
                    {"kind": "substitute", "week": 2, "size": 0.02},
                    {"kind": "reputation", "firm": "f0", "rate_per_year": 5.0, "size": 0.3},
                ]
            ),
            max_size=3,
        )
    )
    return Scenario.model_validate(
        {
            "horizon": {
                "weeks": draw(st.integers(1, 30)),
                "warmup_weeks": draw(st.integers(0, 10)),
            },
            "market": {
                "customers": draw(st.integers(1, 300)),
                "growth_per_year": draw(st.floats(-0.2, 0.5)),
                "current_customer_share": draw(st.floats(0.0, 1.0)),
            },
            "segments": segments,
            "firms": firms,
            "strategies": [strategy],
            "shocks": shocks,
            "rivalry": {
                "points": draw(copy_rule),
                "club": draw(copy_rule),
                "structural": draw(copy_rule),
                "max_reward_rate": draw(st.floats(0.01, 0.3)),
            },
            "trace_share": 0.1,
        }
    )


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 2**32 - 1))
def test_customers_and_money_are_conserved_in_any_valid_market(sc: Scenario, seed: int) -> None:
    run = simulate(sc, seed=seed)
    raw = run.raw
    counts = raw.weekly_counts
    # customers: each firm's base changes by acquisitions minus defections
    flow = counts["acquired"] - counts["defections"]
    np.testing.assert_array_equal(np.diff(counts["customers"], axis=0), flow[1:])
    market = raw.market
    np.testing.assert_array_equal(
        np.diff(market["in_market"]), market["births"][1:] - market["exits"][1:]
    )
    # nobody is counted twice: customers with a firm never exceed the market
    assert (counts["customers"].sum(axis=1) <= market["in_market"]).all()
    # money: integer cents, profit is revenue minus every cost, per firm and week
    costs = sum(raw.costs[k] for k in COST_KINDS)
    weekly = run.weekly
    np.testing.assert_array_equal(
        np.rint(weekly["profit"].to_numpy() * 100).astype(np.int64), (raw.revenue - costs).ravel()
    )
    # no NaN or negative counts reach the tables; customers' means are NaN exactly when a firm
    # has no customers, and the customers' surplus may be negative (value below price)
    means = ["mean_satisfaction", "mean_trust"]
    np.testing.assert_array_equal(weekly[means].isna().all(axis=1), weekly["customers"] == 0)
    assert weekly[means].stack().dropna().between(0, 1).all()
    assert np.isfinite(weekly["customer_surplus"]).all()
    signed = ["profit", "discounted_profit", "customer_surplus", *means]
    numeric = weekly.drop(columns=signed).select_dtypes("number")
    assert not numeric.isna().any().any() and (numeric >= 0).all().all()
    # every defection has a reason; every customer born appears once
    assert run.defections["reason"].notna().all()
    assert run.customers["customer"].tolist() == list(range(len(run.customers)))
    assert np.isfinite(run.customers["margin_value"]).all()
