"""More replications for results that have some: ``run_experiment(out=F, resume=True,
replications=N)`` with N above the folder's count (``relsim run --resume F --replications N``).

Replication r's numbers come from its own seed (:func:`relsim.experiment.replication_seed`),
so the replications a folder holds are the first ones of a run of N: extending keeps them and
computes the others, and the tables equal those of a run of N from scratch (a test compares
them byte for byte, the timings aside). Results packed into their tables (``tables.json``) are
first unpacked into parts again, each written atomically; only then is the record of the
packed tables removed and the manifest's target raised. A crash at any point leaves results a
resume completes: the packed tables as they were (parts written beside them are replaced by
the next extension), or parts and a manifest that asks for more.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.experiment import records, storage
from relsim.experiment.folder import TABLES, Writing

KEYS = ["strategy", "replication"]


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
        folder.path(records.TABLES_RECORD).unlink()
    manifest["replications_target"] = replications
    manifest["status"] = "partial"
    folder.write_manifest(manifest)


def unpack(out: Path, manifest: dict[str, Any]) -> None:
    """Write the parts that packed tables hold back into ``parts/``: each part's summary from
    its row of ``replications.parquet``, each table's rows of its strategy and replication."""
    names, count = manifest["strategies"], manifest["replications_target"]
    run = storage.run_settings(manifest)
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in ("replications", *TABLES)}
    rows = {name: _rows_of_parts(table) for name, table in tables.items()}
    summaries = tables["replications"].drop(columns=KEYS)
    columns = {name: summaries[name].tolist() for name in summaries.columns}
    for strategy in names:
        for r in range(count):
            at = rows["replications"][(strategy, r)]
            part: dict[str, Any] = {"summary": {k: v[at[0]] for k, v in columns.items()}}
            for name in TABLES:
                table = tables[name]
                part[name] = table.iloc[rows[name].get((strategy, r), [])].reset_index(drop=True)
            shutil.rmtree(storage.part_dir(out, strategy, r), ignore_errors=True)
            storage.write_part(out, strategy, r, part, run)


def _rows_of_parts(table: pd.DataFrame) -> dict[tuple[str, int], Any]:
    """Each (strategy, replication)'s row positions in ``table``, in table order."""
    if table.empty:
        return {}
    groups = table.groupby(KEYS, sort=False, observed=True).indices
    return {(str(s), int(r)): positions for (s, r), positions in groups.items()}
