"""The classroom page: one self-contained HTML file that replays simulations for a class.

``write_demo`` runs, for the strategies shown:

* one replication per strategy with a traced sample of customers (the same customers under
  every strategy: the sample is drawn from the population stream), whose weekly place on the
  ladder (primary firm and rung) the page animates side by side;
* a small Monte Carlo experiment (common random numbers) for the running curves -- customers
  kept and cumulative profit, means over replications -- and the final comparison;
* optionally a grid over one or two classroom levers (scenario fields, e.g. a points program's
  reward value x how fast rivals copy), an experiment per cell, so the class can explore
  without a server.

Everything is computed when the page is written; the page (``demo_page.html``, inline script
and styles, no request leaves it) only replays the numbers, and says so.
"""

from __future__ import annotations

import html
import itertools
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim import units
from relsim.domain import RUNGS
from relsim.experiment import run_experiment
from relsim.names import slug
from relsim.scenario import Scenario, ScenarioError, load_scenario
from relsim.scenario.load import Problem
from relsim.scenario.paths import parse_scalar
from relsim.simulation import simulate
from relsim.version import __version__

METRIC = "npv_with_residual"
TRACED_CUSTOMERS = 150
"""How many customers the animation follows (dots on the ladder)."""


@dataclass(frozen=True)
class Lever:
    """A scenario field the class can vary on the page's grid, with the values computed."""

    path: str
    values: tuple[Any, ...]
    name: str = ""

    @property
    def label(self) -> str:
        """The name given, or the path's last two fields in words."""
        if self.name:
            return self.name
        parts = self.path.split(".")
        return " ".join(p.replace("_", " ") for p in parts[-2:] if not p.isdigit())


def _quiet(message: str) -> None:
    """The default receiver of progress messages: silence (the command line prints them)."""


def parse_lever(text: str) -> Lever:
    """``PATH=V1,V2,...`` (as for ``--set``) into a lever; values are YAML-like scalars."""
    path, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not path or len(items) < 2:
        raise ValueError(f"expected PATH=V1,V2[,...] with at least two values, got {text!r}")
    return Lever(path.strip(), tuple(parse_scalar(v) for v in items))


def default_levers(scenario: Scenario) -> list[Lever]:
    """Reward value of the first strategy that runs a points program x the rivals' mean lag
    in copying it: the frequency-program lesson. None when no strategy runs points."""
    for i, strategy in enumerate(scenario.strategies):
        points = strategy.bonds.points
        if points is not None:
            value = points.reward_value
            return [
                Lever(
                    f"strategies.{i}.bonds.points.reward_value",
                    tuple(round(value * k, 2) for k in (0.5, 1.0, 1.5)),
                    f"{strategy.name.replace('_', ' ')}: reward per {points.threshold:g} points",
                ),
                Lever(
                    "rivalry.points.lag.mean_weeks",
                    (4, 26, 78),
                    "weeks until a rival copies the program (mean)",
                ),
            ]
    return []


