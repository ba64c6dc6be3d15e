"""The classroom page's words for students: the Info tab and what every statistic means.

Written from the scenario itself (the rungs, each strategy in one plain sentence, what the
rivals do, the currency), so a teacher's own scenario gets a true Info tab too; the page
shows :data:`STATISTICS` next to each number it explains. Imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

from relsim import units
from relsim.scenario import Scenario
from relsim.scenario.model.strategy import Strategy
from relsim.viz.words import currency

RUNG_MEANINGS = {
    "prospect": "in the market but with no firm of their own yet (or none any more)",
    "customer": "has bought from the firm, but only just: the lowest rung of a relationship",
    "client": "buys from the firm again and again, but would leave for a better offer",
    "supporter": "likes the firm, buys more and minds the price less",
    "advocate": "recommends the firm to others (brings in new customers by word of mouth)",
    "partner": "the closest tie: buys most, minds the price least, rarely leaves",
}
"""One line per rung of the loyalty ladder (Christopher, Payne & Ballantyne)."""

LEVEL_WORDS = {
    "reactive": "a service desk answers customers' complaints",
    "accountable": "staff call customers after each purchase to ask how it went",
    "proactive": "staff contact customers now and then with news and advice",
    "partnership": "a manager works with each key customer as a partner",
}


def statistics(money: str, baseline: str) -> dict[str, str]:
    """What each statistic on the page means, keyed as the page uses them."""
    return {
        "npv": f"Value to our firm ({money}): the profit of every week of the run, later "
        "weeks counted a little less (money later is worth less than money now: the net "
        "present value, NPV), plus what the customers we still have at the end are expected "
        "to bring in afterwards, less what keeping them costs.",
        "difference": f"How much more (+) or less (−) value than '{baseline}' (doing as "
        "today), on average over the runs. The brackets [low, high] are the 95% confidence "
        "interval: with this many runs the true difference lies in this range, 19 times in 20.",
        "significant": "★ marks a difference that is not luck: its interval does not contain "
        f"zero, so the strategy really does better (or worse) than '{baseline}'.",
        "could_be_best": "'Could be best' compares a strategy with every other one, not only "
        f"with '{baseline}': 'yes' when the runs cannot rule it out as the best of all. A "
        "strategy can be ★ (better than doing as today) and still not the only one that "
        "could be best.",
        "p_best": "Best in: the share of runs in which this strategy came out on top. With "
        "few runs it is a rough guide; use the interval and 'could be best' to decide.",
        "churn": "Customers lost a year: of our customers, the share who leave us within a "
        "year (to the rival, or to buy nowhere), averaged over the runs.",
        "share_end": "Market share at the end: our customers as a share of all customers "
        "who have a firm, in the last week.",
        "kept": "Customers kept: of the customers our firm had in week 0, the share who are "
        "still ours that week (a customer who left and came back counts as lost). It can "
        "only fall.",
        "customers": "Our customers: how many customers count our firm as theirs each week, "
        "averaged over the runs; new customers arrive, so it can rise.",
        "profit": f"Cumulative profit ({money}): revenue less every cost, added up week by "
        "week, averaged over the runs (not discounted).",
    }


def strategy_sentence(scenario: Scenario, strategy: Strategy) -> str:
    """One plain sentence on what the strategy does, from its fields."""
    parts: list[str] = []
    focal = scenario.firms[0]
    if strategy.price_index is not None and strategy.price_index != focal.price_index:
        change = strategy.price_index / focal.price_index - 1.0
        parts.append(f"prices {abs(change):.0%} {'lower' if change < 0 else 'higher'}")
    levels = {strategy.levels.default, *strategy.levels.rungs.values()}
    levels |= set(strategy.levels.segments.values())
    parts += [LEVEL_WORDS[x] for x in ("reactive", "accountable", "proactive") if x in levels]
    if strategy.key_accounts is not None:
        parts.append(LEVEL_WORDS["partnership"] + " (key-account management)")
    points = strategy.bonds.points
    if points is not None:
        rate = points.reward_value / points.threshold * points.earn_rate * (1 - points.breakage)
        parts.append(
            f"runs a points card: {points.earn_rate:g} point per {currency(scenario)} spent, "
            f"{points.threshold:g} points give {points.reward_value:g} off (about {rate:.0%} "
            "back, as some rewards are never claimed)"
        )
    if strategy.bonds.club is not None:
        parts.append(f"runs a customer club from the {strategy.bonds.club.min_rung} rung up")
    if strategy.bonds.structural is not None:
        parts.append("ties its best customers in with shared systems (structural ties)")
    if strategy.crm is not None and strategy.crm.campaigns:
        kinds = sorted({c.kind.replace("_", "-") for c in strategy.crm.campaigns})
        parts.append(
            "keeps a customer database and sends offers by letter ("
            + " and ".join(kinds)
            + " campaigns) to customers who look like drifting off or have gone"
        )
    if not parts:
        return "Business as usual: sell at today's price and do nothing special after the sale."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def rivals_sentence(scenario: Scenario) -> str:
    """What the other firms do when our firm moves."""
    rules = scenario.rivalry
    points = rules.points
    text = (
        f"The other firms ({', '.join(f.name for f in scenario.firms[1:])}) watch us: "
        if len(scenario.firms) > 1
        else "There is no rival firm. "
    )
    if len(scenario.firms) > 1:
        text += (
            f"when we start a points card, each copies it with chance {points.probability:.0%} "
            f"after about {points.lag.mean_weeks:g} weeks"
            + (", giving even more back" if points.ratio > 1 else "")
            + "; "
            + (
                f"when we cut our price, each follows with chance {rules.price.probability:.0%}."
                if rules.price.probability > 0
                else "they do not follow a price cut."
            )
        )
    return text


def info(scenario: Scenario, names: list[str]) -> dict[str, Any]:
    """The Info tab: what it is, how it works, things to notice, things to try."""
    firms = scenario.firms
    years = units.years(scenario.horizon.weeks)
    return {
        "what": [
            f"A computer model of a small market: about {scenario.market.customers:,} "
            f"customers and {len(firms)} firms. Our firm ('{firms[0].name}' in the scenario "
            "file) tries different ways of keeping its customers. Each strategy is run many "
            f"times over {years:.3g} year{'s' if years != 1 else ''}, and we compare what "
            "each brings in.",
            f"Money is in {currency(scenario)}. Nothing here is a forecast: the numbers follow "
            "from the assumptions written in the scenario file.",
        ],
        "how": [
            "Every week each customer may buy. They choose a firm by price, quality and what "
            "ties them to it. A good experience may move them one rung up the loyalty ladder; "
            "a bad one may move them down; some leave, for a reason (price, a failure, a "
            "rival's offer).",
            "Every strategy meets the same customers and the same luck (common random "
            "numbers), so any difference between strategies comes from the strategy.",
        ],
        "rungs": [{"rung": r, "meaning": RUNG_MEANINGS[r]} for r in RUNG_MEANINGS],
        "strategies": [
            {"name": n, "sentence": strategy_sentence(scenario, scenario.strategy(n))}
            for n in names
        ],
        "rivals": rivals_sentence(scenario),
        "notice": [
            "Which rungs fill up under each strategy, and how fast customers leave the ladder.",
            "A strategy can win customers and still lose money: compare the two curves.",
            "Runs differ by luck: press 'New luck' (live mode) and see which differences stay.",
            "In 'What if?', where the best strategy changes, and why.",
        ],
        "try": [
            "Put a strategy next to the baseline and play the weeks; follow one customer.",
            "In 'What if?', find where the points card stops paying: how fast must a rival "
            "copy it?",
            "Live mode: change the price or the desk's staff and watch the ranking move.",
        ],
    }


__all__ = ["RUNG_MEANINGS", "info", "rivals_sentence", "statistics", "strategy_sentence"]
