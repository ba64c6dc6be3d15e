"""Customers lost, not relationships restarted (relsim.model.losses, docs/model.md 3.3).

Statistical tests use fixed seeds; tolerances are Z standard errors, the standard errors
derived from the counts (binomial or delta method) or from paired replications."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from relsim import simulate
from relsim.model import losses
from relsim.scenario import Scenario
from relsim.units import weekly_probability
from tests.conftest import scenario

Z = 4.0


# ------------------------------------------------------------------ rules
def test_an_ending_is_won_back_only_by_the_same_firm_within_the_window() -> None:
    endings = {
        "week": np.array([10, 10, 10, 30, 5], dtype=np.int16),
        "customer": np.array([1, 2, 3, 1, 4], dtype=np.int32),
        "firm": np.array([0, 0, 0, 0, 1], dtype=np.int8),
    }
    restarts = {
        # 1 comes back to 0 at week 20 (10 weeks) and again at 90 (60 weeks after week 30);
        # 2 comes back at 62 (52 weeks: on the window's edge); 3 begins with firm 1; 4 returns
        # to 1 with no recorded ending before week 3
        "week": np.array([20, 90, 62, 12, 3], dtype=np.int16),
        "customer": np.array([1, 1, 2, 3, 4], dtype=np.int32),
        "firm": np.array([0, 0, 0, 1, 1], dtype=np.int8),
    }
    won = losses.won_back(endings, restarts, window=52, n_firms=2)
    assert won.tolist() == [True, True, False, False, False]


def test_annual_churn_reads_contracts_on_any_calendar() -> None:
    """Contracts renewing together: 1 000 holders, 10% lost at each renewal of a 52-week
    period, three renewals in 200 weeks (not a whole number of periods); no other losses.
    The weekly rate over customer-weeks reads 3 x 100 / 200 weeks; the renewal rate reads
    the period's 10%."""
    weeks = 200
    customers = np.full(weeks, 1000.0)
    renewals = np.zeros(weeks)
    renewals[[40, 92, 144]] = 1000.0
    lost_at_renewal = np.zeros(weeks)
    lost_at_renewal[[40, 92, 144]] = 100.0
    exposure = customers + lost_at_renewal
    churn = losses.annual_churn(
        np.zeros(weeks), lost_at_renewal, exposure, renewals, renewals * 52, customers
    )
    assert churn == pytest.approx(0.10, abs=1e-3)
    naive = 1 - (1 - lost_at_renewal.sum() / exposure.sum()) ** 52
    assert abs(naive - 0.10) > 0.02  # the calendar matters
    # with no contracts it is the weekly rate compounded
    lost = np.full(weeks, 2.0)
    plain = losses.annual_churn(lost, np.zeros(weeks), customers, np.zeros(weeks), 0, 0)
    assert plain == pytest.approx(1 - (1 - 2 / 1000) ** 52)


# ------------------------------------------------------------------ one firm, stated churn
def _one_firm(
    churn_percent: float,
    weeks: int,
    contract: bool = False,
    tenure_years: float = 0.0,
    customers: int = 10_000,
) -> Scenario:
    """The textbook reduction with the default win-back behaviour: one firm, flat ladder,
    neutral satisfaction, relocation 5% a year, the default win-back penalty."""
    base = scenario()
    segment = base.segments[0].model_dump(exclude={"defection_propensity"})
    segment.update(
        relocation_per_year=0.05,
        annual_churn_percent=churn_percent,
        defection_propensity={"concentration": None},
        contractual=contract,
    )
    return scenario(
        {
            "horizon": {"weeks": weeks},
            "market": {"customers": customers, "mean_tenure_years": tenure_years},
            "segments": [segment],
            "switching": {"winback_penalty": 1.0},
        }
    )


def _churn_se(run: Any) -> float:
    """Delta-method standard error of the reported annual churn, from its weekly rate."""
    churn = run.summary["churn_rate_annual"]
    weekly = 1 - (1 - churn) ** (1 / 52)
    exposure = run.raw.weekly_counts["customers"][:, 0].sum()
    return 52 * (1 - weekly) ** 51 * np.sqrt(weekly * (1 - weekly) / exposure)


@pytest.mark.parametrize("weeks", [260, 1040])
@pytest.mark.parametrize(
    "contract,tenure",
    [(False, 0.0), (True, 0.0), (True, 3.0)],
    ids=["purchases", "synced", "staggered"],
)
def test_a_stated_churn_is_the_customers_lost_a_year(
    weeks: int, contract: bool, tenure: float
) -> None:
    """20% stated is the reported churn (customers lost a year) in a one-firm market with the
    default win-back penalty: a customer who drifted off does not come back to buy as if
    nothing happened (the revolving door that made churn count restarts), and contracts that
    all renew in the same week are read per renewal, not per week."""
    run = simulate(_one_firm(20.0, weeks, contract, tenure, customers=6000), seed=2511)
    s = run.summary
    assert s["endings_won_back"] == 0  # one firm: nobody to come back from
    assert s["customers_lost"] == s["relationship_endings"]
    se = _churn_se(run)
    if contract:
        # renewal losses are binomial per renewal: the per-period rate's own error
        renewals = run.raw.weekly_counts["renewals"][:, 0].sum()
        se = max(se, np.sqrt(0.2 * 0.8 / renewals))
    assert abs(s["churn_rate_annual"] - 0.20) < Z * se, (s["churn_rate_annual"], se)


