"""The report: an experiment's evidence laid out as the strategist's marketing plan.

``write_report`` writes ``report.md`` (figures referenced from ``plots/``) and ``report.html``
(self-contained: figures embedded as data URIs, styles inline, no network request) into the
results folder. Sections: situation, goals, strategy, program, action plan, budget,
organisation, exit management, and what the numbers mean.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from relsim.analysis import plan, value
from relsim.domain import REASONS
from relsim.experiment.folder import MANIFEST, RESOLVED_SCENARIO
from relsim.scenario import Scenario, load_scenario

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment

Block = tuple[str, Any]


def write_report(experiment: Experiment, folder: str | Path | None = None) -> tuple[Path, Path]:
    """Write report.md and report.html (and the plots they show) into the results folder."""
    from relsim.viz.plots import plot_cumulative_difference, save_all, save_plot

    folder = Path(folder or experiment.out)
    plots = folder / "plots"
    if not (plots / "market_share.png").exists():
        save_all(experiment, plots)
    elif not (plots / "cumulative_difference.png").exists():  # plots of an older relsim
        save_plot(
            lambda ax: plot_cumulative_difference(experiment, ax),
            plots / "cumulative_difference.png",
        )
    blocks = report_blocks(experiment)
    md, page = folder / "report.md", folder / "report.html"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks, plots), encoding="utf-8")
    return md, page


def _money(x: float | None) -> str:
    return "—" if x is None or pd.isna(x) else f"{x:,.0f}"


def _pct(x: float | None) -> str:
    return "—" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


def _ci(mean: float, low: float, high: float, fmt: Any = _money) -> str:
    return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"


def report_blocks(experiment: Experiment) -> list[Block]:
    """The report's content as (kind, payload) blocks: h1, h2, p, table, img."""
    scenario = load_scenario(experiment.out / RESOLVED_SCENARIO)
    metric, baseline = experiment.metric, experiment.baseline
    n = experiment.manifest["replications_per_strategy"]
    compare = experiment.compare()
    blocks: list[Block] = [
        ("h1", f"Marketing plan evidence: {scenario.name}"),
        (
            "p",
            f"{scenario.description} {n} replications per strategy with common random "
            f"numbers (root seed {scenario.seed}); decision metric: {metric}.",
        ),
    ]
    # 1. situation
    s = plan.situation(experiment)
    blocks += [
        ("h2", "1. Situation"),
        (
            "p",
            f"At the start the market holds {s['market_customers']:,.0f} customers. "
            "Customers and shares of customers by firm:",
        ),
        (
            "table",
            pd.DataFrame(
                {
                    "customers": {k: f"{v:,.0f}" for k, v in s["customers"].items()},
                    "share": {k: _pct(v) for k, v in s["shares"].items()},
                }
            ).rename_axis("firm"),
        ),
        (
            "p",
            "The focal firm's customers by rung: "
            + ", ".join(f"{r} {_pct(v)}" for r, v in s["ladder_mix"].items())
            + ". "
            "Customers lost a year, by reason, under the status quo (first year; "
            "'unobserved': no cause shows in the customer's history): "
            + ", ".join(f"{r} {_pct(v)}" for r, v in s["loss_rate_by_reason"].items())
            + ".",
        ),
        ("img", "market_share.png"),
    ]
    # 2. goals
    blocks += [("h2", "2. Goals"), *_goals(scenario, experiment)]
    # 3. strategy
    ranking = compare.sort_values("mean", ascending=False)
    best = value.ranked_could_be_best(compare)
    table = pd.DataFrame(
        {
            "strategy": ranking["strategy"],
            f"mean {metric}": ranking["mean"].map(_money),
            "difference vs baseline [95% CI]": [
                "(baseline)"
                if r.strategy == baseline
                else _ci(r.difference, r.difference_low, r.difference_high)
                + (" *" if r.significant else "")
                for r in ranking.itertuples()
            ],
            "P(best) [95% CI]": [
                _ci(r.p_best, r.p_best_low, r.p_best_high, _pct) for r in ranking.itertuples()
            ],
            "could be best": ["yes" if x else "no" for x in ranking["could_be_best"]],
        }
    ).set_index("strategy")
    recommendation = f"Recommended: **{best[0]}**, the highest mean {metric}. " + (
        "It is the only strategy that cannot be ruled out as best."
        if len(best) == 1
        else f"{', '.join(best[1:])} cannot be ruled out as best either: the difference is within "
        "the simulation's noise, so choose among them on other grounds or run more "
        "replications (--precision)."
    )
    check = value.recommendation_within_horizon(experiment)
    blocks += [
        ("h2", "3. Strategy"),
        *([("p", value.horizon_sentence(check))] if check else []),
        ("table", table),
        (
            "p",
            "* the simultaneous 95% CI (Bonferroni) of the paired difference excludes "
            "zero. 'Could be best': Hsu's multiple comparisons with the best.",
        ),
        ("p", recommendation),
        ("img", "differences.png"),
        ("img", "metric.png"),
        *_value_parts(experiment, list(ranking["strategy"])),
    ]
    # 4. program
    blocks += [("h2", "4. Program"), *_program(scenario, experiment.strategies)]
    blocks += _mutual_benefit(experiment)
    # 5. action plan
    blocks += [("h2", "5. Action plan"), *_action_plan(scenario, experiment)]
    # 6. budget
    b = plan.budget(experiment)
    costs = b.costs_per_year[b.costs_per_year["mean"].abs() > 0]
    cost_table = (
        costs.assign(value=[_ci(r.mean, r.low, r.high) for r in costs.itertuples()])
        .pivot(index="kind", columns="strategy", values="value")
        .fillna("—")
    )
    roi = pd.DataFrame(
        {
            "ROI vs baseline": {k: "—" if v is None else f"{v:.2f}" for k, v in b.roi.items()},
            "payback week": {
                k: "never in the horizon" if v is None else str(v)
                for k, v in b.payback_week.items()
            },
        }
    ).rename_axis("strategy")
    blocks += [
        ("h2", "6. Budget"),
        ("p", "Focal firm's costs per year by kind (mean [95% CI]):"),
        ("table", cost_table[experiment.strategies]),
        (
            "p",
            "ROI: extra profit per unit of extra investment (all costs but goods) "
            "against the baseline; payback: first week from which the cumulative "
            "discounted profit difference stays non-negative (mean curve; the dotted lines "
            "of the strategy section's plot of that difference).",
        ),
        ("table", roi),
        ("img", "costs.png"),
    ]
    # 7. organisation
    org = plan.organisation(experiment)
    blocks += [("h2", "7. Organisation")]
    if org.empty:
        blocks.append(("p", "No strategy uses staff pools."))
    else:
        shown = org.assign(
            hours_per_week=org["hours_per_week"].map(lambda x: f"{x:,.0f}"),
            utilisation=org["utilisation"].map(_pct),
            weeks_short=org["weeks_short"].map(_pct),
        )
        blocks += [
            ("table", shown.set_index(["strategy", "pool"])),
            (
                "p",
                "'weeks short': weeks in which the planned work needed more hours "
                "than the pool had, so the level was not fully delivered.",
            ),
        ]
        blocks += [("img", f"utilisation_{x}.png") for x in org["strategy"].unique()]
    # exit management
    ex = plan.exit_management(experiment).set_index("strategy")
    exit_table = pd.DataFrame(
        {
            "annual churn [95% CI]": [
                _ci(r.churn, r.churn_low, r.churn_high, _pct) for r in ex.itertuples()
            ],
            "firm-caused churn [95% CI]": [
                _ci(r.firm_caused_churn, r.firm_caused_churn_low, r.firm_caused_churn_high, _pct)
                for r in ex.itertuples()
            ],
            "lost / year": ex["lost_per_year"].map(lambda x: f"{x:,.0f}"),
            "won back / year": ex["won_back_per_year"].map(lambda x: f"{x:,.0f}"),
            "value lost / year (firm-caused)": ex["firm_caused_value_lost_per_year"].map(_money),
            "firm-caused points avoided": ex["points_avoided"].map(lambda x: f"{x:.2f}"),
            "cost per point avoided": ex["cost_per_point_avoided"].map(_money),
            "value of a point": ex["value_per_point"].map(_money),
        },
    )
    reason_table = pd.DataFrame(
        {
            "firm-caused %": ex["share_firm_caused"].map(_pct),
            "external %": ex["share_external"].map(_pct),
            **{f"{r} %": ex[f"share_{r}"].map(_pct) for r in REASONS},
        }
    )
    pays = [
        r.Index
        for r in ex.itertuples()
        if r.cost_per_point_avoided is not None
        and not pd.isna(r.cost_per_point_avoided)
        and r.cost_per_point_avoided < r.value_per_point
    ]
    blocks += [
        ("h2", "Exit management"),
        (
            "p",
            "1) churn: customers lost a year (a relationship that ends and is not begun "
            "again with the firm within the loss window; endings won back are counted "
            "apart), 2) why they were lost, 3) the value of the customers lost (each "
            "one's expected remaining value, net of what serving it would have cost), "
            "4) what a point of firm-caused churn (price, product, service, political) "
            "avoided costs, 5) whether that is below what such a point is worth. Market "
            "exits and substitutes (external) no strategy prevents; they are left out of "
            "the points.",
        ),
        ("table", exit_table),
        (
            "p",
            "Why customers were lost, as shares of the customers lost ('unobserved': no "
            "cause shows in the customer's history, a drift-off of a satisfied customer "
            "or a switch made by taste alone).",
        ),
        ("table", reason_table),
        (
            "p",
            "Lowering firm-caused churn pays (cost per point below the value of a point) for: "
            + (", ".join(pays) if pays else "none of the strategies")
            + ".",
        ),
        ("img", "survival.png"),
        ("img", "defection_reasons.png"),
        ("img", "retention.png"),
    ]
    blocks += _robustness(experiment)
    blocks += [
        ("h2", "What the numbers mean"),
        (
            "p",
            "The intervals cover the simulation's own noise for the scenario as "
            "written. They do not cover doubt about the assumptions: most parameters "
            "are assumptions (see the assumptions register in docs/model.md), and a "
            "ranking can change when they change. Check the parameters your decision "
            "rests on with sweeps and robustness analysis before acting.",
        ),
    ]
    return blocks


