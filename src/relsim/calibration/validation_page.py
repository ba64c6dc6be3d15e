"""The validation page: ``docs/validation.md`` with its figures and CSV tables.

:func:`write_validation` writes the page from the comparisons that
``relsim.calibration.holdout`` (CDNOW) and ``relsim.calibration.cohort_projection`` (the
contractual cohorts) computed: for each, its tables as CSV, its figures and its text. Kept
apart from the computations so that they can be run and tested without matplotlib or files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from relsim.calibration.cohort_projection import COHORT_CALIBRATION_YEARS, CohortComparison
from relsim.calibration.holdout import HoldoutComparison
from relsim.calibration.page_parts import markdown_table as _fmt
from relsim.calibration.page_parts import spend_section, variant_choice


def write_validation(
    out: Path,
    holdout: HoldoutComparison | None,
    cohorts: list[CohortComparison],
    command: str,
) -> Path:
    """Write ``out`` (markdown) with figures and CSV tables in ``out.parent / images`` and
    ``out.parent / validation``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = out.parent / "images"
    tables = out.parent / "validation"
    images.mkdir(parents=True, exist_ok=True)
    tables.mkdir(parents=True, exist_ok=True)
    md = [
        "# Validation against real data",
        "",
        f"Regenerate everything on this page with `{command}` (it reads the CDNOW sample from",
        "the installed `lifetimes` package, a test-time dependency used for its data only).",
        "Nothing is tuned on a holdout: every model is fitted on the calibration part only, and",
        "the numbers below are what the models show.",
        "",
    ]
    if holdout is not None:
        md += _holdout_section(holdout, images, tables, plt)
        md += _coverage_section(tables)
    if cohorts:
        md += _cohort_section(cohorts, images, tables, plt)
    out.write_text("\n".join(md) + "\n", encoding="utf-8")
    return out


def _holdout_section(h: HoldoutComparison, images: Path, tables: Path, plt) -> list[str]:  # type: ignore[no-untyped-def]
    """The CDNOW part of the page: its tables as CSV, its two figures and its text."""
    h.totals.to_csv(tables / "cdnow-totals.csv", index=False)
    h.groups.to_csv(tables / "cdnow-groups.csv")
    h.tracking.to_csv(tables / "cdnow-tracking.csv", index=False)
    _plot_tracking(h, images, plt)
    _plot_groups(h, images, plt)
    constant = h.calibration.values.filter(like="order_value", axis=0)
    spend = spend_section(
        h.spend, h.calibration.diagnostics.get("spend_frequency"), tables, constant
    )
    return [*_holdout_fit(h), *_holdout_forecasts(h), *spend]


def _plot_tracking(h: HoldoutComparison, images: Path, plt) -> None:  # type: ignore[no-untyped-def]
    """Cumulative repeat purchase weeks: actual, relsim with its band, the BG/NBD."""
    cal = h.calibration
    fig, ax = plt.subplots(figsize=(8, 4.5))
    t = h.tracking
    ax.plot(t["week"], t["actual"], color="black", label="actual")
    ax.plot(t["week"], t["relsim"], color="tab:blue", label="relsim (expected, then simulated)")
    ax.fill_between(
        t["week"],
        t["relsim_low"],
        t["relsim_high"],
        color="tab:blue",
        alpha=0.2,
        label="relsim, 90% of replications",
    )
    ax.plot(t["week"], t["bgnbd"], color="tab:orange", ls="--", label="BG/NBD on weeks")
    ax.axvline(cal.weeks + 0.5, color="grey", lw=0.8)
    ax.set_xlabel("week")
    ax.set_ylabel("cumulative repeat purchase weeks")
    ax.set_title("CDNOW: calibration weeks 1-39, holdout 40-78")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(images / "validation-cdnow-tracking.png", dpi=120)
    plt.close(fig)


