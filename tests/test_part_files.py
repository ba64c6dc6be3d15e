"""A part's tables: built by the worker as the runner always built them, and written on one
thread with the bytes pandas' ``to_parquet`` gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from relsim import load_scenario
from relsim.experiment import storage
from relsim.experiment.pool import _tables, replicate
from relsim.results import Run
from relsim.simulation import simulate
from tests.conftest import SCENARIOS


def test_a_part_table_file_has_the_bytes_pandas_writes(tmp_path: Path) -> None:
    """Every table of a replication (categories, strings, booleans, small integers, floats)
    written by :func:`storage._write_small_table` is byte for byte ``to_parquet``'s file, so
    parts, resumes and packed tables do not depend on which wrote them; a frame carrying
    ``attrs`` keeps them (pandas stores them in the file)."""
    scenario = load_scenario(SCENARIOS / "ci-smoke.yaml")
    result = replicate(scenario, scenario.baseline_strategy, 0)
    ours, pandas_file = tmp_path / "ours.parquet", tmp_path / "pandas.parquet"
    for name in storage.TABLES:
        storage._write_small_table(result[name], ours)
        result[name].to_parquet(pandas_file, index=False)
        assert ours.read_bytes() == pandas_file.read_bytes(), name
    frame = result["weekly"].copy()
    frame.attrs["note"] = "kept"
    storage._write_small_table(frame, ours)
    frame.to_parquet(pandas_file, index=False)
    assert ours.read_bytes() == pandas_file.read_bytes()
    assert pd.read_parquet(ours).attrs == {"note": "kept"}


def test_a_part_table_is_the_run_table_with_its_keys_in_front() -> None:
    """``_tables`` inserts the strategy and replication in front of each of the run's tables:
    the frames ``assign`` and a reordering of the columns gave (values, dtypes, order), and
    the run's own tables keep their columns."""
    scenario = load_scenario(SCENARIOS / "ci-smoke.yaml")
    run = simulate(scenario, seed=5)
    assert isinstance(run, Run)
    expected = {
        name: getattr(run, name).assign(strategy="s", replication=3)[
            ["strategy", "replication", *getattr(run, name).columns]
        ]
        for name in storage.TABLES
    }
    found = _tables(run, "s", 3)
    for name in storage.TABLES:
        pd.testing.assert_frame_equal(found[name], expected[name], check_exact=True)
        assert "strategy" not in getattr(run, name).columns
