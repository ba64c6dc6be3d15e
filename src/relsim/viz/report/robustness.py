"""The report's robustness section: does the recommendation survive the assumptions?

Shown only when ``relsim run --robustness`` (or ``relsim robustness``) has finished its
variants in ``<results>/robustness``: the tornado of the recommended strategy's advantage over
the runner-up with each assumption of the register at the ends of its range, and the
assumption ends at which another strategy wins. Kept apart because it reads its own folder
and draws its own figure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relsim.experiment.folder import MANIFEST
from relsim.viz.report.render import Block, money

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment


def robustness_section(experiment: Experiment) -> list[Block]:
    """The robustness section, when ``relsim run --robustness`` (or ``relsim robustness``)
    has finished its variants in ``<results>/robustness``."""
    from relsim.experiment import storage

    loaded = _load(experiment)
    if loaded is None:
        return []
    result, plot_tornado = loaded
    folder = experiment.out / "robustness"
    _draw_tornado(result, experiment.out / "plots", plot_tornado)
    varied = result.table["assumption"].nunique()
    n = storage.read_manifest(folder)["replications_target"]
    blocks: list[Block] = [
        ("h2", "Robustness to the assumptions"),
        (
            "p",
            f"Each of {varied} assumptions of the register (docs/model.md, section 5) was set "
            f"to the low and to the high end of its plausible range, one at a time, and every "
            f"strategy run again ({n} replications each, common random numbers). The base "
            f"run recommends {result.recommended}; the bars show its advantage over the "
            f"runner-up, {result.runner_up}, at the two ends ({money(result.base_advantage)} "
            "in the base run). A bar across zero means the two swap places within that range; "
            "red means some strategy other than the recommended one has the highest mean at "
            "one end.",
        ),
        ("img", "robustness.png"),
    ]
    return blocks + _changes(result)


def _load(experiment: Experiment) -> tuple[Any, Callable[..., Any]] | None:
    """The finished robustness analysis of the run and the tornado's drawing function, or
    None when none has finished."""
    from relsim.experiment import storage

    folder = experiment.out / "robustness"
    if not (folder / MANIFEST).exists():
        return None
    if storage.read_manifest(folder).get("status") != "complete":
        return None
    from relsim.experiment.robustness import load_robustness
    from relsim.viz.study_plots import plot_tornado

    return load_robustness(folder), plot_tornado


def robustness_finding(experiment: Experiment) -> str | None:
    """The top robustness finding in one clause, for the summary: the assumption end at which
    another strategy wins by the widest margin, or that no single assumption changes the
    recommendation; None when no robustness analysis has finished."""
    loaded = _load(experiment)
    if loaded is None:
        return None
    result = loaded[0]
    changes = result.changes
    ends = len(result.table)
    if changes.empty:
        return (
            f"no single assumption of the register, moved alone to either end of its range, "
            f"changes the recommendation ({ends} ends tested; assumptions moved together can)"
        )
    top = changes.sort_values("margin", ascending=False).iloc[0]
    return (
        f"the recommendation changes at {len(changes)} of {ends} assumption ends tested; the "
        f"widest: {top['assumption']} at its {top['end']} end ({top['value']:g}) makes "
        f"{top['best']} best"
    )


def _draw_tornado(result: Any, plots: Path, plot_tornado: Callable[..., Any]) -> None:
    """Draw ``plots/robustness.png`` with ``plot_tornado`` unless it is there already."""
    if not (plots / "robustness.png").exists():
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 6))
        plot_tornado(result, ax=fig.subplots())
        fig.tight_layout()
        plots.mkdir(parents=True, exist_ok=True)
        fig.savefig(plots / "robustness.png", dpi=110)


def _changes(result: Any) -> list[Block]:
    """The assumption ends at which the recommendation changes, or a sentence that none does."""
    changes = result.changes
    if changes.empty:
        return [
            (
                "p",
                f"**No single assumption, moved alone to either end of its range, changes the "
                f"recommendation ({result.recommended}).** Assumptions moved together can.",
            )
        ]
    against = f"{result.recommended} - {result.runner_up}"
    shown = changes.assign(
        value=changes["value"].map(lambda v: f"{v:g}"),
        margin=changes["margin"].map(money),
        clear=changes["clear"].map({True: "yes", False: "no"}),
        advantage=changes["advantage"].map(money),
    ).rename(columns={"best": "best then", "clear": "clearly best", "advantage": against})[
        ["assumption", "end", "value", "best then", "margin", "clearly best", against]
    ]
    return [
        (
            "p",
            f"**The recommendation changes at {len(changes)} of {len(result.table)} "
            "assumption ends:**",
        ),
        ("table", shown.set_index("assumption")),
    ]


__all__ = ["robustness_finding", "robustness_section"]
