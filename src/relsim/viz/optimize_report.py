"""The report of an optimization: the search, the curse measured, the honest winner.

``write_optimize_report`` draws the convergence plot (``plots/optimize_convergence.png``: each
trial's estimate and the best feasible estimate so far against the trial) and writes
``report.md`` and ``report.html`` into the optimization folder: what was searched, the best
designs' search and fresh-seed estimates side by side with their difference (the optimizer's
curse), the probability of correct selection within the indifference zone, and the winner's
strategy block.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from relsim.viz.axes import axes_or_new
from relsim.viz.optimize_robust_report import robust_blocks, robust_verdict
from relsim.viz.report.render import Block, money, to_html, to_markdown

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment.optimize import Optimization

CONVERGENCE = "optimize_convergence"
IMPORTANCE = "optimize_importance"
PARETO = "optimize_pareto"


def plot_convergence(result: Optimization, ax: Any = None) -> Any:
    """Each trial's estimate (hollow: breaks a constraint) and the best feasible so far."""
    ax = axes_or_new(ax)
    trials = result.trials
    ok = trials[trials["feasible"]]
    bad = trials[~trials["feasible"]]
    ax.scatter(ok["trial"], ok["estimate"], s=14, color="C0", label="trial (feasible)")
    if len(bad):
        ax.scatter(
            bad["trial"],
            bad["estimate"],
            s=14,
            facecolors="none",
            edgecolors="C3",
            label="breaks a constraint",
        )
    ax.step(trials["trial"], trials["best_so_far"], where="post", color="C1", label="best so far")
    ax.set_xlabel("trial")
    kind = {"expected": "expected over draws", "regret": "minus max regret"}
    said = kind.get((result.answer.get("robust") or {}).get("objective"), "search estimate")
    ax.set_ylabel(f"{result.answer['metric']} − {result.answer['baseline']} ({said})")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_importance(result: Optimization, ax: Any = None) -> Any:
    """Each lever's importance: the share of the variance of the trials' estimates lost
    without its terms in a quadratic fit (relsim.experiment.optimize_search.importance)."""
    ax = axes_or_new(ax)
    shares = result.answer.get("importance") or {}
    names = [path.rsplit(".", 1)[-1] for path in shares]
    ax.barh(names, list(shares.values()), color="C0")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the variance of the trials' estimates lost without the lever")
    return ax


def plot_pareto(result: Optimization, ax: Any = None) -> Any:
    """The first two objectives: every trial (hollow: breaks a constraint), the search's
    front, and the front's fresh-seed values with their intervals (the curse is the gap)."""
    ax = axes_or_new(ax)
    trials, table = result.trials, result.pareto
    a, b = (o_label(o) for o in result.answer["objectives"][:2])
    ok = trials[trials["feasible"]]
    bad = trials[~trials["feasible"]]
    ax.scatter(ok[f"obj_{a}"], ok[f"obj_{b}"], s=12, color="0.6", label="trial")
    if len(bad):
        ax.scatter(
            bad[f"obj_{a}"],
            bad[f"obj_{b}"],
            s=12,
            facecolors="none",
            edgecolors="C3",
            label="breaks a constraint",
        )
    ax.plot(table[f"{a}_search"], table[f"{b}_search"], "o-", color="C1", label="front (search)")
    ax.errorbar(
        table[f"{a}_fresh"],
        table[f"{b}_fresh"],
        xerr=[
            table[f"{a}_fresh"] - table[f"{a}_fresh_low"],
            table[f"{a}_fresh_high"] - table[f"{a}_fresh"],
        ],
        yerr=[
            table[f"{b}_fresh"] - table[f"{b}_fresh_low"],
            table[f"{b}_fresh_high"] - table[f"{b}_fresh"],
        ],
        fmt="s",
        color="C0",
        ms=4,
        label="front (fresh seeds, 95% CI)",
    )
    ax.set_xlabel(f"{a} − {result.answer['baseline']} ({_sense(result.answer['objectives'][0])})")
    ax.set_ylabel(f"{b} − {result.answer['baseline']} ({_sense(result.answer['objectives'][1])})")
    ax.legend(fontsize=8)
    return ax


def o_label(objective: dict[str, Any]) -> str:
    """An objective's label from its saved form: the column, with _p5 for the risk."""
    column = objective["column"]
    return column if objective["statistic"] == "mean" else f"{column}_p5"


def _sense(objective: dict[str, Any]) -> str:
    return "more is better" if objective["direction"] == "maximize" else "less is better"


def _save(draw: Any, result: Optimization, path: Path, height: float) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, height))
    draw(result, fig.subplots())
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_optimize_report(result: Optimization) -> tuple[Path, ...]:
    """Write the convergence plot (and, for two levers or more, the importance plot),
    report.md and report.html; returns (md, html, the plots)."""
    plots = result.out / "plots"
    plots.mkdir(exist_ok=True)
    drawn = [plots / f"{CONVERGENCE}.png"]
    if result.answer.get("pareto"):
        drawn = [plots / f"{PARETO}.png"]
        _save(plot_pareto, result, drawn[0], 5.2)
        blocks = pareto_blocks(result)
    else:
        _save(plot_convergence, result, drawn[0], 4.8)
        blocks = optimize_blocks(result)
    if result.answer.get("importance"):
        drawn.append(plots / f"{IMPORTANCE}.png")
        _save(
            plot_importance,
            result,
            plots / f"{IMPORTANCE}.png",
            1.2 + 0.4 * len(result.answer["importance"]),
        )
    md, page = result.out / "report.md", result.out / "report.html"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks, plots), encoding="utf-8")
    return (md, page, *drawn)


