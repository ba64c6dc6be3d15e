"""Data out of relsim, as functions a notebook can call: what ``relsim export`` does.

:func:`export_tables` writes a finished run's tables as CSV; :func:`export_transactions`
simulates one replication again from its seed and writes its purchases at a firm as a
transaction log, the format ``relsim calibrate`` (:mod:`relsim.calibration`) reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from relsim.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from relsim.scenario import Scenario


def _quiet(message: str) -> None:
    """The default receiver of progress messages: silence (the command line prints them)."""


def export_tables(
    results: str | Path,
    to: str | Path | None = None,
    force: bool = False,
    notify: Callable[[str], None] = _quiet,
) -> Path:
    """Write a finished run's tables (replications and the tidy tables) as CSV files into
    ``to`` (default ``<results>/csv``); returns the folder. An existing file relsim did not
    write there is refused (:class:`UsageError`, naming it) unless ``force``; nothing is
    written then. ``notify`` hears each table as it starts (a large run's take minutes)."""
    import pandas as pd

    from relsim.experiment import storage
    from relsim.experiment.folder import ResultsFolder
    from relsim.experiment.owned import refuse_overwrite

    folder = ResultsFolder(results)
    folder.require_complete()
    target = Path(to) if to else folder.path("csv")
    inside = _inside(folder.root, target)
    files = [target / f"{name}.csv" for name in ("replications", *storage.TABLES)]
    for file in files:
        refuse_overwrite(file, force, folder.root if inside else None)
    target.mkdir(parents=True, exist_ok=True)
    for k, file in enumerate(files, start=1):
        notify(f"relsim: writing {file.name} ({k} of {len(files)})")
        pd.read_parquet(folder.path(f"{file.stem}.parquet")).to_csv(file, index=False)
        if inside:
            folder.record(file)
    return target


def _source_scenario(source: Path) -> Scenario:
    """The scenario of a finished results folder, or of a scenario file."""
    from relsim.experiment.folder import ResultsFolder
    from relsim.scenario import load_scenario

    if source.is_dir():
        folder = ResultsFolder(source)
        folder.require_complete()
        return folder.load_scenario()
    return load_scenario(source)


def _inside(root: Path, path: Path) -> bool:
    """Whether ``path`` lies inside the folder ``root`` (links resolved)."""
    return path.resolve().is_relative_to(root.resolve())


@dataclass
class TransactionLog:
    """One replication's purchases at a firm, written by :func:`export_transactions`."""

    path: Path
    log: pd.DataFrame
    """customer, date, amount: the format ``relsim calibrate`` reads."""
    strategy: str
    firm: str
    replication: int


def export_transactions(
    source: str | Path,
    to: str | Path | None = None,
    strategy: str | None = None,
    replication: int = 0,
    firm: str | None = None,
    start_date: str = "2026-01-05",
    force: bool = False,
    notify: Callable[[str], None] = _quiet,
) -> TransactionLog:
    """Simulate one replication again -- of a finished results folder's scenario, or of a
    scenario file -- and write its purchases at ``firm`` (default: the focal firm) as a
    transaction log (customer,date,amount). The replication is simulated from its own seed,
    so it is the run's own; week 0 is dated ``start_date`` and the warm-up is included.
    ``strategy`` defaults to the baseline; ``to`` to
    ``results/<scenario>-<strategy>-r<replication>-transactions.csv`` (named from the names'
    slugs). An existing file at ``to`` is refused (:class:`UsageError`) unless ``force``;
    ``notify`` hears the re-simulation start (as long as one replication)."""
    from datetime import date

    from relsim.calibration import simulated_log
    from relsim.experiment import replication_seed
    from relsim.experiment.owned import refuse_overwrite
    from relsim.names import slug
    from relsim.simulation import simulate

    scenario = _source_scenario(Path(source))
    strategy = strategy or scenario.baseline_strategy
    scenario.strategy(strategy)
    firm = firm or scenario.focal.name
    if firm not in {f.name for f in scenario.firms}:
        raise UsageError(f"no firm {firm!r}; firms: {', '.join(f.name for f in scenario.firms)}")
    try:
        start = date.fromisoformat(start_date)
    except ValueError:
        raise UsageError(f"--start-date needs YYYY-MM-DD, got {start_date!r}") from None
    if replication < 0:
        raise UsageError("--replication is 0 or more")
    target = (
        Path(to)
        if to
        else Path("results")
        / (f"{slug(scenario.name)}-{slug(strategy)}-r{replication}-transactions.csv")
    )
    refuse_overwrite(target, force)
    traced = scenario.model_copy(update={"trace_share": 1.0})  # traces every customer; the
    # trace draws no random numbers, so the run is the same replication as in the results
    notify(f"relsim: simulating {strategy}, replication {replication}, again from its seed")
    run = simulate(traced, strategy=strategy, seed=replication_seed(scenario.seed, replication))
    log = simulated_log(run.trace, firm, start)
    target.parent.mkdir(parents=True, exist_ok=True)
    log.to_csv(target, index=False)
    return TransactionLog(target, log, strategy, firm, replication)


__all__ = ["TransactionLog", "export_tables", "export_transactions"]
