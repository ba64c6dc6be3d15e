"""Sweeps: the same comparison at many variants of a scenario (design points).

A sweep varies one or more scenario fields (:class:`relsim.scenario.model.Sweep`): every
combination of listed values or ranges (full factorial), or a Latin hypercube over ranges and
distributions. Each design point is an ordinary experiment, run by the same runner into
``points/p0000/`` and so on, with the **same replication seeds at every point** -- common
random numbers across points as well as strategies, so a curve over a swept field is not
jagged by noise and differences between points are paired too.

Layout of a sweep folder::

    manifest.json            kind "sweep", the design (one row per point), status
    scenario.resolved.yaml   the scenario with its sweep block
    points/pNNNN/            one results folder per design point (resumable on its own)
    points.parquet           one row per point x strategy: field values, decision metric with
                             its CI, paired difference against the baseline with its CI,
                             P(best), could-be-best, and the means and CIs of key metrics
    replications.parquet     every point's replications, with the point's field values

Interrupting a sweep keeps every finished replication; ``resume=True`` completes it. The design
points themselves come from :mod:`relsim.experiment.design`.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.experiment import limits, storage
from relsim.experiment.design import design, point_scenarios
from relsim.experiment.folder import ResultsFolder, Writing
from relsim.experiment.pool import WorkerPool
from relsim.experiment.records import DamagedManifest
from relsim.experiment.results import DEFAULT_METRIC, Experiment
from relsim.experiment.runner import baseline_of, checked_strategies, run_experiment
from relsim.scenario import Scenario, load_scenario

DEFAULT_SWEEP_REPLICATIONS = 10
POINT_METRICS = (
    "npv_with_residual",
    "npv",
    "profit",
    "churn_rate_annual",
    "market_share_end",
    "customers_end",
)
"""Metrics whose mean and CI the points table carries for every point and strategy."""


def run_sweep(
    scenario: Scenario | str | Path,
    replications: int | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool | None = None,
    metric: str = DEFAULT_METRIC,
    strategies: list[str] | None = None,
    force: bool = False,
    memory_check: bool = True,
    points: pd.DataFrame | None = None,
    executor: cf.Executor | None = None,
) -> SweepResult:
    """Run every design point of ``scenario.sweep`` and assemble the points table.

    Parameters are those of :func:`relsim.run_experiment`; ``replications`` defaults to the
    sweep block's, else 10 per strategy and point. Every point uses the same replication
    seeds (common random numbers across points and strategies) unless its design gives it a
    ``seed`` of its own. One pool of worker processes (or ``executor``) serves all points.
    ``points`` runs a design made elsewhere instead (one column per field path, one row per
    point; sensitivity analysis passes SALib's samples, the decision analysis its draws).
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if scenario.sweep is None and points is None and not resume:
        raise ValueError("the scenario has no sweep block (or give --vary PATH=VALUES)")
    scenario, names = checked_strategies(scenario, strategies)
    folder = ResultsFolder(out) if out else ResultsFolder.timestamped(scenario.name, "sweep")
    settings = None
    if not resume:
        if points is None:
            points = design(scenario)
        block = scenario.sweep.replications if scenario.sweep else None
        replications = replications or block or DEFAULT_SWEEP_REPLICATIONS
        if memory_check and executor is None:
            pool_size = workers or os.cpu_count() or 1
            for variant in point_scenarios(scenario, points):
                limits.check_memory(variant, pool_size, replications * len(names))
        settings = _settings(scenario, names, replications, metric, points)
    with folder.writing(
        scenario, settings, resume=resume, force=force, kind="sweep", extra=SWEEP_WRITTEN
    ) as writing:
        manifest = writing.manifest
        metric = manifest.get("metric", metric)
        if resume:  # the design as it was when the sweep started
            points = pd.DataFrame(manifest["design"])
        assert points is not None
        with WorkerPool(workers, executor) as pool:
            _run_points(pool, writing, point_scenarios(scenario, points), progress, metric)
    return SweepResult(folder.root, metric)


SWEEP_WRITTEN = ("points", "points.parquet")
"""What a sweep writes into its folder besides an experiment's files (``--force`` clears it)."""


def _settings(
    scenario: Scenario, names: list[str], replications: int, metric: str, points: pd.DataFrame
) -> dict[str, Any]:
    """The manifest's fields that describe a new sweep: strategies, design, replications."""
    return {
        "kind": "sweep",
        "strategies": names,
        "baseline": baseline_of(scenario, names),
        "replications_target": replications,
        "metric": metric,
        "design_kind": scenario.sweep.design if scenario.sweep else "custom",
        "fields": (
            [f.path for f in scenario.sweep.fields] if scenario.sweep else list(points.columns)
        ),
        "design": points.to_dict(orient="records"),
    }


def _run_points(
    pool: WorkerPool,
    writing: Writing,
    scenarios: list[Scenario],
    progress: bool | None,
    metric: str,
) -> None:
    """Run (or resume, or skip when complete) every design point, then assemble the points
    and replications tables of the sweep."""
    out, manifest = writing.folder.root, writing.manifest
    for k, variant in enumerate(scenarios):
        _run_point(pool, out, (k, len(scenarios)), variant, progress, manifest, metric)
    result = SweepResult(out, metric, manifest=manifest)
    storage.atomic_parquet(result.build_points(), writing.folder.path("points.parquet"))
    storage.atomic_parquet(result.build_replications(), writing.folder.path("replications.parquet"))


def _run_point(
    pool: WorkerPool,
    out: Path,
    position: tuple[int, int],
    variant: Scenario,
    progress: bool | None,
    manifest: dict[str, Any],
    metric: str,
) -> None:
    """Run design point ``k`` of ``count`` (``position``) into its own folder, or resume it,
    or skip it when it is complete."""
    k, count = position
    point = ResultsFolder(point_dir(out, k))
    if point.holds_results():
        if not _sound_and_complete(point):  # resuming verifies and heals its parts
            run_experiment(variant, out=point.root, resume=True, pool=pool, progress=progress)
        return
    if progress or (progress is None and os.isatty(2)):
        print(f"relsim: design point {k + 1} of {count}", file=sys.stderr)
    run_experiment(
        variant,
        replications=manifest["replications_target"],
        out=point.root,
        progress=progress,
        metric=metric,
        strategies=manifest["strategies"],
        memory_check=False,
        pool=pool,
    )


def _sound_and_complete(point: ResultsFolder) -> bool:
    """Whether a design point is complete with a sound manifest and its packed tables (or, when
    its parts were kept, every part) matching their record (else resuming it rebuilds,
    recomputes and reassembles what is damaged)."""
    try:
        manifest = point.read_manifest()
    except DamagedManifest:
        return False
    if manifest.get("status") != "complete":
        return False
    packed, damage = storage.packed_tables(point.root, manifest)
    if packed:
        return damage is None
    check = storage.check_parts(point.root, manifest["strategies"], heal=False)
    target = manifest["replications_target"]
    wanted = {(s, r) for s in manifest["strategies"] for r in range(target)}
    return not check.damaged and wanted <= check.done


def point_dir(out: Path, k: int) -> Path:
    return Path(out) / "points" / f"p{k:04d}"


class SweepResult:
    """A sweep folder: the design, each point's experiment, and the points table."""

    def __init__(self, out: str | Path, metric: str | None = None, manifest: dict | None = None):
        self.out = Path(out)
        self.manifest = manifest or storage.read_manifest(self.out)
        self.metric = metric or self.manifest.get("metric", DEFAULT_METRIC)
        self.fields: list[str] = self.manifest["fields"]
        self.strategies: list[str] = self.manifest["strategies"]
        self.baseline: str = self.manifest["baseline"]

    @classmethod
    def load(cls, out: str | Path, metric: str | None = None) -> SweepResult:
        """Open a finished sweep folder."""
        return cls(out, metric)

    @property
    def design(self) -> pd.DataFrame:
        """One row per design point, one column per swept field."""
        return pd.DataFrame(self.manifest["design"])

    def experiment(self, point: int) -> Experiment:
        """The experiment at one design point."""
        return Experiment(point_dir(self.out, point), self.metric)

    @property
    def points(self) -> pd.DataFrame:
        """One row per design point x strategy (see the module docstring)."""
        table = pd.read_parquet(self.out / "points.parquet")
        if self.metric != self.manifest.get("metric", DEFAULT_METRIC):
            return self.build_points()
        return table

    @property
    def replications(self) -> pd.DataFrame:
        return pd.read_parquet(self.out / "replications.parquet")

    def build_points(self) -> pd.DataFrame:
        rows = []
        for k, values in enumerate(self.manifest["design"]):
            experiment = self.experiment(k)
            compare = experiment.compare(metric=self.metric).set_index("strategy")
            metrics = [m for m in POINT_METRICS if m != self.metric]
            summary = experiment.summary([self.metric, *metrics])
            for strategy in self.strategies:
                c = compare.loc[strategy]
                row: dict[str, Any] = {"point": k, **values, "strategy": strategy}
                row.update(
                    {
                        "metric": self.metric,
                        "n": len(experiment.values()[strategy]),
                        "mean": float(c["mean"]),
                        "difference": float(c["difference"]),
                        "difference_low": float(c["difference_low"]),
                        "difference_high": float(c["difference_high"]),
                        "significant": bool(c["significant"]),
                        "p_best": float(c["p_best"]),
                        "could_be_best": bool(c["could_be_best"]),
                    }
                )
                mine = summary[summary["strategy"] == strategy].set_index("metric")
                for m in [self.metric, *metrics]:
                    row[f"{m}_mean"] = float(mine.loc[m, "mean"])
                    row[f"{m}_low"] = float(mine.loc[m, "low"])
                    row[f"{m}_high"] = float(mine.loc[m, "high"])
                rows.append(row)
        return pd.DataFrame(rows)

    def build_replications(self) -> pd.DataFrame:
        frames = []
        for k, values in enumerate(self.manifest["design"]):
            table = self.experiment(k).replications
            frames.append(table.assign(point=k, **values))
        table = pd.concat(frames, ignore_index=True)
        first = ["point", *self.fields, "strategy", "replication"]
        return table[first + [c for c in table.columns if c not in first]]

    def best(self) -> pd.DataFrame:
        """Per design point: the strategy with the highest mean of the metric, its margin over
        the runner-up, and whether it is the only one that could be best (MCB screen)."""
        table = self.points
        rows = []
        for k, group in table.groupby("point", sort=True):
            ordered = group.sort_values("mean", ascending=False)
            top = ordered.iloc[0]
            margin = float(top["mean"] - ordered.iloc[1]["mean"]) if len(ordered) > 1 else 0.0
            rows.append(
                {
                    "point": k,
                    **{f: top[f] for f in self.fields},
                    "best": top["strategy"],
                    "margin": margin,
                    "clear": int(group["could_be_best"].sum()) == 1,
                }
            )
        return pd.DataFrame(rows)
