"""Forecasts that carry the fit's parameter uncertainty, and the rate-linked dropout variant:
the sampling distribution's draws, the two parts of a forecast's spread, interval coverage on
logs from known parameters, and the variant's likelihood, closed form, engine and round trip."""

from __future__ import annotations

from itertools import product
from math import comb

import numpy as np
import pandas as pd
import pytest

from relsim.calibration import (
    ParameterDistribution,
    conditional_expected_weeks,
    fit_process,
    process_scenario,
    simulate_history,
)
from relsim.calibration import process as proc
from relsim.calibration.bgnbd import Fit
from relsim.calibration.coverage import coverage_study, story_histories
from relsim.model.defection import rate_linked

LINKED = {
    "rate_mean": 10.0,
    "rate_shape": 1.5,
    "dropout_a": 0.8,
    "dropout_b": 2.0,
    "dropout_rate_power": 1.0,
}
LINKED_VECTOR = proc.vector(LINKED)


def _fit_of(params: dict[str, float], covariance: np.ndarray) -> Fit:
    errors = dict(zip(params, np.sqrt(np.diag(covariance)), strict=True))
    return Fit("test", dict(params), errors, 0.0, 100, True, "", covariance)


def test_parameter_draws_follow_the_fits_sampling_distribution() -> None:
    """Log-normal for the positive parameters, normal for the rate power: the draws' means
    and covariance on the fitting scale match the delta-method ones (4 SE)."""
    cov = np.diag([0.4, 0.01, 0.002, 0.01, 0.04])
    cov[0, 1] = cov[1, 0] = 0.03
    dist = ParameterDistribution.from_fit(_fit_of(LINKED, cov))
    rng = np.random.default_rng(3)
    draws = pd.DataFrame([dist.draw(rng) for _ in range(4000)])
    scale = np.column_stack([np.log(draws.iloc[:, :4]), draws.iloc[:, 4]])
    sd = np.sqrt(np.diag(dist.covariance))
    assert np.all(np.abs(scale.mean(axis=0) - dist.center) < 4 * sd / np.sqrt(4000))
    # on the log scale the rate mean's variance is cov / mean^2 = 0.4 / 100
    assert np.var(scale[:, 0], ddof=1) == pytest.approx(0.004, rel=4 * np.sqrt(2 / 4000))
    assert np.corrcoef(scale[:, 0], scale[:, 1])[0, 1] == pytest.approx(
        0.03 / np.sqrt(0.4 * 0.01), abs=4 / np.sqrt(4000)
    )
    assert (draws.iloc[:, :4] > 0).all().all()
    with pytest.raises(ValueError, match="singular"):
        ParameterDistribution.from_fit(_fit_of(LINKED, np.full((5, 5), np.nan)))


@pytest.fixture(scope="module")
def small_log() -> tuple[pd.DataFrame, Fit]:
    rng = np.random.default_rng(8)
    summary, _ = story_histories(LINKED, 200, 26, 13, rng)
    fit = fit_process(summary["x"], summary["t_x"], summary["n"], rate_power=True)
    return summary, fit


@pytest.mark.slow
def test_a_forecast_with_uncertainty_splits_its_spread_into_two_parts(small_log) -> None:  # type: ignore[no-untyped-def]
    """Without uncertainty every replication runs the fitted parameters (parameter part 0);
    with it each draws its own, the engine's mean total agrees with the mean of the
    replications' closed forms (4 SE of the simulation part), and the parts' variances add up
    to the total's within sampling error."""
    summary, fit = small_log
    fixed = simulate_history(fit.params, summary, 13, replications=6, seed=5)
    assert fixed.parts()["parameter_sd"] == 0.0 and not fixed.with_uncertainty
    assert (fixed.parameters.nunique() == 1).all()
    dist = ParameterDistribution.from_fit(fit)
    sim = simulate_history(fit.params, summary, 13, replications=24, seed=5, uncertainty=dist)
    again = simulate_history(fit.params, summary, 13, replications=24, seed=5, uncertainty=dist)
    np.testing.assert_array_equal(sim.totals, again.totals)
    assert sim.parameters["dropout_rate_power"].nunique() == 24
    parts = sim.parts()
    assert parts["parameter_sd"] > 0 and parts["simulation_sd"] > 0
    gap = sim.totals.mean() - sim.expected.mean()
    assert abs(gap) < 4 * parts["simulation_sd"] / np.sqrt(24)
    split = parts["parameter_sd"] ** 2 + parts["simulation_sd"] ** 2
    assert split == pytest.approx(parts["total_sd"] ** 2, rel=0.6)
    low, high = sim.interval(0.9)
    assert low < sim.totals.mean() < high
    # the same replications' customer draws and engine streams as without uncertainty: the
    # uncertainty's stream comes after all others
    assert sim.per_customer.index.equals(fixed.per_customer.index)


