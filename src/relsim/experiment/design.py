"""A sweep's design: which variants of a scenario it runs (its design points).

A sweep block (:class:`relsim.scenario.model.Sweep`, or ``--vary PATH=SPEC`` on the command
line, :func:`parse_vary`) names fields and their values, ranges or distributions; the design
is every combination of listed values or ranges (full factorial) or a Latin hypercube over
ranges and distributions, one row per point (:func:`design`), and each point is the scenario
with those values (:func:`point_scenarios`). :mod:`relsim.experiment.sweep` runs them.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from relsim.scenario import Scenario
from relsim.scenario.model import Sweep, SweepField
from relsim.scenario.paths import get_value, parse_scalar, with_values

LHS_STREAM = 0x5EE9
"""Spawn key of the Latin hypercube's random stream (apart from every replication's)."""


def parse_vary(text: str) -> SweepField:
    """A sweep field from the command line's ``PATH=SPEC``. SPEC is a list ``v1,v2,...``, a
    range ``start:stop:count`` (``:log`` appended for log spacing; ``start:stop`` alone means 5
    values, or the whole interval for a Latin hypercube), or a distribution for a Latin
    hypercube: ``uniform(low,high)``, ``loguniform(low,high)``, ``triangular(low,mode,high)``."""
    path, sep, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not sep or not path or not spec:
        raise ValueError(f"--vary needs PATH=VALUES, got {text!r}")
    match = re.fullmatch(r"(uniform|loguniform|triangular)\((.*)\)", spec)
    try:
        if match:
            numbers = [float(v) for v in match.group(2).split(",")]
            kind = match.group(1)
            if kind == "triangular":
                low, mode, high = numbers
                distribution = {"kind": kind, "low": low, "mode": mode, "high": high}
            else:
                low, high = numbers
                distribution = {"kind": kind, "low": low, "high": high}
            return SweepField(path=path, distribution=distribution)  # type: ignore[arg-type]
        if ":" in spec:
            parts = spec.split(":")
            scale = "linear"
            if parts[-1] == "log":
                scale, parts = "log", parts[:-1]
            if len(parts) == 2:
                parts.append("5")
            start, stop, count = parts
            float(start), float(stop), int(count)
            return SweepField(path=path, range=f"{start}:{stop}:{count}", scale=scale)
        values = tuple(parse_scalar(v.strip()) for v in spec.split(",") if v.strip())
        return SweepField(path=path, values=values)
    except (ValueError, TypeError) as error:
        if isinstance(error, ValidationError):
            detail = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        else:
            detail = str(error)
        raise ValueError(
            f"--vary {text!r}: expected PATH=V1,V2,... or PATH=START:STOP:COUNT[:log] or "
            f"PATH=uniform(LOW,HIGH) ({detail})"
        ) from None


def with_sweep(
    scenario: Scenario,
    fields: list[SweepField] | None = None,
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
) -> Scenario:
    """``scenario`` with its sweep block replaced or amended: given ``fields`` replace the
    block's; other arguments override its settings. Validated again (paths are checked)."""
    current = scenario.sweep.model_dump() if scenario.sweep else {}
    if fields:
        current["fields"] = [f.model_dump() for f in fields]
    for key, value in (("design", design), ("samples", samples), ("replications", replications)):
        if value is not None:
            current[key] = value
    if "fields" not in current:
        raise ValueError(
            "nothing to sweep: the scenario has no sweep block; give --vary PATH=VALUES"
        )
    data = scenario.model_dump(mode="json")
    data["sweep"] = current
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        raise ValueError(f"the sweep is invalid: {problems}") from None


def field_values(field: SweepField) -> list[Any]:
    """The values a factorial design runs for one field."""
    if field.values is not None:
        return list(field.values)
    assert field.range is not None
    start, stop, count = field.range.split(":")
    a, b, n = float(start), float(stop), int(count)
    grid = np.geomspace(a, b, n) if field.scale == "log" else np.linspace(a, b, n)
    return [tidy(v) for v in grid]


def design(scenario: Scenario, sweep: Sweep | None = None) -> pd.DataFrame:
    """The design points: one row per point, one column per field path (the values as the
    scenario will hold them: a field that holds whole numbers gets whole numbers)."""
    sweep = sweep or scenario.sweep
    if sweep is None:
        raise ValueError("the scenario has no sweep block (or give --vary PATH=VALUES)")
    paths = [f.path for f in sweep.fields]
    if sweep.design == "factorial":
        rows = list(itertools.product(*(field_values(f) for f in sweep.fields)))
    else:
        rows = _latin_hypercube(sweep, scenario.seed)
    table = pd.DataFrame(rows, columns=paths)
    for field in sweep.fields:  # linked fields follow their field, value for value
        for link in field.linked:
            assert field.values is not None
            position = {value: i for i, value in enumerate(field.values)}
            table[link.path] = [link.values[position[v]] for v in table[field.path]]
    paths = list(table.columns)
    for path in paths:
        if (
            isinstance(get_value(scenario, path), int)
            and not isinstance(get_value(scenario, path), bool)
            and pd.api.types.is_numeric_dtype(table[path])
        ):
            table[path] = table[path].round().astype(int)
    return table


def _latin_hypercube(sweep: Sweep, seed: int) -> list[tuple[Any, ...]]:
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(LHS_STREAM,)))
    unit = qmc.LatinHypercube(d=len(sweep.fields), seed=rng).random(sweep.samples)
    columns = [_from_unit(field, unit[:, j]) for j, field in enumerate(sweep.fields)]
    return list(zip(*columns, strict=True))


def _from_unit(field: SweepField, u: np.ndarray) -> list[Any]:
    """Map uniform [0, 1) draws onto the field's values, range or distribution."""
    from scipy import stats

    if field.values is not None:
        index = np.minimum((u * len(field.values)).astype(int), len(field.values) - 1)
        return [field.values[i] for i in index]
    if field.range is not None:
        a, b = (float(x) for x in field.range.split(":")[:2])
        if field.scale == "log":
            return [tidy(v) for v in np.exp(np.log(a) + u * (np.log(b) - np.log(a)))]
        return [tidy(v) for v in a + u * (b - a)]
    d = field.distribution
    assert d is not None
    if d.kind == "uniform":
        values = d.low + u * (d.high - d.low)
    elif d.kind == "loguniform":
        values = np.exp(np.log(d.low) + u * (np.log(d.high) - np.log(d.low)))
    else:
        assert d.mode is not None
        c = (d.mode - d.low) / (d.high - d.low)
        values = stats.triang(c, loc=d.low, scale=d.high - d.low).ppf(u)
    return [tidy(v) for v in values]


def tidy(value: float) -> float:
    """Round away float noise (0.30000000000000004 -> 0.3) so paths and labels read well."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.12g}")


def point_scenarios(scenario: Scenario, points: pd.DataFrame) -> list[Scenario]:
    """The scenario at each design point (without its sweep and uncertainty blocks)."""
    plain = scenario.model_copy(update={"sweep": None, "uncertainty": None})
    return [with_values(plain, row) for row in points.to_dict(orient="records")]
