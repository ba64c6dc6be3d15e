"""The report's decision: section 3, strategy.

The ranking with its intervals, significance and P(best), the recommendation and which
strategies cannot be ruled out as best, then where the value comes from: the decision
metric's parts within and after the horizon with their paired differences, and the paired
difference in cumulative discounted profit year by year with the payback week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from relsim.analysis import value
from relsim.viz.report.labels import unit_of
from relsim.viz.report.render import Block, ci, money, pct

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment


def strategy_section(experiment: Experiment, compare: pd.DataFrame) -> list[Block]:
    """3. Strategy, from the experiment's comparison table (``experiment.compare()``)."""
    ranking = compare.sort_values("mean", ascending=False)
    check = value.recommendation_within_horizon(experiment)
    unit = unit_of(experiment)
    return [
        ("h2", "3. Strategy"),
        *([("p", value.horizon_sentence(check))] if check else []),
        ("table", _ranking_table(ranking, experiment.metric, experiment.baseline, unit)),
        (
            "p",
            "* the simultaneous 95% CI (Bonferroni) of the paired difference excludes "
            "zero. 'Could be best': Hsu's multiple comparisons with the best.",
        ),
        ("p", _recommendation(value.ranked_could_be_best(compare), experiment.metric)),
        ("img", "differences.png"),
        (
            "caption",
            f"Each strategy's paired difference from the baseline ({experiment.baseline}) in "
            f"{experiment.metric}, {unit}, with its simultaneous 95% interval; left of the grey "
            "line: worse than the baseline.",
        ),
        ("img", "metric.png"),
        (
            "caption",
            f"{experiment.metric} in each replication (dots), with its box: the middle half of "
            "the replications, the median (line) and the mean (triangle).",
        ),
        *value_parts(experiment, list(ranking["strategy"])),
    ]


def _ranking_table(ranking: pd.DataFrame, metric: str, baseline: str, unit: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "strategy": ranking["strategy"],
            f"mean {metric}, {unit}": ranking["mean"].map(money),
            f"difference from {baseline}, {unit} [95% CI]": [
                "(baseline)"
                if r.strategy == baseline
                else ci(r.difference, r.difference_low, r.difference_high)
                + (" *" if r.significant else "")
                for r in ranking.itertuples()
            ],
            "P(best) [95% CI]": [
                ci(r.p_best, r.p_best_low, r.p_best_high, pct) for r in ranking.itertuples()
            ],
            "could be best": ["yes" if x else "no" for x in ranking["could_be_best"]],
        }
    ).set_index("strategy")


def _recommendation(best: list[str], metric: str) -> str:
    return f"Recommended: **{best[0]}**, the highest mean {metric}. " + (
        "It is the only strategy that cannot be ruled out as best."
        if len(best) == 1
        else f"{', '.join(best[1:])} cannot be ruled out as best either: the difference is within "
        "the simulation's noise, so choose among them on other grounds or run more "
        "replications (--precision)."
    )


def value_parts(experiment: Experiment, order: list[str]) -> list[Block]:
    """Where the advantage comes from: the decision metric's parts within and after the
    horizon with their paired differences, and the cumulative difference year by year."""
    parts = value.value_decomposition(experiment)
    if parts.empty or value.WITHIN not in set(parts["part"]):
        return []
    baseline = experiment.baseline
    unit = unit_of(experiment)
    labels = {p: f"{value.PART_LABELS[p]}, {unit}" for p in parts["part"].unique()}
    by = parts.set_index(["strategy", "part"])
    split = (
        " The value after the horizon is the margin its customers are expected to bring after "
        "it less the costs the strategy keeps paying for them."
        if "residual_costs" in labels
        else ""
    )
    blocks: list[Block] = [
        (
            "p",
            "Where the value comes from: the NPV within the horizon (discounted profit in the "
            "weeks simulated) and the value after it (the customers held at the end, valued "
            "with their state frozen: docs/model.md, 'Residual value beyond the horizon') add "
            f"up to the total.{split} Mean [95% CI]:",
        ),
        ("table", _part_means(by, labels, order)),
    ]
    others = [s for s in order if s != baseline]
    if not others:
        return blocks
    return blocks + _part_differences(experiment, by, labels, others)


def _part_means(by: pd.DataFrame, labels: dict[str, str], order: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            label: [ci(*by.loc[(s, p), ["mean", "low", "high"]]) for s in order]
            for p, label in labels.items()
        },
        index=pd.Index(order, name="strategy"),
    )


def _part_differences(
    experiment: Experiment, by: pd.DataFrame, labels: dict[str, str], others: list[str]
) -> list[Block]:
    """The paired differences of the parts and of the cumulative profit by year."""
    baseline = experiment.baseline
    differences = pd.DataFrame(
        {
            label: [
                ci(*by.loc[(s, p), ["difference", "difference_low", "difference_high"]])
                + (" *" if by.loc[(s, p), "significant"] else "")
                for s in others
            ]
            for p, label in labels.items()
        },
        index=pd.Index(others, name=f"strategy minus {baseline}"),
    )
    return [
        (
            "p",
            f"Paired difference from the baseline ({baseline}) of each part [simultaneous 95% "
            "CI]; the differences add up like the parts (their intervals do not). * the "
            "interval excludes zero.",
        ),
        ("table", differences),
        (
            "p",
            "When it starts to pay: the paired difference in cumulative discounted profit at "
            "the end of every year of the horizon [simultaneous 95% CI]; at the last week it is "
            "the difference in NPV within the horizon above. The payback week (weeks numbered "
            "from 0) is the first week from which the mean difference stays at or above zero: "
            "the dotted lines in the figure, and the budget's payback week.",
        ),
        ("table", _yearly(experiment, others)),
        ("img", "cumulative_difference.png"),
        (
            "caption",
            f"Cumulative discounted profit of each strategy minus {baseline}'s, week by week "
            "(bands: simultaneous 95% intervals; dots: the end of each year; dotted lines: the "
            "payback weeks named in the legend).",
        ),
    ]


def _yearly(experiment: Experiment, others: list[str]) -> pd.DataFrame:
    """The paired difference in cumulative discounted profit at every year's end, and the
    payback week."""
    baseline = experiment.baseline
    bands = value.difference_bands(value.focal_discounted_profit(experiment), baseline)
    payback = value.paybacks(bands)
    ends = value.year_ends(bands)
    years = {}
    for w in sorted(ends["weeks"].unique()):
        years[w] = f"after year {w // 52}" if w % 52 == 0 else f"at the end ({w} weeks)"
    at = ends.set_index(["strategy", "weeks"])
    unit = unit_of(experiment)
    yearly = pd.DataFrame(
        {
            f"{years[w]}, {unit}": [ci(*at.loc[(s, w), ["mean", "low", "high"]]) for s in others]
            for w in years
        },
        index=pd.Index(others, name=f"strategy minus {baseline}"),
    )
    yearly["payback week"] = [
        "never in the horizon" if payback.get(s) is None else str(payback[s]) for s in others
    ]
    return yearly


__all__ = ["strategy_section", "value_parts"]
