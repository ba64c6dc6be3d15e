"""The classroom page: one self-contained HTML file that replays simulations for a class.

``demo_data`` computes, for the strategies shown:

* one replication per strategy with every customer traced (the same customers under every
  strategy): the page animates a sample of them on the ladder, and the run gives the share
  of week 0's customers still ours each week ("customers kept");
* a small Monte Carlo experiment (common random numbers) for the running curves (our
  customers and cumulative profit, means over replications) and the final comparison;
* optionally a grid over one or two classroom levers (:mod:`relsim.viz.demo_grid`);
* the Info tab's words and every statistic's meaning (:mod:`relsim.viz.demo_words`).

Every experiment shares one worker pool, and each phase says how long it took. Written as a
file the page replays these numbers offline; ``relsim demo --serve``
(:mod:`relsim.viz.demo_serve`) serves the same page and recomputes on request.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from relsim.domain import RUNGS
from relsim.experiment import run_experiment
from relsim.experiment.pool import WorkerPool
from relsim.model.shared_warm_up import strategy_runs
from relsim.names import slug
from relsim.results import Run
from relsim.scenario import Scenario, load_scenario
from relsim.version import __version__
from relsim.viz.demo_grid import Lever, compute_grid, default_levers, parse_lever
from relsim.viz.demo_words import info, statistics
from relsim.viz.words import currency

T = TypeVar("T")

TRACED_CUSTOMERS = 150
"""How many customers the animation follows (dots on the ladder)."""


def _quiet(message: str) -> None:
    """The default receiver of progress messages: silence (the command line prints them)."""


def firm_labels(scenario: Scenario) -> list[str]:
    """The firms as the page names them: ours first ("our firm", or its name and so)."""
    first = scenario.firms[0].name
    ours = "our firm" if first == "focal" else f"{first} (our firm)"
    return [ours, *(f.name for f in scenario.firms[1:])]


def demo_data(
    path: str | Path,
    strategies: list[str] | None = None,
    replications: int = 8,
    levers: list[Lever] | None = None,
    grid_replications: int = 3,
    seed: int | None = None,
    workers: int | None = None,
    notify: Callable[[str], None] = _quiet,
    overrides: dict[str, Any] | None = None,
    pool: WorkerPool | None = None,
    journeys: Callable[..., Any] | None = None,
    kept: Path | None = None,
) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-able data. ``overrides`` (field path: value)
    change the scenario (the live page's levers); ``notify`` hears each phase. ``pool``: a
    started :class:`~relsim.experiment.pool.WorkerPool` to use instead of one of ``workers``
    for this call (the live page keeps one for every recomputation); ``journeys``: what
    computes the traced journeys (default :func:`_journeys`; the live page passes a
    :class:`LatestJourneys`, so the stages of one request compute them once). With worker
    processes, the journeys are simulated in a thread here while they run the experiment.
    ``kept``: the comparison's results folder, kept past the call: called again with more
    replications it adds to them (the live page's stages)."""
    path = Path(path)
    overrides = dict(overrides or {})
    scenario = load_scenario(path, overrides=overrides)
    names, levers = _checked(scenario, strategies, levers)
    seed = scenario.seed if seed is None else seed
    start = time.monotonic()
    traced = journeys or _journeys
    own = WorkerPool(workers, None) if pool is None else contextlib.nullcontext(pool)
    with tempfile.TemporaryDirectory() as tmp, own as pool:
        told = _told(traced, notify, f"the customers' journeys under {len(names)} strategies")
        done = _beside(pool, lambda: told(path, overrides, names, seed))
        out = kept or Path(tmp) / "main"
        main = _experiment(path, {**overrides, "seed": seed}, names, replications, pool, out, done)
        coded, shares = done()
        curves = _curves(main, scenario.firms[0].name, shares)
        comparison = _comparison(main)
        notify(
            f"relsim: the comparison, {replications} replications per strategy ({_since(start)})"
        )
        grid = compute_grid(
            path,
            names,
            levers,
            grid_replications,
            seed,
            Path(tmp),
            pool,
            _comparison,
            notify,
            overrides,
        )
    page = {"journeys": coded, "curves": curves, "comparison": comparison, "grid": grid}
    page |= {"overrides": overrides, "seconds": round(time.monotonic() - start, 1)}
    return _about(scenario, names, main.baseline, seed, replications) | page


def _told(work: Callable[..., T], notify: Callable[[str], None], what: str) -> Callable[..., T]:
    """``work`` that, once done, tells ``notify`` how long it has been since it was made
    (the page's phases: the journeys may finish beside the experiment, or before it)."""
    start = time.monotonic()

    def told(*args: Any) -> T:
        found = work(*args)
        notify(f"relsim: {what} ({_since(start)})")
        return found

    return told


