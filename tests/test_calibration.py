"""Calibration: the customer-history summary, BG/NBD and gamma-gamma fits against published
CDNOW values, parameter recovery from simulated customers within standard errors, and the
closed-form expectations against simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim import load_scenario, simulate
from relsim.calibration import (
    TransactionLogError,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    read_transactions,
    simulated_log,
    summarise,
)
from tests.conftest import SCENARIOS


def cdnow_folder() -> Path:
    """The datasets folder of the installed lifetimes package (a test-only dependency, for its
    data only: it is not imported)."""
    from relsim.calibration.validation import find_cdnow

    sample = find_cdnow()
    if sample is None:
        pytest.fail("the test extra installs lifetimes for the CDNOW sample")
    return sample.parent


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    raw = pd.read_csv(
        cdnow_folder() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["id_full", "customer", "date", "cds", "amount"],
    )
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    raw.to_csv(path, index=False)
    # the sample holds 21 exact repeats of a row: same-day orders, kept as the published
    # summary counts them
    log = read_transactions(
        path, "customer", "date", "amount", date_format="%Y%m%d", keep_duplicates=True
    )
    return summarise(log, "1997-09-30")  # the 39-week calibration period


def test_the_summary_reproduces_the_published_cdnow_summary(cdnow: pd.DataFrame) -> None:
    published = pd.read_csv(cdnow_folder() / "cdnow_customers_summary.csv").set_index("ID")
    ours = cdnow.set_axis(cdnow.index.astype(int)).sort_index()
    assert len(ours) == 2357
    np.testing.assert_array_equal(ours["x"].to_numpy(), published["frequency"].to_numpy())
    # the published file rounds weeks to two decimals
    np.testing.assert_allclose(ours["t_x"], published["recency"], atol=0.005)
    np.testing.assert_allclose(ours["T"], published["T"], atol=0.005)


def test_bgnbd_on_cdnow_agrees_with_the_published_fit(cdnow: pd.DataFrame) -> None:
    """Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426,
    LL = -9582.4, on the same 2 357 customers and 39 weeks."""
    fit = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert fit.converged
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert round(fit.params[name], 3) == value, name
    assert round(fit.log_likelihood, 1) == -9582.4
    assert all(0 < se < fit.params[k] for k, se in fit.standard_errors.items())


def test_gamma_gamma_on_cdnow_agrees_with_the_published_fit(cdnow: pd.DataFrame) -> None:
    """Fader & Hardie (2013): p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat buyers."""
    fit = fit_gamma_gamma(cdnow["x"], cdnow["m"])
    assert fit.customers == 946
    assert round(fit.params["p"], 2) == 6.25
    assert round(fit.params["q"], 2) == 3.74
    assert round(fit.params["gamma"], 2) == 15.44


def simulate_bgnbd(
    params: dict[str, float], n: int, T: float, rng: np.random.Generator, horizon: float = 0.0
) -> pd.DataFrame:
    """Customers from the BG/NBD story, vectorised over customers: Poisson purchases at rate
    lambda ~ Gamma(r, alpha); after each repeat purchase, dropout with p ~ Beta(a, b). The
    summary covers (0, T]; ``holdout`` counts purchases in (T, T + horizon]."""
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    t = np.zeros(n)
    x = np.zeros(n, dtype=int)
    t_x = np.zeros(n)
    holdout = np.zeros(n, dtype=int)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        nxt = t[idx] + rng.exponential(1 / lam[idx])
        inside = nxt <= T + horizon
        buyers = idx[inside]
        early = nxt[inside] <= T
        x[buyers[early]] += 1
        t_x[buyers[early]] = nxt[inside][early]
        holdout[buyers[~early]] += 1
        t[buyers] = nxt[inside]
        active[idx[~inside]] = False
        active[buyers[rng.random(len(buyers)) < p[buyers]]] = False
    return pd.DataFrame({"x": x, "t_x": t_x, "T": np.full(n, T), "holdout": holdout})


TRUE = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}


def test_bgnbd_recovers_known_parameters_within_their_standard_errors() -> None:
    data = simulate_bgnbd(TRUE, 8000, 52.0, np.random.default_rng(101))
    fit = fit_bgnbd(data["x"], data["t_x"], data["T"])
    for name, value in TRUE.items():
        z = (fit.params[name] - value) / fit.standard_errors[name]
        assert abs(z) < 3.5, (name, fit.params[name], fit.standard_errors[name])
    # power: a parameter off by half its value would be rejected
    assert abs(fit.params["r"] - 1.5 * TRUE["r"]) > 3.5 * fit.standard_errors["r"]


def test_expected_purchases_match_simulation() -> None:
    """E[X(t)] of a new customer, and E[X(T, T + t) | x, t_x, T] per group of calibration
    frequency, in closed form against means over simulated customers (4.5 SE each)."""
    data = simulate_bgnbd(TRUE, 20000, 39.0, np.random.default_rng(7), horizon=39.0)
    mean, se = data["x"].mean(), data["x"].std(ddof=1) / np.sqrt(len(data))
    assert abs(float(expected_purchases(TRUE, 39.0)) - mean) < 4.5 * se
    data["forecast"] = conditional_expected_purchases(TRUE, 39.0, data["x"], data["t_x"], data["T"])
    groups = pd.cut(data["x"], [-1, 0, 1, 3, 7, 1000])
    for _, group in data.groupby(groups, observed=True):
        se = group["holdout"].std(ddof=1) / np.sqrt(len(group))
        assert abs(group["holdout"].mean() - group["forecast"].mean()) < 4.5 * se
    # power: forecasting every group with the unconditional expectation would fail
    naive = float(expected_purchases(TRUE, 78.0) - expected_purchases(TRUE, 39.0))
    frequent = data[data["x"] >= 4]
    se = frequent["holdout"].std(ddof=1) / np.sqrt(len(frequent))
    assert abs(frequent["holdout"].mean() - naive) > 4.5 * se


def test_gamma_gamma_recovers_known_parameters() -> None:
    rng = np.random.default_rng(3)
    p, q, gamma = 4.0, 3.0, 20.0
    n = 3000
    nu = rng.gamma(q, 1 / gamma, n)  # each customer's scale
    x = rng.integers(1, 12, n)
    m = np.array([rng.gamma(p, 1 / v, k).mean() for v, k in zip(nu, x, strict=True)])
    fit = fit_gamma_gamma(x, m)
    for name, value in {"p": p, "q": q, "gamma": gamma}.items():
        z = (fit.params[name] - value) / fit.standard_errors[name]
        assert abs(z) < 3.5, (name, fit.params[name], fit.standard_errors[name])


def test_bad_transaction_logs_get_a_located_message(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,day,value\n1,2026-01-05,10\n1,not a date,5\n")
    with pytest.raises(TransactionLogError, match=r"no column 'customer'.*--customer-col"):
        read_transactions(path)
    with pytest.raises(TransactionLogError, match=r"row 3: 'not a date' is not a date"):
        read_transactions(path, "id", "day", "value")
    path.write_text("id,day,value\n1,2026-01-05,-3\n")
    with pytest.raises(TransactionLogError, match="not a non-negative amount"):
        read_transactions(path, "id", "day", "value")
    with pytest.raises(ValueError, match="t_x"):
        fit_bgnbd([1, 0], [5.0, 1.0], [4.0, 4.0])


def test_a_simulated_run_exports_its_purchases_as_a_transaction_log(tmp_path: Path) -> None:
    scenario = load_scenario(
        SCENARIOS / "baseline.yaml",
        overrides={
            "market.customers": 300,
            "horizon.weeks": 26,
            "horizon.warmup_weeks": 4,
            "trace_share": 1.0,
        },
    )
    run = simulate(scenario, strategy="transactional", seed=5)
    log = simulated_log(run.trace, "focal")
    purchases = run.trace[(run.trace["event"] == "purchase") & (run.trace["firm"] == "focal")]
    assert len(log) == len(purchases) > 0
    assert log["amount"].sum() == pytest.approx(purchases["revenue"].sum(), abs=0.01 * len(log))
    path = tmp_path / "tx.csv"
    log.to_csv(path, index=False)
    again = read_transactions(path, "customer", "date", "amount")
    summary = summarise(again)
    assert summary["x"].sum() == len(again.drop_duplicates(["customer", "date"])) - len(summary)
    # the conditional expectation is finite and non-negative for every exported history
    fit_input = summary[summary["T"] > 0]
    forecast = conditional_expected_purchases(
        TRUE, 13.0, fit_input["x"], fit_input["t_x"], fit_input["T"]
    )
    assert np.isfinite(forecast).all() and (forecast >= 0).all()


@pytest.mark.slow
@pytest.mark.subprocess
def test_export_transactions_from_a_results_folder_is_the_runs_own_replication(
    tmp_path: Path,
) -> None:
    from tests.conftest import relsim

    smoke = str(SCENARIOS / "ci-smoke.yaml")
    out = tmp_path / "run"
    ran = relsim("run", smoke, "--replications", "2", "--workers", "1", "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    args = ["--transactions", "--strategy", "every_level", "--replication", "1"]
    from_folder = relsim("export", str(out), *args, "--to", str(tmp_path / "a.csv"))
    from_file = relsim("export", smoke, *args, "--to", str(tmp_path / "b.csv"))
    assert from_folder.returncode == 0 and from_file.returncode == 0, from_folder.stderr
    a = pd.read_csv(tmp_path / "a.csv")
    assert list(a.columns) == ["customer", "date", "amount"] and len(a) > 100
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    # the revenue of the exported purchases inside the horizon is the run's own revenue
    weekly = pd.read_parquet(out / "weekly.parquet")
    own = weekly[
        (weekly["strategy"] == "every_level")
        & (weekly["replication"] == 1)
        & (weekly["firm"] == "focal")
        & (weekly["week"] >= 0)
    ]["revenue"].sum()
    inside = a[pd.to_datetime(a["date"]) >= pd.Timestamp("2026-01-05")]["amount"].sum()
    assert inside == pytest.approx(own, abs=0.01 * len(a))
    bad = relsim("export", smoke, "--transactions", "--firm", "nope")
    assert bad.returncode == 2 and "no firm 'nope'" in bad.stderr


def test_an_error_where_the_fit_is_no_maximum_is_unknown_not_zero() -> None:
    """At a saddle (the likelihood still rises along ``b``) the inverse information's variance
    of ``b`` is negative: its standard error is NaN, not 0 (which would claim certainty); the
    other parameter keeps its error, 1 / sqrt(2) for a curvature of 2."""
    from relsim.calibration.bgnbd import _fit

    def nll(t: np.ndarray) -> float:
        return float((t[0] - 1.0) ** 2 - np.log1p(t[1] ** 2))

    fit = _fit("saddle", ("a", "b"), nll, np.array([0.0, 0.0]), 10, 0, (0, 1))
    assert fit.params["a"] == pytest.approx(1.0, abs=1e-6)
    assert fit.standard_errors["a"] == pytest.approx(2**-0.5, rel=1e-4)
    assert np.isnan(fit.standard_errors["b"])
