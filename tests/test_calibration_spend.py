"""Spend with within-customer variation (gamma-gamma): the engine runs it, calibrate recovers it,
the scenario field keeps every earlier stream, and the spend-frequency check finds what it
should (a dependence when there is one, none when there is none)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from relsim.calibration import process_scenario, simulated_log, weekly_summary
from relsim.calibration.spend import (
    GammaGammaFit,
    fit_spend_gamma_gamma,
    spend_frequency_correlation,
)
from relsim.model import streams
from relsim.scenario import Scenario
from relsim.simulation import simulate
from tests.conftest import relsim

PARAMS = {"rate_mean": 12.0, "rate_shape": 2.0, "dropout_a": 0.9, "dropout_b": 2.1}
TRUTH = {"p": 3.0, "q": 4.0, "gamma": 30.0}


def gamma_gamma_scenario(customers: int, weeks: int, seed: int) -> dict:
    """relsim's process with the gamma-gamma spend of :data:`TRUTH`, every customer traced."""
    p, q, gamma = TRUTH["p"], TRUTH["q"], TRUTH["gamma"]
    data = process_scenario(PARAMS, customers=customers, weeks=weeks, seed=seed)
    data["segments"][0].update(
        order_value={"mean": p * gamma / (q - 1.0), "shape": q},
        order_value_within_shape=p,
        order_value_between="inverse-gamma",
    )
    data["trace_share"] = 1.0
    return data


def test_the_engine_simulates_gamma_gamma_and_calibrate_recovers_it() -> None:
    """Engine -> transaction log -> gamma-gamma fit: p, q and gamma each within 4 standard
    errors of the truth; and the per-order variation is really there (the fit's p is far from
    the large p that one value per customer would give)."""
    scenario = Scenario.model_validate(gamma_gamma_scenario(2500, 52, seed=5))
    run = simulate(scenario, seed=5)
    log = simulated_log(run.trace, "focal")
    log["date"] = pd.to_datetime(log["date"])
    summary = weekly_summary(log)
    assert (summary["k"] >= 2).mean() > 0.5  # repeat weeks carry the within-customer shape
    fit = fit_spend_gamma_gamma(summary["k"], summary["mean_amount"])
    for name, true in TRUTH.items():
        z = (fit.params[name] - true) / fit.fit.standard_errors[name]
        assert abs(z) < 4.0, (name, fit.params[name], fit.fit.standard_errors[name])
    assert fit.fit.standard_errors["p"] < 0.5  # tight enough to tell p = 3 from p >> 3
    fields = fit.segment_fields()
    assert fields["order_value_between"] == "inverse-gamma"
    row = fit.table.loc["order_value.mean"]
    true_mean = TRUTH["p"] * TRUTH["gamma"] / (TRUTH["q"] - 1.0)
    assert abs(row["estimate"] - true_mean) < 4.0 * row["standard_error"]


def test_the_order_values_stream_comes_after_every_earlier_one() -> None:
    """The new stream is last: every earlier stream keeps its position, so its numbers."""
    assert streams.PURPOSES[-1] == "order_values"
    assert streams.PURPOSES[:-1] == (
        streams.STRATEGY_INDEPENDENT
        + streams.BEHAVIOUR
        + streams.CALIBRATION
        + streams.MARKETING
        + streams.UNCERTAINTY
    )


def test_without_the_field_every_order_of_a_customer_is_worth_the_same() -> None:
    """Default (null): one value per customer, as before; with it, values vary per order."""
    data = gamma_gamma_scenario(300, 26, seed=2)
    for within, varies in ((None, False), (2.0, True)):
        data["segments"][0]["order_value_within_shape"] = within
        run = simulate(Scenario.model_validate(data), seed=2)
        log = simulated_log(run.trace, "focal")
        spread = log.groupby("customer")["amount"].agg(lambda a: a.max() - a.min())
        assert (spread > 0.011).any() == varies


