"""Only relsim's own files are ever replaced: the list of what relsim wrote into a results
folder (the manifest's ``written``), ``--force`` deleting exactly that, and the refusal to
overwrite a file relsim did not write.

What a results folder's manifest lists (paths relative to the folder, ``/``-separated): every
file relsim wrote there -- the manifest and resolved scenario, the tables, ``plots/*.png``, the
report, ``csv/*.csv`` -- recorded as it is written (:func:`record`). Two kinds of entries are
relsim's by their shape rather than one by one, because they are written by many processes at
once: replication parts (``parts/<strategy>/rNNNNN/`` holding :data:`PART_FILES`, and the
``.tmp-*`` folders a killed run leaves) and nested results folders (``points/pNNNN``,
``robustness``), which carry their own manifest and are cleared by it.

:func:`clear_results` never follows a symbolic link: a link where relsim expects one of its
folders is removed as a link (its target is not touched), and nothing outside the folder is
ever deleted.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from relsim.errors import UsageError

MANIFEST = "manifest.json"
RESOLVED_SCENARIO = "scenario.resolved.yaml"
LOCK = ".lock"
TABLES = ("weekly", "ladder", "defections", "survival", "moves")
"""The tidy tables of an experiment (besides ``replications``), one Parquet file each."""
WRITTEN = (
    MANIFEST,
    RESOLVED_SCENARIO,
    "parts",
    "tables.json",
    "plots",
    "csv",
    "report.html",
    "report.md",
    *(f"{name}.parquet" for name in ("replications", *TABLES)),
)
"""The names relsim writes at a results folder's top level. What ``--force`` deletes is
narrower: the files the manifest lists as written (:mod:`relsim.experiment.owned`)."""
PART_FILES = frozenset({"summary.json", "record.json", *(f"{t}.parquet" for t in TABLES)})
"""The files of one replication part (see :mod:`relsim.experiment.storage`)."""
BEFORE_MANIFEST = (LOCK, "variants.json", "psa.json")
"""What relsim writes into a new folder before its manifest: the lock, a robustness
analysis's list of variants and a decision analysis's plan (written once the folder is found
empty)."""
_PART = re.compile(r"r\d{5}|\.tmp-.*")
NESTED = ("points", "robustness")
"""Folders whose subfolders (``points/pNNNN``) or self (``robustness``) are results folders."""
_OWN_TEMPORARY = re.compile(r"\.([a-z_]+\.json|[a-z_]+\.parquet)\.tmp")


def _manifest(out: Path) -> dict:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def written(out: Path, extra: tuple[str, ...] = ()) -> set[str]:
    """The files the manifest of ``out`` lists as relsim's (empty without a manifest). A
    manifest written before the list existed: relsim's top-level file names (``extra``:
    more of them), which relsim alone writes there."""
    manifest = _manifest(out)
    if manifest and "written" not in manifest:
        return {n for n in (*WRITTEN, *extra) if "." in n}
    return {str(p) for p in manifest.get("written", []) if isinstance(p, str)}


def relative(out: Path, path: str | Path) -> str:
    """``path`` relative to ``out``, ``/``-separated: a path inside ``out`` (absolute or
    from the working folder), else a name already relative to ``out``."""
    whole = Path(os.path.abspath(path))
    if whole.is_relative_to(os.path.abspath(out)):
        return whole.relative_to(os.path.abspath(out)).as_posix()
    return Path(path).as_posix()


def record(out: Path, paths: Iterable[str | Path]) -> None:
    """Add ``paths`` (files relsim has just written inside ``out``) to its manifest's
    ``written`` list. A folder without a manifest records nothing."""
    manifest = _manifest(out)
    if not manifest:
        return
    listed = set(manifest.get("written", []))
    listed.update(relative(out, p) for p in paths)
    manifest["written"] = sorted(listed)
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)


def refuse_foreign_folder(out: Path, allowed: tuple[str, ...] = BEFORE_MANIFEST) -> None:
    """A folder without a manifest must be empty (but for ``allowed``, what relsim writes
    before a manifest) to receive results: anything else in it is the user's
    (:class:`UsageError`, exit 2)."""
    if (out / MANIFEST).exists() or not out.is_dir():
        return
    others = sorted(p.name for p in out.iterdir() if p.name not in allowed)
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise UsageError(
            f"{out} is not empty ({shown}) and holds no relsim results (no {MANIFEST}); "
            "relsim writes only into an empty or new folder: choose another --out "
            "(relsim never deletes files it did not write, even with --force)"
        )


def refuse_overwrite(path: str | Path, force: bool, folder: Path | None = None) -> None:
    """Refuse (:class:`UsageError`, exit 2) to overwrite ``path`` when it exists and relsim
    did not write it -- not listed in ``folder``'s manifest -- unless ``force``."""
    path = Path(path)
    if force or not (path.exists() or path.is_symlink()):
        return
    if folder is not None and relative(folder, path) in written(folder):
        return
    raise UsageError(
        f"{path} exists and relsim did not write it; choose another file or folder, "
        "or pass --force to overwrite it"
    )


