"""The stayers variant of relsim's customer process (rate-linked dropout and a share who never
defect): its likelihood against every possible history and a brute-force simulation, its closed
form against the story, the engine's conditional simulation against the closed form, the
parameter draws, and the round trip through the engine."""

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
    process_scenario,
    simulate_history,
)
from relsim.calibration import process as proc
from relsim.calibration.bgnbd import Fit
from relsim.calibration.coverage import story_histories
from relsim.scenario import Scenario

STAYERS = {
    "rate_mean": 10.0,
    "rate_shape": 1.5,
    "dropout_a": 6.0,
    "dropout_b": 10.0,
    "dropout_rate_power": 1.0,
    "never_defecting_share": 0.4,
}
VECTOR = proc.vector(STAYERS)
LINKED = {k: v for k, v in STAYERS.items() if k != proc.NEVER_SHARE}


def _patterns(x: np.ndarray, t_x: np.ndarray) -> np.ndarray:
    """How many weekly purchase patterns each (x, t_x) stands for."""
    return np.array([1 if a == 0 else comb(t - 1, a - 1) for a, t in zip(x, t_x, strict=True)])


def test_the_stayers_likelihood_sums_to_one_over_every_possible_history() -> None:
    for n in (1, 4, 9):
        pairs = [(x, t) for x, t in product(range(n + 1), repeat=2) if (x == t == 0) or 1 <= x <= t]
        x, t_x = (np.array(v) for v in zip(*pairs, strict=True))
        ll = proc.log_likelihood(VECTOR, x, t_x, np.full(len(x), n))
        assert np.dot(np.exp(ll), _patterns(x, t_x)) == pytest.approx(1.0, abs=1e-9)


def test_the_stayers_likelihood_matches_a_brute_force_simulation_of_short_patterns() -> None:
    """300 000 customers from the story, 6 weeks each: the share with each purchase pattern
    against the likelihood times the patterns it stands for (4.5 binomial SE); the rate-linked
    likelihood without the stayers misses them (the test has power)."""
    rng = np.random.default_rng(41)
    summary, _ = story_histories(STAYERS, 300_000, 6, 0, rng, birth_weeks=1)
    seen = summary.groupby(["x", "t_x"]).size()
    x = np.array([k[0] for k in seen.index])
    t_x = np.array([k[1] for k in seen.index])
    n = np.full(len(x), 6)
    expected = np.exp(proc.log_likelihood(VECTOR, x, t_x, n)) * _patterns(x, t_x)
    share = seen.to_numpy() / 300_000
    se = np.sqrt(expected * (1 - expected) / 300_000)
    assert np.all(np.abs(share - expected) < 4.5 * se + 1e-12), (share, expected)
    linked = np.exp(proc.log_likelihood(proc.vector(LINKED), x, t_x, n)) * _patterns(x, t_x)
    assert np.any(np.abs(share - linked) > 4.5 * se)


def test_the_stayers_closed_forms_match_the_story() -> None:
    """Each history group's conditional forecast against customers simulated from the story,
    and a new customer's expected repeat weeks against the story's mean (4.5 SE); the
    rate-linked forecasts without the stayers miss the long-silent (power)."""
    rng = np.random.default_rng(22)
    summary, later = story_histories(STAYERS, 20000, 26, 26, rng, birth_weeks=1)
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    forecast = conditional_expected_weeks(STAYERS, 26, x, t_x, n)
    frame = pd.DataFrame({"x": x, "later": later, "forecast": forecast})
    for _, group in frame.groupby(pd.cut(frame["x"], [-1, 0, 2, 5, 10, 30])):
        se = group["later"].std(ddof=1) / np.sqrt(len(group))
        assert abs(group["later"].mean() - group["forecast"].mean()) < 4.5 * se
    new = expected_repeat_weeks(STAYERS, [26])[0]
    assert abs(x.mean() - new) < 4.5 * x.std(ddof=1) / np.sqrt(len(x))
    linked = conditional_expected_weeks(LINKED, 26, x, t_x, n)
    quiet = (x <= 2) & (n - t_x > 12)
    se = later[quiet].std(ddof=1) / np.sqrt(quiet.sum())
    assert abs(linked[quiet].mean() - later[quiet].mean()) > 4.5 * se


