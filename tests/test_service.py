"""Engine II: relationship levels, capacity-bound staff pools, key-account management."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from scipy import stats

from relsim import simulate
from relsim.domain import LEVELS
from relsim.model.economics import COST_KINDS
from relsim.model.levels import level_table, select_key_accounts
from relsim.model.staff import StaffPool
from relsim.scenario import Scenario
from tests.conftest import ONE_FIRM, merge, scenario

SERVICE_MARKET = merge(
    ONE_FIRM,
    {
        "horizon": {"weeks": 78, "warmup_weeks": 0},
        "market": {"customers": 4000, "initial_ladder_mix": [0, 0.2, 0.5, 0.2, 0.08, 0.02]},
        "segments": [
            {
                **ONE_FIRM["segments"][0],
                "orders_per_year": {"mean": 20.0, "shape": 2.0},
                "defection_propensity": {"mean": 0.1, "concentration": 4.0},
                "outside_utility": -1.0,
                "voice_share": 0.5,
            }
        ],
        "firms": [
            {
                **ONE_FIRM["firms"][0],
                "name": "focal",
                "initial_share": 0.5,
                "fulfilment_failure": 0.15,
            },
            {**ONE_FIRM["firms"][0], "name": "rival", "initial_share": 0.5},
        ],
        "switching": {"winback_penalty": 1.0},
        "ladder": {
            "up_probability": [1, 1, 0.1, 0.05, 0.02, 0],
            "down_probability": [0, 0, 0.3, 0.3, 0.3, 0.3],
        },
    },
)


def with_strategy(**strategy: Any) -> Scenario:
    return scenario({"strategies": [{"name": "s", **strategy}]}, base=SERVICE_MARKET)


def focal_weekly(run) -> Any:
    return run.weekly[run.weekly["firm"] == "focal"]


def test_level_precedence_is_rung_then_segment_then_default() -> None:
    sc = scenario(
        {
            "segments": [
                {**ONE_FIRM["segments"][0], "name": "a", "share": 0.5},
                {**ONE_FIRM["segments"][0], "name": "b", "share": 0.5},
            ],
            "strategies": [
                {
                    "name": "s",
                    "levels": {
                        "default": "reactive",
                        "segments": {"b": "proactive"},
                        "rungs": {"partner": "partnership"},
                    },
                }
            ],
        }
    )
    table = level_table(sc, sc.strategies[0])
    names = np.array(LEVELS)[table]
    assert names[0].tolist() == ["reactive"] * 5 + ["partnership"]
    assert names[1].tolist() == ["proactive"] * 5 + ["partnership"]


def test_key_accounts_are_the_top_observed_values_within_the_cap() -> None:
    value = np.array([5.0, 50.0, 0.0, 40.0, 30.0, 99.0, 20.0, 10.0])
    eligible = np.array([True, True, True, True, True, False, True, True])
    chosen = select_key_accounts(value, eligible, top_share=0.5, minimum=15.0, cap=10)
    assert np.flatnonzero(chosen).tolist() == [1, 3, 4]  # top 3 of 7 eligible, >= 15
    assert select_key_accounts(value, eligible, 0.5, 15.0, cap=2).sum() == 2
    # the rule sees only what the firm observes: its records of the customer, nothing hidden
    params = set(inspect.signature(select_key_accounts).parameters)
    assert params == {"observed_value", "eligible", "top_share", "minimum", "cap"}


def test_more_desk_capacity_means_shorter_waits_and_fewer_service_defections() -> None:
    def run(agents: float):
        sc = with_strategy(levels={"default": "reactive"}, staffing={"desk": {"count": agents}})
        return simulate(sc, seed=21)

    small, large = run(0.1), run(2.0)
    w_small, w_large = focal_weekly(small), focal_weekly(large)
    assert w_small["desk_backlog"].mean() > 10 and w_large["desk_backlog"].max() == 0
    wait_small = (w_small["desk_wait_days"] * w_small["desk_served"]).sum() / w_small[
        "desk_served"
    ].sum()
    wait_large = (w_large["desk_wait_days"] * w_large["desk_served"]).sum() / w_large[
        "desk_served"
    ].sum()
    assert wait_small > 7 and wait_large == 0
    service = {r: r.summary["lost_service"] for r in (small, large)}
    assert service[large] < 0.8 * service[small], service


def test_a_pool_serves_in_proportion_to_its_hours_and_carries_no_idle_time() -> None:
    """Analytic: under a standing backlog a pool of 0.95 h a week makes 0.95 / 0.5 = 1.9
    contacts of 0.5 h a week (190 in 100 weeks), not floor(0.95 / 0.5) = 1; its credit stays
    below one contact; idle hours are not banked; a staffing event keeps the work done."""
    pool = StaffPool()
    made = 0
    for _ in range(100):
        pool.start_week(0.95)
        n, spent = pool.contacts("requests", 1000, 0.5)
        made += n
        assert spent == pytest.approx(0.95) and 0 <= pool.credit["requests"] < 0.5
    assert made == 190 and pool.credit["requests"] == pytest.approx(0.0, abs=1e-9)
    # a quiet week: 1 contact in 10 h; its 9.5 idle hours are not carried
    pool.start_week(10.0)
    assert pool.contacts("requests", 1, 0.5) == (1, 0.5) and not pool.short
    pool.start_week(0.3)
    assert pool.contacts("requests", 5, 0.5) == (0, 0.3) and pool.short
    assert pool.credit["requests"] == pytest.approx(0.3)
    # the work done stays done whatever the staff: 0.2 h finish the started contact
    pool.start_week(0.2)
    assert pool.contacts("requests", 5, 0.5) == (1, pytest.approx(0.2))
    # a short activity takes all the hours left: a later one of the pool gets none
    pool.start_week(1.0)
    assert pool.contacts("follow_ups", 9, 0.3) == (3, 1.0)
    assert pool.contacts("club_events", 4, 0.05) == (0, 0.0)


DESK_GRID = (0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.5, 1.0, 1.5)
"""Desk agents: demand in the small market below is about 7 requests of 0.5 h a week (0.09
agents), so the grid runs from no desk through pools of a fraction of an agent to ample."""


@pytest.mark.slow
def test_service_defections_never_rise_as_the_desk_grows_and_utilisation_is_hours_served() -> None:
    market = merge(SERVICE_MARKET, {"market": {"customers": 800}, "horizon": {"weeks": 52}})
    per_request = 0.5  # service.desk_hours_per_request (default)
    seeds = range(100, 110)
    defections = np.zeros((len(DESK_GRID), len(seeds)))
    for i, agents in enumerate(DESK_GRID):
        sc = scenario(
            {
                "strategies": [
                    {
                        "name": "s",
                        "levels": {"default": "reactive"},
                        "staffing": {"desk": {"count": agents}},
                    }
                ]
            },
            base=market,
        )
        for j, seed in enumerate(seeds):  # the same seeds at every head count: paired
            run = simulate(sc, seed=seed)
            defections[i, j] = run.summary["lost_service"]
            w = focal_weekly(run)
            hours, utilisation = w["desk_hours"].to_numpy(), w["desk_utilisation"].to_numpy()
            assert (utilisation <= 1.0 + 1e-12).all() and (utilisation >= 0).all()
            served = w["desk_served_hours"].to_numpy()
            np.testing.assert_allclose(utilisation * hours, served, atol=1e-9)
            # the hours served are the requests resolved at 0.5 h each, give or take the part
            # of one request worked and carried to next week: capacity in proportion to hours
            carried = (
                np.cumsum(utilisation * hours)
                - np.cumsum(w["desk_served"].to_numpy()) * per_request
            )
            assert (carried > -1e-9).all() and (carried < per_request).all(), (agents, seed)
            # with a standing backlog every hour is served: utilisation 1, however small the desk
            backlog = w["desk_backlog"].to_numpy() > 0
            np.testing.assert_allclose(utilisation[backlog & (hours > 0)], 1.0)
    # Monotone in the mean, not per seed: a resolved request changes a customer's
    # satisfaction, hence which random numbers later draws use, so paired runs diverge and
    # a single seed's count can rise by chance. For each step up the grid the paired
    # differences d_j (one per seed) estimate the effect with standard error s_d / sqrt(n);
    # the mean may exceed 0 only by the one-sided t quantile at a family-wise 1% over the
    # grid's steps (Bonferroni): a rise that large would be a real rise, not chance.
    steps = np.diff(defections, axis=0)
    n = len(seeds)
    t = stats.t.ppf(1 - 0.01 / len(steps), df=n - 1)
    tolerance = t * steps.std(axis=1, ddof=1) / np.sqrt(n)
    means = defections.mean(axis=1)
    rises = steps.mean(axis=1) > tolerance
    assert not rises.any(), dict(zip(DESK_GRID, means.round(1), strict=True))
    # and the desk matters: none at all loses clearly more customers than an ample one
    assert means[0] > 2 * means[-1]


def test_basic_leaves_voiced_problems_unanswered() -> None:
    run = simulate(with_strategy(staffing={"desk": {"count": 5.0}}), seed=21)
    w = focal_weekly(run)
    assert w["desk_requests"].sum() == 0 and w["desk_served"].sum() == 0


def test_accountable_finds_silent_problems_that_reactive_never_sees() -> None:
    staff = {"desk": {"count": 2.0}, "contact_centre": {"count": 10.0}}
    reactive = simulate(with_strategy(levels={"default": "reactive"}, staffing=staff), seed=5)
    accountable = simulate(with_strategy(levels={"default": "accountable"}, staffing=staff), seed=5)
    assert focal_weekly(reactive)["silent_problems_found"].sum() == 0
    found = focal_weekly(accountable)["silent_problems_found"].sum()
    problems = focal_weekly(accountable)["problems"].sum()
    silent = problems - focal_weekly(accountable)["voiced_problems"].sum()
    # the call reaches every buyer (enough staff) and finds 60% of silent problems still open
    assert 0.3 * silent < found <= silent
    assert accountable.summary["lost_service"] < reactive.summary["lost_service"]


def test_an_overloaded_pool_delivers_fewer_contacts_than_planned() -> None:
    def weekly(staff: float):
        sc = with_strategy(
            levels={"default": "accountable"}, staffing={"contact_centre": {"count": staff}}
        )
        return focal_weekly(simulate(sc, seed=8))

    short, ample = weekly(0.5), weekly(20.0)
    assert (short["follow_ups_made"] < short["follow_ups_planned"]).mean() > 0.9
    assert short["contact_utilisation"].min() == pytest.approx(1.0)
    np.testing.assert_array_equal(ample["follow_ups_made"], ample["follow_ups_planned"])
    assert ample["contact_utilisation"].max() < 1.0
    # hours cap the contacts: 0.5 people x 38 h / 0.2 h per call = 95 calls a week at most
    assert short["follow_ups_made"].max() <= 95


def test_key_accounts_concentrate_manager_work_on_the_selected_customers() -> None:
    sc = with_strategy(
        key_accounts={"top_share": 0.03, "accounts_per_manager": 30, "review_weeks": 13},
        staffing={"managers": {"count": 2.0}, "senior_manager": {"count": 1.0}},
    )
    run = simulate(sc, seed=13)
    customers = run.customers
    ka = customers[customers["key_account"]]
    assert 0 < len(ka) <= 60  # capped by 2 managers x 30 accounts
    contacts = customers["manager_contacts"]
    assert contacts[customers["key_account"]].sum() > 0.5 * contacts.sum()
    assert contacts[customers["key_account"]].mean() > 20 * max(
        contacts[~customers["key_account"]].mean(), 0.01
    )
    w = focal_weekly(run)
    assert (w["key_accounts"] > 0).all()
    assert w["senior_manager"].sum() == pytest.approx(78 * 2500.0)


def test_a_staffing_event_changes_the_pools_hours_from_its_week() -> None:
    sc = with_strategy(
        levels={"default": "reactive"},
        staffing={"desk": {"count": 1.0}, "changes": [{"week": 30, "pool": "desk", "count": 3.0}]},
    )
    w = focal_weekly(simulate(sc, seed=1))
    hours = w.set_index("week")["desk_hours"]
    assert (hours[:30] == 38.0).all() and (hours[30:] == 114.0).all()
    desk_cost = w.set_index("week")["desk"]
    assert desk_cost[29] == 900.0 and desk_cost[30] == 2700.0


def test_costs_by_kind_add_up_to_the_total_with_every_level_in_use() -> None:
    sc = with_strategy(
        levels={
            "default": "reactive",
            "rungs": {
                "client": "accountable",
                "supporter": "proactive",
                "advocate": "proactive",
                "partner": "partnership",
            },
        },
        staffing={
            "desk": {"count": 1},
            "contact_centre": {"count": 12},
            "managers": {"count": 1},
            "senior_manager": {"count": 0.5},
        },
        key_accounts={"top_share": 0.01},
    )
    run = simulate(sc, seed=2)
    raw = run.raw
    total = sum(raw.costs[k] for k in COST_KINDS)
    weekly = run.weekly
    assert np.allclose(weekly[list(COST_KINDS)].sum(axis=1), weekly["total_costs"], atol=0.005)
    np.testing.assert_array_equal(
        np.rint(weekly["profit"].to_numpy() * 100).astype(np.int64), (raw.revenue - total).ravel()
    )
    for kind, expected in (
        ("desk", 900.0),
        ("contacts", 12 * 900.0),
        ("managers", 1600.0),
        ("senior_manager", 1250.0),
    ):
        assert (weekly.loc[weekly["firm"] == "focal", kind] == expected).all()
        assert (weekly.loc[weekly["firm"] == "rival", kind] == 0).all()
    w = focal_weekly(run)
    assert w["outreach_made"].sum() > 0 and w["manager_contacts_made"].sum() > 0
    assert w["follow_ups_made"].sum() > 0 and w["desk_served"].sum() > 0


def test_the_warm_up_runs_the_baseline_strategy_for_every_strategy() -> None:
    def warm_up_trace(baseline: str, strategy: str):
        sc = scenario(
            {
                "horizon": {"weeks": 20, "warmup_weeks": 30},
                "trace_share": 0.2,
                "strategies": [
                    {
                        "name": "desk",
                        "levels": {"default": "reactive"},
                        "staffing": {"desk": {"count": 1.0}},
                    },
                    {"name": "none"},
                ],
                "baseline": baseline,
            },
            base=SERVICE_MARKET,
        )
        run = simulate(sc, strategy=strategy, seed=4)
        trace = run.trace[run.trace["week"] < 0].reset_index(drop=True)
        return run, trace

    desk_run, desk_trace = warm_up_trace("desk", "desk")
    none_run, none_trace = warm_up_trace("desk", "none")
    assert desk_trace.equals(none_trace)  # same status quo, same warm-up
    _, other_trace = warm_up_trace("none", "none")
    assert not other_trace.equals(none_trace)  # the status quo's desk shaped the warm-up
    assert focal_weekly(none_run)["desk_served"].sum() == 0  # after launch: no desk
    assert focal_weekly(desk_run)["desk_served"].sum() > 0
