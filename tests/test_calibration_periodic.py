"""The periodic variant of relsim's customer process (Jerath, Fader & Hardie's periodic death
opportunities, with the rate-linked clock): its likelihood against every possible history and
a brute-force simulation, its closed forms against the story, the engine's opportunities and
conditional simulation against the closed form, the scenario's checks, and the round trip
through the engine."""

from __future__ import annotations

from itertools import product
from math import comb

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from relsim.calibration import (
    ParameterDistribution,
    conditional_expected_weeks,
    expected_repeat_weeks,
    fit_variants,
    process_scenario,
    simulate_history,
)
from relsim.calibration import periodic as per
from relsim.calibration import process as proc
from relsim.calibration.coverage import story_histories
from relsim.scenario import Scenario

LINKED = {
    "rate_mean": 10.0,
    "rate_shape": 1.5,
    "dropout_a": 3.0,
    "dropout_b": 3.0,
    "dropout_rate_power": 0.5,
}
PERIODIC = {**LINKED, per.PERIOD: 8.0, per.SINCE: 5.0}
VECTOR = proc.vector(LINKED)


def _patterns(x: np.ndarray, t_x: np.ndarray) -> np.ndarray:
    """How many weekly purchase patterns each (x, t_x) stands for."""
    return np.array([1 if a == 0 else comb(t - 1, a - 1) for a, t in zip(x, t_x, strict=True)])


def test_the_calendar_counts_match_a_brute_force_count_of_the_opportunities() -> None:
    """The calendar helpers against counting the opportunities week by week: the log's weeks
    ``0..W-1`` with opportunities at the weeks divisible by ``tau``; a history born in week
    ``b`` and ending in week ``W - 1`` (``n = W - 1 - b``) has been exposed to ``tau`` weeks
    per opportunity in its weeks ``b+1..W-1``, and ``k`` weeks after the log ``tau`` per
    opportunity in the weeks ``W..W+k-1``."""
    for tau, weeks in product((2, 3, 8, 13), (9, 26, 39)):
        last = max(w for w in range(weeks) if w % tau == 0)
        since = per.since_at_end(tau, weeks)
        assert since == weeks - 1 - last
        birth = np.arange(weeks)
        n = weeks - 1 - birth
        counted = [tau * sum(w % tau == 0 for w in range(b + 1, weeks)) for b in birth]
        np.testing.assert_array_equal(per.exposure_at_end(n, tau, since), counted)
        shift, table = per.exposure(n, int(n.max()), tau, since)
        np.testing.assert_array_equal(table[shift, n], counted)
        ahead = [tau * sum(w % tau == 0 for w in range(weeks, weeks + k)) for k in range(30)]
        np.testing.assert_array_equal(per.exposure_ahead(np.arange(30), tau, since), ahead)
        offset = per.first_week_offset(tau, since)  # the run's week 0 is the log's week W
        assert all((w - offset) % tau == 0 for w in range(30) if (weeks + w) % tau == 0)


def test_the_engine_schedules_the_first_opportunity_at_or_after_now() -> None:
    """A certain ending waits for the first week ``w >= now`` with ``(w - offset) % tau ==
    0``, ``now`` itself when it is one (the conditional simulation schedules from the first
    week after the log, an opportunity when ``since = tau - 1``)."""
    from relsim.model.defection import periodic_schedule

    now, offset, tau = np.meshgrid(np.arange(12), np.arange(4), np.array([1, 2, 4, 5]))
    now, offset, tau = now.ravel(), offset.ravel() % tau.ravel(), tau.ravel()
    for t, o, w in zip(tau, offset, now, strict=True):
        got = periodic_schedule(int(w), np.ones(1), np.full(1, 0.5), np.array([t]), np.array([o]))
        first = min(v for v in range(w, w + t) if (v - o) % t == 0)
        assert int(got[0]) == first, (t, o, w, got)