@pytest.mark.slow
def test_forecast_intervals_cover_the_true_holdout_total_on_simulated_logs() -> None:
    """Logs from known parameters (the CI's fast profile: 10 logs of 150 customers, 16
    replications; scripts/forecast_coverage.py runs the deep study recorded in
    docs/validation.md). The 90% interval (mean +- 1.645 sd of the replications) covers the
    log's true holdout total in at least 8 of 10 logs: at 90% coverage fewer happens with
    probability 0.07; at 48%, the deep study's coverage of the simulation noise alone, 8 or
    more with probability 0.04."""
    params = {"rate_mean": 3.0, "rate_shape": 0.6, "dropout_a": 0.5, "dropout_b": 0.3}
    table = coverage_study(params, 10, customers=150, replications=16, seed=11)
    assert table["covered_normal"].sum() >= 8, table
    assert (table["parameter_sd"] > 0).all()


def test_the_rate_linked_likelihood_sums_to_one_over_every_possible_history() -> None:
    for n in (1, 4, 9):
        xs, txs, weights = [], [], []
        for x, t_x in product(range(n + 1), range(n + 1)):
            if (x == 0 and t_x == 0) or (1 <= x <= t_x):
                xs.append(x)
                txs.append(t_x)
                weights.append(1 if x == 0 else comb(t_x - 1, x - 1))
        ll = proc.log_likelihood(LINKED_VECTOR, np.array(xs), np.array(txs), np.full(len(xs), n))
        assert np.dot(np.exp(ll), weights) == pytest.approx(1.0, abs=1e-9)


def test_the_rate_linked_likelihood_matches_a_brute_force_simulation_of_short_patterns() -> None:
    """300 000 customers from the story, 5 weeks each: the share with each purchase pattern
    (x, t_x) against the likelihood times the patterns it stands for (4.5 binomial SE)."""
    rng = np.random.default_rng(31)
    summary, _ = story_histories(LINKED, 300_000, 5, 0, rng, birth_weeks=1)
    seen = summary.groupby(["x", "t_x"]).size()
    x = np.array([k[0] for k in seen.index])
    t_x = np.array([k[1] for k in seen.index])
    ll = proc.log_likelihood(LINKED_VECTOR, x, t_x, np.full(len(x), 5))
    patterns = np.array(
        [1 if xx == 0 else comb(tt - 1, xx - 1) for xx, tt in zip(x, t_x, strict=True)]
    )
    expected = np.exp(ll) * patterns
    share = seen.to_numpy() / 300_000
    se = np.sqrt(expected * (1 - expected) / 300_000)
    assert np.all(np.abs(share - expected) < 4.5 * se + 1e-12), (share, expected)
    assert expected.sum() == pytest.approx(1.0, abs=1e-9)
    # power: the weekly variant's likelihood of the same patterns is off
    weekly = np.exp(proc.log_likelihood(LINKED_VECTOR[:4], x, t_x, np.full(len(x), 5)))
    assert np.any(np.abs(share - weekly * patterns) > 4.5 * se)


