"""The runner's settings checked before any work: replications, workers, the precision rule's
share and the decision metric.

Why apart: the command line checks the same values in its argument types (``relsim run
--replications -3`` is a usage error before anything is read) and :func:`relsim.run_experiment`
checks them again before a folder is created, so a notebook gets the same refusal. Each
refusal is a :class:`SettingError`: a ``ValueError`` naming the argument, and a
:class:`~relsim.errors.UsageError` (the command line's exit code 2).

The decision metric must be a column of a replication's summary. The summary's columns do not
depend on the scenario (:mod:`relsim.results.summary` builds them from the domain's names), so
:func:`summary_metrics` lists them from a dry run of one replication of a tiny built-in market
(20 customers, one week: a few milliseconds), once per process.
"""

from __future__ import annotations

import functools
import math

from relsim.errors import UsageError

MAX_REPLICATIONS = 100_000
"""Replications per strategy relsim runs at most: each is a folder of parts on disk, and a
95% CI narrows only as 1/sqrt(n) (the precision rule stops far below this)."""
MAX_WORKERS = 1024
"""Worker processes at most, whatever the memory (each is a Python process of its own)."""


class SettingError(UsageError, ValueError):
    """A runner setting out of its range: a ``ValueError`` naming the argument, and a usage
    error for the command line (exit code 2)."""


def count(name: str, value: object, high: int | None = None) -> int:
    """``value`` as a whole number from 1 (to ``high``, when given; ``name`` is the
    argument's)."""
    span = f"from 1 to {high:,}" if high is not None else "from 1"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value != int(value):  # type: ignore[arg-type]
        raise SettingError(f"{name} must be a whole number {span}, got {value!r}")
    if value < 1 or (high is not None and value > high):  # type: ignore[operator]
        raise SettingError(f"{name} must be {span}, got {int(value):,}")  # type: ignore[arg-type]
    return int(value)  # type: ignore[arg-type]


def share(name: str, value: object) -> float:
    """``value`` as a share strictly between 0 and 1 (NaN and infinity refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingError(f"{name} must be a share between 0 and 1, e.g. 0.05; got {value!r}")
    if not math.isfinite(value) or not 0.0 < value < 1.0:
        raise SettingError(
            f"{name} must be a share strictly between 0 and 1, e.g. 0.05 for 5%; got {value}"
        )
    return float(value)


@functools.cache
def summary_metrics() -> tuple[str, ...]:
    """The columns of a replication's summary: the metrics ``--metric`` may name."""
    from relsim.scenario import Scenario
    from relsim.simulation import simulate

    tiny = Scenario.model_validate(
        {
            "segments": [{"name": "all", "share": 1.0}],
            "firms": [{"name": "focal", "initial_share": 1.0}],
            "market": {"customers": 20},
            "horizon": {"weeks": 1, "warmup_weeks": 0},
        }
    )
    run = simulate(tiny, strategy=tiny.strategies[0].name, seed=0)
    return tuple(sorted(run.summary))


def metric(value: object, name: str = "metric") -> str:
    """``value`` if it is a summary column, else :class:`SettingError` listing them."""
    known = summary_metrics()
    if value not in known:
        import difflib

        near = difflib.get_close_matches(str(value), known, n=3)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise SettingError(
            f"{name} {value!r} is not a summary column; {hint}the columns are: {', '.join(known)}"
        )
    return str(value)


__all__ = [
    "MAX_REPLICATIONS",
    "MAX_WORKERS",
    "SettingError",
    "count",
    "metric",
    "share",
    "summary_metrics",
]
