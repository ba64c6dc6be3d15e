"""Reference tests of the statistics that turn replications into a recommendation.

Each statistic is checked against a reference computed independently of relsim's formula:
SciPy's Student-t and binomial intervals, published Wilson bounds, a root-finder on the score
equation, hand-built data with a planted t statistic, and Monte Carlo coverage. Monte Carlo
tolerances are Z binomial standard errors of the simulated rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from relsim.analysis import (
    could_be_best,
    kaplan_meier,
    mean_interval,
    paired_differences,
    probability_best,
)
from relsim.statistics import Interval

Z = 4.5  # as in test_oracles: a false alarm per comparison is below 1e-5


def t_reference(x: np.ndarray, confidence: float) -> tuple[float, float]:
    """SciPy's Student-t interval of the mean of ``x``."""
    low, high = stats.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    return float(low), float(high)


def market(n: int, k: int, seed: int) -> dict[str, np.ndarray]:
    """k strategies over n paired replications with a large non-zero baseline: the difference
    and the sum of two strategies then have very different intervals."""
    rng = np.random.default_rng(seed)
    common = rng.normal(1000.0, 50.0, n)  # the replication's market, shared (CRN)
    return {f"s{i}": common + 10.0 * i + rng.normal(0.0, 5.0 + i, n) for i in range(k)}


# ---------------------------------------------------------------- intervals of the mean


@pytest.mark.parametrize("n", [2, 3, 30])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_mean_interval_is_scipys_student_t_interval(n: int, confidence: float) -> None:
    x = np.random.default_rng(n).normal(7.0, 3.0, n)
    ci = mean_interval(x, confidence)
    low, high = t_reference(x, confidence)
    assert (ci.mean, ci.n) == (pytest.approx(x.mean()), n)
    assert (ci.low, ci.high) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))


def test_one_replication_gives_no_interval_and_none_gives_no_mean() -> None:
    one = mean_interval(np.array([4.0]))
    assert (one.mean, one.low, one.high, one.n) == (4.0, -np.inf, np.inf, 1)
    none = mean_interval(np.array([]))
    assert np.isnan(none.mean) and (none.low, none.high, none.n) == (-np.inf, np.inf, 0)


def test_half_width_and_relative_half_width_at_known_values() -> None:
    assert Interval(4.0, 1.0, 5.0, 3).half_width == 2.0
    assert Interval(4.0, 1.0, 5.0, 3).relative_half_width == 0.5
    assert Interval(-4.0, -7.0, -1.0, 3).relative_half_width == 0.75  # |mean|
    assert Interval(0.0, -1.0, 1.0, 3).relative_half_width == np.inf


@pytest.mark.parametrize(
    "low, high, significant",
    [(1.0, 2.0, True), (-2.0, -1.0, True), (-1.0, 1.0, False), (0.0, 1.0, False),
     (-1.0, 0.0, False), (-np.inf, np.inf, False)],
)  # fmt: skip
def test_significance_flag_both_ways(low: float, high: float, significant: bool) -> None:
    assert Interval((low + high) / 2, low, high, 5).excludes_zero() is significant


# ---------------------------------------------------------------- paired differences


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("n", [2, 3, 25])
def test_paired_differences_are_scipys_interval_of_the_differences(k: int, n: int) -> None:
    """Each strategy minus the baseline, Bonferroni over the k - 1 comparisons: SciPy's
    t interval of the differences at level 1 - 0.05 / (k - 1). The baseline's mean is far
    from 0, so an interval of the sum (or of the wrong level) is far off."""
    values = market(n, k, seed=10 * k + n)
    cis = paired_differences(values, "s0")
    assert sorted(cis) == [f"s{i}" for i in range(1, k)]
    for name, ci in cis.items():
        d = values[name] - values["s0"]
        low, high = t_reference(d, 1 - 0.05 / (k - 1))
        assert ci.n == n and ci.mean == pytest.approx(d.mean(), rel=1e-12)
        assert ci.low == pytest.approx(low, rel=1e-9) and ci.high == pytest.approx(high, rel=1e-9)
        assert np.isfinite(ci.low) and np.isfinite(ci.high)


def test_paired_differences_at_another_confidence() -> None:
    values = market(12, 3, seed=5)
    for name, ci in paired_differences(values, "s1", confidence=0.8).items():
        low, high = t_reference(values[name] - values["s1"], 1 - 0.2 / 2)
        assert (ci.low, ci.high) == (pytest.approx(low), pytest.approx(high))


def test_one_paired_replication_gives_no_interval() -> None:
    values = {"a": np.array([100.0]), "b": np.array([103.0])}
    ci = paired_differences(values, "a")["b"]
    assert (ci.mean, ci.low, ci.high, ci.n) == (3.0, -np.inf, np.inf, 1)
    assert not ci.excludes_zero()


