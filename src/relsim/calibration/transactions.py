"""Transaction logs: read one, summarise each customer's history, write a simulated one.

A transaction log is a CSV file with one row per purchase: a customer id, a date and
optionally an amount. The summary per customer is what buy-till-you-die models use, in weeks
(Fader, Hardie & Lee 2005): purchases are grouped by day, the first day is the customer's
birth, ``x`` counts the later purchase days up to the end of the calibration period, ``t_x`` is
the time from birth to the last of them and ``T`` from birth to the end of the period; ``m`` is
the mean amount of the repeat purchase days.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from relsim.calibration.log_checks import (
    TransactionLogError,
    as_written,
    check_amounts,
    check_dates,
    check_duplicates,
)

DAYS_PER_WEEK = 7.0


def read_transactions(
    path: str | Path,
    customer_col: str = "customer",
    date_col: str = "date",
    amount_col: str | None = None,
    date_format: str | None = None,
    keep_outlying_dates: bool = False,
    keep_duplicates: bool | None = None,
) -> pd.DataFrame:
    """A tidy log (``customer``, ``date``, ``amount``) from a CSV file. A log with no rows, a
    missing column, a bad date or amount, dates outside the log's plausible span (unless
    ``keep_outlying_dates``) are refused with one line naming the file, the column and the
    first row, values as written; exact duplicate rows are kept with a warning
    (``keep_duplicates`` None), refused (False) or kept silently (True).
    :mod:`relsim.calibration.log_checks` gives the rules."""
    path = Path(path)
    columns = [customer_col, date_col, *([amount_col] if amount_col else [])]
    try:
        raw = pd.read_csv(path, dtype=dict.fromkeys(columns, str))
    except pd.errors.EmptyDataError:
        raise TransactionLogError(f"{path}: no transactions (the file is empty)") from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise TransactionLogError(f"{path}: cannot read it as CSV ({error})") from None
    for column in columns:
        if column not in raw.columns:
            raise TransactionLogError(
                f"{path}: no column {column!r}; the file has {list(raw.columns)} "
                "(hint: --customer-col, --date-col, --amount-col name them)"
            )
    if raw.empty:
        raise TransactionLogError(f"{path}: no transactions (the file has a header only)")
    dates = pd.to_datetime(raw[date_col].astype(str), format=date_format, errors="coerce")
    bad = dates.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise TransactionLogError(
            f"{path}: column {date_col!r}, row {row + 2}: {as_written(raw[date_col].iloc[row])} "
            "is not a date (hint: --date-format, e.g. %Y%m%d)"
        )
    log = pd.DataFrame({"customer": raw[customer_col].astype(str), "date": dates.dt.normalize()})
    if amount_col:
        log["amount"] = check_amounts(path, raw, amount_col)
    if not keep_outlying_dates:
        check_dates(path, raw, date_col, log["date"])
    check_duplicates(path, raw, keep_duplicates)
    return log


def summarise(
    log: pd.DataFrame, calibration_end: str | date | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Per customer born by ``calibration_end`` (default: the last date in the log): ``x``,
    ``t_x``, ``T`` in weeks and, with amounts, ``m`` (mean amount of repeat purchase days;
    NaN without repeats) and ``first_amount``."""
    end = pd.Timestamp(calibration_end) if calibration_end is not None else log["date"].max()
    inside = log[log["date"] <= end]
    agg = {"amount": "sum"} if "amount" in log else {}
    days = (
        inside.groupby(["customer", "date"], sort=True).agg(agg).reset_index()
        if agg
        else inside[["customer", "date"]].drop_duplicates().sort_values(["customer", "date"])
    )
    grouped = days.groupby("customer", sort=True)
    first = grouped["date"].min()
    last = grouped["date"].max()
    count = grouped["date"].count()
    table = pd.DataFrame(
        {
            "x": (count - 1).astype(int),
            "t_x": (last - first).dt.days / DAYS_PER_WEEK,
            "T": (end - first).dt.days / DAYS_PER_WEEK,
            "first": first,
        }
    )
    if "amount" in days:
        firsts = grouped["amount"].first()
        totals = grouped["amount"].sum()
        repeat_total = totals - firsts
        table["first_amount"] = firsts
        table["m"] = np.where(table["x"] > 0, repeat_total / table["x"].clip(lower=1), np.nan)
    return table