def _value_parts(experiment: Experiment, order: list[str]) -> list[Block]:
    """Where the advantage comes from: the decision metric's parts within and after the
    horizon with their paired differences, and the cumulative difference year by year."""
    parts = value.value_decomposition(experiment)
    if parts.empty or value.WITHIN not in set(parts["part"]):
        return []
    baseline = experiment.baseline
    labels = {p: value.PART_LABELS[p] for p in parts["part"].unique()}
    by = parts.set_index(["strategy", "part"])
    means = pd.DataFrame(
        {
            label: [_ci(*by.loc[(s, p), ["mean", "low", "high"]]) for s in order]
            for p, label in labels.items()
        },
        index=pd.Index(order, name="strategy"),
    )
    others = [s for s in order if s != baseline]
    differences = pd.DataFrame(
        {
            label: [
                _ci(*by.loc[(s, p), ["difference", "difference_low", "difference_high"]])
                + (" *" if by.loc[(s, p), "significant"] else "")
                for s in others
            ]
            for p, label in labels.items()
        },
        index=pd.Index(others, name=f"strategy - {baseline}"),
    )
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
        ("table", means),
    ]
    if not others:
        return blocks
    bands = value.difference_bands(value.focal_discounted_profit(experiment), baseline)
    payback = value.paybacks(bands)
    ends = value.year_ends(bands)
    years = {}
    for w in sorted(ends["weeks"].unique()):
        years[w] = f"after year {w // 52}" if w % 52 == 0 else f"at the end ({w} weeks)"
    at = ends.set_index(["strategy", "weeks"])
    yearly = pd.DataFrame(
        {years[w]: [_ci(*at.loc[(s, w), ["mean", "low", "high"]]) for s in others] for w in years},
        index=pd.Index(others, name=f"strategy - {baseline}"),
    )
    yearly["payback week"] = [
        "never in the horizon" if payback.get(s) is None else str(payback[s]) for s in others
    ]
    blocks += [
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
        ("table", yearly),
        ("img", "cumulative_difference.png"),
    ]
    return blocks


