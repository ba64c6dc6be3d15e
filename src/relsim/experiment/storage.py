"""An experiment's replications on disk: part files per replication, and the tables.

Layout inside a results folder (the folder itself, its manifest and resolved scenario are
:class:`relsim.experiment.folder.ResultsFolder`'s)::

    parts/<strategy>/<r>/       one finished replication: summary.json, a Parquet file per
                                table and record.json (checksums, row counts, seed: see
                                relsim.experiment.records), written under a temporary name and
                                renamed, so a part either exists whole or not at all
    replications.parquet, weekly.parquet, ladder.parquet, defections.parquet, ...
                                the tables, assembled from the parts when the run completes
    tables.json                 the tables' record, written when the parts are packed into
                                them (:func:`pack_parts`): the parts are then removed, and a
                                resume verifies the tables instead (:func:`packed_tables`)

The parts exist to make a run resumable; once the tables hold every replication they are only
a second copy (1 080 files, 67 MB for the default run), so a finished run packs them unless
asked to keep them. Packing removes only the parts relsim wrote: anything else stays.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

# the folder's own files (manifest, resolved scenario, lock, --force) belong to
# relsim.experiment.folder; their names stay importable from here for older callers
from relsim.experiment import records
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


PART_FILES = ("summary.json", *(f"{name}.parquet" for name in TABLES))
"""The files of a finished part besides its record."""


def write_part(
    out: Path,
    strategy: str,
    replication: int,
    result: dict[str, Any],
    run: dict[str, Any] | None = None,
) -> None:
    """Write one replication's results atomically (temporary folder, then rename), its record
    last (``run``: the run's settings, kept in the record)."""
    final = part_dir(out, strategy, replication)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    (tmp / "summary.json").write_text(json.dumps(result["summary"]), encoding="utf-8")
    for name in TABLES:
        _write_small_table(result[name], tmp / f"{name}.parquet")
    _fsync_dir(tmp)
    rows = {f"{name}.parquet": len(result[name]) for name in TABLES}
    records.write_record(tmp, strategy, replication, rows, run)
    os.rename(tmp, final)


def _write_small_table(frame: Any, path: Path) -> None:
    """``frame.to_parquet(path, index=False)``'s bytes, converted on this thread: pyarrow's
    threaded conversion cost a part more than it saved (classroom ladder: 12 ms, not 3)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(frame, pd.DataFrame) and frame.attrs:  # pandas keeps them in the metadata
        frame.to_parquet(path, index=False)
        return
    if isinstance(frame, pd.DataFrame):  # an Arrow table (unpacked: extend.py) as it is
        frame = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)
    pq.write_table(frame, path)


def run_settings(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's fields a part's record keeps (enough to rebuild the manifest)."""
    return {key: manifest[key] for key in records.RUN_KEYS if key in manifest}


@dataclass
class PartsCheck:
    """What :func:`check_parts` found in ``parts/`` (paths relative to the results folder)."""

    done: set[tuple[str, int]] = field(default_factory=set)
    damaged: dict[str, str] = field(default_factory=dict)
    """Part -> why it is damaged; to be computed again."""
    unrecorded: list[str] = field(default_factory=list)
    """Parts without a record (an older relsim's) that passed the checks, now recorded."""
    strays: list[str] = field(default_factory=list)
    """Entries that are not relsim's parts: left alone and not used."""

    def lines(self, limit: int = 5) -> list[str]:
        """What a resume says about it: one line per damaged part and stray entry (the first
        ``limit`` of each, then a count), one for the unrecorded parts kept."""
        out = _first(
            [f"{p} is damaged ({why}); computing it again" for p, why in self.damaged.items()],
            limit,
            "more damaged parts computed again",
        )
        out += _first(
            [f"{p} is not a part relsim wrote; ignored and left in place" for p in self.strays],
            limit,
            "more entries in parts/ ignored",
        )
        if self.unrecorded:
            out.append(
                f"{len(self.unrecorded)} parts written before parts had records (e.g. "
                f"{self.unrecorded[0]}) were readable and consistent, and kept"
            )
        return out


def _first(lines: list[str], limit: int, more: str) -> list[str]:
    return lines[:limit] + ([f"and {len(lines) - limit} {more}"] if len(lines) > limit else [])


def check_parts(
    out: Path, strategies: list[str], run: dict[str, Any] | None = None, heal: bool = True
) -> PartsCheck:
    """Verify every part in ``out/parts`` against its record (:mod:`relsim.experiment.records`).
    With ``heal``: half-written parts (temporary folders) and damaged ones are removed, to be
    computed again, and parts written without a record get one (``run``: the run's settings)."""
    found = PartsCheck()
    root = ResultsFolder(out).path("parts")  # refused when a link leads it out of the folder
    if not root.is_dir():
        return found
    names = {part_dir(out, s, 0).parent.name: s for s in strategies}
    for entry in sorted(root.iterdir()):
        if entry.name in names and entry.is_dir() and not entry.is_symlink():
            _check_strategy(out, entry, names[entry.name], found, run if heal else None, heal)
        else:
            found.strays.append(str(entry.relative_to(out)))
    return found


def _check_strategy(
    out: Path,
    folder: Path,
    strategy: str,
    found: PartsCheck,
    run: dict[str, Any] | None,
    heal: bool,
) -> None:
    for part in sorted(folder.iterdir()):
        name = part.name
        if name.startswith(".tmp-"):
            if heal:
                shutil.rmtree(part, ignore_errors=True)
            continue
        replication = int(name[1:]) if name[1:].isdigit() else -1
        where = str(part.relative_to(out))
        if name != part_dir(out, strategy, max(replication, 0)).name or not part.is_dir():
            found.strays.append(where)
            continue
        why = _why_damaged(part, strategy, replication, found, where, run)
        if why is None:
            found.done.add((strategy, replication))
            continue
        found.damaged[where] = why
        if heal:
            shutil.rmtree(part)


def _why_damaged(
    part: Path,
    strategy: str,
    replication: int,
    found: PartsCheck,
    where: str,
    run: dict[str, Any] | None,
) -> str | None:
    """Why a part is damaged, or None; a sound part without a record gets one when ``run``
    is given (the check then heals)."""
    if (part / records.RECORD).exists():
        return records.verify(part, strategy, replication, PART_FILES)
    why, rows = records.check_unrecorded(part, strategy, replication, TABLES)
    if why is None:
        found.unrecorded.append(where)
        if run is not None:
            records.write_record(part, strategy, replication, rows, run)
    return why


def done_parts(out: Path, strategies: Iterable[str] = ()) -> set[tuple[str, int]]:
    """(strategy, replication) of every sound finished part in the folder (a strategy named by
    its name among ``strategies``, else by its folder's name), after :func:`check_parts` has
    removed half-written and damaged ones."""
    names = list(strategies)
    if not names:
        root = ResultsFolder(out).path("parts")
        names = [p.name for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    return check_parts(out, names).done


def heal_manifest(folder: ResultsFolder) -> str | None:
    """Rebuild a damaged manifest (:class:`~relsim.experiment.records.DamagedManifest`) from
    the finished parts' records and the resolved scenario; returns what was done (None when
    the manifest was sound). Raises ``DamagedManifest`` when no record holds the settings."""
    try:
        folder.read_manifest()
        return None
    except records.DamagedManifest as error:
        damage = str(error).split(". ", 1)[0]
        settings = records.settings_from_records(
            sorted(folder.root.glob("parts/*/r*"))
        ) or records.settings_from_tables(folder.root)
        if settings is None:
            raise records.DamagedManifest(
                f"{damage}, and no finished part records the run's settings, so it cannot be "
                f"rebuilt: start the run again into this folder with --force"
            ) from None
    scenario = folder.load_scenario()
    if settings.get("scenario_hash") != scenario_hash(scenario):
        raise records.DamagedManifest(
            f"{damage}, and its parts were made from another scenario than "
            f"{RESOLVED_SCENARIO}: start the run again into this folder with --force"
        )
    manifest = {**new_manifest(scenario, settings), **settings, "status": "partial"}
    manifest["rebuilt"] = f"{damage}; rebuilt from the parts' records and {RESOLVED_SCENARIO}"
    folder.write_manifest(manifest)
    return f"{damage}; rebuilt it from the parts' records and {RESOLVED_SCENARIO}"


def pack_parts(out: Path, strategies: list[str], replications: int, run: dict[str, Any]) -> None:
    """Pack the parts into the tables :func:`assemble` has just written: record the tables
    (their checksums and the run's settings, ``tables.json``), then remove every part relsim
    wrote, and ``parts/`` itself when nothing else is left in it. A crash in between leaves
    either the parts or the recorded tables, and a resume accepts either."""
    names = [f"{name}.parquet" for name in ("replications", *TABLES)]
    for name in names:
        with open(out / name, "rb") as handle:
            os.fsync(handle.fileno())
    rows = {name: _parquet_rows(out / name) for name in names}
    records.write_tables_record(out, names, rows, run, replications * len(strategies))
    for strategy in strategies:
        for r in range(replications):
            shutil.rmtree(part_dir(out, strategy, r), ignore_errors=True)
        _remove_if_empty(part_dir(out, strategy, 0).parent)
    _remove_if_empty(out / "parts")


def packed_tables(out: Path, manifest: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether the run's parts were packed into its tables, and why those tables cannot stand
    for them (None when every table matches its record: the results are complete)."""
    if not (out / records.TABLES_RECORD).exists():
        return False, None
    return True, records.verify_tables(out, run_settings(manifest))


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (a file of the user's, say) or gone
        folder.rmdir()


def read_summary(out: Path, strategy: str, replication: int) -> dict[str, float]:
    return json.loads((part_dir(out, strategy, replication) / "summary.json").read_text())


class HeldParts:
    """The parts this process has just written, kept in memory (up to ``budget`` bytes of
    tables: :func:`relsim.experiment.limits.held_tables_budget`) so that :func:`assemble`
    need not read them back: reading the parts back took 4.7 s of the default run's 61
    (180 parts), every worker idle meanwhile. What a part holds is what reading it gives: its
    summary passes through JSON as written, and a table is kept only when it has rows (an
    empty table's column types come back from Parquet otherwise: categories are lost; a test
    compares the tables assembled both ways byte for byte)."""

    def __init__(self, budget: int):
        self.budget = budget
        self.bytes = 0
        self.parts: dict[tuple[str, int], dict[str, Any]] = {}

    def keep(self, strategy: str, replication: int, result: dict[str, Any]) -> None:
        """Hold a part just written, unless the budget is spent (it is then read back)."""
        tables = {name: result[name] for name in TABLES if len(result[name])}
        # an estimate, 8 bytes a cell (the strategy's text takes more, categories less):
        # counting each column's bytes cost 4 ms a part, a sixth of what reading it back did
        size = sum(8 * t.size for t in tables.values())
        if self.bytes + size <= self.budget:
            self.bytes += size
            summary = json.loads(json.dumps(result["summary"]))
            self.parts[(strategy, replication)] = {"summary": summary, **tables}

    def summary(self, out: Path, strategy: str, replication: int) -> dict[str, float]:
        part = self.parts.get((strategy, replication))
        return part["summary"] if part else read_summary(out, strategy, replication)

    def table(self, out: Path, strategy: str, replication: int, name: str) -> pd.DataFrame:
        part = self.parts.get((strategy, replication), {})
        if name in part:
            return part[name]
        return pd.read_parquet(part_dir(out, strategy, replication) / f"{name}.parquet")


def assemble(
    out: Path, strategies: list[str], replications: int, held: HeldParts | None = None
) -> dict[str, pd.DataFrame]:
    """The tables from the parts (those ``held`` in memory, the others read), ordered by
    strategy then replication; written as Parquet."""
    held = held or HeldParts(budget=0)
    rows = []
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    for strategy in strategies:
        for r in range(replications):
            rows.append({"strategy": strategy, "replication": r, **held.summary(out, strategy, r)})
            for name in TABLES:
                frames[name].append(held.table(out, strategy, r, name))
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


def atomic_text(text: str, path: Path) -> None:
    """Write a text file under a temporary name, then rename (never half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
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
    "HeldParts",
    "PartsCheck",
    "assemble",
    "atomic_parquet",
    "atomic_text",
    "check_parts",
    "clear_results",
    "done_parts",
    "heal_manifest",
    "new_manifest",
    "pack_parts",
    "packed_tables",
    "part_dir",
    "read_manifest",
    "read_summary",
    "refuse_or_clear",
    "run_settings",
    "scenario_hash",
    "write_manifest",
    "write_part",
    "write_resolved_scenario",
]