def _plot_groups(h: HoldoutComparison, images: Path, plt) -> None:  # type: ignore[no-untyped-def]
    """Holdout purchase weeks per customer by calibration-frequency group."""
    fig, ax = plt.subplots(figsize=(8, 4))
    g = h.groups
    pos = np.arange(len(g))
    for i, (col, label) in enumerate(
        [("actual", "actual"), ("relsim_simulated", "relsim, simulated"), ("bgnbd", "BG/NBD")]
    ):
        ax.bar(pos + (i - 1) * 0.27, g[col], width=0.27, label=label)
    ax.set_xticks(pos, g.index)
    ax.set_xlabel("repeat purchase weeks in the calibration period")
    ax.set_ylabel("holdout purchase weeks per customer")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(images / "validation-cdnow-groups.png", dpi=120)
    plt.close(fig)


def _holdout_fit(h: HoldoutComparison) -> list[str]:
    """The calibration: the data, the choice of the dropout variant, relsim's fitted process
    and the two BG/NBD fits."""
    values = h.calibration.values.copy()
    d = h.calibration.diagnostics
    return [
        "## CDNOW: calibrate on weeks 1-39, forecast weeks 40-78",
        "",
        f"{d['customers']} customers, {d['repeat_customers']} of them with repeat purchase weeks "
        f"in the calibration period ({d['repeat_weeks']} repeat purchase weeks; "
        f"{d['purchases_merged_into_weeks']} purchases fell in a week that already had one).",
        "",
        *variant_choice(h),
        f"relsim's customer process (`relsim.calibration.process`, {d['dropout']} dropout), "
        "fitted by maximum likelihood:",
        "",
        _fmt(values, 4),
        "",
        f"Log-likelihood {d['log_likelihood']:.2f}; expected customers still in a relationship "
        f"at week 39: {d['expected_alive_at_end']:.0f}.",
        "BG/NBD on the same weekly histories: "
        + ", ".join(f"{k} = {v:.4g}" for k, v in h.bgnbd_weeks.params.items())
        + f" (log-likelihood {h.bgnbd_weeks.log_likelihood:.2f}); on purchase days (the "
        "published fit): "
        + ", ".join(f"{k} = {v:.4g}" for k, v in h.bgnbd_days.params.items())
        + ".",
        "",
    ]


def _holdout_forecasts(h: HoldoutComparison) -> list[str]:
    """The holdout: totals, per group and the cumulative tracking."""
    return [
        f"### Holdout totals ({h.replications} replications of the conditional simulation)",
        "",
        _fmt(h.totals.set_index("forecast"), 1),
        "",
        "Each replication of the simulation first draws the process's parameters from the",
        "fit's sampling distribution (normal on the log scale of the positive parameters, with",
        "the inverse observed information), then every customer's state from its history, then",
        "runs the engine. `sd` is the spread of the simulated total between replications and",
        "`low_90`-`high_90` its central 90% interval; `parameter_sd` is the part the parameters",
        "explain (the spread of each replication's closed-form total given its parameters),",
        "`simulation_sd` the customers' own randomness (the spread around it); their squares",
        "add up to `sd`'s. `rmse_per_customer` compares each customer's forecast with what that",
        "customer did.",
        "",
        _holdout_reading(h),
        "",
        "### Per calibration-frequency group (holdout purchase weeks per customer)",
        "",
        _fmt(h.groups, 3),
        "",
        _group_reading(h),
        "",
        _goal_reading(h),
        "",
        "![per group](images/validation-cdnow-groups.png)",
        "",
        "### Cumulative tracking",
        "",
        "Weeks 1-39 show the in-sample fit (expected repeat purchase weeks given each customer's",
        "first purchase week); weeks 40-78 the forecasts from each customer's own history, with",
        "the simulation's 90% band (parameters and customers both drawn).",
        "",
        "![tracking](images/validation-cdnow-tracking.png)",
        "",
        "Tables: `docs/validation/cdnow-*.csv`.",
        "",
    ]


def _group_errors(h: HoldoutComparison) -> pd.DataFrame:
    """Percent error of each forecast column per frequency group."""
    g = h.groups
    columns = [c for c in g.columns if c not in ("customers", "actual")]
    return g[columns].div(g["actual"], axis=0).sub(1.0).mul(100.0)


