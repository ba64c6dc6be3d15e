"""How far a run is, on stderr: a tqdm bar on a terminal, plain lines elsewhere.

Why apart: a run's stderr is often a log file or a pipe (a batch job, CI, ``2> log``), where a
bar is a stream of carriage returns and a silent run looks hung. There :class:`Progress`
writes a plain line (``relsim: 40 of 120 replications done, 3 min elapsed, about 6 min
left``) at least every :func:`relsim.experiment.limits.long_run_seconds` (a minute). The clock
is shared by the experiments of one process, so a sweep of many short design points still
says how far it is once a minute.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from relsim.experiment import limits

_last_line = [time.monotonic()]
"""When this process last wrote a plain progress line (or started its first run)."""


def restart_clock() -> None:
    """A new run (not a sweep's next point): the next plain line comes an interval from now."""
    _last_line[0] = time.monotonic()


class Progress:
    """Replications done out of ``total``: a bar when stderr is a terminal and ``show`` is
    not False, plain lines at least once an interval when it is not, nothing with ``show``
    False. ``label`` names the run in plain lines (a sweep's design point)."""

    def __init__(self, total: int, show: bool | None, label: str = ""):
        from tqdm import tqdm

        terminal = sys.stderr.isatty()
        self.total, self.done, self.label = total, 0, label
        self.plain = show is not False and not terminal
        self.started = time.monotonic()
        self.interval = limits.long_run_seconds()
        self.bar: Any = tqdm(
            total=total,
            disable=not (terminal and show is not False),
            unit="run",
            desc="replications",
            file=sys.stderr,
        )

    def update(self) -> None:
        self.done += 1
        self.bar.update(1)
        now = time.monotonic()
        if self.plain and now - _last_line[0] >= self.interval:
            _last_line[0] = now
            print(self.line(now - self.started), file=sys.stderr, flush=True)

    def line(self, elapsed: float) -> str:
        """The plain line: done of total, time elapsed and, once something is done, left."""
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        where = f" ({self.label})" if self.label else ""
        return (
            f"relsim: {self.done} of {self.total} replications done{where}, "
            f"{_minutes(elapsed)} elapsed, about {_minutes(left)} left"
        )

    def close(self) -> None:
        self.bar.close()


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def announce(line: str | None) -> None:
    """The estimate line of a long or big run, on stderr (whatever ``--progress`` says)."""
    if line:
        print(line, file=sys.stderr, flush=True)


__all__ = ["Progress", "announce", "restart_clock"]