def clear_results(out: Path, extra: tuple[str, ...] = ()) -> None:
    """Delete what relsim wrote into ``out`` -- exactly the files its manifest lists, its
    replication parts and nested results folders, and the folders of these left empty;
    anything else is left alone (``extra``: more of relsim's top-level names, for manifests
    written before the list existed). The manifest goes first, so an interruption never
    leaves old tables under a manifest."""
    listed = written(out, extra)
    (out / MANIFEST).unlink(missing_ok=True)
    for name in sorted(listed - {MANIFEST}):
        _unlink_inside(out, PurePosixPath(name).parts)
    _clear_parts(out / "parts")
    for name in NESTED:
        _clear_nested(out / name)
    for name in sorted({PurePosixPath(n).parts[0] for n in listed if "/" in n}, reverse=True):
        _rmdir_if_empty(out / name)


def _unlink_inside(out: Path, parts: tuple[str, ...]) -> None:
    """Delete the file ``out/parts...`` when no component of it is a link or leaves ``out``."""
    if not parts or any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
        return
    current = out
    for part in parts[:-1]:
        current = current / part
        if current.is_symlink() or not current.is_dir():
            return
    target = current / parts[-1]
    if target.is_symlink() or target.is_file():
        target.unlink()


def _clear_parts(parts: Path) -> None:
    if parts.is_symlink():  # never followed: the link goes, its target stays
        parts.unlink()
        return
    if not parts.is_dir():
        return
    for strategy in parts.iterdir():
        if strategy.is_symlink() or not strategy.is_dir():
            continue
        for part in strategy.iterdir():
            if _PART.fullmatch(part.name) and not part.is_symlink() and part.is_dir():
                _clear_part(part)
        _rmdir_if_empty(strategy)
    _rmdir_if_empty(parts)


def _clear_part(part: Path) -> None:
    temporary = part.name.startswith(".tmp-")
    for file in part.iterdir():
        if file.is_symlink() or (file.is_file() and (temporary or file.name in PART_FILES)):
            file.unlink()
    _rmdir_if_empty(part)


def _clear_nested(folder: Path) -> None:
    """Clear the results folders ``folder`` is or holds (``robustness``, ``points/pNNNN``)."""
    if folder.is_symlink() or not folder.is_dir():
        return
    if (folder / MANIFEST).exists():
        clear_results(folder)
    else:
        for child in folder.iterdir():
            if not child.is_symlink() and (child / MANIFEST).exists():
                clear_results(child)
                _rmdir_if_empty(child)
    _rmdir_if_empty(folder)


def _rmdir_if_empty(folder: Path) -> None:
    if folder.is_symlink() or not folder.is_dir():
        return
    for leftover in folder.iterdir():
        if leftover.is_file() and _OWN_TEMPORARY.fullmatch(leftover.name):
            leftover.unlink()  # relsim's own half-written temporary (.name.tmp)
    with_contents = any(folder.iterdir())
    if not with_contents:
        folder.rmdir()


def replace(out: Path) -> None:
    """Clear a nested results folder that relsim owns and remove it when nothing else is in
    it (``--force`` on a study)."""
    clear_results(out)
    _rmdir_if_empty(out)


__all__ = [
    "PART_FILES",
    "clear_results",
    "record",
    "refuse_foreign_folder",
    "refuse_overwrite",
    "replace",
    "written",
]
