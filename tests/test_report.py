"""The report: renders for every shipped scenario, offline, with numbers in every section."""

from __future__ import annotations

import copy
import pickle
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import relsim
from relsim.analysis import plan
from relsim.model.economics import COST_KINDS
from relsim.viz.report import write_report
from tests.conftest import SCENARIOS

SMALL = {"market.customers": 500, "horizon.weeks": 30, "horizon.warmup_weeks": 10}


def small_experiment(path: Path, out: Path, **overrides: object) -> relsim.Experiment:
    scenario = relsim.load_scenario(path, overrides={**SMALL, **overrides})
    return relsim.run_experiment(scenario, replications=3, workers=1, out=out, progress=False)


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "data")]


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_report_renders_offline_for_every_shipped_scenario(path: Path, tmp_path: Path) -> None:
    experiment = small_experiment(path, tmp_path / "run")
    md, page = write_report(experiment)
    text = md.read_text(encoding="utf-8")
    # every section is there and carries numbers
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    titles = [s.splitlines()[0] for s in sections]
    assert titles == [
        "Summary",
        "About this run",
        "1. Situation",
        "2. Goals",
        "3. Strategy",
        "4. Program",
        "5. Action plan",
        "6. Budget",
        "7. Organisation",
        "Exit management",
        "What the numbers mean",
        "Glossary",
    ]
    for section in sections[:-2]:
        if section.startswith(("2. Goals", "7. Organisation")):
            continue  # may state that the scenario sets none / uses no staff
        assert re.search(r"\d", section.split("\n", 1)[1]), section[:40]
    # every figure the report shows exists and is a non-empty PNG
    for name in re.findall(r"\(plots/([^)]+)\)", text):
        figure = md.parent / "plots" / name
        assert figure.stat().st_size > 5000, name
    # the HTML is self-contained: no request leaves the page
    html_text = page.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(html_text)
    assert parser.urls and all(u.startswith("data:image/png;base64,") for u in parser.urls)
    assert not ({"script", "link", "iframe", "object", "embed"} & parser.tags)
    assert not re.search(r"https?://|url\(|@import", html_text)


def test_roi_and_payback_match_a_hand_computation(tmp_path: Path) -> None:
    experiment = small_experiment(SCENARIOS / "classroom.yaml", tmp_path / "run")
    weekly = experiment.weekly
    focal = weekly[weekly["firm"] == "focal"]
    costs = [k for k in COST_KINDS if k != "cost_of_goods"]
    base, other = "transactional", "service_desk"
    by = {
        s: focal[focal["strategy"] == s].sort_values(["replication", "week"]) for s in (base, other)
    }
    extra_profit = np.mean(
        [
            by[other].loc[by[other]["replication"] == r, "profit"].sum()
            - by[base].loc[by[base]["replication"] == r, "profit"].sum()
            for r in range(3)
        ]
    )
    extra_spend = np.mean(
        [
            by[other].loc[by[other]["replication"] == r, costs].to_numpy().sum()
            - by[base].loc[by[base]["replication"] == r, costs].to_numpy().sum()
            for r in range(3)
        ]
    )
    budget = plan.budget(experiment)
    assert budget.roi[other] == pytest.approx(extra_profit / extra_spend, rel=1e-9)
    # payback: on the mean over replications of the cumulative paired difference in
    # discounted profit (the series the strategy section plots)
    gap = np.mean(
        [
            np.cumsum(
                by[other].loc[by[other]["replication"] == r, "discounted_profit"].to_numpy()
                - by[base].loc[by[base]["replication"] == r, "discounted_profit"].to_numpy()
            )
            for r in range(3)
        ],
        axis=0,
    )
    negative = np.flatnonzero(gap < 0)
    expected = (
        0 if not len(negative) else (int(negative[-1]) + 1 if negative[-1] + 1 < len(gap) else None)
    )
    assert budget.payback_week[other] == expected


def test_payback_week_rule() -> None:
    assert plan.payback_week(np.array([-5.0, -2.0, 1.0, 3.0])) == 2
    assert plan.payback_week(np.array([1.0, -1.0, 2.0])) == 2  # stays non-negative from week 2
    assert plan.payback_week(np.array([-1.0, -1.0])) is None
    assert plan.payback_week(np.array([0.0, 4.0])) == 0


@pytest.mark.slow
def test_goals_are_checked_against_their_confidence_intervals(tmp_path: Path) -> None:
    experiment = small_experiment(
        SCENARIOS / "classroom.yaml",
        tmp_path / "run",
        **{"goals.retention_rate_annual": 0.5, "goals.market_share_end": 0.99},
    )
    md, _ = write_report(experiment)
    goals = md.read_text().split("## 2. Goals")[1].split("## 3.")[0]
    assert "0.500: met" in goals and "0.990: missed" in goals


