"""The one owner of a results folder: its layout, manifest, resolved scenario, lock, and the
choice between starting it anew (refusing, or with ``force`` clearing, earlier results) and
resuming it.

Runs, sweeps, robustness analyses and break-even searches all write results folders; they
write them through :meth:`ResultsFolder.writing`, so the sequence -- lock, resume-or-new,
manifest, resolved scenario, completion -- is written once (robustness through the sweep it
runs, break-even through the experiment at each evaluated value). Every name relsim writes
at a folder's top level is declared here (:data:`WRITTEN`), and :meth:`ResultsFolder.path` is
the helper that builds output paths and refuses one that would leave the folder.

Layout shared by every kind of folder::

    manifest.json               what made it, timings, status (partial / complete)
    scenario.resolved.yaml      the scenario with every default filled in
    .lock                       present while a relsim process writes into the folder
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from relsim.errors import ResultsExist, UsageError
from relsim.experiment import owned
from relsim.experiment.owned import LOCK, MANIFEST, RESOLVED_SCENARIO, WRITTEN
from relsim.experiment.owned import TABLES as TABLES  # the layout's names, importable here
from relsim.experiment.records import parse_manifest
from relsim.names import slug
from relsim.scenario import Scenario, load_scenario
from relsim.version import MODEL_VERSION, __version__


class FolderBusy(RuntimeError):
    """Another relsim run is writing into the same results folder."""


class OutsideFolder(UsageError, ValueError):
    """An output path that would leave its results folder (the command line's exit 2)."""


class ResultsFolder:
    """A results folder on disk: where its files go, its manifest and resolved scenario, its
    lock, and starting it anew or resuming it. It does not create the folder until asked
    (:meth:`create`), so that refusals come before anything is written."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def timestamped(cls, name: str, kind: str = "") -> ResultsFolder:
        """The default folder of a scenario: ``results/<slug>[-<kind>]-<timestamp>``, named
        from the scenario name's :func:`~relsim.names.slug` (never from its raw text)."""
        middle = f"-{kind}" if kind else ""
        return cls(Path("results") / f"{slug(name)}{middle}-{datetime.now():%Y%m%d-%H%M%S}")

    def __repr__(self) -> str:
        return f"ResultsFolder({str(self.root)!r})"

    def path(self, *parts: str) -> Path:
        """The path of ``parts`` inside the folder; :class:`OutsideFolder` for one that would
        leave it (``..``, an absolute part, a symbolic link pointing out)."""
        target = self.root.joinpath(*parts)
        root = self.root.resolve()
        resolved = target.resolve()
        if resolved != root and root not in resolved.parents:
            raise OutsideFolder(
                f"{target} is outside the results folder {self.root} (through `..`, an "
                "absolute path or a symbolic link); relsim writes only inside it"
            )
        return target

    def named(self, *parts: str) -> Path:
        """:meth:`path` of a file or folder named after scenario names: each of ``parts`` is
        replaced by its :func:`~relsim.names.slug`, so the raw text never names a file."""
        return self.path(*(slug(p) for p in parts))

    def record(self, *paths: str | Path) -> None:
        """Add ``paths`` (files relsim has just written into the folder) to the manifest's
        list of what relsim wrote, the list ``--force`` deletes."""
        owned.record(self.root, paths)

    @property
    def manifest_path(self) -> Path:
        return self.path(MANIFEST)

    @property
    def scenario_path(self) -> Path:
        """The resolved scenario: the scenario with every default filled in."""
        return self.path(RESOLVED_SCENARIO)

    def create(self) -> ResultsFolder:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def holds_results(self) -> bool:
        """Whether a run has started here (the folder has a manifest)."""
        return self.manifest_path.exists()

    def is_complete(self) -> bool:
        return self.holds_results() and self.read_manifest().get("status") == "complete"

    def read_manifest(self) -> dict[str, Any]:
        return read_manifest(self.root)

    def require_complete(self) -> dict[str, Any]:
        """The manifest of complete results; :class:`~relsim.errors.UsageError` for an
        unfinished run (``FileNotFoundError`` when the folder holds no results)."""
        manifest = self.read_manifest()
        if manifest.get("status") != "complete":
            raise UsageError(
                f"{self.root} is not complete; finish it with relsim run --resume {self.root}"
            )
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_manifest(self.root, manifest)

    def load_scenario(self) -> Scenario:
        """The scenario the folder was made from (its resolved copy)."""
        return load_scenario(self.scenario_path)

    def lock(self) -> FolderLock:
        """Exclusive use of the folder while writing into it (see :class:`FolderLock`)."""
        return FolderLock(self.root)

    @contextlib.contextmanager
    def writing(
        self,
        scenario: Scenario,
        settings: dict[str, Any] | None,
        *,
        resume: bool = False,
        force: bool = False,
        kind: str | None = None,
        extra: tuple[str, ...] = (),
    ) -> Iterator[Writing]:
        """The one sequence in which results are written, whatever their kind: create the
        folder and lock it; resume its results (:meth:`reopen`, made from ``scenario``, of
        ``kind``, by this model version) or begin new ones with ``settings`` (:meth:`start`,
        with ``force`` and ``extra``); run the body; mark the results complete
        (:meth:`complete`, with the body's :attr:`Writing.completion` fields). A failure or
        Ctrl-C in the body leaves them partial, to be resumed."""
        started = time.time()
        with self.create().lock():
            if resume:
                manifest = self.reopen(scenario, kind)
                self.check_model_version(manifest)
            else:
                assert settings is not None, "new results need their settings"
                manifest = self.start(scenario, settings, force, extra)
            writing = Writing(self, manifest)
            yield writing
            self.complete(manifest, started, **writing.completion)
            own = (self.path(n) for n in (*WRITTEN, *extra) if "." in n)
            self.record(*(p for p in own if p.is_file()))

    def start(
        self,
        scenario: Scenario,
        settings: dict[str, Any],
        force: bool = False,
        extra: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Begin new results: refuse a folder that holds some (or with ``force`` clear what
        relsim wrote; ``extra`` names more of its files), then write the manifest and the
        resolved scenario. Returns the manifest. Call it holding the lock."""
        refuse_or_clear(self.root, force, extra)
        manifest = new_manifest(scenario, settings)
        manifest["written"] = [MANIFEST, RESOLVED_SCENARIO]
        self.write_manifest(manifest)
        write_resolved_scenario(self.root, scenario)
        return manifest

    def reopen(self, scenario: Scenario, kind: str | None = None) -> dict[str, Any]:
        """The manifest of the results to resume, after checking they were made from
        ``scenario`` (and, with ``kind``, are of that kind)."""
        manifest = self.read_manifest()
        if kind is not None and manifest.get("kind") != kind:
            raise ValueError(
                f"{self.root} is not a {kind} folder; resume it with relsim run --resume"
            )
        if manifest["scenario_hash"] != scenario_hash(scenario):
            raise ValueError(f"{self.root} was made from a different scenario; cannot resume it")
        return manifest

    def check_model_version(self, manifest: dict[str, Any]) -> None:
        """Refuse to resume replications simulated by another model version: the finished
        ones would not match new ones."""
        made_with = manifest.get("model_version")
        if made_with != MODEL_VERSION:
            raise ValueError(
                f"{self.root} was made by model version {made_with} and this relsim is model "
                f"version {MODEL_VERSION} (CHANGELOG.md says what differs); its finished "
                "replications would not match new ones, so it cannot be resumed: rerun it "
                "with --force, or resume it with the relsim that made it "
                f"({manifest.get('relsim_version')}, commit {manifest.get('git_commit')})"
            )

    def complete(self, manifest: dict[str, Any], started: float, **more: Any) -> None:
        """Mark the results complete: status, finish time, seconds since ``started`` (a
        ``time.time()``) and ``more`` fields, written to the manifest."""
        manifest.update(
            {
                "status": "complete",
                **more,
                "finished": datetime.now().isoformat(timespec="seconds"),
                "seconds": round(time.time() - started, 3),
            }
        )
        self.write_manifest(manifest)

    def replace(self) -> None:
        """Delete what relsim wrote into the folder, and the folder when that was all
        (``--force`` on a study relsim made)."""
        owned.replace(self.root)


@dataclass
class Writing:
    """Results being written (:meth:`ResultsFolder.writing`): the folder, its manifest, and
    the fields the body wants in the manifest once the results are complete."""

    folder: ResultsFolder
    manifest: dict[str, Any]
    completion: dict[str, Any] = field(default_factory=dict)


class FolderLock:
    """Exclusive use of a results folder by one run: a ``.lock`` file created atomically
    (``O_EXCL``) holding the process id. A lock left by a process that no longer exists is
    taken over, so a killed run never blocks its own resume."""

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK

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


OPTIONAL_SEGMENT_FIELDS = (
    "order_value_within_shape",
    "order_value_between",
    "never_defecting_share",
    "defection_period_weeks",
    "defection_period_offset_weeks",
)
"""Segment fields left out of the scenario hash while null (added after folders existed)."""


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON (every default filled in; an absent
    ``uncertainty`` or ``optimize`` block, and a segment's absent order-value variation, left
    out, so folders made before they existed still resume)."""
    data = scenario.model_dump(mode="json")
    for block in ("uncertainty", "optimize"):
        if data.get(block) is None:
            data.pop(block, None)
    for segment in data.get("segments", []):
        for name in OPTIONAL_SEGMENT_FIELDS:
            if segment.get(name) is None:
                segment.pop(name, None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def refuse_or_clear(out: Path, force: bool, extra: tuple[str, ...] = ()) -> None:
    """A folder that already holds results is refused (naming its status and the ways on),
    or with ``force`` cleared of what relsim wrote there (``extra``: more of relsim's names).
    A folder without a manifest must be empty: what is in it is the user's."""
    if not (out / MANIFEST).exists():
        owned.refuse_foreign_folder(out)
        return
    if not force:
        status = read_manifest(out).get("status", "partial")
        raise ResultsExist(
            f"{out} already holds {status} results; choose another --out, "
            + ("resume them (--resume), " if status != "complete" else "")
            + "or replace them (--force)"
        )
    clear_results(out, extra)


def clear_results(out: Path, extra: tuple[str, ...] = ()) -> None:
    """Delete what an earlier run wrote into ``out`` and nothing else
    (:func:`relsim.experiment.owned.clear_results`)."""
    owned.clear_results(out, extra)


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest under a temporary name, then rename (never half a manifest)."""
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)


def read_manifest(out: Path) -> dict[str, Any]:
    return parse_manifest(out / MANIFEST)  # a damaged one: DamagedManifest, saying what to do


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
    with open(out / RESOLVED_SCENARIO, "w", encoding="utf-8") as handle:
        yaml.dump(scenario.model_dump(mode="json"), handle)


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