def test_the_rate_linked_closed_form_forecast_matches_the_story() -> None:
    """Each history group's conditional forecast against customers simulated from the story
    (4.5 SE), and the engine's own propensity function is the story's."""
    rng = np.random.default_rng(21)
    summary, later = story_histories(LINKED, 20000, 26, 26, rng, birth_weeks=1)
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    forecast = conditional_expected_weeks(LINKED, 26, x, t_x, n)
    frame = pd.DataFrame({"x": x, "later": later, "forecast": forecast})
    for _, group in frame.groupby(pd.cut(frame["x"], [-1, 0, 2, 5, 10, 30])):
        se = group["later"].std(ddof=1) / np.sqrt(len(group))
        assert abs(group["later"].mean() - group["forecast"].mean()) < 4.5 * se
    # without the power the variant's group forecasts differ (the test has power)
    weekly = conditional_expected_weeks({**LINKED, "dropout_rate_power": 0.0}, 26, x, t_x, n)
    zero = x == 0
    se = later[zero].std(ddof=1) / np.sqrt(zero.sum())
    assert abs(weekly[zero].mean() - later[zero].mean()) > 4.5 * se
    theta = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(
        rate_linked(theta, np.array([2.0, 0.5, 1.0]), 1.0), 1 - (1 - theta) ** [2.0, 0.5, 1.0]
    )


@pytest.mark.slow
def test_the_rate_linked_variant_round_trips_through_the_engine() -> None:
    """The engine runs a cohort of prospects with defection_rate_power = 1; their weekly
    histories, calibrated with the rate-linked variant, recover every parameter within 4
    standard errors, and BIC prefers the variant over the weekly one."""
    from relsim.calibration import fit_variants
    from relsim.scenario import Scenario
    from relsim.simulation import simulate

    data = process_scenario(LINKED, customers=2500, weeks=78, prospects=True, seed=12)
    assert data["segments"][0]["defection_rate_power"] == 1.0
    data["trace_share"] = 1.0
    run = simulate(Scenario.model_validate(data), seed=12)
    summary = _histories_of(run, 78)
    fits, table = fit_variants(summary, "auto")
    assert table["rate-linked"]["chosen"]
    fit = fits["rate-linked"]
    for name, value in LINKED.items():
        z = (fit.params[name] - value) / fit.standard_errors[name]
        assert abs(z) < 4.0, (name, fit.params[name], fit.standard_errors[name])


def _histories_of(run, weeks: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Each buyer's weekly history (x, t_x, n) from a run's traced purchases at the focal firm,
    through the transaction log a firm would have."""
    from datetime import date, timedelta

    from relsim.calibration import simulated_log, weekly_summary

    start = date(2026, 1, 5)
    log = simulated_log(run.trace, "focal", start)
    log["date"] = pd.to_datetime(log["date"])
    end = start + timedelta(weeks=weeks) - timedelta(days=1)
    return weekly_summary(log, end.isoformat(), start.isoformat())


@pytest.mark.slow
@pytest.mark.subprocess
def test_calibrate_prints_a_forecast_with_both_parts_and_the_header_lists_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """relsim calibrate --dropout auto --forecast-weeks on a slice of CDNOW: the JSON holds the
    chosen variant, both variants' BIC and the forecast's interval and parts; the scenario's
    header lists the sampling distribution."""
    import json

    from relsim.calibration import validation
    from tests.conftest import relsim

    path = validation.find_cdnow()
    assert path is not None, "the test extra installs lifetimes for the CDNOW sample"
    log = validation.read_cdnow(path)
    log = log[log["customer"].isin(log["customer"].unique()[:400])]
    csv = tmp_path / "cdnow.csv"
    log.assign(date=log["date"].dt.strftime("%Y-%m-%d")).to_csv(csv, index=False)
    out = tmp_path / "fitted.yaml"
    ran = relsim(
        "calibrate", str(csv), "--amount-col", "amount", "--calibration-end", "1997-09-30",
        "--dropout", "auto", "--forecast-weeks", "8", "--replications", "4", "--out", str(out),
        "--json", "--keep-duplicates",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    payload = json.loads(ran.stdout)
    variants = {"weekly", "rate-linked", "stayers", "periodic"}
    assert set(payload["diagnostics"]["variants"]) == variants
    outlook = payload["forecast"]
    assert outlook["low_90"] <= outlook["purchase_weeks"] <= outlook["high_90"]
    assert outlook["parameter_sd"] > 0 and outlook["simulation_sd"] > 0
    header = out.read_text()
    assert "Parameter uncertainty" in header and "covariance:" in header
    assert "chosen by BIC" in header