def _robustness(experiment: Experiment) -> list[Block]:
    """The robustness section, when ``relsim run --robustness`` (or ``relsim robustness``)
    has finished its variants in ``<results>/robustness``."""
    from relsim.experiment import storage

    folder = experiment.out / "robustness"
    if not (folder / MANIFEST).exists():
        return []
    if storage.read_manifest(folder).get("status") != "complete":
        return []
    from relsim.analysis.robustness import load_robustness, plot_tornado

    result = load_robustness(folder)
    plots = experiment.out / "plots"
    if not (plots / "robustness.png").exists():
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 6))
        plot_tornado(result, ax=fig.subplots())
        fig.tight_layout()
        plots.mkdir(parents=True, exist_ok=True)
        fig.savefig(plots / "robustness.png", dpi=110)
    varied = result.table["assumption"].nunique()
    n = storage.read_manifest(folder)["replications_target"]
    changes = result.changes
    blocks: list[Block] = [
        ("h2", "Robustness to the assumptions"),
        (
            "p",
            f"Each of {varied} assumptions of the register (docs/model.md, section 5) was set "
            f"to the low and to the high end of its plausible range, one at a time, and every "
            f"strategy run again ({n} replications each, common random numbers). The base "
            f"run recommends {result.recommended}; the bars show its advantage over the "
            f"runner-up, {result.runner_up}, at the two ends ({_money(result.base_advantage)} "
            "in the base run). A bar across zero means the two swap places within that range; "
            "red means some strategy other than the recommended one has the highest mean at "
            "one end.",
        ),
        ("img", "robustness.png"),
    ]
    if changes.empty:
        blocks.append(
            (
                "p",
                f"**No single assumption, moved alone to either end of its range, changes the "
                f"recommendation ({result.recommended}).** Assumptions moved together can.",
            )
        )
    else:
        shown = changes.assign(
            value=changes["value"].map(lambda v: f"{v:g}"),
            margin=changes["margin"].map(_money),
            clear=changes["clear"].map({True: "yes", False: "no"}),
            advantage=changes["advantage"].map(_money),
        ).rename(
            columns={
                "best": "best then",
                "clear": "clearly best",
                "advantage": f"{result.recommended} - {result.runner_up}",
            }
        )[
            [
                "assumption",
                "end",
                "value",
                "best then",
                "margin",
                "clearly best",
                f"{result.recommended} - {result.runner_up}",
            ]
        ]
        blocks += [
            (
                "p",
                f"**The recommendation changes at {len(changes)} of {len(result.table)} "
                "assumption ends:**",
            ),
            ("table", shown.set_index("assumption")),
        ]
    return blocks


