"""Where the advantage comes from: the decision metric's parts within and after the horizon,
the cumulative difference by week, and the sentence on whether the recommendation rests on
the value after the horizon."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import relsim
from relsim.analysis import mean_interval, paired_differences, plan, value
from relsim.viz.report import write_report
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> relsim.Experiment:
    out = tmp_path_factory.mktemp("value") / "run"
    return relsim.run_experiment(
        SCENARIOS / "ci-smoke.yaml", replications=3, workers=1, out=out, progress=False
    )


def planted(
    experiment: relsim.Experiment, out: Path, parts: dict[str, dict[str, list[float]]]
) -> relsim.Experiment:
    """A copy of the experiment's folder whose replications table carries planted values:
    ``parts[column][strategy]`` per replication (the report and plots are left to redo)."""
    shutil.copytree(experiment.out, out, ignore=shutil.ignore_patterns("plots", "report.*"))
    table = pd.read_parquet(out / "replications.parquet").sort_values(["strategy", "replication"])
    for column, by_strategy in parts.items():
        for strategy, values in by_strategy.items():
            table.loc[table["strategy"] == strategy, column] = values
    table.to_parquet(out / "replications.parquet")
    return relsim.Experiment.load(out)


def test_the_parts_add_up_to_the_total_and_their_paired_differences_too(
    experiment: relsim.Experiment,
) -> None:
    table = experiment.replications
    parts = value.value_decomposition(experiment).set_index(["strategy", "part"])
    for strategy in experiment.strategies:
        for column in ("mean", "difference"):
            within = parts.loc[(strategy, "npv"), column]
            after = parts.loc[(strategy, "residual_value"), column]
            total = parts.loc[(strategy, "npv_with_residual"), column]
            assert within + after == pytest.approx(total, rel=1e-12, abs=1e-6)
    # each part's paired difference is the mean of the replications' differences, paired by
    # replication even when the table's rows come in another order
    shuffled = table.sample(frac=1.0, random_state=0)
    shuffled_parts = value.decomposition(
        value.part_values(shuffled, experiment.strategies), experiment.baseline
    ).set_index(["strategy", "part"])
    by = table.set_index(["strategy", "replication"])
    for part in ("npv", "residual_value", "npv_with_residual"):
        paired = [
            by.loc[("every_level", r), part] - by.loc[("transactional", r), part] for r in range(3)
        ]
        hand = mean_interval(np.array(paired))  # one comparison: no Bonferroni adjustment
        for got in (shuffled_parts, parts):
            row = got.loc[("every_level", part)]
            assert row["difference"] == pytest.approx(hand.mean)
            assert (row["difference_low"], row["difference_high"]) == pytest.approx(
                (hand.low, hand.high)
            )
    # the comparison table carries the same parts; its decision metric is the total
    compare = experiment.compare().set_index("strategy")
    for part in ("npv", "residual_value", "npv_with_residual"):
        for column in ("mean", "difference", "difference_low", "difference_high"):
            assert compare[f"{part}_{column}"].to_dict() == pytest.approx(
                parts.xs(part, level="part")[column].to_dict()
            )
    assert compare["npv_with_residual_difference_low"].to_dict() == pytest.approx(
        compare["difference_low"].to_dict()
    )


@pytest.mark.slow
def test_margin_and_costs_after_the_horizon_are_shown_when_the_summary_has_them(
    experiment: relsim.Experiment, tmp_path: Path
) -> None:
    table = experiment.replications.sort_values(["strategy", "replication"])
    residual = {
        s: table.loc[table["strategy"] == s, "residual_value"].to_list()
        for s in experiment.strategies
    }
    costs = {s: [1000.0 + 10 * r for r in range(3)] for s in experiment.strategies}
    costs["every_level"] = [3000.0, 3100.0, 2900.0]
    margin = {s: [v + c for v, c in zip(residual[s], costs[s], strict=True)] for s in residual}
    split = planted(
        experiment,
        tmp_path / "split",
        {"residual_margin": margin, "residual_costs": costs},
    )
    parts = value.value_decomposition(split).set_index(["strategy", "part"])
    for column in ("mean", "difference"):
        m = parts.xs("residual_margin", level="part")[column]
        c = parts.xs("residual_costs", level="part")[column]
        v = parts.xs("residual_value", level="part")[column]
        assert (m - c).to_dict() == pytest.approx(v.to_dict())
    assert parts.loc[("every_level", "residual_costs"), "difference"] == pytest.approx(
        3000.0 - 1010.0
    )
    compare = split.compare()
    assert {"residual_margin_difference", "residual_costs_difference_high"} <= set(compare)
    md, _ = write_report(split)
    strategy = md.read_text(encoding="utf-8").split("## 3. Strategy")[1].split("## 4.")[0]
    assert "| margin after the horizon, EUR | costs after the horizon, EUR |" in strategy


def test_the_difference_at_the_last_week_is_the_paired_difference_of_npv(
    experiment: relsim.Experiment,
) -> None:
    bands = value.difference_bands(value.focal_discounted_profit(experiment), "transactional")
    ends = value.year_ends(bands)
    last = ends[ends["weeks"] == experiment.weekly["week"].nunique()]
    assert len(last) == 1  # ci-smoke runs 26 weeks: no year's end, but the horizon's
    npv = experiment.compare(metric="npv").set_index("strategy").loc["every_level"]
    row = last.iloc[0]
    assert row["mean"] == pytest.approx(npv["difference"], rel=1e-9)
    assert row["low"] == pytest.approx(npv["difference_low"], rel=1e-9)
    assert row["high"] == pytest.approx(npv["difference_high"], rel=1e-9)
    # the payback week of the budget is read off the same curve
    assert plan.budget(experiment).payback_week == value.paybacks(bands)


def test_the_bands_are_simultaneous_like_the_comparison_and_give_the_payback_week() -> None:
    """Planted weekly discounted profit, three strategies: at the last week the band is the
    Bonferroni interval of the paired difference in total discounted profit; the payback week
    is where the planted mean curve turns non-negative for good."""
    rng = np.random.default_rng(3)
    weeks, reps = 12, 4
    step = np.array([-3.0, -2.0, -1.0, 0.5, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    rows = []
    for r in range(reps):
        noise = rng.normal(0.0, 0.1, (3, weeks))
        for s, (name, shift) in enumerate([("base", 0.0), ("late", 1.0), ("never", -1.0)]):
            profit = 10.0 + noise[s] + (step if name == "late" else shift)
            rows += [
                {"strategy": name, "replication": r, "week": w, "discounted_profit": v}
                for w, v in enumerate(profit)
            ]
    weekly = pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # any row order
    bands = value.difference_bands(weekly, "base")
    totals = weekly.groupby(["strategy", "replication"])["discounted_profit"].sum()
    expected = paired_differences(
        {s: totals.loc[s].to_numpy() for s in ("base", "late", "never")}, "base"
    )
    last = bands[bands["week"] == weeks - 1].set_index("strategy")
    for name in ("late", "never"):
        d = expected[name]
        assert tuple(last.loc[name, ["mean", "low", "high"]]) == pytest.approx(
            (d.mean, d.low, d.high)
        )
    mean_curve = bands[bands["strategy"] == "late"].sort_values("week")["mean"].to_numpy()
    assert value.paybacks(bands) == {"late": plan.payback_week(mean_curve), "never": None}
    # the planted curve: -3 -5 -6 -5.5 -4.5 -3 -1 +1 ...: non-negative from week 7 on
    assert value.paybacks(bands)["late"] == 7


def test_year_ends_are_the_ends_of_every_year_and_of_the_horizon() -> None:
    weeks = np.arange(130)
    bands = pd.DataFrame({"strategy": "s", "week": weeks, "mean": weeks * 1.0})
    assert value.year_ends(bands)["weeks"].to_list() == [52, 104, 130]
    assert value.year_ends(bands)["mean"].to_list() == [51.0, 103.0, 129.0]
    whole = bands[bands["week"] < 104]
    assert value.year_ends(whole)["weeks"].to_list() == [52, 104]


def strategy_section(md: Path) -> str:
    return md.read_text(encoding="utf-8").split("## 3. Strategy\n")[1].split("## 4.")[0]


def first_paragraph(section: str) -> str:
    return section.strip().split("\n\n")[0]


@pytest.mark.slow
def test_the_strategy_section_says_when_the_recommendation_rests_on_the_value_after_the_horizon(
    experiment: relsim.Experiment, tmp_path: Path
) -> None:
    """Planted: transactional earns more within the horizon, every_level more after it and
    in total; then planted the other way, where both metrics agree."""
    changes = planted(
        experiment,
        tmp_path / "changes",
        {
            "npv": {"transactional": [100.0, 110.0, 105.0], "every_level": [90.0, 95.0, 92.0]},
            "residual_value": {
                "transactional": [10.0, 12.0, 11.0],
                "every_level": [50.0, 55.0, 52.0],
            },
            "npv_with_residual": {
                "transactional": [110.0, 122.0, 116.0],
                "every_level": [140.0, 150.0, 144.0],
            },
        },
    )
    check = value.recommendation_within_horizon(changes)
    assert check is not None and check.changes
    assert (check.recommended, check.within_only) == ("every_level", "transactional")
    md, page = write_report(changes)
    top = first_paragraph(strategy_section(md))
    assert top.startswith("**Within the horizon alone, transactional would be recommended:**")
    # the report names strategies by their plain labels (every_level: "every level")
    assert "every level rests on the value after the horizon: 52 against 11" in top
    assert "holds within the horizon too" not in md.read_text(encoding="utf-8")
    assert "<strong>Within the horizon alone, transactional" in page.read_text(encoding="utf-8")

    agree = planted(
        experiment,
        tmp_path / "agree",
        {
            "npv": {"transactional": [100.0, 110.0, 105.0], "every_level": [90.0, 95.0, 92.0]},
            "residual_value": {
                "transactional": [50.0, 55.0, 52.0],
                "every_level": [10.0, 12.0, 11.0],
            },
            "npv_with_residual": {
                "transactional": [150.0, 165.0, 157.0],
                "every_level": [100.0, 107.0, 103.0],
            },
        },
    )
    md, _ = write_report(agree)
    top = first_paragraph(strategy_section(md))
    assert top.startswith("The recommendation holds within the horizon too: transactional")
    assert "Within the horizon alone" not in md.read_text(encoding="utf-8")

    # with another decision metric the residual value is not part of the decision: no sentence
    md, _ = write_report(relsim.Experiment.load(changes.out, metric="npv"))
    section = strategy_section(md)
    assert "Within the horizon alone" not in section and "holds within" not in section


def test_the_report_writes_and_shows_the_cumulative_difference_plot(
    experiment: relsim.Experiment, tmp_path: Path
) -> None:
    folder = planted(experiment, tmp_path / "report", {})
    md, _ = write_report(folder)
    plot = folder.out / "plots" / "cumulative_difference.png"
    assert plot.stat().st_size > 5000
    section = strategy_section(md)
    assert "![cumulative_difference.png](plots/cumulative_difference.png)" in section
    # the parts' header: the continued margin and costs stand between when the summary has them
    header = "| strategy minus transactional | within the horizon, EUR |"
    assert header in section
    assert (
        "| after the horizon, EUR | total, EUR |" in section.split(header, 1)[1].split("\n", 1)[0]
    )
    # a folder whose plots an older relsim drew gets the missing one
    plot.unlink()
    write_report(folder)
    assert plot.stat().st_size > 5000