def test_the_period_counts_as_a_parameter_in_the_variants_table() -> None:
    """BIC counts the period (six parameters); a summary without its calibration weeks (which
    place the calendar) is refused rather than given a calendar guessed from ``n``."""
    rng = np.random.default_rng(54)
    summary, _ = story_histories(PERIODIC, 400, 16, 0, rng, birth_weeks=4)
    summary.attrs["weeks"] = 17
    _, table = fit_variants(summary, "periodic")
    assert table["periodic"]["parameters"] == 6
    assert set(table["periodic"]["period_log_likelihoods"]) == {2, 4, 8}
    del summary.attrs["weeks"]  # without it the calendar's origin is unknown: refused
    with pytest.raises(ValueError, match=r"needs the summary's attrs\['weeks'\]"):
        fit_variants(summary, "periodic")


def test_the_periodic_likelihood_sums_to_one_over_every_possible_history() -> None:
    for period, n in product([(4, 0), (4, 3), (3, 1), (8, 5)], (1, 4, 9)):
        pairs = [(x, t) for x, t in product(range(n + 1), repeat=2) if (x == t == 0) or 1 <= x <= t]
        x, t_x = (np.array(v) for v in zip(*pairs, strict=True))
        ll = proc.log_likelihood(VECTOR, x, t_x, np.full(len(x), n), period)
        assert np.dot(np.exp(ll), _patterns(x, t_x)) == pytest.approx(1.0, abs=1e-9)


def test_a_period_of_one_week_is_the_weekly_clock() -> None:
    x, t_x, n = np.array([0, 2, 5]), np.array([0, 7, 9]), np.array([12, 12, 20])
    np.testing.assert_allclose(
        proc.log_likelihood(VECTOR, x, t_x, n, (1, 0)), proc.log_likelihood(VECTOR, x, t_x, n)
    )


def test_the_periodic_likelihood_matches_a_brute_force_simulation_of_short_patterns() -> None:
    """300 000 customers from the story (dropout only at the opportunities every 3 weeks of the
    calendar), observed 4 to 6 weeks so that their first weeks sit at different places on the
    calendar: the share with each purchase pattern against the likelihood times the patterns it
    stands for (4.5 binomial SE); the weekly clock's likelihood misses them (power)."""
    params = {**LINKED, "dropout_a": 1.0, "dropout_b": 1.0, per.PERIOD: 3.0, per.SINCE: 1.0}
    rng = np.random.default_rng(51)
    summary, _ = story_histories(params, 300_000, 6, 0, rng, birth_weeks=3)
    seen = summary.groupby(["x", "t_x", "n"]).size()
    x, t_x, n = (np.array([k[i] for k in seen.index]) for i in range(3))
    total = summary.groupby("n").size().reindex(n).to_numpy()
    vector = proc.vector(params)
    expected = np.exp(proc.log_likelihood(vector, x, t_x, n, (3, 1))) * _patterns(x, t_x)
    share = seen.to_numpy() / total
    se = np.sqrt(expected * (1 - expected) / total)
    assert np.all(np.abs(share - expected) < 4.5 * se + 1e-12), (share, expected)
    weekly = np.exp(proc.log_likelihood(vector, x, t_x, n)) * _patterns(x, t_x)
    assert np.any(np.abs(share - weekly) > 4.5 * se)


@pytest.mark.parametrize("since", [5, 7])
def test_the_periodic_closed_forms_match_the_story(since: int) -> None:
    """Each history group's conditional forecast against customers simulated from the story,
    and a new customer's expected repeat weeks against the story's mean (4.5 SE); the weekly
    clock's forecast misses the repeat buyers whose last purchase came before the last
    opportunity (power: it cannot tell that the later ones are all still there). ``since = 7``:
    the calibration period ends the week before an opportunity (CDNOW's quarter)."""
    params = {**PERIODIC, per.SINCE: float(since)}
    rng = np.random.default_rng(52)
    summary, later = story_histories(params, 20000, 26, 26, rng, birth_weeks=1)
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    forecast = conditional_expected_weeks(params, 26, x, t_x, n)
    frame = pd.DataFrame({"x": x, "later": later, "forecast": forecast})
    for _, group in frame.groupby(pd.cut(frame["x"], [-1, 0, 2, 5, 10, 30])):
        se = group["later"].std(ddof=1) / np.sqrt(len(group))
        assert abs(group["later"].mean() - group["forecast"].mean()) < 4.5 * se
    birth = int((since - 26) % 8)  # the story's first week on the calendar
    new = expected_repeat_weeks(params, [26], birth_week=birth)[0]
    assert abs(x.mean() - new) < 4.5 * x.std(ddof=1) / np.sqrt(len(x))
    weekly = conditional_expected_weeks(LINKED, 26, x, t_x, n)
    old = (x >= 1) & (n - t_x > since)
    se = later[old].std(ddof=1) / np.sqrt(old.sum())
    assert abs(weekly[old].mean() - later[old].mean()) > 4.5 * se


