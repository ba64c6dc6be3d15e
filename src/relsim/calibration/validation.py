"""Validation against real data: the CDNOW holdout and a contractual cohort.

``relsim validate-model`` runs both and writes ``docs/validation.md`` with its tables and
figures. Nothing is tuned on a holdout: the models are fitted on the calibration part only.

CDNOW (the 1/10 sample: 2 357 customers who first bought in the first 12 weeks of 1997): fit
on weeks 1-39, forecast weeks 40-78. Counts are purchase weeks (relsim has at most one purchase
occasion a week), and three forecasts are compared with what the customers did:

* relsim, simulated: conditional simulation through the engine, every customer forward from
  its own history (``simulate_history``), many replications;
* relsim, closed form: the same process's conditional expectation (an oracle for the engine);
* BG/NBD, fitted on the same weekly histories, closed form (Fader, Hardie & Lee 2005).

The published BG/NBD on purchase days is reported next to them for reference.

The contractual cohort (Fader & Hardie 2007, Table 1, two segments of a subscription
business): a contractual segment fitted on years 1-7 and projected to year 12, by relsim's
engine (a cohort of 1 000 customers, many replications) and by the sBG closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from relsim.calibration import bgnbd, cohort, process
from relsim.calibration.calibrate import Calibration, calibrate, simulate_history
from relsim.calibration.transactions import (
    holdout_purchases,
    holdout_weeks,
    read_transactions,
    summarise,
)

CDNOW_CALIBRATION_END = "1997-09-30"  # 39 weeks from 1997-01-01
CDNOW_HOLDOUT_END = "1998-06-30"  # 78 weeks
CDNOW_WEEKS = 39
GROUPS = ("0", "1", "2", "3", "4", "5", "6", "7+")

# Fader & Hardie (2007), Table 1 (data of Berry & Linoff 2004): percent still subscribed
# after years 0..12 of two segments' cohorts; years 1-7 calibrate, 8-12 validate.
COHORTS = {
    "high end": [100.0, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1, 46.8, 44.5, 42.7, 40.9, 39.4],
    "regular": [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3],
}
COHORT_CALIBRATION_YEARS = 7


def read_cdnow(path: str | Path) -> pd.DataFrame:
    """The CDNOW sample file (whitespace-separated: id, customer, yyyymmdd, CDs, amount) as a
    tidy log."""
    raw = pd.read_csv(
        path, sep=r"\s+", header=None, names=["id_full", "customer", "date", "cds", "amount"]
    )
    dates = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return pd.DataFrame(
        {"customer": raw["customer"].astype(str), "date": dates, "amount": raw["amount"]}
    )


def find_cdnow() -> Path | None:
    """``CDNOW_sample.txt`` inside an installed ``lifetimes`` package (read as data only)."""
    import importlib.util

    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_sample.txt"
    return path if path.exists() else None


@dataclass
class HoldoutComparison:
    """Everything ``docs/validation.md`` shows about a holdout forecast."""

    calibration: Calibration
    totals: pd.DataFrame
    groups: pd.DataFrame
    tracking: pd.DataFrame
    bgnbd_weeks: bgnbd.Fit
    bgnbd_days: bgnbd.Fit
    replications: int


def _group(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 7, "7+", x.astype(int).astype(str))


def holdout_comparison(
    log: pd.DataFrame,
    calibration_end: str = CDNOW_CALIBRATION_END,
    holdout_weeks_count: int = CDNOW_WEEKS,
    replications: int = 200,
    seed: int = 2026,
) -> HoldoutComparison:
    """Calibrate on the log up to ``calibration_end``, forecast the next weeks three ways and
    compare with the log's holdout (module docstring)."""
    cal = calibrate(log, calibration_end)
    s = cal.summary
    x, t_x, n = s["x"].to_numpy(), s["t_x"].to_numpy(), s["n"].to_numpy()
    h = holdout_weeks_count
    actual_rows = holdout_weeks(log, cal.start, cal.weeks, h)
    actual_rows = actual_rows[actual_rows["customer"].isin(s.index)]
    actual = actual_rows.groupby("customer").size().reindex(s.index, fill_value=0).to_numpy()
    actual_weekly = np.bincount(actual_rows["week"] - cal.weeks, minlength=h)[:h]
    simulated = simulate_history(cal.params, s, h, replications, seed, cal.order_value)
    closed = process.conditional_expected_weeks(cal.params, h, x, t_x, n)
    bg_weeks = bgnbd.fit_bgnbd(x, t_x, n, start=(0.3, 4.0, 0.8, 2.5))
    bg = bgnbd.conditional_expected_purchases(bg_weeks.params, float(h), x, t_x, n)
    # the published model: purchase days, continuous weeks
    days = summarise(log, calibration_end)
    bg_days = bgnbd.fit_bgnbd(days["x"], days["t_x"], days["T"], start=(0.3, 4.0, 0.8, 2.5))
    end = pd.Timestamp(cal.start) + pd.Timedelta(weeks=cal.weeks + h) - pd.Timedelta(days=1)
    actual_days = holdout_purchases(log, calibration_end, end).reindex(days.index, fill_value=0)
    forecast_days = bgnbd.conditional_expected_purchases(
        bg_days.params, float(h), days["x"], days["t_x"], days["T"]
    )
    totals_sim = simulated.weekly.groupby("replication")["purchases"].sum()
    rows = [
        ("actual", actual.sum(), np.nan, np.nan),
        (
            "relsim, simulated",
            simulated.per_customer["mean"].sum(),
            totals_sim.std(ddof=1),
            _rmse(simulated.per_customer["mean"], actual),
        ),
        ("relsim, closed form", closed.sum(), np.nan, _rmse(closed, actual)),
        ("BG/NBD on weeks, closed form", bg.sum(), np.nan, _rmse(bg, actual)),
    ]
    totals = pd.DataFrame(rows, columns=["forecast", "purchase_weeks", "sd", "rmse_per_customer"])
    totals["error_percent"] = 100.0 * (totals["purchase_weeks"] / actual.sum() - 1.0)
    totals.loc[0, "error_percent"] = np.nan
    days_row = pd.DataFrame(
        [
            ("actual purchase days", actual_days.sum(), np.nan, np.nan, np.nan),
            (
                "BG/NBD on days (published model)",
                forecast_days.sum(),
                np.nan,
                _rmse(forecast_days, actual_days.to_numpy()),
                100.0 * (forecast_days.sum() / actual_days.sum() - 1.0),
            ),
        ],
        columns=totals.columns,
    )
    totals = pd.concat([totals, days_row], ignore_index=True)
    group = _group(x)
    frame = pd.DataFrame(
        {
            "group": group,
            "actual": actual,
            "relsim_simulated": simulated.per_customer["mean"].to_numpy(),
            "relsim_closed_form": closed,
            "bgnbd": bg,
        }
    )
    groups = (
        frame.groupby("group")
        .agg(
            customers=("actual", "size"),
            actual=("actual", "mean"),
            relsim_simulated=("relsim_simulated", "mean"),
            relsim_closed_form=("relsim_closed_form", "mean"),
            bgnbd=("bgnbd", "mean"),
        )
        .reindex([g for g in GROUPS if g in set(group)])
    )
    groups.index.name = "calibration_repeat_weeks"
    # tracking: cumulative repeat purchase weeks over calibration and holdout
    in_sample = cal.tracking
    sim_weeks = simulated.weekly.pivot(index="week", columns="replication", values="purchases")
    bg_cum = np.array(
        [
            bgnbd.conditional_expected_purchases(bg_weeks.params, float(k), x, t_x, n).sum()
            for k in range(1, h + 1)
        ]
    )
    closed_cum = np.array(
        [
            process.conditional_expected_weeks(cal.params, k, x, t_x, n).sum()
            for k in range(1, h + 1)
        ]
    )
    before = in_sample["observed"].sum()
    tracking = pd.DataFrame(
        {
            "week": np.arange(1, cal.weeks + h + 1),
            "actual": np.cumsum(np.concatenate([in_sample["observed"], actual_weekly])),
            "relsim": np.concatenate(
                [np.cumsum(in_sample["expected"]), before + np.cumsum(sim_weeks.mean(axis=1))]
            ),
            "relsim_low": np.concatenate(
                [
                    np.full(cal.weeks, np.nan),
                    before + np.quantile(np.cumsum(sim_weeks.to_numpy(), axis=0), 0.05, axis=1),
                ]
            ),
            "relsim_high": np.concatenate(
                [
                    np.full(cal.weeks, np.nan),
                    before + np.quantile(np.cumsum(sim_weeks.to_numpy(), axis=0), 0.95, axis=1),
                ]
            ),
            "relsim_closed_form": np.concatenate([np.full(cal.weeks, np.nan), before + closed_cum]),
            "bgnbd": np.concatenate([np.full(cal.weeks, np.nan), before + bg_cum]),
        }
    )
    return HoldoutComparison(cal, totals, groups, tracking, bg_weeks, bg_days, replications)


