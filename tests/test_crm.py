"""The firm's customer database and marketing automation (issue 30, points 1-2).

The targeting reads only what the firm observed (a metamorphic test scrambles the hidden state
and then the observed orders in the middle of a run); data quality 0 is the random control
draw for draw; random and oracle targeting bracket the RFM rule and the fitted churn score in
customers retained (paired seeds); the money adds up."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import relsim
from relsim.model import database as db
from relsim.model.campaigns import FirmCrm
from relsim.model.economics import COST_KINDS
from relsim.scenario import Scenario
from relsim.scenario.model import Campaign
from relsim.statistics import mean_interval
from tests.conftest import SCENARIOS

HIDDEN = ("propensity", "satisfaction", "trust", "expectation", "rate", "value", "rung", "primary")
"""Customer state the firm does not observe."""


@pytest.fixture(scope="module")
def market() -> Scenario:
    """The baseline market at 2 000 customers, two years after a year's warm-up."""
    return relsim.load_scenario(
        SCENARIOS / "baseline.yaml",
        overrides={"market.customers": 2000, "horizon.weeks": 104, "horizon.warmup_weeks": 52},
    )


def with_crm(market: Scenario, quality: float = 1.0, **campaign: Any) -> Scenario:
    """``market`` with the status quo and ``crm``: one campaign (its fields given)."""
    data = market.model_dump()
    crm = {"database": {"data_quality": quality}, "campaigns": [campaign]}
    data["strategies"] = [{"name": "status_quo"}, {"name": "crm", "crm": crm}]
    data["baseline"] = "status_quo"
    return Scenario.model_validate(data)


def focal(run: relsim.Run) -> Any:
    w = run.weekly
    return w[w["firm"] == run.firms[0]].set_index("week")


# ---------------------------------------------------------------------- the rules
def test_current_records_are_a_nested_share_of_the_customers() -> None:
    ids = np.arange(100_000)
    low, high = db.current(ids, 0.3, 0.25), db.current(ids, 0.3, 0.6)
    assert low.mean() == pytest.approx(0.25, abs=1e-3)  # equidistributed: error ~ 1/n
    assert high.mean() == pytest.approx(0.6, abs=1e-3)
    assert (high | ~low).all()  # every record current at 0.25 is current at 0.6
    assert not db.current(ids, 0.3, 0.0).any() and db.current(ids, 0.3, 1.0).all()


def test_the_churn_score_recovers_a_known_logistic_model() -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    x = rng.normal(size=(n, 2)) * [2.0, 0.5] + [1.0, -3.0]
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    truth = np.array([-0.5, 1.2, -0.8])  # on standardised features
    p = 1 / (1 + np.exp(-(truth[0] + z @ truth[1:])))
    y = (rng.random(n) < p).astype(float)
    fit = db.fit_logistic(x, y)
    # the standard error of each coefficient is about 2 / sqrt(n) = 0.014 here
    np.testing.assert_allclose(fit.coef, truth, atol=0.06)
    assert np.corrcoef(fit.predict(x), p)[0, 1] > 0.999


def test_ranking_key_takes_the_draws_for_stale_records() -> None:
    score = np.array([5.0, 1.0, 3.0, 9.0])
    u = np.array([0.9, 0.1, 0.5, 0.3])
    np.testing.assert_array_equal(db.ranking_key(score, np.zeros(4, bool), u), u)
    key = db.ranking_key(score, np.array([True, True, True, False]), u)
    np.testing.assert_array_equal(key, [2 / 3, 0.0, 1 / 3, 0.3])


# ---------------------------------------------------------------------- observed data only
class Checked(Exception):
    """Raised once the targeting was checked: ends the run."""


