"""More replications for results that have some: ``run_experiment(out=F, resume=True,
replications=N)`` with N above the folder's count (``relsim run --resume F --replications N``).

Replication r's numbers come from its own seed (:func:`relsim.experiment.replication_seed`),
so the replications a folder holds are the first ones of a run of N: extending keeps them and
computes the others, and the tables equal those of a run of N from scratch (a test compares
them byte for byte, the timings aside). Results packed into their tables (``tables.json``) are
first unpacked into parts again, each written atomically; only then is the manifest's target
raised, and then the record of the packed tables removed. A crash at any point leaves results
a resume completes: before the manifest changed, the packed tables as they were (parts written
beside them are replaced by the next extension); after, the extension (packed tables that
hold fewer replications than the manifest asks for are an extension under way, whose parts
were unpacked: ``runner._tables_stand``). Never are the unpacked parts alone assembled into a
run of the old size: a part read back from packed tables may give a column another type (a
text column the original parts held as categories), which the new parts' mix restores.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.errors import ResultsExist
from relsim.experiment import records, storage
from relsim.experiment.folder import TABLES, Writing

KEYS = ["strategy", "replication"]
NONE = np.zeros(0, dtype=np.int64)  # the rows of a part whose table is empty


def widen(writing: Writing, replications: int) -> None:
    """Make the results being written ask for ``replications`` per strategy (more than they
    hold; fewer or as many, or a precision rule's results, whose count the rule sets, are left
    as they are). Call it holding the folder's lock, before the runner fills the folder."""
    folder, manifest = writing.folder, writing.manifest
    if manifest.get("precision") is not None or replications <= manifest["replications_target"]:
        return
    packed, damage = storage.packed_tables(folder.root, manifest)
    if packed and damage is None:  # damaged packed tables are computed again anyway
        unpack(folder.root, manifest)
    extended = {"from": manifest["replications_target"], "to": replications}
    manifest.setdefault("extended", []).append(
        {**extended, "when": datetime.now().isoformat(timespec="seconds")}
    )
    manifest["replications_target"] = replications
    manifest["status"] = "partial"
    folder.write_manifest(manifest)
    if packed:
        folder.path(records.TABLES_RECORD).unlink(missing_ok=True)


def unpack(out: Path, manifest: dict[str, Any]) -> None:
    """Write the parts that packed tables hold back into ``parts/``: each part's summary from
    its row of ``replications.parquet``, each table's rows of its strategy and replication."""
    import pyarrow.parquet as pq

    names, count = manifest["strategies"], manifest["replications_target"]
    run = storage.run_settings(manifest)
    summaries = pd.read_parquet(out / "replications.parquet")
    at = _rows_of_parts(summaries)
    columns = {name: summaries[name].tolist() for name in summaries.columns if name not in KEYS}
    # the tables as Arrow, with the schema and pandas metadata the packed files have: a part
    # written from them reads back as the packed table does, empty columns' types included
    tables = {name: _as_parts_had(pq.read_table(out / f"{name}.parquet")) for name in TABLES}
    rows = {n: _rows_of_parts(pd.read_parquet(out / f"{n}.parquet", columns=KEYS)) for n in TABLES}
    for strategy in names:
        for r in range(count):
            row = at[(strategy, r)][0]
            part: dict[str, Any] = {"summary": {k: v[row] for k, v in columns.items()}}
            for name in TABLES:
                part[name] = tables[name].take(rows[name].get((strategy, r), NONE))
            _clear(storage.part_dir(out, strategy, r))
            storage.write_part(out, strategy, r, part, run)


def _clear(part: Path) -> None:
    """Remove a part an earlier extension left beside the packed tables (killed before its
    manifest changed); anything in its place that is not relsim's part is refused, kept."""
    if not part.exists() and not part.is_symlink():
        return
    ours = {*storage.PART_FILES, records.RECORD}
    if part.is_symlink() or not part.is_dir() or {p.name for p in part.iterdir()} - ours:
        raise ResultsExist(
            f"{part} is in the way of unpacking the packed tables and is not a part relsim "
            "wrote: move it out of the results folder, then extend again"
        )
    shutil.rmtree(part)


def _as_parts_had(table: Any) -> Any:
    """An Arrow table with its categorical columns as the parts had them. pandas stores a
    categorical column without categories (a table empty in every part: no moves, say) as
    Arrow's null type, which reads back as ``object``; the parts had dictionaries of strings,
    which read back as categories and assemble to the packed table's bytes again."""
    import pyarrow as pa

    meta = table.schema.pandas_metadata or {}
    kinds = {c["name"]: c for c in meta.get("columns", [])}
    fields = []
    for f in table.schema:
        kind = kinds.get(f.name, {})
        if pa.types.is_null(f.type) and kind.get("pandas_type") == "categorical":
            codes = getattr(pa, kind["numpy_type"])()  # the categories' codes: int8, int16
            ordered = bool((kind.get("metadata") or {}).get("ordered", False))
            f = f.with_type(pa.dictionary(codes, pa.string(), ordered))
        fields.append(f)
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _rows_of_parts(table: pd.DataFrame) -> dict[tuple[str, int], Any]:
    """Each (strategy, replication)'s row positions in ``table``, in table order."""
    if table.empty:
        return {}
    groups = table.groupby(KEYS, sort=False, observed=True).indices
    return {(str(s), int(r)): positions for (s, r), positions in groups.items()}
