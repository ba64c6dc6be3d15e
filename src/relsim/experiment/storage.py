"""An experiment's replications on disk: part files per replication, and the tables.

Layout inside a results folder (the folder itself, its manifest and resolved scenario are
:class:`relsim.experiment.folder.ResultsFolder`'s)::

    parts/<strategy>/<r>/       one finished replication: summary.json, weekly/ladder/
                                defections.parquet (written under a temporary name and renamed,
                                so a part either exists whole or not at all)
    replications.parquet, weekly.parquet, ladder.parquet, defections.parquet
                                the tables, assembled from the parts when the run completes
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

# the folder's own files (manifest, resolved scenario, lock, --force) belong to
# relsim.experiment.folder; their names stay importable from here for older callers
from relsim.experiment.folder import (
    RESOLVED_SCENARIO,
    TABLES,
    WRITTEN,
    FolderBusy,
    FolderLock,
    ResultsFolder,
    clear_results,
    new_manifest,
    read_manifest,
    refuse_or_clear,
    scenario_hash,
    write_manifest,
    write_resolved_scenario,
)
from relsim.names import slug

PART_PREFIX = "r"


def part_dir(out: Path, strategy: str, replication: int) -> Path:
    """The folder of one part, named from the strategy's slug (never its raw text) and
    refused when it would leave ``out`` (:meth:`ResultsFolder.path`)."""
    return ResultsFolder(out).path("parts", slug(strategy), f"{PART_PREFIX}{replication:05d}")


def write_part(out: Path, strategy: str, replication: int, result: dict[str, Any]) -> None:
    """Write one replication's results atomically (temporary folder, then rename)."""
    final = part_dir(out, strategy, replication)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    (tmp / "summary.json").write_text(json.dumps(result["summary"]), encoding="utf-8")
    for name in TABLES:
        result[name].to_parquet(tmp / f"{name}.parquet", index=False)
    _fsync_dir(tmp)
    os.rename(tmp, final)


def done_parts(out: Path, strategies: Iterable[str] = ()) -> set[tuple[str, int]]:
    """(strategy, replication) of every finished part in the folder (a strategy named by its
    folder's name, or by its name among ``strategies`` whose slug that is); half-written
    parts left by a killed run (temporary folders) are removed."""
    found = set()
    named = {slug(s): s for s in strategies}
    root = ResultsFolder(out).path("parts")
    if not root.exists():
        return found
    for strategy_dir in root.iterdir():
        for part in strategy_dir.iterdir():
            if part.name.startswith(".tmp-"):
                shutil.rmtree(part, ignore_errors=True)
            elif part.name.startswith(PART_PREFIX) and part.name[1:].isdigit():
                found.add((named.get(strategy_dir.name, strategy_dir.name), int(part.name[1:])))
    return found


def read_summary(out: Path, strategy: str, replication: int) -> dict[str, float]:
    return json.loads((part_dir(out, strategy, replication) / "summary.json").read_text())


def assemble(out: Path, strategies: list[str], replications: int) -> dict[str, pd.DataFrame]:
    """The tables from the parts, ordered by strategy then replication; written as Parquet."""
    rows = []
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    for strategy in strategies:
        for r in range(replications):
            summary = read_summary(out, strategy, r)
            rows.append({"strategy": strategy, "replication": r, **summary})
            for name in TABLES:
                frames[name].append(pd.read_parquet(part_dir(out, strategy, r) / f"{name}.parquet"))
    tables = {"replications": pd.DataFrame(rows)}
    for name, parts in frames.items():
        tables[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    for name, table in tables.items():
        atomic_parquet(table, out / f"{name}.parquet")
    return tables


def atomic_parquet(table: pd.DataFrame, path: Path) -> None:
    """Write a table under a temporary name, then rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    for child in path.iterdir():
        with open(child, "rb") as handle:
            os.fsync(handle.fileno())


__all__ = [
    "PART_PREFIX",
    "RESOLVED_SCENARIO",
    "TABLES",
    "WRITTEN",
    "FolderBusy",
    "FolderLock",
    "assemble",
    "atomic_parquet",
    "clear_results",
    "done_parts",
    "new_manifest",
    "part_dir",
    "read_manifest",
    "read_summary",
    "refuse_or_clear",
    "scenario_hash",
    "write_manifest",
    "write_part",
    "write_resolved_scenario",
]