def test_the_fields_are_checked() -> None:
    data = gamma_gamma_scenario(100, 10, seed=1)
    data["segments"][0]["order_value"] = {"mean": 40.0, "shape": 0.8}
    with pytest.raises(ValidationError, match="shape q above 1"):
        Scenario.model_validate(data)
    data = gamma_gamma_scenario(100, 10, seed=1)
    data["segments"][0]["contractual"] = True
    with pytest.raises(ValidationError, match="non-contractual segments"):
        Scenario.model_validate(data)


def _weeks(rng: np.random.Generator, n: int, link: float) -> pd.DataFrame:
    """Purchase weeks of ``n`` customers: 1 + Poisson repeat weeks at rate lambda, amounts of
    mean ``20 * lambda ** link`` (``link`` 0: spend independent of frequency)."""
    lam = rng.gamma(2.0, 2.0, n)
    count = 1 + rng.poisson(lam)
    customer = np.repeat(np.arange(n), count)
    amount = rng.gamma(4.0, 5.0 * lam[customer] ** link)
    week = np.concatenate([np.arange(c) for c in count])
    return pd.DataFrame({"customer": customer, "week": week, "amount": amount})


def test_the_spend_frequency_check_finds_a_dependence_only_where_there_is_one() -> None:
    """Pearson with a bootstrap interval: 0 inside it for independent spend (where a rank
    correlation would be biased upwards: the median of a mean of more skewed amounts is
    higher), above it for spend that rises with frequency."""
    rng = np.random.default_rng(12)
    independent = spend_frequency_correlation(_weeks(rng, 2000, 0.0))
    assert independent.low < 0 < independent.high
    linked = spend_frequency_correlation(_weeks(rng, 2000, 0.5))
    assert linked.low > 0
    assert "non-zero dependence" in linked.reading()
    assert "no dependence detected" in independent.reading()


def test_a_customers_own_value_is_the_gamma_gamma_posterior_mean() -> None:
    """E[p / nu | k, m] = (gamma + k m) p / (p k + q - 1): the prior mean with no orders, the
    own mean with very many, and in between a weighted mix."""
    from relsim.calibration.bgnbd import Fit

    p, q, gamma = TRUTH["p"], TRUTH["q"], TRUTH["gamma"]
    fit = GammaGammaFit(
        Fit("gamma-gamma", dict(TRUTH), dict.fromkeys(TRUTH, 0.1), 0.0, 1, True, "", np.eye(3))
    )
    values = fit.own_values(np.array([0, 10_000, 3]), np.array([0.0, 50.0, 50.0]))
    assert values[0] == pytest.approx(p * gamma / (q - 1))
    assert values[1] == pytest.approx(50.0, rel=1e-3)
    assert p * gamma / (q - 1) < values[2] < 50.0


@pytest.mark.subprocess
def test_calibrate_writes_a_gamma_gamma_scenario_and_prints_the_check(tmp_path: Path) -> None:
    """relsim calibrate --spend gamma-gamma: the written scenario runs the fitted spend (its
    fields load), the printout reports the spend-frequency check, and a forecast from the
    customers' histories runs with it."""
    from relsim.scenario import load_scenario

    run = simulate(Scenario.model_validate(gamma_gamma_scenario(600, 30, seed=3)), seed=3)
    path = tmp_path / "tx.csv"
    simulated_log(run.trace, "focal").to_csv(path, index=False)
    out = tmp_path / "fitted.yaml"
    ran = relsim(
        *("calibrate", str(path), "--amount-col", "amount", "--spend", "gamma-gamma"),
        *("--out", str(out), "--forecast-weeks", "4", "--replications", "2"),
    )
    assert ran.returncode == 0, ran.stderr
    assert "order_value_within_shape" in ran.stdout
    assert "spend vs frequency among" in ran.stdout
    assert "forecast of the log's customers, the next 4 weeks" in ran.stdout
    segment = load_scenario(out).segments[0]
    assert segment.order_value_between == "inverse-gamma"
    assert segment.order_value_within_shape is not None
