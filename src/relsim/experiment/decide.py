"""``relsim decide``: the decision under the assumptions' uncertainty, and which assumption is
worth researching first.

:func:`decide` draws ``samples`` joint sets of the uncertain assumptions
(:mod:`relsim.experiment.psa`), runs every strategy ``replications`` times at each through
the sweep runner (one results folder per draw under ``points/``; common random numbers
across the strategies at a draw, independent noise between draws; one pool of workers or any
executor; resumable), then analyses the sample (:mod:`relsim.experiment.voi`): expected
metric, range and probability of being best per strategy, the recommendation and how often it
is wrong, EVPI and EVPPI per assumption and group with bootstrap intervals and the floor of an
assumption that cannot matter.

Layout of a decision folder (a sweep folder plus)::

    psa.json         the uncertain quantities, their distributions, the groups, what was
                     fixed or left out (written before the first run, read on resume)
    decision.json    the analysis (rewritten from the runs by every completion or resume)

The analysis is a deterministic function of the runs and the root seed (the bootstrap's
stream), so a folder gives the same numbers at any worker count, on any executor, and after a
resume.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.errors import ResultsExist, UsageError
from relsim.experiment import owned, psa, storage
from relsim.experiment.folder import ResultsFolder
from relsim.experiment.results import DEFAULT_METRIC
from relsim.experiment.runner import baseline_of, checked_strategies
from relsim.experiment.sweep import SweepResult, run_sweep
from relsim.experiment.voi import BOOTSTRAP, Voi, analyse
from relsim.scenario import Scenario, load_scenario
from relsim.scenario.model import Uncertainty

DEFAULT_SAMPLES = 32
DEFAULT_REPLICATIONS = 2
PSA = "psa.json"
DECISION = "decision.json"
DECIDE_WRITTEN = (PSA, DECISION)
"""What a decision analysis writes into its folder besides a sweep's files."""


@dataclass
class Decision:
    """A finished decision analysis: the folder, the analysis, and what was uncertain."""

    out: Path
    voi: Voi
    plan: dict[str, Any]
    """``psa.json``: quantities, groups, notes, rejected draws, design, samples."""

    @property
    def groups(self) -> dict[str, list[str]]:
        return dict(self.plan["groups"])

    @property
    def quantities(self) -> list[psa.Quantity]:
        return psa.from_records(self.plan["quantities"])

    @classmethod
    def load(cls, out: str | Path) -> Decision:
        """Open a finished decision folder (its saved analysis)."""
        out = Path(out)
        plan = json.loads((out / PSA).read_text(encoding="utf-8"))
        return cls(out, voi_from_json(json.loads((out / DECISION).read_text("utf-8"))), plan)


def decide(
    scenario: Scenario | str | Path,
    out: str | Path | None = None,
    *,
    samples: int | None = None,
    replications: int | None = None,
    workers: int | None = None,
    executor: cf.Executor | None = None,
    metric: str = DEFAULT_METRIC,
    strategies: list[str] | None = None,
    progress: bool | None = None,
    resume: bool = False,
    force: bool = False,
    memory_check: bool = True,
    bootstrap: int = BOOTSTRAP,
) -> Decision:
    """Run the probabilistic sensitivity analysis of ``scenario`` into ``out`` and analyse it
    (see the module docstring). ``samples`` and ``replications`` default to the scenario's
    ``uncertainty:`` block, else :data:`DEFAULT_SAMPLES` and :data:`DEFAULT_REPLICATIONS`;
    ``resume`` completes an interrupted analysis as it was planned."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.model_copy(update={"sweep": None})
    folder = ResultsFolder(out) if out else ResultsFolder.timestamped(scenario.name, "decide")
    points = None
    if resume:
        if not (folder.root / PSA).is_file():
            raise UsageError(f"{folder.root} holds no decision analysis to resume (no {PSA})")
    else:
        scenario, names = checked_strategies(scenario, strategies)
        if len(names) < 2:
            raise UsageError("a decision needs at least two strategies to choose between")
        block = scenario.uncertainty or Uncertainty()
        replications = replications or block.replications or DEFAULT_REPLICATIONS
        if replications < 2:
            raise UsageError("the noise is measured between replications: give at least 2")
        plan, points = _plan(scenario, samples or block.samples or DEFAULT_SAMPLES)
        _new_folder(folder, force, plan)
        strategies = names
    run_sweep(
        scenario,
        replications=replications,
        workers=workers,
        executor=executor,
        out=folder.root,
        resume=resume,
        progress=progress,
        metric=metric,
        strategies=strategies,
        memory_check=memory_check,
        points=points,
    )
    decision = analyse_folder(folder.root, bootstrap)
    save(decision)
    return decision


def _plan(scenario: Scenario, samples: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """The uncertain quantities, their groups and ``samples`` draws; ``psa.json``'s record."""
    try:
        found, notes = psa.quantities(scenario)
        design = (scenario.uncertainty or Uncertainty()).design
        draws = psa.draw(scenario, found, samples, design)
    except ValueError as error:
        raise UsageError(str(error)) from None
    plan = {
        "scenario": scenario.name,
        "quantities": psa.describe(found),
        "groups": psa.groups(scenario, found),
        "notes": notes,
        "rejected": draws.rejected,
        "reasons": draws.reasons,
        "design": design,
        "samples": samples,
    }
    return plan, draws.points


