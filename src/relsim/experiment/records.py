"""A finished part's record, how a part is verified against it, and reading a manifest.

Every finished replication part (``parts/<strategy>/r<NNNNN>/``, see
:mod:`relsim.experiment.storage`) holds ``record.json``: the SHA-256 and size of each of its
files, the row count of each table, its strategy, replication and seed, and the run's settings
(the manifest's fields that say what the run was). The record is written last, inside the
part's temporary folder, which is then renamed into place: a part exists only with its record.

On resume each part is checked (:func:`verify`): a part whose record is missing, unreadable or
does not match its files (a file emptied, deleted or edited) is damaged, and the runner
computes it again from its seed. A part written before records existed (no ``record.json``)
is checked for what can be checked without one (:func:`check_unrecorded`: every file there and
readable, the tables' strategy and replication columns those of the part, the summary a table
of numbers) and, if sound, kept and given a record; an edited value in such a part cannot be
seen. The run's settings in the records let a damaged manifest be rebuilt
(:func:`settings_from_records`).

Once the tables hold every replication, the parts are packed into them: ``tables.json``
(:data:`TABLES_RECORD`) records the tables as a part's record does its files (checksums, sizes,
row counts, the run's settings) and the parts are removed. A resume verifies the tables against
it (:func:`verify_tables`) instead of the parts.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

RECORD = "record.json"
TABLES_RECORD = "tables.json"
"""The record of an experiment's tables once its parts are packed into them."""
FORMAT = 1
RUN_KEYS = (
    "scenario_name",
    "scenario_hash",
    "root_seed",
    "model_version",
    "strategies",
    "baseline",
    "replications_target",
    "precision",
    "metric",
    "max_replications",
)
"""The manifest's fields a record keeps: enough to rebuild the manifest of the run."""


class DamagedManifest(ValueError):
    """A ``manifest.json`` that cannot be read as relsim wrote it (truncated or edited)."""