def _rmse(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(forecast, float) - np.asarray(actual, float)) ** 2)))


@dataclass
class CohortComparison:
    """Survival of a contractual cohort: data, sBG closed form, relsim's engine."""

    name: str
    fit: bgnbd.Fit
    table: pd.DataFrame  # year, actual, sbg, relsim mean, low, high


def cohort_comparison(
    name: str, survival: list[float], replications: int = 100, seed: int = 2026
) -> CohortComparison:
    """Fit a contractual segment on the first years of ``survival`` and project the rest with
    the sBG closed form and with relsim's engine (a cohort of 1 000 per replication)."""
    from relsim.experiment.runner import replication_seed
    from relsim.scenario import Scenario
    from relsim.simulation import simulate

    years = len(survival) - 1
    fit = cohort.fit_cohort(survival[: COHORT_CALIBRATION_YEARS + 1])
    data = cohort_scenario(fit, years)
    scenario = Scenario.model_validate(data)
    curves = np.empty((replications, years + 1))
    for r in range(replications):
        run = simulate(scenario, seed=replication_seed(seed, r))
        weekly = run.weekly[run.weekly["firm"] == "focal"].set_index("week")["customers"]
        at = [weekly.loc[52 * y] for y in range(1, years + 1)]
        curves[r] = np.concatenate([[1.0], np.asarray(at) / scenario.market.customers])
    table = pd.DataFrame(
        {
            "year": np.arange(years + 1),
            "actual": np.asarray(survival) / 100.0,
            "sbg": cohort.survival_curve(fit.params, years),
            "relsim": curves.mean(axis=0),
            "relsim_low": np.quantile(curves, 0.05, axis=0),
            "relsim_high": np.quantile(curves, 0.95, axis=0),
        }
    )
    table["calibration"] = table["year"] <= COHORT_CALIBRATION_YEARS
    return CohortComparison(name, fit, table)


