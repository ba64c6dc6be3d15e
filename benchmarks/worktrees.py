"""Another commit of this repository, checked out beside it for a paired benchmark, and a
fresh Python process importing one side's relsim."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def checked_out(root: Path, commit: str, scratch: Path) -> Iterator[Path]:
    """``commit`` of the repository at ``root`` in a temporary git worktree under ``scratch``
    (detached, removed afterwards, whatever happens in between)."""
    tree = scratch / "baseline"
    subprocess.run(
        ["git", "-C", str(root), "worktree", "add", "--detach", str(tree), commit],
        check=True,
        capture_output=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(root), "worktree", "remove", "--force", str(tree)],
            check=False,
            capture_output=True,
        )


def run_python(tree: Path, arguments: list[str], what: str = "a run") -> str:
    """``python ARGUMENTS`` in a fresh process importing ``tree``'s relsim (its ``src/`` first
    on the path); its standard output, or the end of its errors as the benchmark's exit."""
    done = subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(tree / "src")},
    )
    if done.returncode:
        raise SystemExit(f"{what} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout
