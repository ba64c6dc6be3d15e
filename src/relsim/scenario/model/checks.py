"""The scenario's cross-checks: rules that span its parts (names, shares, the focal firm, the
strategies' references to segments and firms, the sweep's paths), one function per concern.

Why apart: each part validates its own fields; what only holds across parts is checked here,
in the order :meth:`Scenario._consistent` calls them (the first problem found is reported).
Each takes the :class:`Scenario` being validated (typed ``Any``: this module sits below it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relsim.scenario.model.base import SHARE_TOLERANCE
from relsim.scenario.model.bonds import Bonds
from relsim.scenario.paths import check_path
from relsim.units import WEEKS_PER_YEAR

if TYPE_CHECKING:
    from relsim.scenario.model.market import Firm
    from relsim.scenario.model.strategy import Strategy

MAX_FIRMS = 16


def check_names(scenario: Any) -> None:
    """Segments, firms and strategies each have distinct names."""
    _check_unique("segments", [s.name for s in scenario.segments])
    _check_unique("firms", [f.name for f in scenario.firms])
    _check_unique("strategies", [s.name for s in scenario.strategies])


def check_shares(scenario: Any) -> None:
    """Segment shares and firms' initial shares are distributions; the firms are few enough."""
    total = sum(s.share for s in scenario.segments)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"segment shares must sum to 1, got {total:.6g}")
    total = sum(f.initial_share for f in scenario.firms)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"firms' initial_share must sum to 1, got {total:.6g}")
    if len(scenario.firms) > MAX_FIRMS:
        raise ValueError("at most 16 firms are supported")


def check_occasions(scenario: Any) -> None:
    """No customer has more than one purchase occasion a week, on any rung."""
    for segment in scenario.segments:
        if segment.orders_per_year.mean * max(scenario.ladder.purchase_multiplier) > WEEKS_PER_YEAR:
            raise ValueError(
                f"segment {segment.name!r}: orders_per_year.mean x the largest ladder "
                "purchase_multiplier exceeds 52 (at most one occasion a week)"
            )


def check_references(scenario: Any) -> None:
    """Shocks name known firms; strategies' levels name known segments."""
    firm_names = {f.name for f in scenario.firms}
    for shock in scenario.shocks:
        if shock.firm is not None and shock.firm not in firm_names:
            known = sorted(firm_names)
            raise ValueError(f"shock names unknown firm {shock.firm!r}; firms: {known}")
    segment_names = {s.name for s in scenario.segments}
    for strategy in scenario.strategies:
        unknown = set(strategy.levels.segments) - segment_names
        if unknown:
            raise ValueError(
                f"strategy {strategy.name!r}: levels.segments names unknown segment(s) "
                f"{sorted(unknown)}; segments: {sorted(segment_names)}"
            )


def check_focal_firm(scenario: Any) -> None:
    """Retention tools buy the focal firm up; its bonds come from the strategies only."""
    for strategy in scenario.strategies:
        _check_retention(strategy, scenario.focal)
    if scenario.focal.bonds != Bonds() or scenario.focal.preset != "transactional":
        raise ValueError(
            "firms[0] is the focal firm: its bonds come from its strategies (set `bonds` "
            "or `preset` under `strategies`, not under the firm)"
        )


def check_rivalry_and_baseline(scenario: Any) -> None:
    """The rivalry block names rivals only; the baseline is one of the strategies."""
    firm_names = {f.name for f in scenario.firms}
    rivals = scenario.rivalry.firms
    if rivals is not None:
        unknown = set(rivals) - firm_names
        if unknown or scenario.focal.name in rivals:
            raise ValueError(
                f"rivalry.firms must name rivals; unknown or focal: "
                f"{sorted(unknown | ({scenario.focal.name} & set(rivals)))}"
            )
    baseline = scenario.baseline
    if baseline is not None and baseline not in {s.name for s in scenario.strategies}:
        raise ValueError(f"baseline {baseline!r} is not one of the strategies")


def check_sweep(scenario: Any) -> None:
    """Every path a sweep varies names one field of the scenario, never the sweep itself."""
    if scenario.sweep is None:
        return
    fields = scenario.sweep.fields
    for path in [f.path for f in fields] + [link.path for f in fields for link in f.linked]:
        if path.split(".")[0] == "sweep":
            raise ValueError("a sweep cannot vary the sweep itself")
        check_path(scenario, path)


CHECKS = (
    check_names,
    check_shares,
    check_occasions,
    check_references,
    check_focal_firm,
    check_rivalry_and_baseline,
    check_sweep,
)
"""The cross-checks in the order they run."""


def _check_unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what}: name {name!r} is used twice")
        seen.add(name)


def _check_retention(strategy: Strategy, focal: Firm) -> None:
    """The retention tools buy the focal firm's operations up, never down."""
    tools = strategy.retention
    where = f"strategy {strategy.name!r}: retention"
    if tools.fulfilment is not None and tools.fulfilment.late_or_wrong > focal.fulfilment_failure:
        raise ValueError(
            f"{where}.fulfilment.late_or_wrong = {tools.fulfilment.late_or_wrong:g} is above the "
            f"focal firm's fulfilment_failure = {focal.fulfilment_failure:g}: the lever buys "
            "reliability up (hint: set it at or below the firm's share, or change "
            "firms[0].fulfilment_failure)"
        )
    if tools.quality is not None and tools.quality.target < focal.product_quality:
        raise ValueError(
            f"{where}.quality.target = {tools.quality.target:g} is below the focal firm's "
            f"product_quality = {focal.product_quality:g}: the investment raises quality "
            "(hint: set a target at or above the firm's quality)"
        )