def holdout_purchases(
    log: pd.DataFrame, calibration_end: str | pd.Timestamp, holdout_end: str | pd.Timestamp
) -> pd.Series:
    """Purchase days per customer in (calibration_end, holdout_end]."""
    start, stop = pd.Timestamp(calibration_end), pd.Timestamp(holdout_end)
    days = log[(log["date"] > start) & (log["date"] <= stop)][["customer", "date"]]
    return days.drop_duplicates().groupby("customer").size()


def simulated_log(trace: pd.DataFrame, firm: str, start: date = date(2026, 1, 5)) -> pd.DataFrame:
    """A simulated run's purchases at ``firm`` as a transaction log: one row per purchase,
    dated on the Monday of its week (week 0 = ``start``), amounts as the engine booked them.
    Warm-up weeks (negative) are included, dated before ``start``."""
    purchases = trace[(trace["event"] == "purchase") & (trace["firm"] == firm)]
    dates = [start + timedelta(weeks=int(w)) for w in purchases["week"]]
    return pd.DataFrame(
        {
            "customer": purchases["customer"].astype(int).to_numpy(),
            "date": pd.to_datetime(dates).strftime("%Y-%m-%d"),
            "amount": purchases["revenue"].round(2).to_numpy(),
        }
    )


def weekly_summary(
    log: pd.DataFrame,
    calibration_end: str | date | pd.Timestamp | None = None,
    start: str | date | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per customer, in whole weeks counted from ``start`` (default: the log's first date),
    the history relsim's customer process explains (``relsim.calibration.process``):

    * ``birth``: the week of the first purchase; ``n``: the later weeks observed, up to the
      last complete week on or before ``calibration_end`` (default: the log's last date);
    * ``x``: the later weeks with a purchase; ``t_x``: the last of them, counted from birth;
    * with amounts, ``k`` purchase weeks in all (the first included), their ``mean_amount``
      and ``sd_amount`` (amounts summed within a week).

    A week holds at most one purchase occasion in relsim, so several purchases in one week
    count once, and purchases later in the week of the first purchase do not count as repeats.
    Customers born after the last complete week are left out.
    """
    origin = pd.Timestamp(start) if start is not None else log["date"].min()
    end = pd.Timestamp(calibration_end) if calibration_end is not None else log["date"].max()
    complete = int(((end - origin).days + 1) // DAYS_PER_WEEK)  # weeks 0..complete-1
    if complete < 1:
        raise TransactionLogError(
            f"the calibration period {origin.date()}..{end.date()} holds no complete week"
        )
    week = ((log["date"] - origin).dt.days // int(DAYS_PER_WEEK)).astype(int)
    if (week < 0).any():
        raise TransactionLogError(f"the log has purchases before the start {origin.date()}")
    frame = log.assign(week=week)
    frame = frame[frame["week"] < complete]
    agg = {"amount": "sum"} if "amount" in frame else {}
    weeks = (
        frame.groupby(["customer", "week"], sort=True).agg(agg).reset_index()
        if agg
        else frame[["customer", "week"]].drop_duplicates().sort_values(["customer", "week"])
    )
    grouped = weeks.groupby("customer", sort=True)["week"]
    birth = grouped.min()
    last = grouped.max()
    table = pd.DataFrame(
        {
            "x": (grouped.count() - 1).astype(int),
            "t_x": (last - birth).astype(int),
            "n": (complete - 1 - birth).astype(int),
            "birth": birth.astype(int),
        }
    )
    if "amount" in weeks:
        amounts = weeks.groupby("customer", sort=True)["amount"]
        table["k"] = amounts.count().astype(int)
        table["mean_amount"] = amounts.mean()
        table["sd_amount"] = amounts.std(ddof=1).fillna(0.0)
    table.attrs["start"] = str(origin.date())
    table.attrs["weeks"] = complete
    return table


def holdout_weeks(
    log: pd.DataFrame, start: str | pd.Timestamp, first_week: int, weeks: int
) -> pd.DataFrame:
    """Purchase weeks per customer and week in weeks ``first_week .. first_week + weeks - 1``
    (weeks counted from ``start`` as in :func:`weekly_summary`): columns customer, week."""
    origin = pd.Timestamp(start)
    week = (log["date"] - origin).dt.days // int(DAYS_PER_WEEK)
    inside = log.assign(week=week)
    inside = inside[(inside["week"] >= first_week) & (inside["week"] < first_week + weeks)]
    return inside[["customer", "week"]].drop_duplicates().reset_index(drop=True)
