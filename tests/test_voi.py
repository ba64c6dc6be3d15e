"""The decision under uncertainty and the value of information, on toys with a closed form:
two options whose difference in net benefit is linear in one normal assumption (the others
irrelevant), with and without simulation noise; the regression metamodel; the joint draws of
the register's assumptions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import qmc

from relsim import load_scenario
from relsim.experiment import metamodel, psa
from relsim.experiment.voi import analyse, normal_expected_loss, value_of_choice
from relsim.scenario import Scenario
from tests.conftest import SCENARIOS


def toy(
    samples: int, mean: float, sd: float, noise: float, replications: int = 2, seed: int = 1
) -> tuple[np.ndarray, pd.DataFrame]:
    """Draws x replications x 2 options: option b's net benefit less a's is ``mean + sd * x``
    (x standard normal) plus noise of sd ``noise`` per replication; z1, z2 irrelevant."""
    u = qmc.Sobol(3, scramble=True, seed=seed).random(samples)
    x = stats.norm.ppf(u[:, 0])
    rng = np.random.default_rng(seed + 1)
    values = np.zeros((samples, replications, 2))
    values[:, :, 0] = 5.0 + noise * rng.standard_normal((samples, replications))
    values[:, :, 1] = (
        5.0 + mean + sd * x[:, None] + noise * rng.standard_normal((samples, replications))
    )
    return values, pd.DataFrame({"x": x, "z1": u[:, 1], "z2": u[:, 2]})


def test_expected_loss_of_a_normal_matches_numerical_integration() -> None:
    for mean, sd in ((0.0, 1.0), (0.3, 1.0), (-2.0, 0.5)):
        x = np.random.default_rng(0).normal(mean, sd, 2_000_000)
        assert normal_expected_loss(mean, sd) == pytest.approx(
            np.maximum(x, 0).mean() - max(mean, 0), abs=3e-3
        )
    assert normal_expected_loss(0.0, 1.0) == pytest.approx(1 / np.sqrt(2 * np.pi))
    assert normal_expected_loss(1.0, 0.0) == 0.0


@pytest.mark.parametrize("noise", [0.0, 0.6])
@pytest.mark.parametrize("mean", [0.0, 0.4])
def test_evpi_and_evppi_match_the_closed_form_irrelevant_assumptions_get_zero(
    mean: float, noise: float
) -> None:
    values, inputs = toy(512, mean, 1.0, noise)
    truth = normal_expected_loss(mean, 1.0)
    result = analyse(values, inputs, ["a", "b"], groups={"irrelevant": ["z1", "z2"]}, bootstrap=100)
    evpi = result.evpi
    assert evpi["low"] <= truth <= evpi["high"]
    assert evpi["estimate"] == pytest.approx(truth, rel=0.15)
    table = result.evppi.set_index("name")
    x = table.loc["x"]
    assert x["low"] <= truth <= x["high"]
    assert x["worth_knowing"]
    for name in ("z1", "z2", "irrelevant"):
        row = table.loc[name]
        assert not row["worth_knowing"]
        assert row["evppi"] <= row["floor"] and row["evppi"] < 0.02 * truth
    # EVPPI never exceeds EVPI beyond the estimator's error
    assert (table["evppi"] <= evpi["high"]).all()
    # the probability that b is best, and that the choice (b when mean > 0) is wrong
    assert result.strategies.set_index("strategy").loc["b", "p_best"] == pytest.approx(
        stats.norm.cdf(mean), abs=0.06
    )
    assert result.p_wrong[0] == pytest.approx(1 - stats.norm.cdf(abs(mean)), abs=0.06)


def test_noise_does_not_masquerade_as_information_value() -> None:
    """Nothing matters but noise, and the two options tie: the naive EVPI is the noise floor,
    the deconvolved one a fraction of it, and an assumption is found worth knowing about as
    often as the floor's 95th percentile allows (over 20 analyses, 60 assumptions)."""
    flagged, ratios, shares = [], [], []
    for seed in range(20):
        values, inputs = toy(128, 0.0, 0.0, 1.0, seed=seed)
        result = analyse(values, inputs, ["a", "b"], seed=seed, bootstrap=0)
        naive = result.evpi["simulated"]
        assert naive > 0.1  # noise of sd 1 / sqrt(2) per draw mean looks like value
        assert result.evpi["noise_floor"] == pytest.approx(naive, rel=0.5)
        ratios.append(result.evpi["estimate"] / naive)
        shares.append(result.evppi["evppi"].mean() / naive)
        flagged += list(result.evppi["worth_knowing"])
        assert result.noise_share > 0.6  # its estimate from 128 draws
    assert np.mean(ratios) < 0.2
    assert np.mean(shares) < 0.15
    assert np.mean(flagged) <= 0.15