def cohort_scenario(fit: bgnbd.Fit, years: int, customers: int = 1000) -> dict:
    """A cohort of new subscribers of relsim's contractual segment with the fitted propensity,
    everything else switched off (one firm; no rung, satisfaction or relocation effects)."""
    from relsim.calibration.calibrate import process_scenario

    params = {"rate_mean": 1.0, "rate_shape": 2.0, "dropout_a": 1.0, "dropout_b": 1.0}
    data = process_scenario(params, customers=customers, weeks=52 * years + 1, name="cohort")
    data["segments"][0].update(cohort.contractual_segment(fit))
    return data


# ---------------------------------------------------------------------------- the page
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
    if cohorts:
        md += _cohort_section(cohorts, images, tables, plt)
    out.write_text("\n".join(md) + "\n", encoding="utf-8")
    return out


def _fmt(frame: pd.DataFrame, digits: int = 2) -> str:
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


def _holdout_section(h: HoldoutComparison, images: Path, tables: Path, plt) -> list[str]:  # type: ignore[no-untyped-def]
    cal = h.calibration
    h.totals.to_csv(tables / "cdnow-totals.csv", index=False)
    h.groups.to_csv(tables / "cdnow-groups.csv")
    h.tracking.to_csv(tables / "cdnow-tracking.csv", index=False)
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
    values = cal.values.copy()
    d = cal.diagnostics
    return [
        "## CDNOW: calibrate on weeks 1-39, forecast weeks 40-78",
        "",
        f"{d['customers']} customers, {d['repeat_customers']} of them with repeat purchase weeks "
        f"in the calibration period ({d['repeat_weeks']} repeat purchase weeks; "
        f"{d['purchases_merged_into_weeks']} purchases fell in a week that already had one).",
        "relsim's customer process (`relsim.calibration.process`), fitted by maximum likelihood:",
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
        f"### Holdout totals ({h.replications} replications of the conditional simulation)",
        "",
        _fmt(h.totals.set_index("forecast"), 1),
        "",
        "`sd` is the spread of the simulated total between replications; `rmse_per_customer`",
        "compares each customer's forecast with what that customer did.",
        "",
        _holdout_reading(h),
        "",
        "### Per calibration-frequency group (holdout purchase weeks per customer)",
        "",
        _fmt(h.groups, 3),
        "",
        "![per group](images/validation-cdnow-groups.png)",
        "",
        "### Cumulative tracking",
        "",
        "Weeks 1-39 show the in-sample fit (expected repeat purchase weeks given each customer's",
        "first purchase week); weeks 40-78 the forecasts from each customer's own history.",
        "",
        "![tracking](images/validation-cdnow-tracking.png)",
        "",
        "Tables: `docs/validation/cdnow-*.csv`.",
        "",
    ]


