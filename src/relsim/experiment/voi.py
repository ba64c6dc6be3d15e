"""The decision under uncertainty and the value of information, from a probabilistic
sensitivity analysis (PSA): ``K`` joint draws of the uncertain assumptions, every strategy run
``R`` times at each draw with common random numbers, one decision metric (net benefit) per run.
docs/voi.md explains every figure; in short:

* each strategy's **expected** metric (mean over the draws, with the 95% interval of that
  mean), its **range** over the assumptions (noise removed) and the **probability it is
  best**; the expected-value **recommendation** and how often it is not the best;
* **EVPI** ``E[max_s NB_s] - max_s E[NB_s]``, the value of knowing every assumption (also the
  recommendation's expected regret), and **EVPPI** of an assumption or group,
  ``E_phi[max_s E(NB_s | phi)] - max_s E[NB_s]``, ``E(NB_s | phi)`` from the regression
  metamodel (:mod:`relsim.experiment.metamodel`; Strong, Oakley & Brennan 2014).

Simulation noise must not look like information value (the maximum of noisy values exceeds
the maximum of their means). **EVPI is deconvolved**: the variance between replications
measures the noise, and every draw's differences from the baseline strategy are pulled
towards their mean by the (Gaussian optimal-transport) map that leaves their covariance equal
to the covariance over the draws less the noise's; P(best) and the ranges use the same
values; the naive value and the *noise floor* (the naive EVPI when nothing but noise varies)
are reported too. **EVPPI regresses the noise away** (it is independent of every assumption),
and **the floor of an assumption that cannot matter** -- the EVPPI of random permutations of
the draws -- marks what is not distinguishable from nothing (at or below its 95th percentile).

Intervals come from a bootstrap over the draws (:data:`BOOTSTRAP` resamples): basic
(reflected) intervals for EVPI and EVPPI, which correct for the estimators' bias, and
percentile intervals for the probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from relsim.experiment import metamodel
from relsim.statistics import mean_interval, normal_expected_loss

BOOTSTRAP = 200
FLOOR_DRAWS = 200
VOI_STREAM = 0x701
"""Spawn key of the bootstrap's and the floor's random stream (apart from every run's)."""


def value_of_choice(differences: np.ndarray) -> float:
    """``E[max_s NB_s] - max_s E[NB_s]`` over the rows of ``differences`` (draws x the other
    strategies' net benefit less the baseline's; the baseline's own column, zero, is added)."""
    d = np.asarray(differences, dtype=float)
    full = np.hstack([np.zeros((d.shape[0], 1)), d])
    return max(0.0, float(full.max(axis=1).mean() - full.mean(axis=0).max()))


def differences(values: np.ndarray) -> np.ndarray:
    """Every strategy's metric less the first's: (draws, replications, strategies - 1)."""
    return values[..., 1:] - values[..., :1]


def noise_covariance(values: np.ndarray) -> np.ndarray:
    """Covariance of the simulation noise of a draw's mean differences: the within-draw
    covariance between replications, pooled over the draws, divided by ``R``."""
    d = differences(values)
    k, r, _ = d.shape
    if r < 2:
        raise ValueError("the noise is measured between replications: give at least 2 per draw")
    centred = d - d.mean(axis=1, keepdims=True)
    pooled = np.einsum("kri,krj->ij", centred, centred) / (k * (r - 1))
    return pooled / r


def _sqrtm(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Symmetric square root (or pseudo-inverse square root) of a symmetric PSD matrix."""
    w, v = np.linalg.eigh((matrix + matrix.T) / 2)
    tol = max(w.max(initial=0.0), 0.0) * 1e-10
    w = np.where(w > tol, w, 0.0)
    root = np.sqrt(w)
    if inverse:
        root = np.divide(1.0, root, out=np.zeros_like(root), where=root > 0)
    return (v * root) @ v.T


def deconvolve(d: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The draws' mean differences with the simulation noise removed from their spread: each
    row moved towards the mean by the map ``T`` (symmetric, positive) with ``T C T = C - N``,
    ``C`` their covariance over the draws and ``N`` the noise's (its negative part dropped)."""
    centre = d.mean(axis=0)
    total = np.cov(d, rowvar=False, ddof=1).reshape(d.shape[1], d.shape[1])
    w, v = np.linalg.eigh((total - noise + (total - noise).T) / 2)
    signal = (v * np.clip(w, 0.0, None)) @ v.T
    half, inverse_half = _sqrtm(total), _sqrtm(total, inverse=True)
    transport = inverse_half @ _sqrtm(half @ signal @ half) @ inverse_half
    return centre + (d - centre) @ transport


def noise_floor(
    d: np.ndarray, noise: np.ndarray, rng: np.random.Generator, draws: int = FLOOR_DRAWS
) -> float:
    """The naive EVPI when no assumption matters: every draw at the mean differences plus
    noise of covariance ``noise`` (the mean over ``draws`` simulated analyses)."""
    centre = d.mean(axis=0)
    root = _sqrtm(noise)
    found = [value_of_choice(centre + rng.standard_normal(d.shape) @ root) for _ in range(draws)]
    return float(np.mean(found))


def evppi(inputs: np.ndarray, d: np.ndarray) -> float:
    """EVPPI of the inputs (draws x inputs, on (0, 1)) for the mean differences ``d``."""
    return value_of_choice(metamodel.fit(inputs, d).fitted)


def _evppi_fit(
    inputs: np.ndarray, d: np.ndarray, lam: np.ndarray | None
) -> tuple[float, np.ndarray]:
    """EVPPI and the smoothing parameters used (chosen by GCV unless ``lam`` gives them)."""
    if d.shape[0] < metamodel.smallest_sample(inputs.shape[1]):
        return float("nan"), np.full(d.shape[1], np.nan)
    fitted = metamodel.fit(inputs, d, lam=lam)
    return value_of_choice(fitted.fitted), fitted.lam


def permutation_floor(
    d: np.ndarray, size: int, rng: np.random.Generator, draws: int = FLOOR_DRAWS
) -> np.ndarray:
    """EVPPIs of ``size`` inputs unrelated to the outputs (random permutations of the draws'
    mid-ranks): what an assumption, or a group of ``size``, that cannot matter scores."""
    k = d.shape[0]
    ranks = (np.arange(k) + 0.5) / k
    found = []
    for _ in range(draws):
        inputs = np.column_stack([rng.permutation(ranks) for _ in range(size)])
        found.append(evppi(inputs, d))
    return np.asarray(found)


@dataclass
class Estimates:
    """One pass of the estimators over a sample of draws (the full sample or a bootstrap
    resample)."""

    evpi: float
    evpi_simulated: float
    p_best: np.ndarray
    evppi: dict[str, float]
    lam: dict[str, np.ndarray] = field(default_factory=dict)
    """The smoothing parameters of each EVPPI's regression (per strategy)."""


def estimate(
    values: np.ndarray,
    ranks: dict[str, np.ndarray],
    lam: dict[str, np.ndarray] | None = None,
) -> Estimates:
    """EVPI (noise removed and as simulated), P(best) of every strategy (noise removed) and
    the EVPPI of every named set of inputs (``ranks``: name -> draws x inputs on (0, 1); a
    set with too few draws for its size gets NaN), its regressions smoothed as ``lam`` says
    (by GCV when None)."""
    d = differences(values).mean(axis=1)
    clean = deconvolve(d, noise_covariance(values))
    full = np.hstack([np.zeros((len(clean), 1)), clean])
    best = np.bincount(full.argmax(axis=1), minlength=full.shape[1]) / len(full)
    found, used = {}, {}
    for name, x in ranks.items():
        fixed = None if lam is None or not np.isfinite(lam[name]).all() else lam[name]
        found[name], used[name] = _evppi_fit(x, d, fixed)
    return Estimates(value_of_choice(clean), value_of_choice(d), best, found, used)


@dataclass
class Voi:
    """The decision under the assumptions' uncertainty and the value of information."""

    metric: str
    strategies: pd.DataFrame
    """One row per strategy: expected, expected_low, expected_high (95% interval of the
    estimate), range_low, range_high (over the assumptions), p_best with p_best_low and
    p_best_high, p_best_simulated (before removing the noise), difference, difference_low,
    difference_high (from the recommended strategy, paired within draws)."""
    recommended: str
    p_wrong: tuple[float, float, float]
    """How often the recommendation is not the best strategy: estimate, low, high."""
    evpi: dict[str, float]
    """estimate, low, high, simulated (before removing the noise), noise_floor."""
    evppi: pd.DataFrame
    """One row per assumption or group: name, kind, size, evppi, low, high, floor (the 95th
    percentile of what one that cannot matter scores), worth_knowing, share (of EVPI)."""
    noise_share: float
    """Share of the spread over the draws of the recommended strategy's difference from its
    runner-up that is simulation noise."""
    samples: int
    replications: int
    curve: pd.DataFrame = field(default_factory=pd.DataFrame)
    """P(each strategy best) against the value of the assumption with the largest EVPPI."""

    @property
    def top(self) -> pd.Series | None:
        """The assumption (not group) worth most to know, when it beats the floor."""
        singles = self.evppi[(self.evppi["kind"] == "assumption") & self.evppi["worth_knowing"]]
        return None if singles.empty else singles.sort_values("evppi").iloc[-1]


def analyse(
    values: np.ndarray,
    inputs: pd.DataFrame,
    strategies: list[str],
    groups: dict[str, list[str]] | None = None,
    metric: str = "npv_with_residual",
    seed: int = 0,
    bootstrap: int = BOOTSTRAP,
) -> Voi:
    """The whole analysis of a PSA sample: ``values`` (draws x replications x strategies, the
    decision metric), ``inputs`` (one row per draw, one column per uncertain assumption: the
    value it took), ``groups`` (name -> columns of ``inputs``)."""
    values = np.asarray(values, dtype=float)
    k, r, s = values.shape
    if s < 2 or k < 4:
        raise ValueError("a decision needs at least 2 strategies and 4 draws")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(VOI_STREAM,)))
    ranks = {c: metamodel.unit_ranks(inputs[c].to_numpy())[:, None] for c in inputs.columns}
    for name, members in (groups or {}).items():
        ranks[name] = np.column_stack([ranks[m][:, 0] for m in members])
    point = estimate(values, ranks)
    resampled = [
        estimate(values[i], {n: x[i] for n, x in ranks.items()}, point.lam)
        for i in (rng.integers(0, k, size=k) for _ in range(bootstrap))
    ]
    table = _strategy_table(values, strategies, point, resampled)
    recommended = str(table.loc[table["expected"].idxmax(), "strategy"])
    chosen = strategies.index(recommended)
    table = _against(table, values, chosen)
    wrong = [1.0 - e.p_best[chosen] for e in resampled]
    d = differences(values).mean(axis=1)
    noise = noise_covariance(values)
    evpi = {
        "estimate": point.evpi,
        **_interval([e.evpi for e in resampled], point.evpi),
        "simulated": point.evpi_simulated,
        "noise_floor": noise_floor(d, noise, rng),
    }
    evppi = _evppi_table(point, resampled, ranks, groups or {}, d, rng)
    return Voi(
        metric=metric,
        strategies=table,
        recommended=recommended,
        p_wrong=(1.0 - point.p_best[chosen], *_interval(wrong).values()),
        evpi=evpi,
        evppi=evppi,
        noise_share=_noise_share(values, table, chosen),
        samples=k,
        replications=r,
        curve=_curve(values, inputs, evppi, strategies),
    )


def _interval(found: list[float], estimate: float | None = None) -> dict[str, float]:
    """The 95% interval from bootstrap estimates (NaN ones left out): their percentiles, or
    with the ``estimate`` the basic (reflected) interval ``2 * estimate - percentiles``,
    clipped at 0, which corrects for the estimator's bias as the bootstrap sees it (the value
    of information is biased down near a tie -- the mean's maximum -- and up by a regression
    that follows noise)."""
    x = np.asarray(found, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x) or (estimate is not None and not np.isfinite(estimate)):
        return {"low": float("nan"), "high": float("nan")}
    low, high = np.percentile(x, [2.5, 97.5])
    if estimate is not None:
        low, high = max(0.0, 2 * estimate - high), max(0.0, 2 * estimate - low)
    return {"low": float(low), "high": float(high)}


def _strategy_table(
    values: np.ndarray, strategies: list[str], point: Estimates, resampled: list[Estimates]
) -> pd.DataFrame:
    """Expected metric with its interval, range over the assumptions, P(best) per strategy."""
    means = values.mean(axis=1)
    within = values.var(axis=1, ddof=1).mean(axis=0) / values.shape[1]
    raw = np.bincount(means.argmax(axis=1), minlength=len(strategies)) / len(means)
    rows = []
    for j, name in enumerate(strategies):
        x = means[:, j]
        interval = mean_interval(x)
        spread = x.var(ddof=1)
        keep = np.sqrt(max(0.0, 1.0 - within[j] / spread)) if spread > 0 else 0.0
        clean = interval.mean + keep * (x - interval.mean)
        bounds = _interval([e.p_best[j] for e in resampled])
        rows.append(
            {
                "strategy": name,
                "expected": interval.mean,
                "expected_low": interval.low,
                "expected_high": interval.high,
                "range_low": float(np.percentile(clean, 2.5)),
                "range_high": float(np.percentile(clean, 97.5)),
                "p_best": float(point.p_best[j]),
                "p_best_low": bounds["low"],
                "p_best_high": bounds["high"],
                "p_best_simulated": float(raw[j]),
            }
        )
    return pd.DataFrame(rows)


