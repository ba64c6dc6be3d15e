"""The decision report: how sure the choice of strategy is under the assumptions' uncertainty,
and which assumption is worth researching first (``relsim decide``).

:func:`decision_section` gives the section's blocks (a summary, the strategies' expected value,
range and probability of being best, the probability-best curve, the value of information per
assumption and group, how simulation noise is kept out, what was uncertain);
:func:`write_decision_report` writes it, with its plots, as ``report.md`` and a self-contained
``report.html`` in the decision folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from relsim.viz.report.labels import glossary_section, plain_blocks
from relsim.viz.report.render import Block, ci, money, pct, to_html, to_markdown
from relsim.viz.words import LABELS

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment.decide import Decision
    from relsim.experiment.voi import Voi

PLOTS = ("decide_probability_best.png", "decide_best_curve.png", "decide_evppi.png")
SHOWN = 15
"""Assumptions listed in the value-of-information table (all are in decision.json)."""


def write_decision_report(decision: Decision, unit: str) -> tuple[Path, Path]:
    """Draw the plots and write report.md and report.html; returns (md, html)."""
    plots = decision.out / "plots"
    draw_plots(decision.voi, plots, unit)
    blocks = [
        ("h1", f"Decision under uncertainty: {decision.plan.get('scenario', '')}".rstrip(": ")),
        *decision_section(decision, unit),
    ]
    shown, seen = plain_blocks(blocks)
    blocks = shown + glossary_section(seen, [])
    md, page = decision.out / "report.md", decision.out / "report.html"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks, plots), encoding="utf-8")
    return md, page


def draw_plots(voi: Voi, plots: Path, unit: str) -> list[Path]:
    """``plots/decide_*.png``: probability best, its curve, the value of information."""
    from matplotlib.figure import Figure

    from relsim.viz.study_plots import plot_best_curve, plot_evppi, plot_probability_best

    plots.mkdir(parents=True, exist_ok=True)
    drawn = []
    for name, draw, size in zip(
        PLOTS,
        (plot_probability_best, plot_best_curve, lambda v, ax: plot_evppi(v, unit, ax=ax)),
        ((8, 4.5), (8, 4.5), (9, 6)),
        strict=True,
    ):
        fig = Figure(figsize=size)
        draw(voi, ax=fig.subplots())
        fig.savefig(plots / name, dpi=110, bbox_inches="tight")
        drawn.append(plots / name)
    return drawn


def decision_section(decision: Decision, unit: str) -> list[Block]:
    """The section's blocks (see the module docstring)."""
    voi = decision.voi
    return [
        ("summary", summary_lines(decision, unit)),
        *_strategies(voi, unit),
        *_curve(voi),
        *_information(voi, unit),
        *_noise(voi, unit),
        *_uncertain(decision),
    ]


def summary_lines(decision: Decision, unit: str) -> list[str]:
    """The summary: recommendation, how sure, what to learn first, what is worth nothing to
    know, the noise, the basis."""
    voi = decision.voi
    row = voi.strategies.set_index("strategy").loc[voi.recommended]
    wrong, wrong_low, wrong_high = voi.p_wrong
    evpi = voi.evpi
    metric = LABELS.get(voi.metric, voi.metric)
    expected = ci(row["expected"], row["expected_low"], row["expected_high"])
    others = voi.strategies[voi.strategies["strategy"] != voi.recommended]
    runner = others.loc[others["expected"].idxmax()]
    ahead = ci(-runner["difference"], -runner["difference_high"], -runner["difference_low"])
    lines = [
        f"Recommendation: {voi.recommended}, the highest expected {metric} over the "
        f"assumptions' uncertainty: {expected} {unit}; ahead of {runner['strategy']} by "
        f"{ahead} (paired over the draws).",
        f"How sure: best in {pct(row['p_best'])} of the draws of the assumptions, so wrong in "
        f"{pct(wrong)} (95% interval {pct(wrong_low)} to {pct(wrong_high)}). Committing now "
        f"costs {money(evpi['estimate'])} {unit} in expectation against choosing with perfect "
        f"knowledge (EVPI, 95% interval {money(evpi['low'])} to {money(evpi['high'])}).",
        _learn_first(voi, unit),
        _worth_nothing(voi),
        f"Simulation noise: {pct(voi.noise_share)} of the spread between draws of "
        f"{voi.recommended}'s advantage over its runner-up is noise (removed from the figures "
        f"above; EVPI before removing it {money(evpi['simulated'])}, noise alone would show "
        f"{money(evpi['noise_floor'])}).",
        f"Basis: {voi.samples} joint draws of {len(decision.plan['quantities'])} uncertain "
        f"assumptions x {voi.replications} replications x {len(voi.strategies)} strategies; "
        f"decision metric {voi.metric}.",
    ]
    return lines


