"""Where a strategy's advantage comes from: within the horizon or after it, and when it pays.

The decision metric ``npv_with_residual`` is the sum of two parts of every replication's
summary: ``npv`` (the focal firm's discounted profit within the horizon) and
``residual_value`` (the value of the customers it holds at the end, after the horizon). When
the summary splits the value after the horizon into ``residual_margin`` and
``residual_costs`` (``residual_value = residual_margin - residual_costs``), those are shown
too. Each part gets its mean with a 95% t-interval and its paired difference from the
baseline with Bonferroni-simultaneous 95% intervals, exactly as ``Experiment.compare`` does
for the decision metric; the paired differences of the parts add up to the paired difference
of the total (their intervals do not).

The **cumulative difference** is the paired difference from the baseline of the focal firm's
cumulative discounted profit (the weekly table's ``discounted_profit``) at the end of every
week; at the last week it is the paired difference of ``npv``. Its mean over replications
gives the payback week (:func:`payback_week`), its values at the end of every year show when
a strategy starts to pay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

# the parts of the decision metric live beside the experiment, whose comparison needs them;
# they are part of this module's API too
from relsim import units
from relsim.experiment.value_parts import (
    AFTER,
    TOTAL,
    WITHIN,
    decomposition,
    part_values,
)
from relsim.experiment.value_parts import PART_LABELS as PART_LABELS
from relsim.experiment.value_parts import VALUE_PARTS as VALUE_PARTS
from relsim.experiment.value_parts import parts_present as parts_present

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment

WEEKS_PER_YEAR = int(units.WEEKS_PER_YEAR)  # whole weeks: year ends are week numbers


def value_decomposition(experiment: Experiment, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`decomposition` of an experiment's decision metric into its parts."""
    values = part_values(experiment.replications, experiment.strategies)
    return decomposition(values, experiment.baseline, confidence)