def _experiment(
    path: Path,
    overrides: dict[str, Any],
    names: list[str],
    replications: int,
    pool: WorkerPool,
    out: Path,
    beside: Callable[[], Any],
) -> Any:
    """The page's comparison: ``replications`` of each strategy shown, in ``out`` (added to
    the replications it holds). If it fails, ``beside`` (what waits for the work running
    beside it) is waited for first, so that a failed request leaves nothing simulating."""
    try:
        return run_experiment(
            load_scenario(path, overrides=overrides),
            replications=replications,
            out=out,
            resume=(out / "manifest.json").exists(),
            progress=False,
            strategies=names,
            pool=pool,
            keep_parts=True,  # a folder soon gone, or one the next stage adds to
        )
    except Exception:
        with contextlib.suppress(Exception):
            beside()
        raise


def _beside(pool: WorkerPool, work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work`` and return what waits for its result (and raises its error). With
    worker processes it runs in a daemon thread now, beside what this process does next;
    in this process alone it runs at once (a thread would only take turns with the rest)."""
    if pool.executor is None:
        done = work()
        return lambda: done
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:  # handed to the waiting thread
            outcome.append((False, error))

    thread = threading.Thread(target=run, name="relsim-journeys", daemon=True)
    thread.start()

    def wait() -> T:
        thread.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    return wait


class LatestJourneys:
    """:func:`_journeys` remembering its latest answer: asked again for the same scenario file
    (the same bytes), overrides, strategies and seed, it gives it without simulating.
    The live page's stages of one request (2 runs per strategy, then more) show the same
    journeys, so they are simulated once per request."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._value: tuple[dict[str, Any], dict[str, list[float]]] | None = None
        self._lock = threading.Lock()

    def __call__(
        self, path: Path, overrides: dict[str, Any], names: list[str], seed: int
    ) -> tuple[dict[str, Any], dict[str, list[float]]]:
        key = (
            str(path.resolve()),
            hashlib.sha256(path.read_bytes()).hexdigest(),  # a scenario file: a few KB
            json.dumps(overrides, sort_keys=True, default=str),
            tuple(names),
            seed,
        )
        with self._lock:
            if key != self._key or self._value is None:
                self._value = _journeys(path, overrides, names, seed)
                self._key = key
            return self._value


def _checked(
    scenario: Scenario, strategies: list[str] | None, levers: list[Lever] | None
) -> tuple[list[str], list[Lever]]:
    """The strategies shown (KeyError: an unknown one) and the grid's levers."""
    names = strategies or [s.name for s in scenario.strategies]
    for name in names:
        scenario.strategy(name)
    if len(names) < 2:
        raise ValueError("the classroom page compares at least two strategies")
    levers = default_levers(scenario) if levers is None else levers
    if len(levers) > 2:
        raise ValueError("the classroom grid has at most two levers")
    return names, levers


def _about(
    scenario: Scenario, names: list[str], baseline: str, seed: int, replications: int
) -> dict[str, Any]:
    """The page's description of what it shows: names, settings and words."""
    return {
        "scenario": scenario.name,
        "written": datetime.now().isoformat(timespec="minutes"),
        "version": __version__,
        "seed": seed,
        "replications": replications,
        "weeks": scenario.horizon.weeks,
        "currency": currency(scenario),
        "firms": firm_labels(scenario),
        "rungs": list(RUNGS),
        "strategies": names,
        "baseline": baseline,
        "info": info(scenario, names),
        "statistics": statistics(currency(scenario), baseline.replace("_", " ")),
    }


def _since(start: float) -> str:
    return f"{time.monotonic() - start:.0f} s so far"


def _journeys(
    path: Path, overrides: dict[str, Any], names: list[str], seed: int
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Each strategy's sampled customers' weekly firm and rung, coded for the page, and the
    share of week 0's customers of our firm still ours each week (from every customer).

    The strategies share one warm-up (:func:`relsim.model.shared_warm_up.strategy_runs`: the
    same numbers as a run of each, one warm-up instead of one per strategy), and each run is
    let go once its journeys are coded."""
    traced = load_scenario(path, overrides={**overrides, "trace_share": 1.0, "seed": seed})
    firms = [f.name for f in traced.firms]
    out, kept = {}, {}
    sample: np.ndarray | None = None
    runs = strategy_runs(traced, [traced.strategy(name) for name in names], seed)
    for name, raw in zip(names, runs, strict=True):
        journeys = Run(raw, seed).journeys
        kept[name] = kept_share(journeys, firms[0], traced.horizon.weeks)
        if sample is None:
            everyone = np.sort(journeys["customer"].unique())
            step = max(1, len(everyone) // TRACED_CUSTOMERS)
            sample = everyone[::step][:TRACED_CUSTOMERS]
        shown = journeys[journeys["customer"].isin(sample)]
        out[name] = _journey_codes(shown, firms, traced.horizon.weeks)
        del raw, journeys, shown  # before the next strategy's run is simulated
    return out, kept


def kept_share(journeys: pd.DataFrame, focal: str, weeks: int) -> list[float]:
    """Of the customers whose firm is ``focal`` in week 0, the share whose firm has been
    ``focal`` in every week since (leaving, even to come back, or leaving the market ends
    it): a retention curve, never rising."""
    first = journeys[journeys["week"] == 0]
    ours = first.loc[first["firm"] == focal, "customer"].to_numpy()
    if len(ours) == 0:
        return [0.0] * weeks
    j = journeys[journeys["customer"].isin(ours)]
    left = j.loc[j["firm"] != focal].groupby("customer")["week"].min()
    last = j.groupby("customer")["week"].max()  # absent after leaving the market
    gone = last[last < weeks - 1] + 1
    ends = pd.concat([left, gone]).groupby(level=0).min()
    lost_by = np.bincount(np.minimum(ends.to_numpy(), weeks), minlength=weeks + 1)[:weeks]
    return (1.0 - np.cumsum(lost_by) / len(ours)).round(4).tolist()


def write_demo(path: str | Path, out: str | Path | None = None, **options: Any) -> Path:
    """Write the classroom page for the scenario file ``path``; returns the page's path
    (default ``results/<scenario>-demo.html``). ``options`` go to :func:`demo_data`."""
    data = demo_data(path, **options)
    out = Path(out) if out else Path("results") / f"{slug(data['scenario'])}-demo.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data), encoding="utf-8")
    return out


def render(data: dict[str, Any], live: dict[str, Any] | None = None) -> str:
    """The page: the template with the data inlined (``</`` escaped so no string in it can
    close the script element). ``live`` (the levers the server answers) makes it the live
    page; without it the page says it replays precomputed numbers offline."""
    template = resources.files("relsim.viz").joinpath("demo_page.html").read_text("utf-8")
    payload = {**data, "live": live}
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    title = f"relsim classroom: {data['scenario']}"
    return template.replace("{{TITLE}}", html.escape(title)).replace("{{DATA}}", text)


def _journey_codes(journeys: pd.DataFrame, firms: list[str], weeks: int) -> dict[str, Any]:
    """Traced customers x weeks as small integers: -1 out of the market, else
    (firm index + 1) x 6 + rung, firm index -1 for customers without a primary firm."""
    customers = np.sort(journeys["customer"].unique())
    codes = np.full((len(customers), weeks), -1, dtype=np.int16)
    if len(customers):
        row = np.searchsorted(customers, journeys["customer"].to_numpy())
        firm = journeys["firm"].cat.codes.to_numpy().astype(np.int16)  # -1 for none
        rung = journeys["rung"].cat.codes.to_numpy().astype(np.int16)
        codes[row, journeys["week"].to_numpy()] = (firm + 1) * len(RUNGS) + rung
    return {"customers": customers.tolist(), "codes": codes.ravel().tolist()}


def _curves(experiment: Any, focal: str, kept: dict[str, list[float]]) -> dict[str, Any]:
    weekly = experiment.weekly
    weekly = weekly[weekly["firm"] == focal]
    out: dict[str, Any] = {}
    for name, table in weekly.groupby("strategy", observed=True):
        mean = table.groupby("week")[["customers", "profit"]].mean()
        out[str(name)] = {
            "kept": kept[str(name)],
            "customers": mean["customers"].to_numpy().round(1).tolist(),
            "profit": np.cumsum(mean["profit"].to_numpy()).round(0).tolist(),
        }
    return out


def _comparison(experiment: Any) -> list[dict[str, Any]]:
    table = experiment.compare()
    extra = experiment.summary(["churn_rate_annual", "market_share_end", "profit"])
    rows = []
    for row in table.itertuples():
        means = extra[extra["strategy"] == row.strategy].set_index("metric")["mean"]
        rows.append(
            {
                "strategy": row.strategy,
                "npv": round(float(row.mean)),
                "difference": round(float(row.difference)),
                "low": round(float(row.difference_low)),
                "high": round(float(row.difference_high)),
                "significant": bool(row.significant),
                "p_best": round(float(row.p_best), 3),
                "could_be_best": bool(row.could_be_best),
                "churn": round(float(means["churn_rate_annual"]), 4),
                "share_end": round(float(means["market_share_end"]), 4),
                "profit": round(float(means["profit"])),
            }
        )
    return rows


__all__ = [
    "TRACED_CUSTOMERS",
    "Lever",
    "default_levers",
    "demo_data",
    "firm_labels",
    "kept_share",
    "parse_lever",
    "render",
    "write_demo",
]
