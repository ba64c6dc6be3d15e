"""The scenario's cross-checks: rules that span its parts (names, shares, the focal firm, the
strategies' references to segments and firms, the sweep's paths), one function per concern.

Why apart: each part validates its own fields; what only holds across parts is checked here.
Every check runs and yields a :class:`Finding` per problem, located at the field it is about,
so a file with several problems hears of all of them at once (:class:`CrossCheckError`, which
the loader turns into one located line each). Each check takes the :class:`Scenario` being
validated (typed ``Any``: this module sits below it) and names, in :data:`CHECKS`, the top-level
parts it reads: when one of those parts failed its own validation, the loader skips the check
rather than report a consequence of that failure (:func:`run_checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relsim.scenario.model.base import SHARE_TOLERANCE
from relsim.scenario.model.bonds import Bonds
from relsim.scenario.paths import check_path, get_value
from relsim.units import WEEKS_PER_YEAR

if TYPE_CHECKING:
    from relsim.scenario.model.market import Firm
    from relsim.scenario.model.strategy import Strategy

MAX_FIRMS = 16


@dataclass(frozen=True)
class Finding:
    """One cross-check problem: the field it is about (``loc``, as pydantic's) and why."""

    loc: tuple[str | int, ...]
    message: str


class CrossCheckError(ValueError):
    """Every cross-check problem of a scenario; ``findings`` keeps each one's location."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        super().__init__("; ".join(f.message for f in findings))


def check_names(scenario: Any) -> Iterator[Finding]:
    """Segments, firms and strategies each have distinct names."""
    yield from _check_unique("segments", [s.name for s in scenario.segments])
    yield from _check_unique("firms", [f.name for f in scenario.firms])
    yield from _check_unique("strategies", [s.name for s in scenario.strategies])


def check_shares(scenario: Any) -> Iterator[Finding]:
    """Segment shares and firms' initial shares are distributions; the firms are few enough."""
    total = sum(s.share for s in scenario.segments)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        yield Finding(("segments",), f"segment shares must sum to 1, got {total:.6g}")
    total = sum(f.initial_share for f in scenario.firms)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        yield Finding(("firms",), f"firms' initial_share must sum to 1, got {total:.6g}")
    if len(scenario.firms) > MAX_FIRMS:
        yield Finding(("firms",), f"at most {MAX_FIRMS} firms are supported")


def check_occasions(scenario: Any) -> Iterator[Finding]:
    """No customer has more than one purchase occasion a week, on any rung."""
    for i, segment in enumerate(scenario.segments):
        if segment.orders_per_year.mean * max(scenario.ladder.purchase_multiplier) > WEEKS_PER_YEAR:
            yield Finding(
                ("segments", i, "orders_per_year", "mean"),
                f"segment {segment.name!r}: orders_per_year.mean x the largest ladder "
                "purchase_multiplier exceeds 52 (at most one occasion a week)",
            )


def check_references(scenario: Any) -> Iterator[Finding]:
    """Shocks name known firms; strategies' levels name known segments."""
    firm_names = {f.name for f in scenario.firms}
    for i, shock in enumerate(scenario.shocks):
        if shock.firm is not None and shock.firm not in firm_names:
            known = sorted(firm_names)
            yield Finding(
                ("shocks", i, "firm"), f"shock names unknown firm {shock.firm!r}; firms: {known}"
            )
    segment_names = {s.name for s in scenario.segments}
    for i, strategy in enumerate(scenario.strategies):
        unknown = set(strategy.levels.segments) - segment_names
        if unknown:
            yield Finding(
                ("strategies", i, "levels", "segments"),
                f"strategy {strategy.name!r}: levels.segments names unknown segment(s) "
                f"{sorted(unknown)}; segments: {sorted(segment_names)}",
            )


def check_focal_firm(scenario: Any) -> Iterator[Finding]:
    """Retention tools buy the focal firm up; its bonds come from the strategies only."""
    for i, strategy in enumerate(scenario.strategies):
        for tool, message in _check_retention(strategy, scenario.focal):
            yield Finding(("strategies", i, "retention", tool), message)
    if scenario.focal.bonds != Bonds() or scenario.focal.preset != "transactional":
        yield Finding(
            ("firms", 0),
            "firms[0] is the focal firm: its bonds come from its strategies (set `bonds` "
            "or `preset` under `strategies`, not under the firm)",
        )


def check_rivalry_and_baseline(scenario: Any) -> Iterator[Finding]:
    """The rivalry block names rivals only; the baseline is one of the strategies."""
    firm_names = {f.name for f in scenario.firms}
    rivals = scenario.rivalry.firms
    if rivals is not None:
        unknown = set(rivals) - firm_names
        if unknown or scenario.focal.name in rivals:
            yield Finding(
                ("rivalry", "firms"),
                f"rivalry.firms must name rivals; unknown or focal: "
                f"{sorted(unknown | ({scenario.focal.name} & set(rivals)))}",
            )
    baseline = scenario.baseline
    if baseline is not None and baseline not in {s.name for s in scenario.strategies}:
        yield Finding(("baseline",), f"baseline {baseline!r} is not one of the strategies")


def check_sweep(scenario: Any) -> Iterator[Finding]:
    """Every path a sweep varies names one field of the scenario, never the sweep itself."""
    if scenario.sweep is None:
        return
    for i, field in enumerate(scenario.sweep.fields):
        paths = [(("sweep", "fields", i, "path"), field.path)]
        paths += [
            (("sweep", "fields", i, "linked", j, "path"), link.path)
            for j, link in enumerate(field.linked)
        ]
        for loc, path in paths:
            if path.split(".")[0] == "sweep":
                yield Finding(loc, "a sweep cannot vary the sweep itself")
                continue
            try:
                check_path(scenario, path)
            except ValueError as error:
                yield Finding(loc, str(error))


def check_uncertainty(scenario: Any) -> Iterator[Finding]:
    """Every path the uncertainty block names is a field of the scenario (a ``*`` path: of at
    least one item), and every group has members."""
    if scenario.uncertainty is None:
        return
    for path in scenario.uncertainty.assumptions:
        loc = ("uncertainty", "assumptions", path)
        try:
            if ".*." not in path:
                check_path(scenario, path)
                continue
            head, tail = path.split(".*.", 1)
            found = _items_with(scenario, head, tail)
        except ValueError as error:
            yield Finding(loc, str(error))
            continue
        if not found:
            yield Finding(loc, f"no item of {head} has the field {tail}")


def _items_with(scenario: Any, head: str, tail: str) -> list[int]:
    """The items of the list at ``head`` that have a field at ``tail``."""
    items = get_value(scenario, head)
    if not isinstance(items, list):
        raise ValueError(f"{head} is not a list, so {head}.*.{tail} names nothing")
    found = []
    for i in range(len(items)):
        try:
            check_path(scenario, f"{head}.{i}.{tail}")
        except ValueError:
            continue
        found.append(i)
    return found


EVERY_PART = "*"
"""Stands for "any part of the scenario" (the sweep's paths may name any field)."""

CHECKS: tuple[tuple[Callable[[Any], Iterator[Finding]], frozenset[str]], ...] = (
    (check_names, frozenset({"segments", "firms", "strategies"})),
    (check_shares, frozenset({"segments", "firms"})),
    (check_occasions, frozenset({"segments", "ladder"})),
    (check_references, frozenset({"shocks", "firms", "segments", "strategies"})),
    (check_focal_firm, frozenset({"strategies", "firms"})),
    (check_rivalry_and_baseline, frozenset({"rivalry", "firms", "baseline", "strategies"})),
    (check_sweep, frozenset({EVERY_PART})),
    (check_uncertainty, frozenset({EVERY_PART})),
)
"""Every cross-check, with the top-level parts of the scenario it reads, in the order they run."""


def run_checks(scenario: Any, skip_parts: frozenset[str] = frozenset()) -> list[Finding]:
    """Every finding of every check that reads none of ``skip_parts`` (parts that failed their
    own validation and were replaced by defaults to let the other checks run)."""
    findings: list[Finding] = []
    for check, parts in CHECKS:
        if parts & skip_parts or (EVERY_PART in parts and skip_parts):
            continue
        findings += check(scenario)
    return findings


def _check_unique(what: str, names: list[str]) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            yield Finding((what, i, "name"), f"{what}: name {name!r} is used twice")
        seen.add(name)


def _check_retention(strategy: Strategy, focal: Firm) -> Iterator[tuple[str, str]]:
    """The retention tools buy the focal firm's operations up, never down: (tool, message)."""
    tools = strategy.retention
    where = f"strategy {strategy.name!r}: retention"
    if tools.fulfilment is not None and tools.fulfilment.late_or_wrong > focal.fulfilment_failure:
        yield (
            "fulfilment",
            f"{where}.fulfilment.late_or_wrong = {tools.fulfilment.late_or_wrong:g} is above the "
            f"focal firm's fulfilment_failure = {focal.fulfilment_failure:g}: the lever buys "
            "reliability up (hint: set it at or below the firm's share, or change "
            "firms[0].fulfilment_failure)",
        )
    if tools.quality is not None and tools.quality.target < focal.product_quality:
        yield (
            "quality",
            f"{where}.quality.target = {tools.quality.target:g} is below the focal firm's "
            f"product_quality = {focal.product_quality:g}: the investment raises quality "
            "(hint: set a target at or above the firm's quality)",
        )