def test_the_choice_among_three_options_and_the_best_curve() -> None:
    """Three options: c best for low x, b for high x, a never: P(best), EVPI (by brute force
    on a large sample) and the curve's crossing where b and c tie (x = 0)."""
    k = 1024
    x = stats.norm.ppf(qmc.Sobol(1, scramble=True, seed=3).random(k)[:, 0])
    values = np.zeros((k, 2, 3))
    values[:, :, 1] = (0.5 + x)[:, None]
    values[:, :, 2] = (0.5 - x)[:, None]
    result = analyse(values, pd.DataFrame({"x": x}), ["a", "b", "c"], bootstrap=20)
    exact = value_of_choice(np.column_stack([0.5 + x, 0.5 - x]))
    assert result.evpi["estimate"] == pytest.approx(exact, rel=1e-6)
    assert result.evpi["estimate"] == pytest.approx(2 * normal_expected_loss(0, 1), rel=0.05)
    best = result.strategies.set_index("strategy")["p_best"]
    assert best["a"] == 0.0 and best["b"] == pytest.approx(0.5, abs=0.01)
    curve = result.curve
    assert curve.attrs["assumption"] == "x"
    assert curve.iloc[0]["c"] > 0.9 and curve.iloc[-1]["b"] > 0.9
    assert curve.loc[(curve["value"] - 0).abs().idxmin(), "b"] == pytest.approx(0.5, abs=0.2)


def test_the_analysis_is_deterministic() -> None:
    values, inputs = toy(64, 0.2, 1.0, 0.5)
    one = analyse(values, inputs, ["a", "b"], groups={"g": ["z1", "z2"]}, seed=7, bootstrap=30)
    two = analyse(values, inputs, ["a", "b"], groups={"g": ["z1", "z2"]}, seed=7, bootstrap=30)
    pd.testing.assert_frame_equal(one.evppi, two.evppi)
    pd.testing.assert_frame_equal(one.strategies, two.strategies)
    assert one.evpi == two.evpi


def test_the_metamodel_follows_a_curve_and_flattens_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(size=200)
    y = np.column_stack([np.sin(4 * x) + 0.2 * rng.normal(size=200), rng.normal(size=200)])
    fit = metamodel.fit(metamodel.unit_ranks(x)[:, None], y)
    assert np.corrcoef(fit.fitted[:, 0], np.sin(4 * x))[0, 1] > 0.98
    assert fit.fitted[:, 1].std() < 0.1  # a straight line through noise
    assert fit.edf[1] < 2.5 < fit.edf[0]
    # an additive fit of two inputs recovers the sum
    z = rng.uniform(size=200)
    both = metamodel.fit(
        np.column_stack([metamodel.unit_ranks(x), metamodel.unit_ranks(z)]), x**2 + z
    )
    assert np.abs(both.fitted[:, 0] - (x**2 + z)).max() < 0.08
    assert metamodel.smallest_sample(1) == 10


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.yaml")