def _learn_first(voi: Voi, unit: str) -> str:
    top = voi.top
    if top is None:
        return (
            "Learn first: no single assumption is worth knowing beyond what one that cannot "
            "matter scores at this sample size; a larger --samples may separate them."
        )
    tentative = (
        f" Its interval reaches {money(top['low'])}: at {voi.samples} draws the ranking is "
        "tentative; more --samples firm it up (the intervals narrow as one over the square root)."
        if top["low"] <= top["floor"]
        else ""
    )
    return (
        f"Learn first: {top['name']}: knowing it exactly is worth up to {money(top['evppi'])} "
        f"{unit} ({pct(top['share'])} of EVPI; 95% interval {money(top['low'])} to "
        f"{money(top['high'])}).{tentative}"
    )


def _worth_nothing(voi: Voi) -> str:
    singles = voi.evppi[voi.evppi["kind"] == "assumption"].dropna(subset=["evppi"])
    nothing = singles[~singles["worth_knowing"]]
    named = ", ".join(nothing.sort_values("evppi")["name"].head(3))
    passed = len(singles) - len(nothing)
    chance = 0.05 * len(singles)
    return (
        f"Not worth knowing: {len(nothing)} of {len(singles)} "
        "assumptions score no more than one that cannot matter"
        + (f" (among them {named})" if named else "")
        + f"; of the {passed} above that floor, about {chance:.0f} would be there by chance."
    )


def _strategies(voi: Voi, unit: str) -> list[Block]:
    table = voi.strategies
    shown = pd.DataFrame(
        {
            "strategy": table["strategy"],
            f"expected, {unit} [95% CI]": [
                ci(r.expected, r.expected_low, r.expected_high) for r in table.itertuples()
            ],
            f"difference from {voi.recommended} [95% CI]": [
                "—"
                if r.strategy == voi.recommended
                else ci(r.difference, r.difference_low, r.difference_high)
                for r in table.itertuples()
            ],
            f"range over the assumptions, {unit}": [
                f"{money(r.range_low)} to {money(r.range_high)}" for r in table.itertuples()
            ],
            "P(best) [95%]": [
                ci(r.p_best, r.p_best_low, r.p_best_high, pct) for r in table.itertuples()
            ],
            "P(best) as simulated": table["p_best_simulated"].map(pct),
        }
    ).set_index("strategy")
    return [
        ("h2", "Expected value and the chance of being best"),
        (
            "p",
            "Each strategy's decision metric averaged over the draws of the assumptions, with "
            "the 95% interval of that average (how precisely this many draws and replications "
            "pin it down) and its difference from the recommended strategy (paired: both run "
            "at the same draws, so far more precise than the two averages); the range it "
            "takes over the assumptions (2.5th to 97.5th percentile, simulation noise "
            "removed); and the share of draws in which it is "
            "best, with a bootstrap interval. The choice is the highest expected value; the "
            "share of draws in which another strategy is better is how often it is wrong.",
        ),
        ("table", shown),
        ("img", PLOTS[0]),
        (
            "caption",
            "Bars: the probability of being best (simulation noise removed) with its 95% "
            "bootstrap interval; dots: the same before removing the noise.",
        ),
    ]


def _curve(voi: Voi) -> list[Block]:
    name = voi.curve.attrs.get("assumption") if not voi.curve.empty else None
    if not name:
        return []
    return [
        ("h2", "Which strategy is best, by the assumption worth most to know"),
        (
            "p",
            f"The probability that each strategy is best at each value of {name}, the "
            "other assumptions' uncertainty averaged over (the best strategy of each draw, "
            "smoothed by the same regression as the value of information). Where the curves "
            "cross, knowing the value would change the choice.",
        ),
        ("img", PLOTS[1]),
        ("caption", "Lines: P(best) given the value; ticks at the bottom: the draws."),
    ]