def _goals(scenario: Scenario, experiment: Experiment) -> list[Block]:
    goals = scenario.goals
    targets = {
        "retention_rate_annual": goals.retention_rate_annual,
        "npv": goals.npv,
        "market_share_end": goals.market_share_end,
    }
    targets = {k: v for k, v in targets.items() if v is not None}
    if not targets:
        return [
            (
                "p",
                "The scenario sets no goals (add a `goals:` block with a retention, NPV "
                "or market-share target to have each strategy checked against it).",
            )
        ]
    summary = experiment.summary(list(targets))
    rows = {}
    for r in summary.itertuples():
        target = targets[r.metric]
        verdict = "met" if r.low >= target else "missed" if r.high < target else "uncertain"
        rows.setdefault(r.strategy, {})[r.metric] = (
            f"{r.mean:,.3f} vs {target:,.3f}: {verdict}"
            if abs(target) < 10
            else f"{r.mean:,.0f} vs {target:,.0f}: {verdict}"
        )
    return [
        ("table", pd.DataFrame(rows).T.rename_axis("strategy")),
        (
            "p",
            "'met': the whole 95% CI is at or above the target; 'missed': all below; "
            "'uncertain': the target lies inside the interval.",
        ),
    ]


def _program(scenario: Scenario, names: list[str]) -> list[Block]:
    rows = {}
    for name in names:
        st = scenario.strategy(name)
        levels = st.levels
        rules = [f"default {levels.default}"] + [
            f"{k}: {v}" for k, v in {**levels.segments, **levels.rungs}.items()
        ]
        staff = st.staffing
        rows[name] = {
            "price index": st.price_index if st.price_index is not None else "as today",
            "acquisition / week": _money(st.acquisition_spend_per_week)
            if st.acquisition_spend_per_week is not None
            else "as today",
            "relationship levels": "; ".join(rules),
            "key accounts": (
                f"top {_pct(st.key_accounts.top_share)} by observed value, "
                f"{st.key_accounts.accounts_per_manager} per manager, "
                f"{st.key_accounts.level}"
            )
            if st.key_accounts
            else "none",
            "bonds": _bonds(st),
            "retention tools": _retention_tools(scenario, st),
            "staff (desk / contact / managers / senior)": (
                f"{staff.desk.count:g} / {staff.contact_centre.count:g} / "
                f"{staff.managers.count:g} / {staff.senior_manager.count:g}"
            ),
        }
    return [("table", pd.DataFrame(rows).T.rename_axis("strategy"))]