def test_every_register_assumption_is_uncertain_by_default(baseline: Scenario) -> None:
    found, notes = psa.quantities(baseline)
    by = {q.name: q for q in found}
    assert "segments.*.price_sensitivity" in by and "trust.loss" in by
    assert all(q.kind == "pert" for q in found)
    assert any("no such field" in n for n in notes)  # retention tools the baseline lacks
    trust = by["trust.loss"]
    assert trust.bounds[0][:3] == (0.05, baseline.trust.loss, 0.6)
    prices = by["segments.*.price_sensitivity"]
    assert [b[1] for b in prices.bounds] == [s.price_sensitivity for s in baseline.segments]
    draws = psa.draw(baseline, found, 16)
    assert len(draws.points) == 16 and draws.rejected == 0
    assert draws.points["seed"].nunique() == 16
    first, second = (draws.points[p] for p in prices.paths)
    assert (np.argsort(first.to_numpy()) == np.argsort(second.to_numpy())).all()  # together
    for q in found:
        for path, (low, _, high, _) in zip(q.paths, q.bounds, strict=True):
            assert draws.points[path].between(low, high).all()
    weeks = draws.points["satisfaction.problem_memory_weeks"]
    assert (weeks == weeks.round()).all()
    again = psa.draw(baseline, found, 16)
    pd.testing.assert_frame_equal(draws.points, again.points)


def test_pert_has_its_mode_at_the_scenarios_value_and_its_textbook_mean() -> None:
    u = (np.arange(20000) + 0.5) / 20000
    x = psa.quantile("pert", 0.0, 0.1, 0.3, None, u)
    assert x.mean() == pytest.approx((0.0 + 4 * 0.1 + 0.3) / 6, abs=1e-4)
    assert x.min() >= 0 and x.max() <= 0.3
    normal = psa.quantile("normal", 0.0, 0.5, 1.0, 0.1, u)
    assert normal.mean() == pytest.approx(0.5, abs=1e-3)
    assert normal.std() == pytest.approx(0.1, rel=0.02)


def test_the_uncertainty_block_fixes_overrides_adds_and_groups(baseline: Scenario) -> None:
    data = baseline.model_dump(mode="json")
    data["uncertainty"] = {
        "default": "fixed",
        "assumptions": {
            "trust.loss": {"kind": "uniform", "low": 0.1, "high": 0.3},
            "rivalry.points.probability": "triangular",
            "firms.0.unit_cost": {"kind": "normal", "sd": 0.02, "low": 0.5, "high": 0.7},
        },
        "groups": {"trust and rivals": ["trust.", "rivalry."], "alone": ["firms."]},
    }
    scenario = Scenario.model_validate(data)
    found, _ = psa.quantities(scenario)
    assert [q.name for q in found] == [
        "trust.loss",
        "rivalry.points.probability",
        "firms.0.unit_cost",
    ]
    assert found[0].kind == "uniform" and found[0].bounds[0][::2] == (0.1, 0.3)
    assert psa.groups(scenario, found) == {
        "trust and rivals": ["trust.loss", "rivalry.points.probability"]
    }
    data["uncertainty"]["assumptions"]["firms.0.fault_rate"] = "uniform"
    data["uncertainty"]["assumptions"]["firms.0.unit_cost"] = "uniform"
    with pytest.raises(ValueError, match="give its low and high"):
        psa.quantities(Scenario.model_validate(data))


def test_an_uncertainty_block_naming_no_field_is_an_invalid_scenario() -> None:
    from relsim.scenario import ScenarioError

    for path in ("segments.*.nosuch", "trust.nosuch", "uncertainty.samples"):
        with pytest.raises(ScenarioError, match="uncertainty"):
            load_scenario(
                SCENARIOS / "baseline.yaml",
                overrides={"uncertainty": {"assumptions": {path: "pert"}}},
            )
    with pytest.raises(ScenarioError, match="sd"):
        load_scenario(
            SCENARIOS / "baseline.yaml",
            overrides={"uncertainty": {"assumptions": {"trust.loss": {"kind": "normal"}}}},
        )


def test_draws_that_make_the_scenario_invalid_are_left_out_and_counted() -> None:
    """The retention-tools scenario's levers must improve on the firm: a draw of a firm
    already better than the lever's target is invalid."""
    scenario = load_scenario(SCENARIOS / "retention-tools.yaml")
    found, _ = psa.quantities(scenario)
    draws = psa.draw(scenario, found, 32)
    assert len(draws.points) == 32 and draws.rejected > 0
    assert "retention" in draws.reasons[0]
