"""Another commit of this repository, checked out beside it for a paired benchmark."""

from __future__ import annotations

import contextlib
import subprocess
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