# ---------------------------------------------------------------- cumulative difference
def cumulative_difference(focal_weekly: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per replication and week, every strategy's cumulative discounted profit minus the
    baseline's (same replication: paired), from the focal firm's weekly rows.

    Returns a frame indexed by (replication, week) with one column per strategy other than
    the baseline.
    """
    weekly = focal_weekly.pivot_table(
        index=["replication", "week"],
        columns="strategy",
        values="discounted_profit",
        observed=True,
        aggfunc="sum",
    ).sort_index()
    cumulative = weekly.groupby(level="replication").cumsum()
    others = [s for s in cumulative.columns if s != baseline]
    return cumulative[others].sub(cumulative[baseline], axis=0)


def difference_bands(
    focal_weekly: pd.DataFrame, baseline: str, confidence: float = 0.95
) -> pd.DataFrame:
    """The mean cumulative difference over replications at the end of every week, with the
    same simultaneous interval as :func:`relsim.analysis.paired_differences` (Bonferroni over
    the strategies compared with the baseline; pointwise over weeks).

    One row per (strategy, week): ``mean``, ``low``, ``high``, ``n``. At the last week these
    are the paired difference of ``npv`` and its interval.
    """
    gaps = cumulative_difference(focal_weekly, baseline)
    k = max(len(gaps.columns), 1)
    level = 1.0 - (1.0 - confidence) / k
    grouped = gaps.groupby(level="week")
    mean, sd, n = grouped.mean(), grouped.std(ddof=1), grouped.count()
    t = stats.t.ppf(0.5 + level / 2.0, np.maximum(n - 1, 1))
    half = pd.DataFrame(t, index=n.index, columns=n.columns) * sd / np.sqrt(n)
    half = half.where(n >= 2, np.inf)
    frames = []
    for strategy in gaps.columns:
        frames.append(
            pd.DataFrame(
                {
                    "strategy": strategy,
                    "week": mean.index.to_numpy(),
                    "mean": mean[strategy].to_numpy(),
                    "low": (mean[strategy] - half[strategy]).to_numpy(),
                    "high": (mean[strategy] + half[strategy]).to_numpy(),
                    "n": n[strategy].to_numpy(),
                }
            )
        )
    columns = ["strategy", "week", "mean", "low", "high", "n"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def payback_week(cumulative_difference: np.ndarray) -> int | None:
    """First week from which the cumulative difference stays >= 0; None if it never does."""
    below = np.flatnonzero(np.asarray(cumulative_difference) < 0)
    if not len(below):
        return 0
    last = int(below[-1]) + 1
    return last if last < len(cumulative_difference) else None


def paybacks(bands: pd.DataFrame) -> dict[str, int | None]:
    """Each strategy's payback week on the mean curve of :func:`difference_bands`."""
    return {
        str(strategy): payback_week(part.sort_values("week")["mean"].to_numpy())
        for strategy, part in bands.groupby("strategy", sort=False)
    }


def year_ends(bands: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`difference_bands` at the end of every year of the horizon (weeks
    52, 104, ... elapsed) and at its last week when that is not a year's end; ``weeks``
    counts the weeks elapsed."""
    if bands.empty:
        return bands.assign(weeks=pd.Series(dtype=int))
    horizon = int(bands["week"].max()) + 1
    ends = set(range(WEEKS_PER_YEAR, horizon + 1, WEEKS_PER_YEAR)) | {horizon}
    out = bands[(bands["week"] + 1).isin(ends)].copy()
    out["weeks"] = out["week"] + 1
    return out.reset_index(drop=True)


def focal_discounted_profit(experiment: Experiment) -> pd.DataFrame:
    """The focal firm's weekly discounted profit per strategy and replication."""
    weekly = experiment.weekly
    first = (
        weekly["firm"].cat.categories[0]
        if hasattr(weekly["firm"], "cat")
        else weekly["firm"].iloc[0]
    )
    focal = weekly[weekly["firm"] == first]
    return focal[["strategy", "replication", "week", "discounted_profit"]]


# ---------------------------------------------------------------- the recommendation
def ranked_could_be_best(compare: pd.DataFrame) -> list[str]:
    """The strategies that cannot be ruled out as best, highest mean first: the report's
    recommendation is the first."""
    ranking = compare.sort_values("mean", ascending=False, kind="stable")
    keep = set(compare.loc[compare["could_be_best"], "strategy"])
    return [s for s in ranking["strategy"] if s in keep]


@dataclass(frozen=True)
class HorizonCheck:
    """The recommendation by the decision metric against the one by ``npv`` alone.

    ``means[part][strategy]`` holds the mean of each value part for the two strategies."""

    recommended: str
    within_only: str
    means: dict[str, dict[str, float]]

    @property
    def changes(self) -> bool:
        return self.recommended != self.within_only


def horizon_check(
    total: pd.DataFrame, within: pd.DataFrame, means: Mapping[str, Mapping[str, float]]
) -> HorizonCheck:
    """Compare the recommendation of two comparison tables (``Experiment.compare`` on the
    decision metric and on ``npv``) by the report's rule (:func:`ranked_could_be_best`).

    ``means[part][strategy]``: the mean of each value part, for the sentence's figures."""
    recommended = ranked_could_be_best(total)[0]
    within_only = ranked_could_be_best(within)[0]
    pair = [recommended]
    if within_only != recommended:
        pair.append(within_only)
    elif len(within) > 1:  # the same: the runner-up within the horizon, for the figures
        ranking = within.sort_values("mean", ascending=False, kind="stable")["strategy"]
        pair.append(next(s for s in ranking if s != recommended))
    figures = {part: {s: float(v[s]) for s in pair} for part, v in means.items()}
    return HorizonCheck(recommended, within_only, figures)


def horizon_sentence(check: HorizonCheck) -> str:
    """One sentence for the top of the strategy section: whether the recommendation rests on
    the value after the horizon, with the figures."""
    r, w, m = check.recommended, check.within_only, check.means
    if check.changes:
        gap_within = m[WITHIN][w] - m[WITHIN][r]
        gap_after = m[AFTER][r] - m[AFTER][w]
        return (
            f"**Within the horizon alone, {w} would be recommended:** its NPV within the "
            f"horizon is {_money(m[WITHIN][w])} against {_money(m[WITHIN][r])} for {r}. "
            f"The recommendation of {r} rests on the value after the horizon: "
            f"{_money(m[AFTER][r])} against {_money(m[AFTER][w])}, {_money(gap_after)} more, "
            f"which outweighs the {_money(gap_within)} it trails by within the horizon "
            f"(total {_money(m[TOTAL][r])} against {_money(m[TOTAL][w])})."
        )
    others = [s for s in m[WITHIN] if s != r]
    if not others:
        return f"The recommendation ({r}) holds within the horizon too."
    runner = others[0]
    return (
        f"The recommendation holds within the horizon too: {r} also has the highest mean NPV "
        f"within the horizon ({_money(m[WITHIN][r])}, against {_money(m[WITHIN][runner])} "
        f"for {runner}), so it does not rest on the value after the horizon."
    )


def recommendation_within_horizon(experiment: Experiment) -> HorizonCheck | None:
    """:func:`horizon_check` of an experiment; None when its decision metric is not the sum
    of the two parts (``npv_with_residual``) or the parts are missing."""
    table = experiment.replications
    if experiment.metric != TOTAL or not {WITHIN, AFTER, TOTAL} <= set(table.columns):
        return None
    total = experiment.compare(metric=TOTAL)
    within = experiment.compare(metric=WITHIN)
    means = {
        part: table.groupby("strategy")[part].mean().to_dict() for part in (WITHIN, AFTER, TOTAL)
    }
    return horizon_check(total, within, means)


def _money(x: float) -> str:
    return f"{x:,.0f}"
