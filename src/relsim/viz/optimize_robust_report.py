"""The robust mode's part of an optimization's report: the best designs over the assumptions'
draws, side by side with their value at the scenario's own assumptions
(:mod:`relsim.experiment.optimize_robust`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from relsim.viz.report.render import Block, money

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment.optimize import Optimization

SHOWN = ("expected", "worst_draw", "max_regret", "default_value")
"""The robust candidates' columns the command line prints."""


def robust_blocks(result: Optimization) -> list[Block]:
    """The section: how the designs were judged, the fresh table, the answer."""
    a = result.answer
    r = a["robust"]
    goal = (
        "the expected value over the draws (the mean of the paired differences at each draw)"
        if r["objective"] == "expected"
        else "the maximum regret over the draws (at each draw, the shortfall from the best "
        "design seen there, the baseline counting as 0), minimized"
    )
    return [
        ("h2", "Robust: the best designs across the assumptions"),
        (
            "p",
            f"Robust mode ({r['objective']}): each design was judged over {r['draws']} joint "
            "draws of the assumption register's uncertain parameters (the same draws and seeds "
            f"for every design, {r['replications']} replications of the design and of "
            f"{a['baseline']} at each), by {goal}. Regret is relative to the designs evaluated "
            "that meet the constraints (all of them when none does): in the search, the trials; "
            "here, the re-run designs found by the search.",
        ),
        (
            "p",
            f"The best designs were run again on {r['draws']} fresh draws with fresh seeds "
            f"(root seed {a['fresh_seed']}), and at the scenario's values of the assumptions "
            f"({a['replications']} replications on that root seed), together with the design at "
            "the scenario's own lever values (trial 0, when no re-run design has them: a "
            "comparator, never chosen). The curse column is the search's value of the objective "
            f"minus the fresh one: {_curse(r['objective'], r['draws'])}",
        ),
        ("table", robust_table(result)),
        ("h2", "The answer"),
        ("p", robust_verdict(a)),
    ]


def _curse(objective: str, draws: int) -> str:
    """What the curse column holds besides the optimizer's curse."""
    if objective == "expected":
        return (
            "the optimizer's curse plus the sampling error of two different sets of "
            f"{draws} draws (of the order of the width of the expected value's interval), "
            "so only a gap well beyond that interval is a curse."
        )
    return "the two regrets are against different designs, so read it as a rough guide."


def robust_table(result: Optimization) -> pd.DataFrame:
    """The re-run designs: levers, expected value with its interval over the draws, worst
    draw, maximum regret, value at the scenario's assumptions, the verdicts."""
    table = result.candidates
    shown = pd.DataFrame({"design": table["candidate"], "trial": table["trial"]})
    for path in result.answer["levers"]:
        shown[path.rsplit(".", 1)[-1]] = table[path].map(lambda v: f"{v:.4g}")
    shown[f"expected [{result.answer.get('confidence', 0.95):.0%} CI over draws]"] = [
        f"{money(m)} [{money(lo)}, {money(hi)}]"
        for m, lo, hi in zip(
            table["expected"], table["expected_low"], table["expected_high"], strict=True
        )
    ]
    shown["worst draw"] = table["worst_draw"].map(money)
    shown["max regret"] = table["max_regret"].map(money)
    shown["at the scenario's values"] = table["default_value"].map(money)
    shown["curse"] = table["curse"].map(money)
    shown["meets constraints"] = table["feasible_fresh"].map({True: "yes", False: "no"})
    shown["chosen"] = table["chosen"].map({True: "yes", False: ""})
    return shown


def robust_verdict(answer: dict[str, Any]) -> str:
    """The robust winner, its values, and whether the best at the scenario's values (among the
    re-run designs and the scenario's own design) is another one by more than the noise."""
    a, r = answer, answer["robust"]
    values = ", ".join(f"{p.rsplit('.', 1)[-1]} = {v:g}" for p, v in a["levers"].items())
    judged = "the highest expected value" if r["objective"] == "expected" else "the least regret"
    text = (
        f"Robust best design ({judged}): {values}. Over the fresh draws its {a['metric']} over "
        f"{a['baseline']} is {money(r['winner_expected'])} expected, "
        f"{money(r['winner_worst_draw'])} at the worst draw, with a maximum regret of "
        f"{money(r['winner_max_regret'])}; at the scenario's values it is worth "
        f"{money(r['winner_default_value'])}."
    )
    best = r["default_winner"]
    level = f"{a['confidence']:.0%}"
    gap = (
        f"{money(r['default_gap'])} [{money(r['default_gap_low'])}, "
        f"{money(r['default_gap_high'])}] ({level} interval, replication by replication on "
        "their shared seeds)"
    )
    compared = "of the re-run designs and the design at the scenario's own lever values"
    if best == a["winner"]:
        text += f" It is also the best {compared} at the scenario's values."
    else:
        other = ", ".join(
            f"{p.rsplit('.', 1)[-1]} = {v:g}" for p, v in r["default_winner_levers"].items()
        )
        text += (
            f" At the scenario's values the best {compared} is {best} ({other}, worth "
            f"{money(r['default_winner_value'])} there); the robust choice minus it there: {gap}"
        )
        text += (
            ": the choice depends on the assumptions."
            if r["differs"]
            else ": no clear difference, so the robust choice is about as good at the "
            "scenario's values."
        )
    if not a["feasible"]:
        text += " None of the re-run designs met the constraints on the fresh draws."
    return text


__all__ = ["SHOWN", "robust_blocks", "robust_table", "robust_verdict"]
