"""relsim's own customer process fitted to logs: its likelihood against brute force and against
the sum over every possible history, parameter recovery, the round trip engine -> export ->
calibrate, conditional simulation against its closed form, the sBG cohort against published
values, the CDNOW holdout comparison in reduced form, and the commands."""

from __future__ import annotations

import json
from itertools import product
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from relsim.calibration import (
    conditional_expected_weeks,
    fit_cohort,
    fit_order_value,
    fit_process,
    process_scenario,
    segment_values,
    simulate_history,
    survival_curve,
    validation,
)
from relsim.calibration import forecast as fc
from relsim.calibration import process as proc
from relsim.calibration.spend import OrderValueFit
from relsim.model.starting import StartingCustomers
from tests.conftest import relsim

PARAMS = {"rate_mean": 12.0, "rate_shape": 2.0, "dropout_a": 0.9, "dropout_b": 2.1}
VECTOR = np.array([PARAMS[k] for k in proc.PARAMETERS])


def simulate_process(params: dict[str, float], n: np.ndarray, rng: np.random.Generator):
    """Customers from the process's story, week by week (vectorised over customers): in each
    week the relationship ends with the weekly hazard, else a purchase with probability q."""
    count = len(n)
    lam = rng.gamma(params["rate_shape"], params["rate_mean"] / params["rate_shape"], count)
    q = np.minimum(lam / 52.0, 1.0)
    theta = rng.beta(params["dropout_a"], params["dropout_b"], count)
    hazard = 1.0 - (1.0 - theta) ** (1.0 / 52.0)
    alive = np.ones(count, dtype=bool)
    x = np.zeros(count, dtype=int)
    t_x = np.zeros(count, dtype=int)
    for week in range(1, int(n.max()) + 1):
        watched = week <= n
        alive &= ~(watched & (rng.random(count) < hazard))
        buys = alive & watched & (rng.random(count) < q)
        x += buys
        t_x[buys] = week
    return x, t_x


def test_the_likelihood_sums_to_one_over_every_possible_history() -> None:
    """For n weeks, every purchase pattern is a history: P(x, t_x) times the number of
    patterns with x purchases, the last in week t_x, must add up to 1."""
    for n in (1, 4, 9):
        xs, txs, weights = [], [], []
        for x, t_x in product(range(n + 1), range(n + 1)):
            if (x == 0 and t_x == 0) or (1 <= x <= t_x):
                xs.append(x)
                txs.append(t_x)
                weights.append(1 if x == 0 else comb(t_x - 1, x - 1))
        ll = proc.log_likelihood(VECTOR, np.array(xs), np.array(txs), np.full(len(xs), n))
        assert np.dot(np.exp(ll), weights) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.slow
def test_the_likelihood_matches_a_brute_force_integral() -> None:
    """The grid and the suffix sums against a double integral over the rate and the annual
    propensity of the plain sum over the week of leaving (relative error below 2e-3, the grid's
    accuracy)."""
    m, s, a, b = VECTOR

    def one(x: int, t_x: int, n: int, lam: float, theta: float) -> float:
        q, h = min(lam / 52.0, 1.0), 1.0 - (1.0 - theta) ** (1.0 / 52.0)
        total = q**x * (1 - q) ** (n - x) * (1 - h) ** n
        for j in range(t_x, n):
            total += q**x * (1 - q) ** (j - x) * (1 - h) ** j * h
        return total

    for x, t_x, n in [(0, 0, 30), (3, 20, 30), (12, 29, 30), (1, 2, 40)]:
        value, _ = integrate.dblquad(
            lambda theta, lam, x=x, t_x=t_x, n=n: (
                one(x, t_x, n, lam, theta)
                * stats.gamma.pdf(lam, s, scale=m / s)
                * stats.beta.pdf(theta, a, b)
            ),
            0,
            200,
            0,
            1,
            epsabs=1e-12,
            epsrel=1e-6,
        )
        ours = np.exp(proc.log_likelihood(VECTOR, np.array([x]), np.array([t_x]), np.array([n])))
        assert ours[0] == pytest.approx(value, rel=2e-3), (x, t_x, n)