def test_the_engine_ends_relationships_only_at_the_opportunities() -> None:
    """A calibrated scenario of the periodic variant: relationships end only in the weeks the
    calendar gives (every 4 weeks from the offset), and the offset continues the log's
    calendar (the first opportunity after the calibration period comes 4 - 2 - 1 weeks in)."""
    from relsim.simulation import simulate

    params = {**LINKED, per.PERIOD: 4.0, per.SINCE: 2.0}
    data = process_scenario(params, customers=2000, weeks=30, seed=3)
    assert data["segments"][0]["defection_period_weeks"] == 4
    assert data["segments"][0]["defection_period_offset_weeks"] == 1
    run = simulate(Scenario.model_validate(data), seed=3)
    focal = run.weekly[run.weekly["firm"] == "focal"]
    ended = focal.loc[focal["relationship_endings"] > 0, "week"].to_numpy()
    assert len(ended) >= 6 and set(ended % 4) == {1}


def test_the_engine_thins_the_opportunities_to_the_current_hazard() -> None:
    """Thinning below the bound: a dissatisfaction multiplier that no customer's satisfaction
    triggers raises the bound the engine draws candidates at (times 10) but not the hazard, so
    the relationships ended at the quarterly opportunities must not change (totals within 4.5
    SE, a Poisson SE that over-states a binomial's); thinning with weekly chances instead of
    the period's ends about 40% fewer here (z of 12)."""
    from relsim.simulation import simulate

    params = {**LINKED, per.PERIOD: 13.0, per.SINCE: 12.0}
    ended = []
    for multiplier in (0.0, 9.0):
        data = process_scenario(params, customers=4000, weeks=27, seed=3)
        data["satisfaction"]["dissatisfied_defection_multiplier"] = multiplier
        run = simulate(Scenario.model_validate(data), seed=3)
        ended.append(run.weekly.loc[run.weekly["firm"] == "focal", "relationship_endings"].sum())
    assert abs(ended[0] - ended[1]) < 4.5 * np.sqrt(ended[0] + ended[1]), ended


@pytest.mark.parametrize("since", [5, 7])
def test_the_engine_forecasts_the_periodic_variant_as_the_closed_form_does(since: int) -> None:
    """Conditional simulation through the engine (each customer's state drawn from its
    history's posterior, the opportunities continuing the calendar) against the closed form:
    the total, and the repeat buyers whose last purchase came before the last opportunity
    (4.5 SE of the mean over replications); the weekly clock's forecast of those is off
    (power, at ``since = 5``). ``since = 7``: the first week after the calibration period is
    an opportunity, the week the conditional simulation schedules from."""
    params = {**PERIODIC, per.SINCE: float(since)}
    rng = np.random.default_rng(53)
    summary, _ = story_histories(params, 3000, 26, 0, rng, birth_weeks=4)
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    sim = simulate_history(params, summary, 26, replications=12, seed=5)
    closed = conditional_expected_weeks(params, 26, x, t_x, n)
    se = sim.totals.std(ddof=1) / np.sqrt(len(sim.totals))
    assert abs(sim.totals.mean() - closed.sum()) < 4.5 * se, (sim.totals.mean(), closed, se)
    old = (x >= 1) & (n - t_x > since)
    mean = sim.per_customer["mean"].to_numpy()[old].sum()
    se = np.sqrt((sim.per_customer["sd"].to_numpy()[old] ** 2).sum() / len(sim.totals))
    assert abs(mean - closed[old].sum()) < 4.5 * se, (mean, closed[old].sum(), se)
    if since == 5:  # at 7 too few of them have a last purchase before the last opportunity
        weekly = conditional_expected_weeks(LINKED, 26, x, t_x, n)
        assert abs(mean - weekly[old].sum()) > 4.5 * se, (mean, weekly[old].sum(), se)