def demo_data(
    path: str | Path,
    strategies: list[str] | None = None,
    replications: int = 10,
    levers: list[Lever] | None = None,
    grid_replications: int = 4,
    seed: int | None = None,
    workers: int | None = None,
    notify: Callable[[str], None] = _quiet,
) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-able data. ``notify`` hears each phase as it
    starts (the journeys, the comparison, each cell of the grid: minutes in all)."""
    path = Path(path)
    scenario = load_scenario(path)
    names = strategies or [s.name for s in scenario.strategies]
    for name in names:
        scenario.strategy(name)
    if len(names) < 2:
        raise ValueError("the classroom page compares at least two strategies")
    levers = default_levers(scenario) if levers is None else levers
    if len(levers) > 2:
        raise ValueError("the classroom grid has at most two levers")
    seed = scenario.seed if seed is None else seed
    share = min(1.0, TRACED_CUSTOMERS / max(1, scenario.market.customers))
    traced = load_scenario(path, overrides={"trace_share": share, "seed": seed})
    firms = [f.name for f in scenario.firms]
    notify(f"relsim: the customers' journeys under {len(names)} strategies")
    journeys = _journeys(traced, names, seed)
    with tempfile.TemporaryDirectory() as tmp:
        notify(f"relsim: the comparison, {replications} replications per strategy")
        main = run_experiment(
            load_scenario(path, overrides={"seed": seed}),
            replications=replications,
            workers=workers,
            out=Path(tmp) / "main",
            progress=False,
            strategies=names,
        )
        curves = _curves(main, firms[0])
        comparison = _comparison(main)
        grid = _grid(path, names, levers, grid_replications, seed, workers, Path(tmp), notify)
    return {
        "scenario": scenario.name,
        "description": describe(scenario, names),
        "written": datetime.now().isoformat(timespec="minutes"),
        "version": __version__,
        "seed": seed,
        "replications": replications,
        "weeks": scenario.horizon.weeks,
        "firms": firms,
        "rungs": list(RUNGS),
        "strategies": names,
        "baseline": main.baseline,
        "journeys": journeys,
        "curves": curves,
        "comparison": comparison,
        "grid": grid,
    }


def _journeys(traced: Scenario, names: list[str], seed: int) -> dict[str, Any]:
    """Each strategy's traced customers' weekly firm and rung, coded for the page."""
    firms = [f.name for f in traced.firms]
    out = {}
    for name in names:
        run = simulate(traced, strategy=name, seed=seed)
        out[name] = _journey_codes(run.journeys, firms, traced.horizon.weeks)
    return out


def write_demo(path: str | Path, out: str | Path | None = None, **options: Any) -> Path:
    """Write the classroom page for the scenario file ``path``; returns the page's path
    (default ``results/<scenario>-demo.html``). ``options`` go to :func:`demo_data`."""
    data = demo_data(path, **options)
    out = Path(out) if out else Path("results") / f"{slug(data['scenario'])}-demo.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data), encoding="utf-8")
    return out


def render(data: dict[str, Any]) -> str:
    """The page: the template with the data inlined (``</`` escaped so no string in it can
    close the script element)."""
    template = resources.files("relsim.viz").joinpath("demo_page.html").read_text("utf-8")
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    title = f"relsim classroom: {data['scenario']}"
    return template.replace("{{TITLE}}", html.escape(title)).replace("{{DATA}}", payload)


def describe(scenario: Scenario, names: list[str]) -> list[str]:
    """The market in a few sentences, from the scenario itself."""
    firms = scenario.firms
    years = units.years(scenario.horizon.weeks)
    segments = ", ".join(f"{s.name.replace('_', ' ')} ({s.share:.0%})" for s in scenario.segments)
    return [
        f"A market of about {scenario.market.customers:,} customers ({segments}) and "
        f"{len(firms)} firms: ours, called {firms[0].name}, and "
        + " and ".join(f.name for f in firms[1:])
        + ". Each week customers may buy, choosing a firm by price, quality and what binds "
        "them to it; good experiences move them up the loyalty ladder (customer, client, "
        "supporter, advocate, partner), bad ones down, and some leave for a reason.",
        f"We compare {len(names)} strategies of {firms[0].name} over {years:.0f} years: "
        + ", ".join(n.replace("_", " ") for n in names)
        + ". Every strategy meets the same customers and the same luck (common random "
        "numbers), so differences come from the strategy.",
    ]


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


def _curves(experiment: Any, focal: str) -> dict[str, Any]:
    weekly = experiment.weekly
    weekly = weekly[weekly["firm"] == focal]
    out: dict[str, Any] = {}
    for name, table in weekly.groupby("strategy", observed=True):
        mean = table.groupby("week")[["customers", "profit"]].mean()
        customers = mean["customers"].to_numpy()
        out[str(name)] = {
            "kept": (customers / max(customers[0], 1.0)).round(4).tolist(),
            "customers": customers.round(1).tolist(),
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


def _grid(
    path: Path,
    names: list[str],
    levers: list[Lever],
    replications: int,
    seed: int,
    workers: int | None,
    tmp: Path,
    notify: Callable[[str], None] = _quiet,
) -> dict[str, Any] | None:
    """An experiment per combination of lever values: each cell's comparison."""
    if not levers:
        return None
    cells = []
    combinations = list(itertools.product(*(lever.values for lever in levers)))
    for i, values in enumerate(combinations):
        overrides = {lever.path: value for lever, value in zip(levers, values, strict=True)}
        settings = ", ".join(f"{k}={v}" for k, v in overrides.items())
        notify(f"relsim: grid cell {i + 1} of {len(combinations)} ({settings})")
        try:
            scenario = load_scenario(path, overrides={**overrides, "seed": seed})
        except ScenarioError as error:
            raise ScenarioError(
                error.file, [*error.problems, Problem("demo lever", f"values {overrides}")]
            ) from None
        experiment = run_experiment(
            scenario,
            replications=replications,
            workers=workers,
            out=tmp / f"cell-{i}",
            progress=False,
            strategies=names,
        )
        rows = _comparison(experiment)
        kept = [r["strategy"] for r in rows if r["could_be_best"]]
        best = max(rows, key=lambda r: r["npv"])
        cells.append(
            {
                "values": list(values),
                "rows": rows,
                "best": best["strategy"],
                "clear": len(kept) == 1,
            }
        )
    return {
        "levers": [{"path": x.path, "label": x.label, "values": list(x.values)} for x in levers],
        "replications": replications,
        "cells": cells,
    }