@pytest.mark.slow
def test_the_fit_recovers_known_parameters_within_their_standard_errors() -> None:
    rng = np.random.default_rng(17)
    n = rng.integers(20, 104, 3000)
    x, t_x = simulate_process(PARAMS, n, rng)
    fit = fit_process(x, t_x, n)
    assert fit.converged
    for name, value in PARAMS.items():
        z = (fit.params[name] - value) / fit.standard_errors[name]
        assert abs(z) < 3.0, (name, fit.params[name], fit.standard_errors[name])
    # power: a purchase rate a quarter off would be rejected
    assert (
        abs(1.25 * PARAMS["rate_mean"] - fit.params["rate_mean"])
        > 3 * fit.standard_errors["rate_mean"]
    )
    # the grid's error in the total log-likelihood is far below the 0.5 that one standard
    # error of a parameter moves it by: a finer grid would not move the estimates
    at = np.array([fit.params[k] for k in proc.PARAMETERS])
    coarse = proc.log_likelihood(at, x, t_x, n).sum()
    default = proc.rate_grid.__defaults__
    try:
        proc.rate_grid.__defaults__ = (4000,)
        fine = proc.log_likelihood(at, x, t_x, n).sum()
    finally:
        proc.rate_grid.__defaults__ = default
    assert abs(fine - coarse) < 0.05


def test_the_closed_form_forecasts_match_the_story() -> None:
    """E[repeat weeks] of new customers and the conditional forecast of each history group
    against customers simulated from the story (4.5 SE)."""
    rng = np.random.default_rng(5)
    n_total = np.full(20000, 52)
    x_all, _ = simulate_process(PARAMS, n_total, rng)
    se = x_all.std(ddof=1) / np.sqrt(len(x_all))
    expected = fc.expected_repeat_weeks(PARAMS, 52)[0]
    assert abs(expected - x_all.mean()) < 4.5 * se
    # split each simulated life at week 26: calibration and holdout
    rng = np.random.default_rng(6)
    lam = rng.gamma(2.0, 6.0, 20000)
    q = np.minimum(lam / 52, 1)
    theta = rng.beta(0.9, 2.1, 20000)
    hazard = 1 - (1 - theta) ** (1 / 52)
    alive = np.ones(20000, bool)
    x = np.zeros(20000, int)
    t_x = np.zeros(20000, int)
    later = np.zeros(20000, int)
    for week in range(1, 53):
        alive &= rng.random(20000) >= hazard
        buys = alive & (rng.random(20000) < q)
        if week <= 26:
            x += buys
            t_x[buys] = week
        else:
            later += buys
    forecast = conditional_expected_weeks(PARAMS, 26, x, t_x, np.full(20000, 26))
    frame = pd.DataFrame({"x": x, "later": later, "forecast": forecast})
    for _, group in frame.groupby(pd.cut(frame["x"], [-1, 0, 2, 5, 10, 30])):
        se = group["later"].std(ddof=1) / np.sqrt(len(group))
        assert abs(group["later"].mean() - group["forecast"].mean()) < 4.5 * se