def test_the_stepped_annuity_is_the_brute_force_sum_of_the_weeks_after() -> None:
    """The value after the horizon of a periodic relationship: each week's payment discounted
    and weighted by surviving the weekly exits and every opportunity up to that week, summed
    week by week (4000 weeks) for every position of the next opportunity; a period of 1 is the
    weekly annuity."""
    from relsim.model.continuation import annuity, stepped_annuity

    exits, keep, discount, week = np.array([0.995, 0.97]), np.array([0.98, 0.9]), 0.998, 30
    for tau, offset in product((1, 2, 13), range(13)):
        offset %= tau
        brute = np.zeros(2)
        kept = np.ones(2)
        for k in range(4000):
            w = week + 1 + k
            kept = kept * exits * (keep**tau if (w - offset) % tau == 0 else 1.0)
            brute += discount**w * kept
        period, at = np.full(2, tau), np.full(2, offset)
        got = stepped_annuity(exits, keep, discount, week, period, at)
        np.testing.assert_allclose(got, brute, rtol=1e-10)
        if tau == 1:
            weekly = annuity(exits * keep, discount, discount ** (week + 1))
            np.testing.assert_allclose(got, weekly, rtol=1e-12)


def test_the_engine_values_a_periodic_customer_after_the_horizon_by_its_calendar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's value after the horizon (the customer-weeks it carries, discounted) for
    the customers of a quarterly-opportunity segment at the run's end, against the week-by-week
    sum from the engine's own state: survival steps down only at the opportunities after the
    horizon, not every week."""
    from relsim.model import engine
    from relsim.simulation import simulate

    data = process_scenario({**LINKED, per.PERIOD: 13.0, per.SINCE: 3.0}, customers=500, weeks=20)
    original = engine.Market._tail
    checked: list[int] = []

    def checking(self, rows, firm, week, weight=None):  # type: ignore[no-untyped-def]
        out = original(self, rows, firm, week, weight)
        if week != self.H - 1:  # the defections' values lost: the same code, not re-checked
            return out
        p, seg = self.p, self.c.segment.take(rows)
        substitute = np.minimum(self.substitute_hazard * p.technology_affinity.take(seg), 1.0)
        exits = (1.0 - p.relocation_weekly.take(seg)) * (1.0 - substitute)
        keep, d = 1.0 - self._propensity(rows), 1.0 / (1.0 + p.weekly_discount)
        tau, offset = p.defection_period.take(seg), p.defection_offset.take(seg)
        brute, kept = np.zeros(len(rows)), np.ones(len(rows))
        for w in range(week + 1, week + 20000):  # what is left: below 1e-15
            kept = kept * exits * np.where((w - offset) % tau == 0, keep**tau, 1.0)
            brute += d**w * kept
        np.testing.assert_allclose(out[2], brute, rtol=1e-9)
        checked.append(len(rows))
        return out

    monkeypatch.setattr(engine.Market, "_tail", checking)
    simulate(Scenario.model_validate(data), seed=4)
    assert sum(checked) > 100


def test_parameter_draws_keep_the_period() -> None:
    from relsim.calibration.bgnbd import Fit

    cov = np.diag([0.4, 0.01, 0.05, 0.05, 0.01])
    errors = dict(zip(LINKED, np.sqrt(np.diag(cov)), strict=True))
    fit = Fit("t", LINKED, errors, 0.0, 1, True, "", cov, {per.PERIOD: 8.0, per.SINCE: 5.0})
    drawn = ParameterDistribution.from_fit(fit).draw(np.random.default_rng(1))
    assert drawn[per.PERIOD] == 8.0 and drawn[per.SINCE] == 5.0
    assert set(drawn) == set(PERIODIC)


def test_the_tracking_table_places_each_customer_on_the_calendar() -> None:
    """The in-sample tracking of a periodic fit: each customer's expected repeat weeks follow
    the opportunities of its own first purchase's calendar week (a brute-force sum over the
    customers, one curve each); a quarter's period, where placing everyone at week 0 is off."""
    from relsim.calibration.bgnbd import Fit
    from relsim.calibration.calibrate import Calibration

    weeks, tau = 39, 13
    settings = {per.PERIOD: float(tau), per.SINCE: float(per.since_at_end(tau, weeks))}
    params = {**LINKED, "dropout_a": 1.0, "dropout_b": 2.0}
    fit = Fit("t", params, dict.fromkeys(params, 0.1), 0.0, 1, True, "", np.eye(5), settings)
    birth = np.arange(20)
    summary = pd.DataFrame({"birth": birth, "n": weeks - 1 - birth})
    table = Calibration(summary, fit, None, "", weeks, np.zeros(0, np.int64)).tracking
    natural = {**params, **settings}
    expected = np.zeros(weeks)
    for week in birth:
        curve = expected_repeat_weeks(natural, np.arange(weeks - week), birth_week=int(week))
        expected[week + 1 :] += np.diff(curve)
    np.testing.assert_allclose(table["expected"].to_numpy(), expected, rtol=1e-9, atol=1e-12)