def test_a_clear_difference_is_significant_and_noise_is_not() -> None:
    values = market(20, 3, seed=9)
    values["noise"] = values["s0"] + np.random.default_rng(1).normal(0.0, 5.0, 20)
    cis = paired_differences(values, "s0")
    assert cis["s2"].excludes_zero()  # +20 with an SE of about 1.3
    assert not cis["noise"].excludes_zero()  # 0 with an SE of about 1.1 (|t| = 0.7 here)


# ---------------------------------------------------------------- probability of being best


def values_with_wins(wins: int, n: int) -> dict[str, np.ndarray]:
    """Two strategies, "a" best in ``wins`` of ``n`` replications, no ties."""
    a = np.r_[np.ones(wins), np.zeros(n - wins)]
    return {"a": a, "b": 1.0 - a + 0.5}  # b is 1.5 where a is 0, 0.5 where a is 1


@pytest.mark.parametrize(
    "wins, n, low, high",
    [(3, 10, 0.1078, 0.6032), (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605),
     (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)  # fmt: skip
def test_wilson_bounds_are_the_published_ones(wins: int, n: int, low: float, high: float) -> None:
    """Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (score interval
    without continuity correction); 3 of 10 is the usual textbook example."""
    best = probability_best(values_with_wins(wins, n))
    a = best["a"]
    assert (a.mean, a.n) == (pytest.approx(wins / n), n)
    assert (a.low, a.high) == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))
    # the other strategy wins the rest: the mirror image
    b = best["b"]
    assert (b.low, b.high) == (pytest.approx(1 - high, abs=5e-5), pytest.approx(1 - low, abs=5e-5))


@pytest.mark.parametrize("wins", [0, 1, 7, 12])
@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_wilson_bounds_are_scipys_including_zero_and_all_wins(wins: int, confidence: float) -> None:
    n = 12
    a = probability_best(values_with_wins(wins, n), confidence)["a"]
    ci = stats.binomtest(wins, n).proportion_ci(confidence, method="wilson")
    assert a.low == pytest.approx(ci.low, abs=1e-12)
    assert a.high == pytest.approx(ci.high, abs=1e-12)
    assert (a.low == pytest.approx(0.0, abs=1e-12)) == (wins == 0)
    assert (a.high == pytest.approx(1.0, abs=1e-12)) == (wins == n)


def test_wilson_bounds_with_split_ties_solve_the_score_equation() -> None:
    """A tie splits the win, so the share need not be a whole count over n. The Wilson bounds
    are the two proportions pi with |p - pi| = z sqrt(pi (1 - pi) / n), found by a root-finder."""
    values = {
        "a": np.array([1.0, 2.0, 3.0, 4.0, 9.0]),
        "b": np.array([2.0, 3.0, 4.0, 5.0, 1.0]),
        "c": np.array([2.0, 3.0, 4.0, 3.0, 1.0]),
    }
    best = probability_best(values)
    n, z = 5, stats.norm.ppf(0.975)
    for name, p in (("a", 0.2), ("b", 2.5 / 5), ("c", 1.5 / 5)):

        def score(pi: float, p: float = p) -> float:
            return (p - pi) ** 2 - z * z * pi * (1 - pi) / n

        low = optimize.brentq(score, 0.0, p) if p > 0 else 0.0
        high = optimize.brentq(score, p, 1.0)
        assert best[name].mean == pytest.approx(p)
        assert (best[name].low, best[name].high) == (pytest.approx(low), pytest.approx(high))


# ---------------------------------------------------------------- the screen for the best