@pytest.mark.slow
def test_the_action_plan_and_share_plot_show_when_rivals_copied(tmp_path: Path) -> None:
    """frequency-war: rivals copy within weeks, so each of 3 replications has copies; the
    action plan's table counts them per firm and the share plot marks the first-copy weeks."""
    from relsim.viz.plots import first_copy_weeks, plot_market_share
    from relsim.viz.report import copy_table

    experiment = small_experiment(
        SCENARIOS / "frequency-war.yaml",
        tmp_path / "war",
        **{"market.customers": 800, "horizon.weeks": 60},
    )
    moves = experiment.moves
    table = copy_table(experiment)
    financial = table.loc[["financial"]]
    copied = financial[financial["move"] == "copy points"]
    assert set(copied["firm"]) == {"rival_value", "rival_premium"}
    assert (copied["replications"] == "3 of 3").all()
    first = first_copy_weeks(experiment)
    expected = (
        moves[(moves["strategy"] == "financial") & (moves["action"] != "launch")]
        .groupby("replication")["week"]
        .min()
    )
    got = first[first["strategy"] == "financial"].set_index("replication")["week"]
    assert got.sort_index().tolist() == expected.sort_index().tolist()
    assert "transactional" not in set(first["strategy"])  # nothing to copy there
    from matplotlib.figure import Figure

    ax = plot_market_share(experiment, ax=Figure().add_subplot())
    dotted = [line for line in ax.lines if line.get_linestyle() == ":"]
    assert len(dotted) == 3  # one median marker per strategy with a program
    md, _ = write_report(experiment)
    assert "copy points" in md.read_text(encoding="utf-8")


def test_report_markdown_writes_names_as_text_never_as_html() -> None:
    """A strategy or firm named like HTML is shown in report.md, never rendered as HTML by a
    Markdown viewer (issue 34): every ``<`` is escaped, and a ``|`` cannot split a table cell."""
    import re

    import pandas as pd

    from relsim.viz.report.render import to_markdown

    name = "<script>alert(1)</script> a|b \\<img src=x onerror=alert(2)>"
    blocks = [
        ("h2", f"Strategy {name}"),
        ("p", f"Fund **{name}**."),
        ("warning", name),
        ("summary", [f"Recommendation: {name}"]),
        ("table", pd.DataFrame({"strategy": [name], "npv": ["1,000"]})),
    ]
    text = to_markdown(blocks)
    # raw HTML in CommonMark starts with an unescaped "<": none is left
    assert not re.search(r"(?<!\\)(?:\\\\)*<", text)
    row = next(line for line in text.splitlines() if line.startswith("|") and "script" in line)
    assert len(re.split(r"(?<!\\)\|", row)[1:-1]) == 2  # the name's "|" stays in its cell
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;" in rendered


def test_the_report_reads_each_table_once_and_says_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plots and report keep the tables they read (``Experiment.keeping_tables``) and read
    the scenario's currency once: each table file is read once, each use gets a table of its
    own, nothing is kept outside the block, and the report is the one reading every time
    gives (its text byte for byte)."""
    import pandas as pd

    from relsim.viz import words

    experiment = relsim.run_experiment(
        relsim.load_scenario(SCENARIOS / "classroom.yaml", overrides=SMALL),
        replications=2,
        workers=1,
        out=tmp_path / "run",
        progress=False,
        strategies=["transactional", "points_card"],
    )
    reads: list[str] = []  # whole tables (the focal firm's name is read as one column)
    read_parquet = pd.read_parquet

    def counted(path: object, *args: object, **kwargs: object) -> pd.DataFrame:
        if "columns" not in kwargs:
            reads.append(Path(str(path)).name)
        return read_parquet(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_parquet", counted)
    words._currency_in.cache_clear()
    kept_md, _ = write_report(experiment)
    kept_text = kept_md.read_text()
    assert len(reads) == len(set(reads)), sorted(reads)  # each table read once
    assert "weekly.parquet" in reads
    assert words._currency_in.cache_info().misses == 1

    with experiment.keeping_tables():
        mine = experiment.weekly
        mine["customers"] = -1  # a caller's change stays in its copy
        assert (experiment.weekly["customers"] >= 0).all()
        assert copy.copy(experiment)._kept is None  # a copy or pickle keeps nothing
        assert pickle.loads(pickle.dumps(experiment))._kept is None
    assert experiment._kept is None

    monkeypatch.setattr(relsim.Experiment, "keeping_tables", _not_keeping)
    (tmp_path / "run" / "plots").rename(tmp_path / "plots-kept")
    md, _ = write_report(experiment)
    assert md.read_text() == kept_text


def _not_keeping(self: relsim.Experiment):  # type: ignore[no-untyped-def]
    import contextlib

    return contextlib.nullcontext(self)