def _holdout_reading(h: HoldoutComparison) -> str:
    """What the holdout tables show, in words, from their own numbers."""
    t = h.totals.set_index("forecast")["error_percent"]
    zero = h.groups.loc["0"] if "0" in h.groups.index else None
    text = (
        f"**Reading.** relsim's process misses the holdout total by "
        f"{t['relsim, closed form']:+.1f}% (the engine's simulation: "
        f"{t['relsim, simulated']:+.1f}%, agreeing with the closed form), the BG/NBD fitted to "
        f"the same weekly histories by {t['BG/NBD on weeks, closed form']:+.1f}%, and the "
        f"published BG/NBD on purchase days by {t['BG/NBD on days (published model)']:+.1f}%."
    )
    totals = h.totals.set_index("forecast")["purchase_weeks"]
    gap = totals["actual"] - totals["relsim, closed form"]
    if zero is not None and gap != 0:
        share = zero["customers"] * (zero["actual"] - zero["relsim_closed_form"]) / gap
        text += (
            f" {share:.0%} of relsim's gap is in the {int(zero['customers'])} customers without a "
            f"repeat purchase in the calibration period: they bought {zero['actual']:.3f} "
            f"weeks each in the holdout, relsim expects {zero['relsim_closed_form']:.3f}, the "
            f"BG/NBD {zero['bgnbd']:.3f}. In relsim a relationship can end in any week, so a "
            "long silence says the customer is probably gone; in the BG/NBD a customer can "
            "drop out only right after a purchase, so one who never came back is still "
            "alive. CDNOW's silent customers came back more often than relsim's process "
            "allows. The calibrated rate and propensity are therefore a conservative "
            "description of such a base; no parameter was changed to close the gap."
        )
    return text


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


def run_validation(
    out: Path,
    cdnow: Path | None,
    replications: int = 200,
    cohort_replications: int = 100,
    seed: int = 2026,
    command: str = "relsim validate-model",
) -> Path:
    """Run both comparisons and write the page (the CDNOW part needs the sample file)."""
    holdout = None
    if cdnow is not None:
        holdout = holdout_comparison(read_cdnow(cdnow), replications=replications, seed=seed)
    cohorts = [
        cohort_comparison(name, curve, cohort_replications, seed) for name, curve in COHORTS.items()
    ]
    return write_validation(out, holdout, cohorts, command)


__all__ = [
    "COHORTS",
    "CohortComparison",
    "HoldoutComparison",
    "cohort_comparison",
    "find_cdnow",
    "holdout_comparison",
    "read_cdnow",
    "read_transactions",
    "run_validation",
    "write_validation",
]