def _retention_tools(scenario: Scenario, strategy: Any) -> str:
    tools, firm = strategy.retention, scenario.focal
    parts = []
    if tools.fulfilment:
        parts.append(
            f"orders late or wrong {100 * firm.fulfilment_failure:.3g}% -> "
            f"{100 * tools.fulfilment.late_or_wrong:.3g}%"
        )
    if tools.quality:
        q = tools.quality
        parts.append(
            f"quality {firm.product_quality:.2f} -> {q.target:.2f} after {q.lag_weeks} weeks "
            f"(over {q.ramp_weeks} more)"
        )
    if tools.assortment:
        parts.append(f"{tools.assortment.extra_lines} extra product lines")
    return "; ".join(parts) or "none"


def _mutual_benefit(experiment: Experiment) -> list[Block]:
    """The customers' side next to the firm's: who gains from each strategy."""
    table = plan.mutual_benefit(experiment)
    if table.empty:
        return []
    shown = pd.DataFrame(
        {
            "firm margin / year": [
                _ci(r.firm_margin, r.firm_margin_low, r.firm_margin_high)
                for r in table.itertuples()
            ],
            "customer surplus / year": [
                _ci(r.customer_surplus, r.customer_surplus_low, r.customer_surplus_high)
                for r in table.itertuples()
            ],
            "customers' share": table["customer_share"].map(_pct).to_list(),
            "vs baseline": table["verdict"].to_list(),
        },
        index=pd.Index(table["strategy"], name="strategy"),
    )
    blocks: list[Block] = [
        (
            "p",
            "Mutual benefit: what the focal firm keeps of its orders (revenue less goods and "
            "rewards) next to what its customers get (value received -- product quality as "
            "experienced, relationship and club value -- minus price paid, against not buying, "
            "converted to money at each customer's price weight). Mean per year [95% CI]:",
        ),
        ("table", shown),
        (
            "p",
            "'vs baseline' reads the signs of the paired differences whose simultaneous 95% "
            "CI excludes zero: a strategy that raises the firm's margin while lowering the "
            "customers' surplus wins by extracting value rather than creating it. The margin "
            "is before what the strategy itself costs (staff, programs, retention tools): the "
            "budget below sets those against it.",
        ),
    ]
    unconverted = experiment.weekly["surplus_unconverted_orders"].sum()
    if unconverted > 0:
        blocks.append(
            (
                "p",
                f"{unconverted:,.0f} orders by customers with no price weight could not be "
                "converted to money and are left out of the surplus.",
            )
        )
    return blocks