def _information(voi: Voi, unit: str) -> list[Block]:
    table = voi.evppi
    singles = table[table["kind"] == "assumption"].dropna(subset=["evppi"]).head(SHOWN)
    groups = table[table["kind"] == "group"]
    return [
        ("h2", "Value of information: what to research first"),
        (
            "p",
            "EVPI is what knowing every assumption exactly would be worth for this decision: "
            "the expected gain from choosing the best strategy for the true assumptions "
            "instead of the one best on average. EVPPI is the same for one assumption or a "
            "group, the others still uncertain (a regression of each strategy's advantage on "
            "the assumption: Strong, Oakley & Brennan 2014). Both are upper bounds on what "
            "research that pins them down is worth. An EVPPI at or below the floor is what an "
            "assumption that cannot matter scores at this sample size: not worth researching "
            "for this decision.",
        ),
        ("img", PLOTS[2]),
        (
            "caption",
            "Bars: EVPPI with 95% bootstrap intervals (blue one assumption, green a group); "
            "red line and band: EVPI and its interval; grey diamonds: the floor, what an "
            "assumption (or a group of that size) that cannot matter scores.",
        ),
        ("table", _evppi_rows(singles, unit).set_index("assumption")),
        ("table", _evppi_rows(groups, unit, "group").set_index("group")),
    ]


def _evppi_rows(rows: pd.DataFrame, unit: str, first: str = "assumption") -> pd.DataFrame:
    return pd.DataFrame(
        {
            first: [
                f"{r.name} ({r.size})" if r.kind == "group" else r.name for r in rows.itertuples()
            ],
            f"EVPPI, {unit} [95%]": [_evppi_cell(r) for r in rows.itertuples()],
            "share of EVPI": rows["share"].map(pct).to_list(),
            f"floor, {unit}": rows["floor"].map(money).to_list(),
            "worth knowing": ["yes" if w else "no" for w in rows["worth_knowing"]],
        }
    )


def _evppi_cell(row: Any) -> str:
    if pd.isna(row.evppi):
        return f"needs {row.size + 9} draws"
    return ci(row.evppi, row.low, row.high)


def _noise(voi: Voi, unit: str) -> list[Block]:
    evpi = voi.evpi
    return [
        ("h2", "How simulation noise is kept out"),
        (
            "p",
            f"Each draw's metric is a mean of {voi.replications} replications and carries "
            "simulation noise, which by itself looks like information value: the noise alone, "
            f"with no assumption mattering, would show an EVPI of {money(evpi['noise_floor'])} "
            f"{unit}. The replications measure the noise. For EVPI and the probabilities of "
            "being best, every draw's advantages are pulled towards their mean until their "
            "spread is the spread over the draws less the noise's (EVPI "
            f"{money(evpi['simulated'])} before, {money(evpi['estimate'])} after). EVPPI "
            "needs no such step: the regression on an assumption averages the noise away, "
            "and the floor shows what is left for an assumption that cannot matter. More "
            "replications per draw shrink the noise; more draws shrink every interval.",
        ),
    ]


def _uncertain(decision: Decision) -> list[Block]:
    rows = []
    for q in decision.quantities:
        low, mode, high, sd = q.bounds[0]
        rows.append(
            {
                "assumption": q.name,
                "distribution": q.kind + (f", sd {sd:g}" if sd else ""),
                "range": f"{low:g} to {high:g}",
                "mode (the scenario's value)": f"{mode:g}",
                "unit": q.unit,
            }
        )
    plan = decision.plan
    notes = list(plan["notes"])
    if plan["rejected"]:
        notes.append(
            f"{plan['rejected']} draws made the scenario invalid and were left out (first "
            f"reason: {plan['reasons'][0]})"
        )
    blocks: list[Block] = [
        ("h2", "What was uncertain"),
        (
            "p",
            "Every numeric assumption of the register (docs/model.md, section 5), drawn "
            f"jointly ({plan['design']} design), each over its plausible range with its mode "
            "at the scenario's value unless the scenario's uncertainty: block says otherwise. "
            "For an assumption of every segment or strategy the first item's values are shown.",
        ),
        ("table", pd.DataFrame(rows).set_index("assumption")),
    ]
    if notes:
        blocks.append(("p", "Not varied or left out: " + "; ".join(notes) + "."))
    return blocks


__all__ = ["PLOTS", "decision_section", "draw_plots", "summary_lines", "write_decision_report"]