def test_lower_churn_raises_customer_value_as_retention_arithmetic_says() -> None:
    """Reichheld and Sasser: with one firm and the default win-back behaviour, lowering the
    stated churn by 5 points raises the mean value of a customer by the factor the closed
    form predicts from the reported churn. A starting customer's value (margin realised and
    continued, discounted to week 0) is ``m b / (1 - S D)`` per week with ``S`` the weekly
    retention; the paired ratio over seeds is compared with the ratio of the closed forms at
    the reported churns."""
    ratios, predicted = [], []
    for seed in range(6):
        values, factors = [], []
        for churn in (20.0, 15.0):
            sc = _one_firm(churn, 156, customers=4000)
            run = simulate(sc, seed=7000 + seed)
            cohort = run.customers[run.customers["customer"] < sc.market.customers]
            values.append(cohort["margin_value"].mean())
            retention = 1 - run.summary["churn_rate_annual"]
            weekly = (1 - float(weekly_probability(1 - retention))) if retention < 1 else 1.0
            discount = (1 + sc.economics.discount_rate_per_year) ** (-1 / 52)
            factors.append(1 / (1 - weekly * discount))
        ratios.append(values[1] / values[0])
        predicted.append(factors[1] / factors[0])
    ratios, predicted = np.array(ratios), np.array(predicted)
    gap = ratios - predicted
    se = gap.std(ddof=1) / np.sqrt(len(gap))
    assert abs(gap.mean()) < Z * se + 1e-3, (ratios, predicted)
    assert predicted.mean() > 1.15  # the test has power: a revolving door gave about 1.02


# ------------------------------------------------------------------ reasons, metamorphic
SEEDS = range(8)


def _variant(base: Scenario, change: Any) -> Scenario:
    data = base.model_dump()
    change(data)
    return Scenario.model_validate(data)


def _rates(sc: Scenario) -> list[dict[str, float]]:
    """Per seed: customers lost by class per 1 000 customer-weeks of the focal firm."""
    out = []
    for seed in SEEDS:
        run = simulate(sc, seed=seed)
        exposure = run.raw.weekly_counts["customers"][:, 0].sum()
        out.append(
            {
                r: 1000.0 * run.summary[f"lost_{r}"] / exposure
                for r in ("price", "product", "service", "market", "unobserved")
            }
        )
    return out


@pytest.fixture(scope="module")
def base_rates(small_baseline: Scenario) -> list[dict[str, float]]:
    return _rates(small_baseline)


def _difference(base: list[dict[str, float]], changed: list[dict[str, float]], reason: str):  # type: ignore[no-untyped-def]
    diffs = np.array([c[reason] - b[reason] for b, c in zip(base, changed, strict=True)])
    return float(diffs.mean()), float(diffs.std(ddof=1) / np.sqrt(len(diffs)))


def test_a_better_product_loses_fewer_customers_for_product_reasons(
    small_baseline: Scenario, base_rates: list[dict[str, float]]
) -> None:
    """The focal firm's quality raised by 0.15: fewer dissatisfied drift-offs and fewer moves
    to a better rival. Unobserved (satisfied drift-offs) is not asserted: more of those who
    still leave were satisfied, which is what a better product does."""

    def better(data: dict[str, Any]) -> None:
        data["firms"][0]["product_quality"] = min(1.0, data["firms"][0]["product_quality"] + 0.15)

    changed = _rates(_variant(small_baseline, better))
    diff, se = _difference(base_rates, changed, "product")
    assert diff < 0 and diff < -Z * se, (diff, se)


def test_a_rivals_price_cut_loses_more_customers_for_price(
    small_baseline: Scenario, base_rates: list[dict[str, float]]
) -> None:
    def cut(data: dict[str, Any]) -> None:
        for firm in data["firms"][1:]:
            firm["price_index"] *= 0.85

    changed = _rates(_variant(small_baseline, cut))
    diff, se = _difference(base_rates, changed, "price")
    assert diff > 0 and diff > Z * se, (diff, se)


def test_relocation_moves_only_the_market_class(
    small_baseline: Scenario, base_rates: list[dict[str, float]]
) -> None:
    """Relocation tripled: market losses per customer-week rise; the other classes' rates stay
    within noise (each is a hazard per week at risk, whatever else ends relationships), the
    unobserved one included."""

    def move(data: dict[str, Any]) -> None:
        for segment in data["segments"]:
            segment["relocation_per_year"] = min(0.9, 3 * segment["relocation_per_year"])

    changed = _rates(_variant(small_baseline, move))
    diff, se = _difference(base_rates, changed, "market")
    assert diff > 0 and diff > Z * se, (diff, se)
    for reason in ("price", "product", "service", "unobserved"):
        diff, se = _difference(base_rates, changed, reason)
        assert abs(diff) < Z * se + 1e-9, (reason, diff, se)
