"""Plain words for the report: the labels a strategist reads in place of code names.

Every table, paragraph and figure caption of the report goes through :func:`plain_blocks`,
which replaces the code names it finds (metric, field, strategy, firm, pool and cost-kind
names: any word joined by underscores) with their label and collects them, so that the
glossary at the end (:func:`glossary_section`) lists each code name next to its label and
nothing else in the report shows one. Money is labelled with the scenario's currency
(:func:`currency`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from relsim.viz.report.render import flat
from relsim.viz.words import COST_LABELS, LABELS, NO_CURRENCY, currency, label

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment
    from relsim.scenario import Scenario
    from relsim.viz.report.render import Block

_CODE = re.compile(r"`([^`]*)`|(?<![\w/.\-])[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9*]+)+")


@lru_cache(maxsize=8)
def _scenario_at(path: Path, stamp: float) -> Scenario:
    from relsim.scenario import load_scenario

    return load_scenario(path)


def run_scenario(experiment: Experiment) -> Scenario:
    """The resolved scenario of the run (read once per file version)."""
    from relsim.experiment.folder import RESOLVED_SCENARIO

    path = Path(experiment.out) / RESOLVED_SCENARIO
    return _scenario_at(path, path.stat().st_mtime)


def unit_of(experiment: Experiment) -> str:
    """The currency label of an experiment's scenario (:func:`currency`)."""
    return currency(run_scenario(experiment))


class Plain:
    """Replaces code names in text and tables and remembers those it replaced."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def text(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return _CODE.sub(self._replace, value)

    def _replace(self, match: re.Match[str]) -> str:
        if match.group(1) is not None:  # `quoted`: a code name or a key the user types
            inner = match.group(1).rstrip(":")
            return self.text(inner) if "_" in inner else inner
        code = match.group(0)
        if "_" not in code:
            return code
        self.seen[code] = label(code)
        return self.seen[code]

    def table(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = flat(frame).map(self.text)
        frame.columns = [self.text(str(c)) for c in frame.columns]
        return frame


def plain_blocks(blocks: list[Block]) -> tuple[list[Block], dict[str, str]]:
    """The blocks with every code name replaced by its label (tables flattened: the index
    becomes the first column), and the code names replaced, with their labels."""
    plain = Plain()
    out: list[Block] = []
    for kind, payload in blocks:
        if kind == "table":
            out.append((kind, plain.table(payload)))
        elif kind in ("h1", "h2", "p", "caption", "warning"):
            out.append((kind, plain.text(payload)))
        elif kind == "summary":
            out.append((kind, [plain.text(line) for line in payload]))
        else:
            out.append((kind, payload))
    return out, plain.seen


def glossary_section(seen: dict[str, str], commands: list[str]) -> list[Block]:
    """The glossary at the end: each code name the report replaced, with its label, and the
    command-line lines the warnings offer."""
    blocks: list[Block] = [("h2", "Glossary")]
    if seen:
        rows = sorted(((lab, code) for code, lab in seen.items()), key=lambda r: r[0].lower())
        blocks += [
            (
                "p",
                "The report uses plain labels; the files (scenario, tables, command line) use "
                "these names:",
            ),
            ("raw", pd.DataFrame(rows, columns=["label in this report", "name in the files"])),
        ]
    if commands:
        blocks += [
            ("p", "Command-line settings the warnings suggest (add them to relsim run):"),
            ("code", "\n".join(commands)),
        ]
    return blocks


__all__ = [
    "COST_LABELS",
    "LABELS",
    "NO_CURRENCY",
    "Plain",
    "currency",
    "glossary_section",
    "label",
    "run_scenario",
    "unit_of",
]