def test_the_scenario_checks_the_period() -> None:
    data = process_scenario(PERIODIC, customers=10, weeks=4)
    segment = data["segments"][0]
    Scenario.model_validate(data)
    segment["defection_period_offset_weeks"] = 8
    with pytest.raises(ValidationError, match="expected an offset below the period"):
        Scenario.model_validate(data)
    segment["defection_period_offset_weeks"] = 0
    segment["contractual"] = True
    with pytest.raises(ValidationError, match="defection_period_weeks is for non-contractual"):
        Scenario.model_validate(data)


@pytest.mark.slow
def test_the_periodic_variant_round_trips_through_the_engine() -> None:
    """The engine runs a cohort of prospects whose relationships end only every 8 weeks of the
    calendar (rate-linked clock); their weekly histories, calibrated, prefer the periodic
    variant to the rate-linked one by BIC, choose the period 8 among the periods tried, and
    recover every parameter within 4 standard errors."""
    from relsim.calibration import fit_variants
    from relsim.calibration.variants import fit_periodic
    from relsim.simulation import simulate
    from tests.test_forecast_uncertainty import _histories_of

    # a shape of 3: few customers too slow to buy at all in the log's weeks (they never enter
    # it, which would bias the fitted mean rate upwards)
    truth = {**LINKED, "rate_shape": 3.0, "dropout_a": 1.5, "dropout_b": 1.0}
    truth.update({per.PERIOD: 8.0, per.SINCE: 7.0})
    data = process_scenario(truth, customers=2000, weeks=52, prospects=True, seed=14)
    assert data["segments"][0]["defection_period_offset_weeks"] == 0  # the log's calendar
    data["trace_share"] = 1.0
    run = simulate(Scenario.model_validate(data), seed=14)
    summary = _histories_of(run, 52)
    linked, table = fit_variants(summary, "rate-linked")
    fit, profile = fit_periodic(summary, tuple(linked["rate-linked"].params.values()))
    bic = -2.0 * fit.log_likelihood + 6 * np.log(len(summary))  # the period counts
    assert bic < table["rate-linked"]["bic"] - 10.0
    assert max(profile, key=profile.__getitem__) == 8
    assert fit.settings == {per.PERIOD: 8.0, per.SINCE: float(51 % 8)}
    for name in LINKED:
        z = (fit.params[name] - truth[name]) / fit.standard_errors[name]
        assert abs(z) < 4.0, (name, fit.params[name], fit.standard_errors[name])
