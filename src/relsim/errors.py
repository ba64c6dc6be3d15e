"""Errors of the public API that the command line turns into its exit codes.

A leaf module with no imports of its own, so that ``relsim.cli`` can name them before anything
heavy is imported.
"""

from __future__ import annotations

from pathlib import Path


class UsageError(Exception):
    """A request that is incomplete or contradictory (the command line's exit code 2)."""


class ResultsExist(UsageError, FileExistsError):
    """A run or study asked to write into a folder that already holds results, without
    ``--resume`` or ``--force``: a request to change, not a failure (exit code 2); still a
    ``FileExistsError`` for code that catches that."""


class Interrupted(KeyboardInterrupt):
    """A Ctrl-C in a stage whose finished work is kept on disk: ``stage`` is
    ``"replications"`` (resume the run or sweep in ``out``), ``"robustness"`` (the variants:
    resume the robustness analysis of the finished run in ``out``) or ``"decide"`` (the
    decision analysis's draws: resume it in ``out``)."""

    def __init__(self, stage: str, out: Path):
        super().__init__(stage)
        self.stage = stage
        self.out = out


__all__ = ["Interrupted", "ResultsExist", "UsageError"]