def test_order_values_are_fitted_without_the_within_customer_noise() -> None:
    rng = np.random.default_rng(9)
    n, mean, shape, cv = 3000, 40.0, 4.0, 0.5
    own = rng.gamma(shape, mean / shape, n)
    k = rng.integers(1, 10, n)
    amounts = [rng.gamma(1 / cv**2, o * cv**2, kk) for o, kk in zip(own, k, strict=True)]
    means = np.array([a.mean() for a in amounts])
    sds = np.array([a.std(ddof=1) if len(a) > 1 else 0.0 for a in amounts])
    fit = fit_order_value(k, means, sds)
    assert abs(fit.mean - mean) < 3 * fit.mean_se
    assert abs(fit.shape - shape) < 3 * fit.shape_se
    # the naive shape of the customers' means is biased low by the noise: the test has power
    naive = means.mean() ** 2 / means.var(ddof=1)
    assert shape - naive > 3 * fit.shape_se


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_simulated_log_round_trips_through_export_and_calibrate(tmp_path: Path) -> None:
    """Engine (relsim's process, every customer a prospect whose first occasion is its first
    purchase) -> relsim export --transactions -> relsim calibrate: every fitted field within
    3 standard errors of the truth. Prospects with too low a rate never buy in 104 weeks and
    never enter the log; that share, E[(1 - q)^104], is computed and kept below 1%."""
    from ruamel.yaml import YAML

    value = OrderValueFit(40.0, 4.0, 0.0, 0.0, 0.0, 0)
    data = process_scenario(PARAMS, value, customers=3000, weeks=104, prospects=True, seed=11)
    scenario = tmp_path / "truth.yaml"
    YAML(typ="safe", pure=True).dump(data, scenario.open("w"))
    lam = stats.gamma(2.0, scale=6.0)
    unseen, _ = integrate.quad(lambda v: (1 - min(v / 52, 1)) ** 104 * lam.pdf(v), 0, 60)
    assert unseen < 0.01
    log = tmp_path / "tx.csv"
    ran = relsim("export", str(scenario), "--transactions", "--to", str(log))
    assert ran.returncode == 0, ran.stderr
    out = tmp_path / "fitted.yaml"
    ran = relsim(
        "calibrate",
        str(log),
        "--amount-col",
        "amount",
        "--start",
        "2026-01-05",
        "--out",
        str(out),
        "--json",
    )
    assert ran.returncode == 0, ran.stderr
    values = {row["field"]: row for row in json.loads(ran.stdout)["values"]}
    truth = {
        "orders_per_year.mean": 12.0,
        "orders_per_year.shape": 2.0,
        "defection_propensity.mean": 0.3,
        "defection_propensity.concentration": 3.0,
        "order_value.mean": 40.0,
        "order_value.shape": 4.0,
    }
    for name, true in truth.items():
        z = (values[name]["estimate"] - true) / values[name]["standard_error"]
        assert abs(z) < 3.0, (name, values[name])
    text = out.read_text()
    assert "Not identified by a transaction log" in text and "orders_per_year.mean:" in text


@pytest.mark.subprocess
def test_calibrate_reports_a_bad_log_with_its_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,day\n1,2026-01-05\n2,yesterday\n")
    ran = relsim(
        "calibrate",
        str(path),
        "--customer-col",
        "id",
        "--date-col",
        "day",
        "--out",
        str(tmp_path / "x.yaml"),
    )
    assert ran.returncode == 65 and "'yesterday' is not a date" in ran.stderr
    assert "Traceback" not in ran.stderr and not (tmp_path / "x.yaml").exists()


def test_starting_customers_are_checked_field_by_field() -> None:
    good = StartingCustomers(np.array([12.0]), np.array([0.2]), np.array([40.0]))
    assert len(good.checked(1, 1)) == 1
    bad = StartingCustomers(np.array([12.0]), np.array([1.5]), np.array([40.0]))
    with pytest.raises(ValueError, match=r"defection_propensity\[0\] = 1.5"):
        bad.checked(1, 1)
    with pytest.raises(ValueError, match=r"firm\[0\] = 3,"):
        StartingCustomers(np.ones(1), np.zeros(1), np.ones(1), firm=np.array([3])).checked(1, 2)


@pytest.fixture(scope="module")
def cdnow_log() -> pd.DataFrame:
    path = validation.find_cdnow()
    if path is None:
        pytest.fail("the test extra installs lifetimes for the CDNOW sample")
    return validation.read_cdnow(path)