@pytest.mark.parametrize("target", ["rfm", "score"])
def test_targeting_reads_only_observed_data(
    market: Scenario, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = Campaign(kind="retention", target=target, budget_per_year=8000)
    sc = with_crm(market, quality=0.8, **campaign.model_dump())
    checked: dict[str, Any] = {}
    work = FirmCrm.work

    def check_then_work(self: FirmCrm, week: int) -> None:
        if week == 60 and not checked:
            c, rng = self.m.c, np.random.default_rng(9)
            live = np.flatnonzero(c.alive[: c.n])
            before = self.targets(week, campaign)
            assert target != "score" or self.model is not None  # fitted by now
            for name in HIDDEN:
                column = getattr(c, name)
                column[live] = column[rng.permutation(live)]
            checked["hidden"] = np.array_equal(self.targets(week, campaign), before)
            # the observed records, moved together from customer to customer
            moved = rng.permutation(live)
            for column in (c.last_order_focal, c.orders[:, 0], c.observed_value, c.acquired_week):
                column[live] = column[moved]
            checked["observed"] = np.array_equal(self.targets(week, campaign), before)
            checked["count"] = len(before)
            raise Checked  # the scrambled market is not run on
        work(self, week)

    monkeypatch.setattr(FirmCrm, "work", check_then_work)
    with pytest.raises(Checked):
        relsim.simulate(sc, "crm", seed=3)
    assert checked["count"] > 100
    assert checked["hidden"], "scrambling the hidden state moved the targeting"
    assert not checked["observed"], "scrambling the observed orders left the targeting as it was"


def test_data_quality_zero_targets_like_the_random_control(market: Scenario) -> None:
    runs = {}
    for target in ("random", "rfm", "score"):
        sc = with_crm(market, quality=0.0, kind="retention", target=target, budget_per_year=8000)
        runs[target] = focal(relsim.simulate(sc, "crm", seed=6))
    assert runs["random"]["campaign_contacts"].sum() > 1000
    columns = [c for c in runs["random"].columns if c != "firm"]
    for target in ("rfm", "score"):
        np.testing.assert_array_equal(
            runs[target][columns].to_numpy(float), runs["random"][columns].to_numpy(float)
        )
    # with current records the rule aims elsewhere
    sc = with_crm(market, quality=1.0, kind="retention", target="rfm", budget_per_year=8000)
    aimed = focal(relsim.simulate(sc, "crm", seed=6))
    assert not aimed["campaign_responses"].equals(runs["random"]["campaign_responses"])


def test_an_offer_reopens_the_focal_firm_to_the_customer_who_holds_it(market: Scenario) -> None:
    """A customer who drifted off the focal firm does not consider it again, unless it holds a
    campaign's offer: the offer read is the customer's own, whatever its position among the
    week's occasions (rows 0 and 1 hold none, so reading positions as rows would miss it)."""
    import simpy

    from relsim.model.engine import Market
    from relsim.model.population import NO_OFFER, NONE
    from relsim.model.purchases import AWAY_UTILITY

    sc = with_crm(market, kind="winback", target="random", budget_per_year=8000)
    m = Market(sc, sc.strategy("crm"), seed=3)
    m.warm_up()
    m.env = simpy.Environment(initial_time=m.W)  # week 0
    m.crm = FirmCrm(m.interface, sc.strategy("crm").crm)
    c = m.c
    rows = np.array([700, 900, 1100])
    c.primary[rows] = NONE
    c.left[rows] = 0
    c.lead[rows] = NONE
    c.offer_until[[0, 1, 2]] = NO_OFFER
    c.offer_until[rows] = [10, NO_OFFER, 10]  # 1100 holds an offer but left a rival
    c.left[1100] = 1
    v = m._utilities(rows, c.primary.take(rows), c.lead.take(rows))
    assert v[0, 0] > AWAY_UTILITY  # the offer reopens the focal firm
    assert v[0, 1] == AWAY_UTILITY  # no offer: still away
    assert v[1, 2] == AWAY_UTILITY and v[0, 2] > AWAY_UTILITY  # away from the rival it left


# ---------------------------------------------------------------------- money
def test_a_campaign_costs_its_contacts_and_the_discounts_taken_up(market: Scenario) -> None:
    sc = with_crm(
        market,
        quality=0.5,
        kind="winback",
        target="rfm",
        budget_per_year=5200,
        cost_per_contact=2.0,
        every_weeks=2,
        discount=0.0,
    )
    run = relsim.simulate(sc, "crm", seed=2)
    f = focal(run)
    # 5 200 a year: 200 per two-week wave, 100 contacts of 2.00 (while 100 are eligible)
    assert f["campaign_contacts"].iloc[::2].max() == 100
    np.testing.assert_allclose(f["campaigns"], 2.0 * f["campaign_contacts"], atol=1e-9)
    records = f["crm_records"]
    np.testing.assert_allclose(f["database"], np.rint(records * 2.0 / 52 * 100) / 100, atol=1e-9)
    assert f["campaign_won_back"].sum() > 0
    with_discount = sc.model_copy(deep=True).model_dump()
    with_discount["strategies"][1]["crm"]["campaigns"][0]["discount"] = 0.2
    g = focal(relsim.simulate(Scenario.model_validate(with_discount), "crm", seed=2))
    assert (g["campaigns"] - 2.0 * g["campaign_contacts"]).sum() > 0  # discounts redeemed
    costs = sum(run.raw.costs[k] for k in COST_KINDS)
    assert (run.raw.revenue - costs).sum() / 100 == pytest.approx(run.weekly["profit"].sum())


# ---------------------------------------------------------------------- the bracket
@pytest.mark.slow
def test_random_and_oracle_targeting_bracket_the_rfm_rule_and_the_score(
    market: Scenario,
) -> None:
    """Focal customers at the end, retention offers of 30% to about 1 in 10 customers a
    month (3 000 customers, 8 paired seeds): random < rfm and score < oracle, each paired
    difference's 95% interval above 0."""
    data = market.model_dump()
    data["market"]["customers"] = 3000
    bigger = Scenario.model_validate(data)
    end = {}
    for target in ("random", "rfm", "score", "oracle"):
        sc = with_crm(bigger, kind="retention", target=target, budget_per_year=20000, discount=0.3)
        end[target] = np.array(
            [relsim.simulate(sc, "crm", seed=s).summary["customers_end"] for s in range(1, 9)]
        )
    for better, worse in (
        ("rfm", "random"),
        ("score", "random"),
        ("oracle", "rfm"),
        ("oracle", "score"),
    ):
        interval = mean_interval(end[better] - end[worse])
        assert interval.low > 0, (better, worse, interval)


# ---------------------------------------------------------------------- the report's table
def test_campaign_results_compare_with_the_random_control(market: Scenario, tmp_path: Any) -> None:
    from relsim.analysis.campaigns import campaign_results
    from relsim.viz.report.program import program_section
    from relsim.viz.report.render import to_markdown

    data = market.model_dump()
    data["market"]["customers"] = 600
    data["horizon"] = {"weeks": 26, "warmup_weeks": 13}
    campaign = {"kind": "retention", "budget_per_year": 3000}
    data["strategies"] = [
        {"name": "none"},
        {"name": "control", "crm": {"campaigns": [{**campaign, "target": "random"}]}},
        {"name": "aimed", "crm": {"campaigns": [{**campaign, "target": "rfm"}]}},
    ]
    data["baseline"] = "none"
    sc = Scenario.model_validate(data)
    experiment = relsim.run_experiment(
        sc, replications=3, workers=1, out=tmp_path / "run", progress=False
    )
    table = campaign_results(sc, experiment).set_index("strategy")
    assert list(table.index) == ["control", "aimed"] and table.attrs["control"] == "control"
    # 3 000 a year at 1.50 a contact, every 4 weeks: 230 contacts a wave, 2 000 a year
    assert table.loc["aimed", "campaign_contacts"] == pytest.approx(2000, rel=0.1)
    assert np.isnan(table.loc["control", "metric_vs_control"])
    aimed = experiment.values()["aimed"] - experiment.values()["control"]
    assert table.loc["aimed", "metric_vs_control"] == pytest.approx(aimed.mean())
    text = to_markdown(program_section(sc, experiment))
    assert "Campaigns:" in text and "vs control" in text