def _new_folder(folder: ResultsFolder, force: bool, plan: dict[str, Any]) -> None:
    """Refuse a folder that holds results (or with ``force`` replace what relsim wrote), then
    write the plan (before the manifest: a resume needs it)."""
    if folder.holds_results():
        if not force:
            raise ResultsExist(
                f"{folder.root} already holds results; choose another --out, resume them "
                "(--resume) or replace them (--force)"
            )
        folder.replace()
    owned.refuse_foreign_folder(folder.root)
    folder.create()
    storage.atomic_text(json.dumps(plan, indent=1), folder.path(PSA))


def analyse_folder(out: str | Path, bootstrap: int = BOOTSTRAP) -> Decision:
    """Analyse a complete decision folder's runs again (deterministic: same folder, same
    numbers)."""
    out = Path(out)
    result = SweepResult.load(out)
    plan = json.loads((out / PSA).read_text(encoding="utf-8"))
    manifest = result.manifest
    names = list(manifest["strategies"])
    base = manifest.get("baseline") or baseline_of(ResultsFolder(out).load_scenario(), names)
    order = [base, *(n for n in names if n != base)]
    values = sample_values(result.replications, result.metric, order)
    design = result.design
    inputs = pd.DataFrame(
        {q["name"]: design[q["paths"][0]].to_numpy(dtype=float) for q in plan["quantities"]}
    )
    voi = analyse(
        values,
        inputs,
        order,
        groups=plan["groups"],
        metric=result.metric,
        seed=int(manifest["root_seed"]),
        bootstrap=bootstrap,
    )
    return Decision(out, voi, plan)


def sample_values(table: pd.DataFrame, metric: str, order: list[str]) -> np.ndarray:
    """The decision metric as an array (draws x replications x strategies in ``order``)."""
    wide = table.pivot_table(
        index=["point", "replication"], columns="strategy", values=metric, aggfunc="first"
    )[order].sort_index()
    points = wide.index.get_level_values("point").nunique()
    return wide.to_numpy(dtype=float).reshape(points, -1, len(order))


def save(decision: Decision) -> None:
    """Write ``decision.json`` and record the decision's files as relsim's."""
    folder = ResultsFolder(decision.out)
    storage.atomic_text(json.dumps(voi_to_json(decision.voi), indent=1), folder.path(DECISION))
    folder.record(folder.path(PSA), folder.path(DECISION))


def voi_to_json(voi: Voi) -> dict[str, Any]:
    """The analysis as plain JSON (tables as lists of records)."""
    return {
        "metric": voi.metric,
        "recommended": voi.recommended,
        "p_wrong": list(voi.p_wrong),
        "evpi": voi.evpi,
        "noise_share": voi.noise_share,
        "samples": voi.samples,
        "replications": voi.replications,
        "strategies": voi.strategies.to_dict(orient="records"),
        "evppi": voi.evppi.to_dict(orient="records"),
        "curve": voi.curve.to_dict(orient="records"),
        "curve_assumption": voi.curve.attrs.get("assumption"),
    }


def voi_from_json(data: dict[str, Any]) -> Voi:
    """:func:`voi_to_json`'s inverse."""
    curve = pd.DataFrame(data["curve"])
    curve.attrs["assumption"] = data.get("curve_assumption")
    return Voi(
        metric=data["metric"],
        strategies=pd.DataFrame(data["strategies"]),
        recommended=data["recommended"],
        p_wrong=tuple(data["p_wrong"]),  # type: ignore[arg-type]
        evpi=data["evpi"],
        evppi=pd.DataFrame(data["evppi"]),
        noise_share=data["noise_share"],
        samples=data["samples"],
        replications=data["replications"],
        curve=curve,
    )


__all__ = [
    "DECIDE_WRITTEN",
    "DEFAULT_REPLICATIONS",
    "DEFAULT_SAMPLES",
    "Decision",
    "analyse_folder",
    "decide",
    "sample_values",
    "save",
]