def optimize_blocks(result: Optimization) -> list[Block]:
    """The report's content: the search, the candidates, the answer, the strategy block."""
    a = result.answer
    trials = result.trials
    levers = ", ".join(a["levers"])
    constraints = _constraints(a)
    n = trials["replications"].astype(int)
    return [
        ("h1", f"Optimization of {a['strategy']} against {a['baseline']}"),
        (
            "p",
            f"{len(trials)} trials searched {levers} to maximize the mean paired difference of "
            f"{a['metric']} from {a['baseline']} (common random numbers; {n.sum()} replications "
            f"in all, {n.min()} to {n.max()} a trial){constraints}. "
            f"{int(trials['feasible'].sum())} trials met the constraints.",
        ),
        ("img", f"{CONVERGENCE}.png"),
        *_importance(a),
        *(robust_blocks(result) if a.get("robust") else _fresh(result)),
        *_split(a),
        ("p", "The winner as a strategy block (winner.yaml), to paste under strategies:"),
        ("code", result.winner_yaml),
        (
            "p",
            "A consequence of the scenario's assumptions, not a forecast; the intervals cover "
            "simulation noise only.",
        ),
    ]


def _fresh(result: Optimization) -> list[Block]:
    """The best designs on fresh seeds and the answer."""
    a = result.answer
    return [
        ("h2", "The best designs on fresh seeds: the optimizer's curse, measured"),
        (
            "p",
            "The search picks designs that were lucky on its seeds, so its estimate of the best "
            "is biased upward. The best designs were run again on fresh seeds the search never "
            f"used (root seed {a['fresh_seed']}, {a['replications']} replications each): the "
            "fresh estimate is unbiased, and the curse column is the search estimate minus it.",
        ),
        ("table", _candidates(result)),
        ("h2", "The answer"),
        ("p", verdict(a)),
    ]


def pareto_blocks(result: Optimization) -> list[Block]:
    """The report of several objectives: the search, the front on fresh seeds."""
    a = result.answer
    trials = result.trials
    goals = "; ".join(f"{o_label(o)} ({_sense(o)})" for o in a["objectives"])
    return [
        ("h1", f"Pareto front of {a['strategy']} against {a['baseline']}"),
        (
            "p",
            f"{len(trials)} trials (NSGA-II, {int(trials['replications'].iloc[0])} replications "
            f"each) searched {', '.join(a['levers'])} for the designs no other beats on every "
            f"objective at once: {goals}; each the paired difference from {a['baseline']} "
            "(common random numbers; _p5: its 5th percentile over the replications, the "
            f"risk){_constraints(a)}. {int(trials['feasible'].sum())} trials met the "
            "constraints.",
        ),
        ("img", f"{PARETO}.png"),
        ("h2", "The front on fresh seeds"),
        (
            "p",
            f"The front's {a['front']} designs were run again on fresh seeds the search never "
            f"used (root seed {a['fresh_seed']}, {a['replications']} replications each). "
            "The search's values of a front are optimistic (its designs were picked for "
            "being good on the search's seeds); the fresh values are not. "
            + pareto_summary(result),
        ),
        ("table", _pareto_table(result)),
        ("p", "The front's designs as strategy blocks: pareto.yaml."),
        (
            "p",
            "A consequence of the scenario's assumptions, not a forecast; the intervals cover "
            "simulation noise only.",
        ),
    ]


def pareto_summary(result: Optimization) -> str:
    """How many front designs stay non-dominated and feasible on the fresh seeds."""
    table = result.pareto
    kept = int((table["non_dominated_fresh"] & table["feasible_fresh"]).sum())
    return (
        f"On the fresh seeds {kept} of the {len(table)} designs meet the constraints and "
        "are still not beaten on every objective by another of them."
    )


def pareto_text(result: Optimization) -> str:
    """The front as printed by the command line."""
    return _pareto_table(result).to_string(index=False) + "\n" + pareto_summary(result)


def _pareto_table(result: Optimization) -> pd.DataFrame:
    table = result.pareto
    shown = pd.DataFrame({"design": table["candidate"], "trial": table["trial"]})
    for path in result.answer["levers"]:
        shown[path.rsplit(".", 1)[-1]] = table[path].map(lambda v: f"{v:.4g}")
    for o in result.answer["objectives"]:
        label = o_label(o)
        shown[f"{label} search"] = table[f"{label}_search"].map(_number)
        shown[f"{label} fresh"] = table[f"{label}_fresh"].map(_number)
    shown["meets constraints"] = table["feasible_fresh"].map({True: "yes", False: "no"})
    shown["non-dominated (fresh)"] = table["non_dominated_fresh"].map({True: "yes", False: "no"})
    return shown


