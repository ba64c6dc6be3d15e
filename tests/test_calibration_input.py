"""Calibration input is checked before any fit (issue 34, point 7): a log with no rows, bad
amounts, dates outside the log's plausible span and exact duplicate rows get one line naming
the file, the column and the row, values as written; the keep flags let them through."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim.calibration import TransactionLogError, read_transactions
from relsim.calibration.log_checks import TransactionLogWarning
from tests.conftest import relsim


def small_log(customers: int = 40, seed: int = 3) -> pd.DataFrame:
    """A plausible log of 2025: a few purchases per customer, amounts with cents."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(1, customers + 1):
        days = np.sort(rng.choice(365, size=int(rng.integers(1, 6)), replace=False))
        for day in days:
            when = date(2025, 1, 1) + timedelta(days=int(day))
            rows.append((customer, when.isoformat(), round(float(rng.gamma(4.0, 10.0)), 2)))
    return pd.DataFrame(rows, columns=["customer", "date", "amount"])


def write(path: Path, log: pd.DataFrame) -> Path:
    log.to_csv(path, index=False)
    return path


def with_rows(log: pd.DataFrame, rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.concat([log, pd.DataFrame(rows, columns=log.columns)], ignore_index=True)


ODD_DATES = [
    (1001, "1900-01-03", 12.5),
    (1002, "1900-02-03", 13.5),
    (1003, "1900-03-03", 14.5),
    (1004, "2999-01-03", 12.5),
    (1005, "2999-02-03", 13.5),
    (1006, "2999-03-03", 14.5),
]


def test_dates_from_1900_and_2999_are_refused_and_kept_on_request(tmp_path: Path) -> None:
    log = small_log()
    path = write(tmp_path / "odd.csv", with_rows(log, ODD_DATES))
    first = len(log) + 2  # the first added row's line in the file
    with pytest.raises(TransactionLogError) as caught:
        read_transactions(path, amount_col="amount")
    message = str(caught.value)
    assert str(path) in message and "'date'" in message and "\n" not in message
    assert "6 dates outside" in message and f"row {first}: '1900-01-03'" in message
    assert "--keep-outlying-dates" in message
    kept = read_transactions(path, amount_col="amount", keep_outlying_dates=True)
    assert len(kept) == len(log) + 6
    assert kept["date"].min() == pd.Timestamp("1900-01-03")
    assert kept["date"].max() == pd.Timestamp("2999-03-03")


def test_a_handful_of_dates_far_from_the_rest_are_refused(tmp_path: Path) -> None:
    log = small_log(customers=60)
    path = write(tmp_path / "far.csv", with_rows(log, [(2001, "1988-05-01", 9.0)]))
    with pytest.raises(TransactionLogError, match=r"1 dates outside .*'1988-05-01'"):
        read_transactions(path, amount_col="amount")
    assert (
        len(read_transactions(path, amount_col="amount", keep_outlying_dates=True)) == len(log) + 1
    )
    # a year of ordinary dates alone is its own span
    assert len(read_transactions(write(tmp_path / "ok.csv", log), amount_col="amount")) == len(log)


def test_exact_duplicate_rows_are_counted_and_refused_or_kept(tmp_path: Path) -> None:
    log = small_log()
    twice = pd.concat([log, log.iloc[[3, 7, 7]]], ignore_index=True)
    path = write(tmp_path / "dup.csv", twice)
    with pytest.raises(TransactionLogError) as caught:
        read_transactions(path, amount_col="amount", keep_duplicates=False)
    message = str(caught.value)
    assert str(path) in message and "3 rows repeat an earlier row exactly" in message
    assert f"row {len(log) + 2}" in message and "--keep-duplicates" in message
    # by default the Python API keeps them and says so (equal orders on a day are possible)
    with pytest.warns(TransactionLogWarning, match="3 rows repeat an earlier row exactly"):
        assert len(read_transactions(path, amount_col="amount")) == len(twice)
    assert len(read_transactions(path, amount_col="amount", keep_duplicates=True)) == len(twice)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customer,date,amount\n", r"no transactions \(the file has a header only\)"),
        ("", r"no transactions \(the file is empty\)"),
        (
            "customer,date,amount\n1,2025-01-05,10\n2,2025-01-06,1e308\n",
            r"column 'amount', row 3: '1e308' is larger than 1e\+12",
        ),
        (
            "customer,date,amount\n1,2025-01-05,10\n2,2025-01-06,1e400\n",
            r"column 'amount', row 3: '1e400' is not a finite number",
        ),
        (
            "customer,date,amount\n1,2025-01-05,inf\n",
            r"column 'amount', row 2: 'inf' is not a finite number",
        ),
        (
            "customer,date,amount\n1,2025-01-05,10\n2,2025-01-06,-79.15\n",
            r"column 'amount', row 3: '-79.15' is not a non-negative amount",
        ),
        (
            "customer,date,amount\n1,2025-01-05,10\n2,2025-01-06,\n",
            r"column 'amount', row 3: an empty cell is not a non-negative amount",
        ),
    ],
)
def test_each_bad_log_gets_a_one_line_message(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TransactionLogError, match=expected) as caught:
        read_transactions(path, amount_col="amount")
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message and "np.float64" not in message


@pytest.mark.slow
@pytest.mark.subprocess
def test_calibrate_refuses_a_bad_log_with_the_data_error_exit_code(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.csv", with_rows(small_log(), ODD_DATES))
    out = tmp_path / "x.yaml"
    ran = relsim("calibrate", str(path), "--amount-col", "amount", "--out", str(out))
    assert ran.returncode == 65, ran.stderr
    assert "6 dates outside" in ran.stderr and "--keep-outlying-dates" in ran.stderr
    assert "Traceback" not in ran.stderr and not out.exists()
    duplicated = write(tmp_path / "dup.csv", pd.concat([small_log(), small_log().iloc[[2]]]))
    ran = relsim("calibrate", str(duplicated), "--amount-col", "amount", "--out", str(out))
    assert ran.returncode == 65 and "1 rows repeat" in ran.stderr, ran.stderr
    assert "--keep-duplicates" in ran.stderr and "Traceback" not in ran.stderr
    header = tmp_path / "header.csv"
    header.write_text("customer,date,amount\n")
    ran = relsim("calibrate", str(header), "--amount-col", "amount", "--out", str(out))
    assert ran.returncode == 65 and "no transactions" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    # kept, the log is fitted (the 1900 rows make the weeks run from 1900, a few seconds; the
    # 2999 rows fall after the calibration end)
    ran = relsim(
        *("calibrate", str(path), "--amount-col", "amount", "--out", str(out)),
        *("--keep-outlying-dates", "--calibration-end", "2025-12-31"),
    )
    assert ran.returncode == 0, ran.stderr
    assert out.exists()
