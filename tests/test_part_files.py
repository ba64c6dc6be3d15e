"""A part's table files: written on one thread, with the bytes pandas' ``to_parquet`` gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from relsim import load_scenario
from relsim.experiment import storage
from relsim.experiment.pool import replicate
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