def _bonds(strategy: Any) -> str:
    b = strategy.bonds
    parts = []
    if b.points:
        parts.append(
            f"points: {b.points.earn_rate:g}/unit, {b.points.threshold:g} = "
            f"{_money(b.points.reward_value)} (reward rate {_pct(b.points.reward_rate)})"
        )
    if b.club:
        parts.append(f"club from {b.club.min_rung}, fee {_money(b.club.fee_per_year)}/year")
    if b.structural:
        parts.append(
            f"structural ties for the top {_pct(b.structural.top_share)} "
            f"({_money(b.structural.setup_cost)} set-up)"
        )
    for spec in strategy.instruments:
        parts.append(f"{spec.name} (Python instrument)")
    if strategy.responds_to_rivals:
        parts.append("matches rivals' richer programs")
    return "; ".join(parts) or "none"


def _action_plan(scenario: Scenario, experiment: Experiment) -> list[Block]:
    names = experiment.strategies
    lines = [
        "Every strategy starts at week 0, after the warm-up under the status quo "
        f"({scenario.baseline_strategy})."
    ]
    for name in names:
        for change in scenario.strategy(name).staffing.changes:
            lines.append(
                f"{name}: from week {change.week}, {change.pool} has {change.count:g} people."
            )
    for shock in scenario.shocks:
        when = (
            f"week {shock.week}"
            if shock.week is not None
            else (f"at random, {shock.rate_per_year:g} a year")
        )
        lines.append(f"Outside events: {shock.kind} ({shock.firm or 'market'}, {when}).")
    blocks: list[Block] = [("p", " ".join(lines))]
    table = copy_table(experiment)
    if table.empty:
        blocks.append(("p", "No firm copied or answered a program in any replication."))
    else:
        blocks.append(
            (
                "p",
                "When rivals answered (copied, outbid or matched) the strategies' programs, "
                "over the replications: the share of replications in which each firm made "
                "each kind of move, and the week of its first such move.",
            )
        )
        blocks.append(("table", table))
    return blocks


def copy_table(experiment: Experiment) -> pd.DataFrame:
    """Per strategy, answering firm, instrument and action: in how many replications it
    happened and the distribution of the week it first happened."""
    moves = experiment.moves
    if moves.empty:
        return pd.DataFrame()
    answers = moves[moves["action"] != "launch"]
    if answers.empty:
        return pd.DataFrame()
    reps = experiment.replications.groupby("strategy")["replication"].nunique()
    first = answers.groupby(
        ["strategy", "firm", "instrument", "action", "replication"], observed=True
    )["week"].min()
    rows = []
    for (strategy, firm, instrument, action), weeks in first.groupby(
        level=[0, 1, 2, 3], observed=True
    ):
        rows.append(
            {
                "strategy": strategy,
                "firm": firm,
                "move": f"{action} {instrument}",
                "replications": f"{len(weeks)} of {int(reps.get(strategy, 0))}",
                "first week, median": int(np.median(weeks)),
                "10%-90%": f"{np.percentile(weeks, 10):.0f}-{np.percentile(weeks, 90):.0f}",
            }
        )
    return pd.DataFrame(rows).set_index("strategy")


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for kind, payload in blocks:
        if kind == "h1":
            out.append(f"# {payload}\n")
        elif kind == "h2":
            out.append(f"## {payload}\n")
        elif kind == "p":
            out.append(f"{payload}\n")
        elif kind == "table":
            out.append(_markdown_table(payload) + "\n")
        elif kind == "img":
            out.append(f"![{payload}](plots/{payload})\n")
    return "\n".join(out)


def _markdown_table(frame: pd.DataFrame) -> str:
    names = [n or "" for n in frame.index.names]
    frame = frame.reset_index(names=names)
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;
padding:.3em .6em;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{
text-align:left}img{max-width:100%;margin:.5em 0}h2{border-bottom:1px solid #ddd}"""


def to_html(blocks: list[Block], plots: Path) -> str:
    body = []
    for kind, payload in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(str(payload))}</{kind}>")
        elif kind == "p":
            text = html.escape(str(payload))
            while "**" in text:  # bold, as in the Markdown
                text = text.replace("**", "<strong>", 1).replace("**", "</strong>", 1)
            body.append(f"<p>{text}</p>")
        elif kind == "table":
            body.append(payload.to_html(escape=True, border=0))
        elif kind == "img":
            data = base64.b64encode((plots / payload).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(payload)}" src="data:image/png;base64,{data}">')
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>relsim report</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