def _group_reading(h: HoldoutComparison) -> str:
    """The groups' errors in words: the largest and the mean absolute error per forecast."""
    errors = _group_errors(h)
    parts = [
        f"{column}: mean absolute error {errors[column].abs().mean():.1f}%, largest "
        f"{errors[column].abs().max():.1f}% (group {errors[column].abs().idxmax()})"
        for column in errors.columns
    ]
    return "Per group, " + "; ".join(parts) + "."


def _goal_reading(h: HoldoutComparison) -> str:
    """Issue 29's goal against the numbers: the total within 5%, every group within 20%, and
    at least as accurate as the BG/NBD on the same weekly histories in both."""
    err = h.totals.set_index("forecast")["error_percent"]
    groups = _group_errors(h)
    ours, bg = err["relsim, closed form"], err["BG/NBD on weeks, closed form"]
    worst = groups["relsim_closed_form"].abs()
    met = {
        "the total within 5%": abs(ours) <= 5.0,
        "every group within 20%": bool((worst <= 20.0).all()),
        "a total at least as accurate as the BG/NBD's": abs(ours) <= abs(bg),
        "a mean group error at least as small as the BG/NBD's": worst.mean()
        <= groups["bgnbd"].abs().mean(),
    }
    reached = [k for k, v in met.items() if v]
    missed = [k for k, v in met.items() if not v]
    outside = ", ".join(
        f"{g} ({groups.loc[g, 'relsim_closed_form']:+.1f}%)" for g in worst.index[worst > 20.0]
    )
    return (
        "**The goal** (issue 29; the chosen process's closed form): reached: "
        + ("; ".join(reached) or "none")
        + "; not reached: "
        + ("; ".join(missed) or "none")
        + (f". Groups outside 20%: {outside}" if outside else "")
        + ". The customers with one or two repeat weeks are under-forecast by both relsim and "
        "the BG/NBD by about a fifth, so neither family's dropout story explains them; the "
        "simulated mean differs from the closed form because it averages over the parameter "
        "draws, and the forecast is not linear in the parameters."
    )


def _holdout_reading(h: HoldoutComparison) -> str:
    """What the holdout tables show, in words, from their own numbers."""
    t = h.totals.set_index("forecast")
    err = t["error_percent"]
    sim = t.loc["relsim, simulated"]
    actual = t.loc["actual", "purchase_weeks"]
    inside = sim["low_90"] <= actual <= sim["high_90"]
    variant = h.calibration.diagnostics["dropout"]
    text = (
        f"**Reading.** relsim's process ({variant} dropout) misses the holdout total by "
        f"{err['relsim, closed form']:+.1f}% (the engine's simulation: "
        f"{err['relsim, simulated']:+.1f}%), the BG/NBD fitted to the same weekly histories by "
        f"{err['BG/NBD on weeks, closed form']:+.1f}%, and the published BG/NBD on purchase "
        f"days by {err['BG/NBD on days (published model)']:+.1f}%."
    )
    for name in t.index:
        if name.endswith("dropout, closed form"):
            text += f" The {name[8:-13]} variant misses it by {err[name]:+.1f}%."
    text += (
        f" The simulation's 90% interval, {sim['low_90']:.0f}-{sim['high_90']:.0f}, "
        f"{'covers' if inside else 'does not cover'} the actual {actual:.0f}; of its spread "
        f"(sd {sim['sd']:.1f}) the parameters explain sd {sim['parameter_sd']:.1f} and the "
        f"customers' own randomness sd {sim['simulation_sd']:.1f}: an interval from the "
        "simulation noise alone would be too narrow."
    )
    return text


