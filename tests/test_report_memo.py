"""The report as a decision memo: the summary first, plain labels, warnings (issue 27)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import relsim
from relsim.analysis import value
from relsim.viz.report import executive_summary, write_report
from relsim.viz.report.checks import result_checks
from relsim.viz.report.labels import Plain, plain_blocks, run_scenario
from relsim.viz.report.render import to_html, to_markdown
from relsim.viz.words import NO_CURRENCY, currency
from tests.conftest import SCENARIOS

SMOKE = SCENARIOS / "ci-smoke.yaml"
CODE_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b")


def run(out: Path, **overrides: object) -> relsim.Experiment:
    scenario = relsim.load_scenario(SMOKE, overrides=overrides)
    return relsim.run_experiment(scenario, replications=3, workers=1, out=out, progress=False)


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> relsim.Experiment:
    """every_level with almost no contact staff: its contact pool is short every week."""
    out = tmp_path_factory.mktemp("memo") / "short"
    return run(out, **{"strategies.1.staffing.contact_centre.count": 0.01})


@pytest.fixture(scope="module")
def report(short: relsim.Experiment) -> tuple[str, str]:
    md, page = write_report(short)
    return md.read_text(encoding="utf-8"), page.read_text(encoding="utf-8")


def test_the_report_opens_with_a_summary_that_names_the_recommendation(
    short: relsim.Experiment, report: tuple[str, str]
) -> None:
    sections = re.split(r"^## ", report[0], flags=re.M)
    assert sections[1].startswith("Summary\n")
    summary = sections[1]
    best = value.ranked_could_be_best(short.compare())[0]
    first = summary.split("\n- ")[1]
    assert first.startswith("**Recommendation:**")
    assert best.replace("_", " ") in first and "% of the replications" in first
    scenario = run_scenario(short)
    assert f"money in {currency(scenario)}" in summary
    assert f"discounted at {100 * scenario.economics.discount_rate_per_year:g}% a year" in summary
    assert f"horizon {scenario.horizon.weeks} weeks" in summary
    assert "within the horizon" in summary and "after it" in summary
    assert "were not tested in this run" in summary  # no robustness analysis here
    # the HTML puts the same summary first
    assert report[1].index("class='summary'") < report[1].index("1. Situation")


def test_a_pool_short_in_most_weeks_is_warned_in_the_summary_and_the_organisation(
    short: relsim.Experiment, report: tuple[str, str]
) -> None:
    checks = result_checks(short, run_scenario(short))
    assert set(checks.short) == {"every_level"}
    pool, share, _ = checks.short["every_level"][0]
    assert pool == "contact" and share > 0.5
    lines = executive_summary(short)
    staff = next(line for line in lines if line.startswith("Under-delivered:"))
    assert f"every_level, contact pool short in {100 * share:.1f}% of weeks" in staff
    organisation = report[0].split("## 7. Organisation")[1].split("\n## ")[0]
    assert "**Warning:** Short of staff: every level did not get the staff it needs" in organisation


def test_enough_staff_draws_no_staff_warning(tmp_path: Path) -> None:
    pools = ("desk", "contact_centre", "managers")
    experiment = run(tmp_path / "ok", **{f"strategies.1.staffing.{p}.count": 40 for p in pools})
    checks = result_checks(experiment, run_scenario(experiment))
    assert checks.short == {} and checks.staff == []
    assert "Staff: every strategy got the staff" in "\n".join(executive_summary(experiment))


def test_every_strategy_losing_money_is_warned(tmp_path: Path) -> None:
    experiment = run(tmp_path / "loss", **{"firms.0.fixed_cost_per_week": 200_000})
    lines = executive_summary(experiment)
    assert any(line.startswith("Warning: Every strategy loses money") for line in lines)
    md, _ = write_report(experiment)
    assert "**Warning:** Every strategy loses money" in md.read_text(encoding="utf-8")


def test_an_unscaled_market_size_change_is_warned_with_set_lines(short: relsim.Experiment) -> None:
    scenario = run_scenario(short)
    assert result_checks(short, scenario).commands == []  # the command set no market size
    written = relsim.load_scenario(SMOKE)
    customers = written.market.customers * 3
    moved = scenario.model_copy(
        update={"market": scenario.market.model_copy(update={"customers": customers})}
    )
    manifest = short.manifest
    try:
        short.manifest = {
            **manifest,
            "command": ["relsim", "run", str(SMOKE), "--set", f"market.customers={customers}"],
        }
        checks = result_checks(short, moved)
    finally:
        short.manifest = manifest
    warning = next(w for w in checks.warnings if w.startswith("Costs and staff look unscaled"))
    assert f"{customers:,} customers, 3 times the {written.market.customers:,}" in warning
    spend = written.firms[0].acquisition_spend_per_week
    assert f"--set firms.0.acquisition_spend_per_week={3 * spend:g}" in checks.commands
    assert "--set strategies.1.staffing.managers.count=0.6" in checks.commands
    lines = executive_summary(short, checks=checks)
    assert lines[-1] == "Suggested settings: " + " ".join(checks.commands)
    # a factor of two or less is not checked
    near = scenario.model_copy(
        update={"market": scenario.market.model_copy(update={"customers": 2 * 300})}
    )
    assert not result_checks(short, near).commands


def test_no_code_name_or_backtick_outside_the_glossary(report: tuple[str, str]) -> None:
    body, glossary = report[0].split("\n## Glossary\n")
    body = re.sub(r"!\[[^\]]*\]\(plots/[^)]+\)", "", body)  # image file names
    assert "`" not in body
    assert CODE_NAME.findall(body) == []
    for code, plain in (
        ("npv_with_residual", "NPV incl. value after the horizon"),
        ("every_level", "every level"),
        ("hours_per_week", "hours a week"),
    ):
        assert f"| {plain} | {code} |" in glossary
    assert "NPV incl. value after the horizon, EUR" in body


def test_plain_labels_replace_code_names_and_remember_them() -> None:
    plain = Plain()
    text = plain.text("add a `goals:` block; mean npv_with_residual of all_bonds (docs/model.md)")
    assert text == (
        "add a goals block; mean NPV incl. value after the horizon of all bonds (docs/model.md)"
    )
    assert plain.text("segments.*.price_sensitivity at its low end.") == (
        "segments › price sensitivity at its low end."
    )
    assert set(plain.seen) == {
        "npv_with_residual",
        "all_bonds",
        "segments.*.price_sensitivity",
    }
    assert currency(None) == NO_CURRENCY  # type: ignore[arg-type]


def test_tables_have_no_empty_index_row_and_intervals_fit_on_their_own_line() -> None:
    table = pd.DataFrame(
        {"mean_value": ["1,000 [900, 1,100]"], "note": ["some words"]},
        index=pd.Index(["all_bonds"], name="strategy"),
    )
    blocks, seen = plain_blocks([("table", table)])
    html = to_html(blocks, Path("."))
    assert html.count("<tr>") == 2  # the header and one row: no empty index row
    assert "<th>strategy</th><th>mean value</th>" in html
    assert "<td class='num'>1,000<span class='ci'>[900, 1,100]</span></td>" in html
    assert "<td>some words</td>" in html
    md = to_markdown(blocks)
    assert md.splitlines()[0] == "| strategy | mean value | note |"
    assert seen == {"mean_value": "mean value", "all_bonds": "all bonds"}


def test_the_summary_names_the_widest_robustness_finding(
    short: relsim.Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from relsim.viz.report import robustness as section

    table = pd.DataFrame(
        {
            "assumption": ["segments.*.price_sensitivity", "trust.gain", "voice_share"],
            "end": ["low", "high", "low"],
            "value": [0.5, 2.0, 0.1],
            "best": ["every_level", "every_level", "transactional"],
            "margin": [10.0, 50.0, 0.0],
            "changes": [True, True, False],
        }
    )
    fake = SimpleNamespace(table=table, changes=table[table["changes"]])
    monkeypatch.setattr(section, "_load", lambda experiment: (fake, None))
    line = next(x for x in executive_summary(short) if x.startswith("What could overturn it:"))
    assert "changes at 2 of 3 assumption ends tested" in line
    assert "the widest: trust.gain at its high end (2) makes every_level best" in line
    assert "not tested" not in line


def test_every_plot_written_is_shown(short: relsim.Experiment, report: tuple[str, str]) -> None:
    shown = set(re.findall(r"\(plots/([^)]+)\)", report[0]))
    written = {path.name for path in (Path(short.out) / "plots").glob("*.png")}
    assert written == shown and "ladder_mix.png" in shown
    situation = report[0].split("## 1. Situation")[1].split("\n## ")[0]
    assert "(plots/ladder_mix.png)" in situation  # the ladder mix in section 1


def test_the_summary_reads_any_decision_metric(short: relsim.Experiment) -> None:
    """With ``npv`` (a part of the value) as the decision metric the summary still reads."""
    npv = relsim.Experiment.load(short.out, metric="npv")
    lines = executive_summary(npv)
    assert lines[0].startswith("Recommendation:") and "NPV within the horizon" in lines[0]
    assert lines[1].startswith("Where the advantage comes from: its lead over ")
