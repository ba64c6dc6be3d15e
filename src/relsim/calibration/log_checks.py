"""Checks of a transaction log's rows before any fit: amounts, dates and duplicates.

Each check raises :class:`TransactionLogError` with one line naming the file, the column, the
count and the first offending row (as a file line number: the header is line 1), with values
shown as written in the file.

* **Amounts** are finite, non-negative and at most :data:`MAX_AMOUNT` (10^12). The bound is far
  above any real order, and keeps the fit's sums of amounts and of their squares (mean, spread,
  log-likelihood over up to 10^9 rows) at most about 10^33, far inside float range; 1e308 is
  finite but its square overflows.
* **Dates** outside the log's plausible span are refused unless kept
  (``keep_outlying_dates``): before 1970-01-01; after today while most of the log is not (a
  log mostly after today is a simulated or planned one, such as ``relsim export
  --transactions`` writes, and only the next rule applies to it); or far from the bulk of the
  dates, that is more than the bulk's own width (at least :data:`MIN_BULK_DAYS` days) before
  its 1% quantile or after its 99% quantile (quantiles of the dates from 1970 on).
* **Exact duplicate rows** (every column equal to an earlier row's) are counted: a log written
  twice or joined badly looks like this, but so do two equal orders on one day (the CDNOW
  sample has 21 such rows). ``relsim calibrate`` refuses them unless ``--keep-duplicates``;
  :func:`read_transactions` keeps them with a :class:`TransactionLogWarning` by default, and
  refuses them with ``keep_duplicates=False`` (``True`` keeps them without a word).
"""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

MAX_AMOUNT = 1e12
MIN_BULK_DAYS = 91
EARLIEST = pd.Timestamp("1970-01-01")
FUTURE_SHARE = 0.05  # future dates among at most this share of the rows are errors


class TransactionLogError(ValueError):
    """A transaction log that cannot be used, with the file, the column and a hint."""


class TransactionLogWarning(UserWarning):
    """Rows of a transaction log kept although they look wrong (exact duplicates)."""


def as_written(value: object) -> str:
    """A cell as the file has it: the text quoted, an empty cell named."""
    return repr(value) if isinstance(value, str) else "an empty cell"


def check_amounts(path: Path, raw: pd.DataFrame, column: str) -> np.ndarray:
    """The amounts as floats; the first empty, non-numeric, negative, non-finite or too large
    one is refused with its row."""
    amount = pd.to_numeric(raw[column], errors="coerce").to_numpy(float)
    ok = np.isfinite(amount) & (amount >= 0) & (amount <= MAX_AMOUNT)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        row = int(bad[0])
        value = amount[row]
        why = (
            f"is larger than {MAX_AMOUNT:.0e}, the most an order can be"
            if np.isfinite(value) and value > MAX_AMOUNT
            else "is not a finite number"
            if np.isinf(value)
            else "is not a non-negative amount"
        )
        raise TransactionLogError(
            f"{path}: column {column!r}, row {row + 2}: {as_written(raw[column].iloc[row])} "
            f"{why} ({len(bad)} such rows)"
        )
    return amount


def outlying_dates(dates: pd.Series, today: pd.Timestamp | None = None) -> tuple[np.ndarray, str]:
    """Which dates lie outside the log's plausible span (the rule of the module's docstring),
    and the span described in words."""
    today = pd.Timestamp(today if today is not None else date.today())
    days = dates.to_numpy("datetime64[ns]")
    early = days < EARLIEST.to_datetime64()
    future = days > today.to_datetime64()
    rule = f"before {EARLIEST.date()}"
    out = early.copy()
    if future.mean() <= FUTURE_SHARE:
        out |= future
        rule += f", after today {today.date()}"
    rest = dates[~out]
    if len(rest):
        low, high = rest.quantile(0.01), rest.quantile(0.99)
        width = max(high - low, pd.Timedelta(days=MIN_BULK_DAYS))
        far = ((dates < low - width) | (dates > high + width)).to_numpy()
        out |= far
        rule += (
            f", or more than {width.days} days from the bulk "
            f"{low.date()}..{high.date()} (1%-99% of the dates)"
        )
    return out, rule


def check_dates(path: Path, raw: pd.DataFrame, column: str, dates: pd.Series) -> None:
    """Refuse dates outside the log's plausible span, with their count and the first row."""
    out, rule = outlying_dates(dates)
    if out.any():
        row = int(np.flatnonzero(out)[0])
        raise TransactionLogError(
            f"{path}: column {column!r}: {int(out.sum())} dates outside the log's plausible "
            f"span ({rule}), the first row {row + 2}: {as_written(raw[column].iloc[row])} "
            "(hint: --keep-outlying-dates keeps them)"
        )


def check_duplicates(path: Path, raw: pd.DataFrame, keep: bool | None) -> None:
    """Rows equal in every column to an earlier row, with their count and the first: refused
    (``keep`` False), kept with a warning (None) or kept silently (True)."""
    repeated = raw.duplicated(keep="first").to_numpy()
    if keep or not repeated.any():
        return
    row = int(np.flatnonzero(repeated)[0])
    said = (
        f"{path}: {int(repeated.sum())} rows repeat an earlier row exactly, the first row {row + 2}"
    )
    if keep is None:
        warnings.warn(f"{said}; kept as separate purchases", TransactionLogWarning, stacklevel=3)
        return
    raise TransactionLogError(f"{said} (hint: --keep-duplicates keeps them as separate purchases)")


__all__ = [
    "MAX_AMOUNT",
    "TransactionLogError",
    "TransactionLogWarning",
    "as_written",
    "check_amounts",
    "check_dates",
    "check_duplicates",
    "outlying_dates",
]