def screen_coverage(k: int, trials: int, n: int, seed: int) -> float:
    """Share of trials in which the screen keeps strategy "s0" when all k strategies have the
    same mean: the least favourable case, where s0 is (one of) the truly best and each of its
    k - 1 comparisons can drop it. Data for all trials are drawn at once."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0.0, 3.0, (trials, 1, n))  # common random numbers
    data = common + rng.normal(0.0, 1.0, (trials, k, n))
    kept = 0
    for trial in data:
        kept += "s0" in could_be_best({f"s{i}": trial[i] for i in range(k)})
    return kept / trials


def test_the_screen_keeps_the_best_of_two_at_the_nominal_rate() -> None:
    """k = 2: s0 is dropped exactly when the one-sided 95% upper bound of s0 - s1 is below 0,
    which for equal means happens with probability 0.05 exactly."""
    trials = 4000
    rate = screen_coverage(2, trials, n=8, seed=21)
    se = np.sqrt(0.95 * 0.05 / trials)  # binomial SE of the simulated rate, about 0.0034
    assert abs(rate - 0.95) < Z * se, rate


def test_the_screen_keeps_the_best_of_four_at_least_at_the_nominal_rate() -> None:
    """k = 4: Bonferroni over the three comparisons keeps s0 with probability >= 0.95 (each
    comparison at 0.05 / 3). At 0.05 each, or 0.05 * 3, the rate falls to about 0.88 or 0.7."""
    trials = 3000
    rate = screen_coverage(4, trials, n=8, seed=22)
    se = np.sqrt(0.95 * 0.05 / trials)  # about 0.004
    assert rate > 0.95 - Z * se, rate
    assert rate < 1.0  # the screen does drop a tied best sometimes: it is not vacuous


def planted(t_statistic: float, n: int = 10) -> dict[str, np.ndarray]:
    """Four strategies over n replications: "best" far above "low1" and "low2", and
    "candidate" below "best" by paired differences whose t statistic is exactly
    ``t_statistic`` (the standardised noise has mean 0 and SD 1 exactly)."""
    rng = np.random.default_rng(3)
    noise = rng.normal(size=n)
    noise = (noise - noise.mean()) / noise.std(ddof=1)
    best = 500.0 + rng.normal(0.0, 20.0, n)
    shortfall = t_statistic / np.sqrt(n) + noise  # mean / (sd / sqrt(n)) = t_statistic
    return {
        "best": best,
        "candidate": best - shortfall,
        "low1": best - 100.0 + rng.normal(size=n),
        "low2": best - 120.0 + rng.normal(size=n),
    }


def test_a_planted_candidate_is_kept_and_dropped_only_at_the_right_level() -> None:
    """Four strategies, so each comparison is at 1 - 0.05 / 3: one-sided t(9) critical value
    2.510. A candidate 2.2 standard errors below the best is kept (at 1 - 0.05 it would be
    dropped: 1.833); one 2.6 below is dropped (at 1 - 0.05 / 4 it would be kept: 2.685).
    Closer in, the degrees of freedom show: 2.49 is kept (with 10 it would be dropped:
    2.466) and 2.54 dropped (with 8 it would be kept: 2.566)."""
    assert stats.t.ppf(1 - 0.05 / 3, 9) == pytest.approx(2.5096, abs=1e-4)
    assert could_be_best(planted(2.2)) == ["best", "candidate"]
    assert could_be_best(planted(2.6)) == ["best"]
    assert could_be_best(planted(2.49)) == ["best", "candidate"]
    assert could_be_best(planted(2.54)) == ["best"]
    assert could_be_best({"only": np.array([1.0, 2.0])}) == ["only"]
    # one replication gives no comparison: nobody can be ruled out
    assert could_be_best({"a": np.array([1.0]), "b": np.array([2.0])}) == ["a", "b"]
    # two do: 10.05 below with an SE of 0.05 is beyond t(1) = 6.31 standard errors
    assert could_be_best({"a": np.array([0.0, 0.0]), "b": np.array([10.0, 10.1])}) == ["b"]
    # identical strategies (a variant that cannot matter) are both kept: a bound of exactly 0
    same = np.array([3.0, 1.0, 2.0])
    assert could_be_best({"a": same, "b": same.copy(), "c": same - 5.0}) == ["a", "b"]


# ---------------------------------------------------------------- survival


def test_kaplan_meier_stays_flat_once_nobody_is_at_risk() -> None:
    """Durations 1 (event), 1 (censored), 3 (event), horizon 6: at week 1 one event among 3 at
    risk; at week 3 one event among the only one at risk; from week 4 nobody is at risk and the
    estimate stays where it was (no 0/0)."""
    survival = kaplan_meier(np.array([1, 1, 3]), np.array([True, False, True]), 6)
    np.testing.assert_allclose(survival, [1.0, 2 / 3, 2 / 3, 0.0, 0.0, 0.0], rtol=1e-12)
    censored = kaplan_meier(np.array([0, 2]), np.array([False, False]), 5)
    np.testing.assert_array_equal(censored, np.ones(5))
    beyond = kaplan_meier(np.array([1, 9, 9, 9]), np.array([True, True, False, True]), 4)
    np.testing.assert_array_equal(beyond, [1.0, 0.75, 0.75, 0.75])
    # weeks as floats (a table column) and events as 0/1 give the same estimate
    as_read = kaplan_meier(np.array([2.0, 1.0, 9.0, 9.0]), [0, 1, 1, 1], 4)
    typed = kaplan_meier(np.array([2, 1, 9, 9]), np.array([False, True, True, True]), 4)
    np.testing.assert_array_equal(as_read, [1.0, 0.75, 0.75, 0.75])
    np.testing.assert_array_equal(as_read, typed)