def parse_manifest(path: Path) -> dict[str, Any]:
    """The manifest at ``path``; :class:`DamagedManifest` (naming the file and the ways on)
    when it is not a JSON object (``FileNotFoundError`` when there is none)."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:  # json's errors are ValueErrors
        manifest = error
    if not isinstance(manifest, dict):
        why = manifest if isinstance(manifest, Exception) else "not a JSON object"
        raise DamagedManifest(
            f"{path} is damaged ({why}). Resuming the run (relsim run --resume "
            f"{path.parent}) rebuilds an experiment's manifest from its finished parts' "
            "records; otherwise start the run again into this folder with --force"
        )
    return manifest


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_record(
    part: Path,
    strategy: str,
    replication: int,
    rows: dict[str, int],
    run: dict[str, Any] | None,
) -> None:
    """Write ``part``'s record (atomically: a temporary file, then a rename) from the files in
    it; ``rows`` gives each table file's row count, ``run`` the run's settings."""
    run = run or {}
    files = _entries(part, [c.name for c in sorted(part.iterdir())], rows)
    record = {
        "format": FORMAT,
        "strategy": strategy,
        "replication": replication,
        "seed": {"root": run.get("root_seed"), "child": replication},
        "files": files,
        "run": {key: run[key] for key in RUN_KEYS if key in run},
    }
    _write_json(part / RECORD, record)


def write_tables_record(
    root: Path, names: list[str], rows: dict[str, int], run: dict[str, Any], parts: int
) -> None:
    """Record an experiment's tables (the files ``names`` in ``root``, ``rows`` each) before
    the ``parts`` they were assembled from are removed: what a resume verifies them against."""
    record = {
        "format": FORMAT,
        "packed_parts": parts,
        "files": _entries(root, names, rows),
        "run": {key: run[key] for key in RUN_KEYS if key in run},
    }
    _write_json(root / TABLES_RECORD, record)


def verify_tables(root: Path, run: dict[str, Any]) -> str | None:
    """Why the packed tables in ``root`` cannot stand for the run's parts (None when every
    table matches :data:`TABLES_RECORD` and the record is of the run ``run``)."""
    record = read_record(root, TABLES_RECORD)
    if record is None:
        return f"{TABLES_RECORD} is unreadable"
    kept = record.get("run") if isinstance(record.get("run"), dict) else {}
    if any(kept.get(key) != run.get(key) for key in ("scenario_hash", "strategies", "root_seed")):
        return f"{TABLES_RECORD} records another run"
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        return f"{TABLES_RECORD} lists no tables"
    return _mismatch(root, files, tuple(files), TABLES_RECORD)


def _entries(folder: Path, names: list[str], rows: dict[str, int]) -> dict[str, Any]:
    files = {}
    for name in names:
        if name in (RECORD, TABLES_RECORD) or name.startswith("."):
            continue
        child = folder / name
        entry: dict[str, Any] = {"sha256": sha256(child), "bytes": child.stat().st_size}
        if name in rows:
            entry["rows"] = rows[name]
        files[name] = entry
    return files


def _write_json(path: Path, record: dict[str, Any]) -> None:
    """Write a record atomically: a temporary file, synced, then renamed into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_record(part: Path, name: str = RECORD) -> dict[str, Any] | None:
    """The record ``name`` in ``part``, or None when it has none or it cannot be read."""
    try:
        record = json.loads((part / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def verify(part: Path, strategy: str, replication: int, expected: tuple[str, ...]) -> str | None:
    """Why the recorded part is damaged (None when every file matches its record);
    ``expected`` are the file names a part must hold."""
    record = read_record(part)
    if record is None:
        return f"its {RECORD} is unreadable"
    if record.get("strategy") != strategy or record.get("replication") != replication:
        return f"its {RECORD} belongs to another part"
    files = record.get("files")
    if not isinstance(files, dict):
        return f"its {RECORD} lists no files"
    return _mismatch(part, files, expected, f"its {RECORD}")


def _mismatch(
    folder: Path, files: dict[str, Any], expected: tuple[str, ...], what: str
) -> str | None:
    """The first of ``expected`` that does not match its entry in ``files``, said; or None."""
    for name in expected:
        entry = files.get(name)
        path = folder / name
        if not isinstance(entry, dict) or "sha256" not in entry:
            return f"{what} does not list {name}"
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != entry.get("bytes") or sha256(path) != entry["sha256"]:
            return f"{name} does not match its record: changed or damaged"
    return None


def check_unrecorded(
    part: Path, strategy: str, replication: int, tables: tuple[str, ...]
) -> tuple[str | None, dict[str, int]]:
    """What can be checked of a part without a record: (why it is damaged or None, each table
    file's row count)."""
    import pandas as pd

    try:
        summary = json.loads((part / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return f"summary.json is unreadable ({error})", {}
    if not isinstance(summary, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in summary.values()
    ):
        return "summary.json is not a table of numbers", {}
    rows = {}
    for name in tables:
        path = part / f"{name}.parquet"
        try:
            table = pd.read_parquet(path)
        except Exception as error:  # pyarrow's errors vary: any is a damaged file
            return f"{path.name} is unreadable ({type(error).__name__})", {}
        keys = ("strategy", "replication")
        if not set(keys) <= set(table.columns) or not (
            (table["strategy"] == strategy).all() and (table["replication"] == replication).all()
        ):
            return f"{path.name} holds rows of another part", {}
        rows[path.name] = len(table)
    return None, rows


def settings_from_records(parts: list[Path]) -> dict[str, Any] | None:
    """The run's settings as the part records give them (the one with the most replications,
    since the precision rule raises the target as it goes), or None when no record has them."""
    found = [r["run"] for r in map(read_record, parts) if r and isinstance(r.get("run"), dict)]
    found = [run for run in found if {"strategies", "replications_target"} <= set(run)]
    if not found:
        return None
    return max(found, key=lambda run: run["replications_target"])


def settings_from_tables(root: Path) -> dict[str, Any] | None:
    """The run's settings as the packed tables' record gives them, or None."""
    record = read_record(root, TABLES_RECORD)
    run = record.get("run") if record else None
    if isinstance(run, dict) and {"strategies", "replications_target"} <= set(run):
        return run
    return None