def test_the_engine_forecasts_stayers_as_the_closed_form_does() -> None:
    """Conditional simulation through the engine (each customer's state, a stayer or not, drawn
    from its history's posterior) against the closed form's total (4.5 SE of the mean over
    replications)."""
    rng = np.random.default_rng(23)
    summary, _ = story_histories(STAYERS, 1500, 26, 0, rng, birth_weeks=4)
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    sim = simulate_history(STAYERS, summary, 26, replications=12, seed=5)
    closed = conditional_expected_weeks(STAYERS, 26, x, t_x, n).sum()
    se = sim.totals.std(ddof=1) / np.sqrt(len(sim.totals))
    assert abs(sim.totals.mean() - closed) < 4.5 * se, (sim.totals.mean(), closed, se)
    linked = conditional_expected_weeks(LINKED, 26, x, t_x, n).sum()
    assert abs(sim.totals.mean() - linked) > 4.5 * se  # the stayers matter here


def test_share_draws_stay_between_0_and_1() -> None:
    """The share is drawn on the logit scale: every draw inside (0, 1), centred on the fit."""
    cov = np.diag([0.4, 0.01, 0.02, 0.05, 0.04, 0.04])
    errors = dict(zip(STAYERS, np.sqrt(np.diag(cov)), strict=True))
    dist = ParameterDistribution.from_fit(Fit("t", STAYERS, errors, 0.0, 1, True, "", cov))
    rng = np.random.default_rng(4)
    shares = np.array([dist.draw(rng)[proc.NEVER_SHARE] for _ in range(4000)])
    assert ((shares > 0) & (shares < 1)).all()
    assert np.median(shares) == pytest.approx(0.4, abs=4 * 0.2 / np.sqrt(4000) * 1.25)


def test_the_share_is_for_non_contractual_segments() -> None:
    data = process_scenario(STAYERS, customers=10, weeks=4)
    assert data["segments"][0]["never_defecting_share"] == 0.4
    Scenario.model_validate(data)
    data["segments"][0]["contractual"] = True
    with pytest.raises(ValidationError, match="never_defecting_share is for non-contractual"):
        Scenario.model_validate(data)


@pytest.mark.slow
def test_the_stayers_variant_round_trips_through_the_engine() -> None:
    """The engine runs a cohort of prospects with never_defecting_share = 0.4 and rate-linked
    dropout; their weekly histories, calibrated with the stayers variant, recover every
    parameter and scenario field within 4 standard errors. The share is pinned down (its SE
    about 0.05); the mortal customers' beta concentration is not in two years of a few thousand
    customers (its SE is large: the rate-linked beta with a < 1 mimics a stayer share, so on
    such a log BIC keeps the simpler variant). The fit nests the rate-linked one: its
    log-likelihood is at least that one's."""
    from relsim.calibration import fit_variants
    from relsim.simulation import simulate
    from tests.test_forecast_uncertainty import _histories_of

    data = process_scenario(STAYERS, customers=3000, weeks=104, prospects=True, seed=13)
    data["trace_share"] = 1.0
    run = simulate(Scenario.model_validate(data), seed=13)
    summary = _histories_of(run, 104)
    fits, table = fit_variants(summary, "auto")
    assert table["stayers"]["log_likelihood"] >= table["rate-linked"]["log_likelihood"] - 1e-6
    fit = fits["stayers"]
    for name, value in STAYERS.items():
        z = (fit.params[name] - value) / fit.standard_errors[name]
        assert abs(z) < 4.0, (name, fit.params[name], fit.standard_errors[name])
    assert fit.standard_errors[proc.NEVER_SHARE] < 0.1
    fields = proc.segment_values(fit)
    truth = {"defection_propensity.mean": 6.0 / 16.0, "never_defecting_share": 0.4}
    for name, value in truth.items():
        row = fields.loc[name]
        assert abs(row["estimate"] - value) < 4.0 * row["standard_error"], (name, row)