def _number(x: float) -> str:
    """Thousands separators for money, three figures for rates: 15,310 and -0.0682."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def verdict(answer: dict[str, Any]) -> str:
    """The winner, its fresh estimate and the selection's guarantee, in a sentence or two."""
    a = answer
    if a.get("robust"):
        return robust_verdict(a)
    values = ", ".join(f"{p.rsplit('.', 1)[-1]} = {v:g}" for p, v in a["levers"].items())
    head = (
        f"Best design: {values}, worth {money(a['winner_fresh_estimate'])} of {a['metric']} "
        f"over {a['baseline']} on fresh seeds (the search estimated "
        f"{money(a['winner_search_estimate'])})."
    )
    confidence = f"{a.get('confidence', 0.95):.0%}"
    if a["sure"]:
        sure = (
            f" With probability at least {confidence} it is within the indifference zone of "
            f"{money(a['delta'])} of the best of the re-run designs."
        )
    else:
        sure = (
            f" The indifference zone of {money(a['delta'])} was not reached in {a['replications']} "
            f"fresh replications: with probability {confidence} the winner is within "
            f"{money(a['gap'])} of the best of the re-run designs."
        )
    if not a["feasible"]:
        sure += " None of the re-run designs met the constraints on the fresh seeds."
    return head + sure


def _importance(answer: dict[str, Any]) -> list[Block]:
    shares = answer.get("importance") or {}
    if not shares:
        return []
    words = ", ".join(f"{p.rsplit('.', 1)[-1]} {v:.0%}" for p, v in shares.items())
    return [
        (
            "p",
            "Which lever mattered: the share of the variance of the trials' estimates lost "
            f"when a quadratic fit in all levers drops the lever's terms: {words}. The shares "
            "describe where the search looked, not the whole range.",
        ),
        ("img", f"{IMPORTANCE}.png"),
    ]


def _split(answer: dict[str, Any]) -> list[Block]:
    """The allocation mode's answer: each bond's share, the money it planned and the
    spend it realised on the fresh seeds."""
    split = answer.get("allocation")
    if not split:
        return []
    table = pd.DataFrame(
        [
            {
                "bond": bond,
                "share": f"{b['share']:.0%}",
                "planned a year": money(b["planned"]),
                "buys": f"{b['lever'].rsplit('.', 1)[-1]} = {answer['levers'][b['lever']]:.4g}",
                "realised a year (fresh seeds)": money(b["realised"]),
            }
            for bond, b in split["bonds"].items()
        ]
    )
    over = split["realised"] > split["budget"]
    return [
        ("h2", "The budget's split between the bonds"),
        (
            "p",
            f"The best split of {money(split['budget'])} a year, each share bought its bond's "
            "lever at the scenario's costs (docs/optimize.md, 'Budget allocation'); the "
            f"bonds realised {money(split['realised'])} a year together on the fresh seeds"
            f"{', over the budget' if over else ', within the budget'}. Rewards follow what "
            "customers buy and set-ups wait for manager hours, so realised and planned differ.",
        ),
        ("table", table),
    ]


def _constraints(answer: dict[str, Any]) -> str:
    parts = []
    if answer.get("allocation"):
        parts.append(f"the bonds' spend at most {money(answer['budget'])} a year")
    elif answer.get("budget") is not None:
        parts.append(f"relationship spend at most {money(answer['budget'])} a year")
    for r in answer.get("requirements", []):
        bound = (
            f"at least {r['at_least']:g}"
            if r["at_least"] is not None
            else f"at most {r['at_most']:g}"
        )
        parts.append(f"{r['column']} {bound}")
    return f", subject to {'; '.join(parts)}" if parts else ""


def _candidates(result: Optimization) -> pd.DataFrame:
    table = result.candidates
    levers = list(result.answer["levers"])
    shown = pd.DataFrame({"design": table["candidate"], "trial": table["trial"]})
    for path in levers:
        shown[path.rsplit(".", 1)[-1]] = table[path].map(lambda v: f"{v:.4g}")
    for column in [c for c in table.columns if c.startswith("share_")]:
        shown[f"{column.removeprefix('share_')} share"] = table[column].map(lambda v: f"{v:.0%}")
    shown["search estimate"] = table["search_estimate"].map(money)
    shown[f"fresh estimate [{result.answer.get('confidence', 0.95):.0%} CI]"] = [
        f"{money(m)} [{money(lo)}, {money(hi)}]"
        for m, lo, hi in zip(
            table["fresh_estimate"], table["fresh_low"], table["fresh_high"], strict=True
        )
    ]
    shown["curse"] = table["curse"].map(money)
    shown["meets constraints"] = table["feasible_fresh"].map({True: "yes", False: "no"})
    shown["could be best"] = table["could_be_best"].map({True: "yes", False: "no"})
    shown["chosen"] = table["chosen"].map({True: "yes", False: ""})
    return shown


__all__ = [
    "optimize_blocks",
    "pareto_blocks",
    "pareto_text",
    "plot_convergence",
    "plot_importance",
    "plot_pareto",
    "verdict",
    "write_optimize_report",
]