def _coverage_section(tables: Path) -> list[str]:
    """The deep coverage study's recorded result (``scripts/forecast_coverage.py`` writes
    ``coverage-<variant>.csv`` next to the page's tables; the page reads what is there)."""
    found = sorted(tables.glob("coverage-*.csv"))
    if not found:
        return []
    rows = []
    for path in found:
        t = pd.read_csv(path)
        rows.append(
            {
                "dropout": path.stem.removeprefix("coverage-"),
                "logs": len(t),
                "covered_quantiles": t["covered"].mean(),
                "covered_mean_1.645_sd": t["covered_normal"].mean(),
                "binomial_se": np.sqrt(0.09 / len(t)),
                "noise_only_covered": t["noise_only_covered"].mean(),
                "mean_parameter_sd": t["parameter_sd"].mean(),
                "mean_simulation_sd": t["simulation_sd"].mean(),
            }
        )
    table = pd.DataFrame(rows).set_index("dropout")
    return [
        "### Do the intervals cover? Logs from known parameters",
        "",
        "`python scripts/forecast_coverage.py` draws logs of 300 customers from known,",
        "CDNOW-like parameters (births over 12 weeks, 39 calibration and 39 holdout weeks),",
        "calibrates each, forecasts its holdout total through the engine with parameter",
        "uncertainty (40 replications) and records whether the 90% interval covers the log's",
        "true total; `noise_only_covered` is the same check for an interval from the simulation",
        "noise alone (the fitted parameters' forecast spread by the replications' deviations",
        "from their own expectations), what the page reported before model version 10.",
        "",
        _fmt(table, 3),
        "",
        "`binomial_se` is the standard error of a coverage share of 90% over that many logs.",
        "Tables: `docs/validation/coverage-*.csv`; the CI runs a fast profile of the same check",
        "(`tests/test_forecast_uncertainty.py`).",
        "",
    ]


def _cohort_section(cohorts: list[CohortComparison], images: Path, tables: Path, plt) -> list[str]:  # type: ignore[no-untyped-def]
    lines = [
        "## A contractual cohort: fit years 1-7, project years 8-12",
        "",
        "Survival of two segments' cohorts of a subscription business (Fader & Hardie 2007,",
        "Table 1). relsim's contractual segment is fitted on years 1-7 (the sBG likelihood,",
        "which is exactly relsim's renewal process with the ladder, satisfaction, rivals and",
        "relocation switched off); the projection is run through the engine (cohorts of 1 000)",
        "and by the closed form.",
        "",
    ]
    fig, axes = plt.subplots(1, len(cohorts), figsize=(5 * len(cohorts), 4), squeeze=False)
    for ax, c in zip(axes[0], cohorts, strict=True):
        t = c.table
        slug = c.name.replace(" ", "-")
        t.to_csv(tables / f"cohort-{slug}.csv", index=False)
        ax.plot(t["year"], t["actual"], "ko", label="actual")
        ax.plot(t["year"], t["sbg"], color="tab:orange", ls="--", label="sBG closed form")
        ax.plot(t["year"], t["relsim"], color="tab:blue", label="relsim (mean)")
        ax.fill_between(
            t["year"],
            t["relsim_low"],
            t["relsim_high"],
            color="tab:blue",
            alpha=0.2,
            label="relsim, 90% of cohorts",
        )
        ax.axvline(COHORT_CALIBRATION_YEARS + 0.5, color="grey", lw=0.8)
        ax.set_title(c.name)
        ax.set_xlabel("year")
        ax.set_ylabel("share still subscribed")
        ax.legend(fontsize=8)
        later = t[~t["calibration"]]
        err = 100 * (later["relsim"] - later["actual"]) / later["actual"]
        a, b = c.fit.params["a"], c.fit.params["b"]
        lines += [
            f"### {c.name}",
            "",
            f"Fitted: a = {a:.3f} (SE {c.fit.standard_errors['a']:.3f}), b = {b:.3f} "
            f"(SE {c.fit.standard_errors['b']:.3f}); as relsim's segment: "
            f"defection_propensity mean = {a / (a + b):.4f}, concentration = {a + b:.4f} "
            "per 52-week contract period.",
            "",
            _fmt(t.set_index("year"), 3),
            "",
            f"Years 8-12: relsim's projection is off by {err.abs().mean():.1f}% on average "
            f"(largest {err.abs().max():.1f}%).",
            "",
        ]
    fig.tight_layout()
    fig.savefig(images / "validation-cohorts.png", dpi=120)
    plt.close(fig)
    lines += ["![cohorts](images/validation-cohorts.png)", ""]
    return lines


__all__ = ["write_validation"]