def _evppi_table(
    point: Estimates,
    resampled: list[Estimates],
    ranks: dict[str, np.ndarray],
    groups: dict[str, list[str]],
    d: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """EVPPI of every assumption and group with its bootstrap interval and the floor of an
    input (or group of its size) that cannot matter."""
    sizes = sorted({x.shape[1] for x in ranks.values()})
    floors = {
        g: float(np.percentile(permutation_floor(d, g, rng), 95))
        if d.shape[0] >= metamodel.smallest_sample(g)
        else float("nan")
        for g in sizes
    }
    rows = []
    for name, x in ranks.items():
        value = point.evppi[name]
        floor = floors[x.shape[1]]
        rows.append(
            {
                "name": name,
                "kind": "group" if name in groups else "assumption",
                "size": x.shape[1],
                "evppi": value,
                **_interval([e.evppi[name] for e in resampled], value),
                "floor": floor,
                "worth_knowing": bool(np.isfinite(value) and value > floor),
                "share": value / point.evpi if point.evpi > 0 else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values(["kind", "evppi"], ascending=[True, False], ignore_index=True)


def _against(table: pd.DataFrame, values: np.ndarray, chosen: int) -> pd.DataFrame:
    """Each strategy's expected difference from the recommended one (paired within draws),
    with the 95% interval of that mean."""
    means = values.mean(axis=1)
    found = [mean_interval(means[:, j] - means[:, chosen]) for j in range(means.shape[1])]
    return table.assign(
        difference=[i.mean for i in found],
        difference_low=[0.0 if j == chosen else i.low for j, i in enumerate(found)],
        difference_high=[0.0 if j == chosen else i.high for j, i in enumerate(found)],
    )


def _noise_share(values: np.ndarray, table: pd.DataFrame, chosen: int) -> float:
    """Share of the variance over the draws of ``chosen``'s difference from its runner-up
    that the replications attribute to simulation noise."""
    order = table["expected"].to_numpy().argsort()[::-1]
    other = int(order[1]) if int(order[0]) == chosen else int(order[0])
    gap = values[..., chosen] - values[..., other]
    total = gap.mean(axis=1).var(ddof=1)
    noise = gap.var(axis=1, ddof=1).mean() / values.shape[1]
    return float(min(1.0, noise / total)) if total > 0 else 1.0


def _curve(
    values: np.ndarray, inputs: pd.DataFrame, evppi: pd.DataFrame, strategies: list[str]
) -> pd.DataFrame:
    """P(each strategy best | the top assumption's value): the noise-removed best-strategy
    indicators smoothed by the metamodel against that assumption, clipped and renormalised."""
    singles = evppi[evppi["kind"] == "assumption"].dropna(subset=["evppi"])
    if singles.empty:
        return pd.DataFrame()
    name = str(singles.sort_values("evppi").iloc[-1]["name"])
    d = differences(values).mean(axis=1)
    clean = np.hstack([np.zeros((len(d), 1)), deconvolve(d, noise_covariance(values))])
    best = np.eye(len(strategies))[clean.argmax(axis=1)]
    x = inputs[name].to_numpy(dtype=float)
    smooth = np.clip(metamodel.fit(metamodel.unit_ranks(x)[:, None], best).fitted, 0.0, None)
    smooth /= np.maximum(smooth.sum(axis=1, keepdims=True), 1e-12)
    order = np.argsort(x, kind="stable")
    curve = pd.DataFrame(smooth[order], columns=strategies)
    curve.insert(0, "value", x[order])
    curve.attrs["assumption"] = name
    return curve


__all__ = [
    "BOOTSTRAP",
    "Estimates",
    "Voi",
    "analyse",
    "deconvolve",
    "differences",
    "estimate",
    "evppi",
    "noise_covariance",
    "noise_floor",
    "normal_expected_loss",
    "permutation_floor",
    "value_of_choice",
]
