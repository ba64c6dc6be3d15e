"""The results folder of an experiment: part files per replication, the manifest, the tables.

Layout::

    manifest.json               what made it, timings, status (partial / complete)
    scenario.resolved.yaml      the scenario with every default filled in
    parts/<strategy>/<r>/       one finished replication: summary.json, weekly/ladder/
                                defections.parquet (written under a temporary name and renamed,
                                so a part either exists whole or not at all)
    replications.parquet, weekly.parquet, ladder.parquet, defections.parquet
                                the tables, assembled from the parts when the run completes
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.scenario import Scenario
from relsim.version import MODEL_VERSION, __version__

TABLES = ("weekly", "ladder", "defections", "survival", "moves")
PART_PREFIX = "r"


class FolderBusy(RuntimeError):
    """Another relsim run is writing into the same results folder."""


class FolderLock:
    """Exclusive use of a results folder by one run: a ``.lock`` file created atomically
    (``O_EXCL``) holding the process id. A lock left by a process that no longer exists is
    taken over, so a killed run never blocks its own resume."""

    def __init__(self, out: Path):
        self.path = Path(out) / ".lock"

    def __enter__(self) -> FolderLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                owner = _lock_owner(self.path)
                if owner is not None and _alive(owner):
                    raise FolderBusy(
                        f"{self.path.parent} is in use by another relsim run (process {owner}); "
                        "wait for it to finish or choose another --out"
                    ) from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            return self
        raise FolderBusy(f"could not lock {self.path.parent}")

    def __exit__(self, *exc: object) -> None:
        if _lock_owner(self.path) == os.getpid():
            self.path.unlink(missing_ok=True)


def _lock_owner(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON (every default filled in)."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def part_dir(out: Path, strategy: str, replication: int) -> Path:
    return out / "parts" / strategy / f"{PART_PREFIX}{replication:05d}"


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


def done_parts(out: Path) -> set[tuple[str, int]]:
    """(strategy, replication) of every finished part in the folder; half-written parts left
    by a killed run (temporary folders) are removed."""
    found = set()
    root = out / "parts"
    if not root.exists():
        return found
    for strategy_dir in root.iterdir():
        for part in strategy_dir.iterdir():
            if part.name.startswith(".tmp-"):
                shutil.rmtree(part, ignore_errors=True)
            elif part.name.startswith(PART_PREFIX) and part.name[1:].isdigit():
                found.add((strategy_dir.name, int(part.name[1:])))
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


WRITTEN = (
    "manifest.json",
    "scenario.resolved.yaml",
    "parts",
    "plots",
    "csv",
    "report.html",
    "report.md",
    *(f"{name}.parquet" for name in ("replications", *TABLES)),
)
"""What relsim writes into a results folder (and so what ``--force`` may delete)."""


def refuse_or_clear(out: Path, force: bool, extra: tuple[str, ...] = ()) -> None:
    """A folder that already holds results is refused (naming its status and the ways on),
    or with ``force`` cleared of what relsim wrote there (``extra``: more of relsim's names)."""
    if not (out / "manifest.json").exists():
        return
    if not force:
        status = read_manifest(out).get("status", "partial")
        raise FileExistsError(
            f"{out} already holds {status} results; choose another --out, "
            + ("resume them (--resume), " if status != "complete" else "")
            + "or replace them (--force)"
        )
    clear_results(out, extra)


def clear_results(out: Path, extra: tuple[str, ...] = ()) -> None:
    """Delete what an earlier run wrote into ``out`` (``extra``: more of relsim's names);
    anything else in it is left alone. The manifest goes first, so an interruption never
    leaves old tables under a manifest."""
    for name in (*WRITTEN, *extra):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    tmp = out / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, out / "manifest.json")


def read_manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def new_manifest(scenario: Scenario, settings: dict[str, Any]) -> dict[str, Any]:
    """What made this folder: scenario, seed, versions, commit, command line, settings."""
    return {
        "status": "partial",
        "scenario_name": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "root_seed": scenario.seed,
        "relsim_version": __version__,
        "model_version": MODEL_VERSION,
        "git_commit": _git_commit(),
        "command": sys.argv,
        "python": platform.python_version(),
        "packages": _package_versions(),
        "started": datetime.now().isoformat(timespec="seconds"),
        **settings,
    }


def write_resolved_scenario(out: Path, scenario: Scenario) -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with open(out / "scenario.resolved.yaml", "w", encoding="utf-8") as handle:
        yaml.dump(scenario.model_dump(mode="json"), handle)


def atomic_parquet(table: pd.DataFrame, path: Path) -> None:
    """Write a table under a temporary name, then rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    for child in path.iterdir():
        with open(child, "rb") as handle:
            os.fsync(handle.fileno())


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("numpy", "scipy", "simpy", "pandas", "pyarrow", "pydantic"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            continue
    return out