@pytest.mark.slow
def test_cdnow_holdout_comparison_in_reduced_form(cdnow_log: pd.DataFrame) -> None:
    """The end-to-end comparison with 30 replications, each drawing its own parameters. The
    engine's conditional simulation agrees with the process's closed form at the drawn
    parameters (total within 4 SE of the simulation part), and the actual holdout is the
    data's: 1 787 purchase weeks.
    What the comparison shows is recorded in docs/validation.md, not asserted here."""
    result = validation.holdout_comparison(cdnow_log, replications=30, seed=3, split=False)
    totals = result.totals.set_index("forecast")
    assert totals.loc["actual", "purchase_weeks"] == 1787
    assert totals.loc["actual purchase days", "purchase_weeks"] == 1882
    # the engine against the closed form at each replication's own parameters
    sim = result.simulated
    assert sim is not None and sim.with_uncertainty
    gap = sim.totals.mean() - sim.expected.mean()
    assert abs(gap) < 4 * sim.parts()["simulation_sd"] / np.sqrt(30)
    row = totals.loc["relsim, simulated"]
    assert row["low_90"] < row["purchase_weeks"] < row["high_90"]
    assert row["parameter_sd"] > 0 and row["simulation_sd"] > 0
    # BIC on the calibration weeks chooses the variant; both are reported
    assert result.calibration.diagnostics["dropout"] == "rate-linked"
    assert "relsim, weekly dropout, closed form" in totals.index
    assert result.bgnbd_weeks.converged and result.calibration.process.converged
    groups = result.groups
    assert groups["customers"].sum() == 2357
    assert (groups["relsim_simulated"].diff().dropna() > 0).all()  # heavier buyers buy more
    tracking = result.tracking
    assert tracking["actual"].iloc[38] == result.calibration.diagnostics["repeat_weeks"]
    assert tracking["actual"].iloc[-1] == 2231 + 1787
    values = segment_values(result.calibration.process)
    assert (values["standard_error"] > 0).all()


@pytest.mark.slow
def test_the_sbg_fit_reproduces_the_published_values_and_the_engine_follows_it() -> None:
    """Fader & Hardie (2007): a = 0.668, b = 3.806 (high end); a = 0.704, b = 1.182 (regular),
    from years 1-7. relsim's contractual segment with those values, simulated as cohorts of
    1 000, follows the sBG survival curve each year (4 SE of the replications)."""
    high = fit_cohort(validation.COHORTS["high end"][:8])
    regular = fit_cohort(validation.COHORTS["regular"][:8])
    assert (round(high.params["a"], 3), round(high.params["b"], 3)) == (0.668, 3.806)
    assert (round(regular.params["a"], 3), round(regular.params["b"], 3)) == (0.704, 1.182)
    result = validation.cohort_comparison("regular", validation.COHORTS["regular"], 30, seed=4)
    table = result.table
    np.testing.assert_allclose(table["sbg"], survival_curve(regular.params, 12))
    # binomial noise of a cohort of 1 000, over 30 cohorts
    se = np.sqrt(table["sbg"] * (1 - table["sbg"]) / 1000 / 30)
    assert (np.abs(table["relsim"] - table["sbg"]) <= 4 * se + 1e-12).all()


@pytest.mark.slow
@pytest.mark.subprocess
def test_validate_model_writes_the_page_with_tables_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "validation.md"
    ran = relsim(
        "validate-model", "--out", str(out), "--replications", "4", "--cohort-replications", "3"
    )
    assert ran.returncode == 0, ran.stderr
    page = out.read_text()
    for text in (
        "## CDNOW",
        "| relsim, simulated |",
        "BG/NBD on days",
        "## A contractual",
        "relsim validate-model --replications 4",
    ):
        assert text in page, text
    for name in (
        "validation-cdnow-tracking.png",
        "validation-cdnow-groups.png",
        "validation-cohorts.png",
    ):
        assert (tmp_path / "docs" / "images" / name).stat().st_size > 5000
    assert (tmp_path / "docs" / "validation" / "cdnow-totals.csv").exists()
    missing = relsim("validate-model", "--out", str(out), "--cdnow", str(tmp_path / "none.txt"))
    assert missing.returncode == 66


def test_simulate_history_is_reproducible_and_uses_each_customers_history() -> None:
    summary = pd.DataFrame({"x": [0, 10, 0], "t_x": [0, 30, 0], "n": [30, 30, 30]})
    a = simulate_history(PARAMS, summary, 26, replications=5, seed=1)
    b = simulate_history(PARAMS, summary, 26, replications=5, seed=1)
    pd.testing.assert_frame_equal(a.weekly, b.weekly)
    assert a.per_customer["mean"].iloc[1] > a.per_customer["mean"].iloc[0]
