"""Parts of the validation page (``relsim.calibration.validation_page``): its markdown tables,
how the dropout variant was chosen, and the CDNOW spend section.

The spend section shows the order-value models fitted on the calibration weeks (one value per
customer; gamma-gamma with within-customer variation) and gamma-gamma's independence check
(``relsim.calibration.spend.spend_frequency_correlation``) with what it shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from relsim.calibration import periodic
from relsim.calibration.spend import GammaGammaFit

if TYPE_CHECKING:
    from relsim.calibration.holdout import HoldoutComparison


def markdown_table(frame: pd.DataFrame, digits: int = 2) -> str:
    """A markdown table (index first), floats to ``digits`` decimals, NaN blank."""

    def cell(value: object) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:.{digits}f}"
        return str(value)

    head = [str(frame.index.name or ""), *map(str, frame.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for index, *values in frame.itertuples():
        lines.append("| " + " | ".join([cell(index), *map(cell, values)]) + " |")
    return "\n".join(lines)


def variant_choice(h: HoldoutComparison) -> list[str]:
    """How the dropout variant was chosen: BIC on the calibration weeks, and the time split
    inside them."""
    d = h.calibration.diagnostics
    table = pd.DataFrame(d["variants"]).T[["parameters", "log_likelihood", "bic", "chosen"]]
    table.index.name = "dropout"
    lines = [
        "**Choosing the process without the holdout.** Four variants of relsim's process are",
        "fitted: dropout in any week independent of the purchase rate (`weekly`, the process",
        "before model version 10), dropout whose clock runs with the purchase rate",
        "(`rate-linked`: `defection_rate_power`), the rate-linked process mixed with a share",
        "of customers who never defect (`stayers`: `never_defecting_share`), and the",
        "rate-linked process with dropout only at periodic death opportunities, every `tau`",
        "weeks of the calendar (`periodic`: `defection_period_weeks`; Jerath, Fader & Hardie",
        "2011; see `relsim.calibration.periodic`). The one with the lowest BIC on the",
        "calibration weeks is used (`relsim calibrate --dropout auto`):",
        "",
        markdown_table(table, 2),
        "",
    ]
    fit = h.calibration.variants.get("periodic")
    if fit is not None:
        profile = d["variants"]["periodic"].get("period_log_likelihoods", {})
        linked = d["variants"].get("rate-linked", {}).get("log_likelihood")
        by_period = "; ".join(f"{t} weeks {ll:.2f}" for t, ll in profile.items())
        lines += [
            f"The periodic variant's period, {fit.settings[periodic.PERIOD]:.0f} weeks, is the "
            "one of highest likelihood among those tried (its opportunities on the weeks "
            "divisible by it, counted from the log's first week; the period counts as a "
            f"parameter in its BIC). Log-likelihood by period: {by_period}"
            + (f"; every week (the rate-linked variant) {linked:.2f}." if linked else "."),
            "",
        ]
        if linked is not None and profile and max(profile.values()) < linked:
            lines[-2] += (
                " Every period fits the calibration weeks worse than dropout in any week: no "
                "sign of dropout on the weeks divisible by the period from the log's first week "
                "(other placements on the calendar were not tried)."
            )
        lines[-2] += (
            " `python scripts/periodic_profile.py` prints each period's fit and, looked at "
            "after the choice and for the record only, its holdout errors."
        )
    if h.time_split is not None:
        t = h.time_split
        lines += [
            f"As a check inside the calibration period, each model fitted on weeks "
            f"1-{t.attrs['inner']} forecasts weeks {t.attrs['inner'] + 1}-"
            f"{t.attrs['inner'] + t.attrs['ahead']} (closed forms; no holdout week is used):",
            "",
            markdown_table(t, 1),
            "",
            f"On this split the smallest total error is that of "
            f"{t['error_percent'].abs().idxmin()}, and the smallest mean group error that of "
            f"{t['mean_abs_group_error_percent'].idxmin()}; the choice stays BIC's "
            f"({d['dropout']}): a {t.attrs['ahead']}-week split is one draw, BIC weighs all "
            f"{h.calibration.weeks} weeks.",
            "",
        ]
    return lines


def spend_section(
    spend: GammaGammaFit | None, check: dict | None, tables: Path, constant: pd.DataFrame
) -> list[str]:
    """The spend part of the CDNOW section: the gamma-gamma fit next to the constant model's
    (``constant``: its rows of the calibration's values), and the independence check
    (``check``: ``Calibration.diagnostics['spend_frequency']``)."""
    if spend is None:
        return []
    table = spend.fit.table[["estimate", "standard_error", "low", "high"]]
    table.to_csv(tables / "cdnow-spend.csv")
    p, q = spend.params["p"], spend.params["q"]
    lines = [
        "### Spend: order values per purchase week",
        "",
        "Amounts are summed within a purchase week (the engine's order) over weeks 1-39, every",
        "purchase week counted (the first too: the engine's first order is like the others).",
        "One value per customer (the scenario's default; fitted by moments without the",
        "within-customer noise):",
        "",
        markdown_table(constant, 4),
        "",
        "Gamma-gamma (`relsim calibrate --spend gamma-gamma`; opt-in scenario fields",
        "`order_value_within_shape` = p and `order_value_between: inverse-gamma`): each order",
        "is Gamma(p, rate nu) around the customer's own mean p / nu, nu ~ Gamma(q, rate gamma),",
        "fitted by maximum likelihood:",
        "",
        markdown_table(table, 4),
        "",
        f"Within a customer, an order's coefficient of variation is 1/sqrt(p) = {p**-0.5:.2f};",
        f"between customers, the mean order value's is 1/sqrt(q - 2) = {(q - 2) ** -0.5:.2f}"
        if q > 2
        else "between customers, the mean order value's variance is infinite (q <= 2)",
        f"(mean order value {spend.mean:.2f}).",
        "",
    ]
    if check:
        lines += [
            "**Is spend independent of frequency?** Gamma-gamma assumes a customer's order values",
            "tell nothing about how often it buys. Among the customers with repeat purchase",
            "weeks, the mean amount of their repeat weeks against their number (the first week",
            "left out, as Fader and Hardie do; the interval from a bootstrap over customers):",
            check["reading"] + ".",
            _check_meaning(check),
            "",
        ]
    return lines


def _check_meaning(check: dict) -> str:
    """What the correlation means for the forecasts, from its own numbers."""
    high = max(abs(check["low"]), abs(check["high"]))
    if check["low"] <= 0 <= check["high"]:
        return "The data give no reason to doubt the assumption."
    return (
        f"Frequency explains at most {100 * high**2:.1f}% of the variation of the mean order "
        "value across repeat buyers (the interval's far end, squared): the dependence is "
        + ("weak, and" if high < 0.3 else "not weak, so")
        + " gamma-gamma's value forecasts "
        + (
            "lose little by ignoring it (it shrinks every customer towards one mean, so "
            "frequent buyers' values are pulled slightly too low, rare buyers' too high)."
            if high < 0.3
            else "are biased for frequent buyers; model value and frequency jointly."
        )
        + " A rank or log-scale correlation would overstate it: under independence, the "
        "median (and the mean log) of a mean of more skewed amounts rises with their number."
    )
