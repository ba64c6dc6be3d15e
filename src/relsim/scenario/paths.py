"""Scenario fields by dotted path, for sweeps, break-even searches and sensitivity analysis.

A path names one field of a validated scenario: ``market.customers``,
``rivalry.points.lag.mean_weeks``, ``firms.0.unit_cost``. Items of a list of named things
(segments, firms, strategies) may be named instead of numbered:
``strategies.financial.bonds.points.reward_value``, ``segments.loyal.annual_churn_percent``.

Setting a strategist's input (``annual_churn_percent``, ``annual_retention_percent``,
``gross_margin_percent``, ``salary_per_year``) replaces the engine parameter it is converted to,
so the two never conflict.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from relsim.units import STRATEGIST_INPUTS

Scenario = TypeVar("Scenario", bound=BaseModel)
"""A validated scenario (:class:`relsim.scenario.Scenario`; this module sits below it and
validates a changed copy with the scenario's own class)."""

DERIVED = {term: tuple(field.split(".")) for term, (field, _) in STRATEGIST_INPUTS.items()}
"""Strategist inputs and the engine field each is converted to (relative to the same item),
from the table of strategist units (:data:`relsim.units.STRATEGIST_INPUTS`)."""


class FieldPathError(ValueError):
    """A path that names no field of the scenario, or a value the field cannot take."""


def get_value(scenario: Scenario, path: str) -> Any:
    """The current value of the field at ``path``."""
    node, key = _locate(scenario.model_dump(mode="json"), path)
    return node[key]


def with_values(scenario: Scenario, values: dict[str, Any]) -> Scenario:
    """A copy of ``scenario`` with the fields at the given paths set, validated again.

    Raises
    ------
    FieldPathError
        When a path names no field, or the scenario with the new values is invalid (the
        message says which path and value, and what the validator objected to).
    """
    data = scenario.model_dump(mode="json")
    for path, value in values.items():
        node, key = _locate(data, path)
        node[key] = _plain(value)
        if key in DERIVED:
            target = node
            for part in DERIVED[key][:-1]:
                target = target[part]
            target[DERIVED[key][-1]] = None
            if key.startswith("annual_"):  # churn and retention state the same thing
                other = (
                    "annual_retention_percent"
                    if key == "annual_churn_percent"
                    else "annual_churn_percent"
                )
                node[other] = None
    try:
        return type(scenario).model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if not str(p).startswith('function'))}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        shown = ", ".join(f"{p}={v!r}" for p, v in values.items())
        raise FieldPathError(f"the scenario is invalid with {shown}: {problems}") from None


def check_path(scenario: Scenario, path: str) -> None:
    """Raise :class:`FieldPathError` unless ``path`` names a field holding a single value."""
    node, key = _locate(scenario.model_dump(mode="json"), path)
    if isinstance(node[key], dict | list):
        raise FieldPathError(
            f"{path!r} is a group of fields, not one value; name one of: "
            + ", ".join(_children(node[key]))
        )


def _locate(data: Any, path: str) -> tuple[Any, Any]:
    """The container and key of the field at ``path`` (names resolved to list indices)."""
    parts = path.split(".")
    if not path or any(not part for part in parts):
        raise FieldPathError(f"{path!r} is not a field path (expected e.g. market.customers)")
    node = data
    for i, part in enumerate(parts):
        key = _key(node, part, parts[:i])
        if i == len(parts) - 1:
            return node, key
        node = node[key]
        if not isinstance(node, dict | list):
            done = ".".join(parts[: i + 1])
            raise FieldPathError(f"{path!r}: {done} is a single value and has no fields")
    raise AssertionError("unreachable")


def _key(node: Any, part: str, before: list[str]) -> Any:
    where = ".".join(before) or "the scenario"
    if isinstance(node, list):
        if part.isdigit():
            if int(part) < len(node):
                return int(part)
            raise FieldPathError(f"{where} has {len(node)} items; there is no item {part}")
        names = [item.get("name") for item in node if isinstance(item, dict)]
        if part in names:
            return names.index(part)
        known = ", ".join(map(str, names))
        raise FieldPathError(f"{where} has no item named {part!r}; use an index or one of: {known}")
    if isinstance(node, dict):
        if part in node:
            return part
        import difflib

        close = difflib.get_close_matches(part, list(node), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise FieldPathError(f"{where} has no field {part!r}{hint}")
    raise FieldPathError(f"{where} is a single value and has no field {part!r}")


def parse_scalar(text: str) -> Any:
    """A value typed on the command line: a whole number, a number, true/false, or text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _children(node: Any) -> list[str]:
    if isinstance(node, dict):
        return list(node)
    return [
        str(item.get("name", i)) if isinstance(item, dict) else str(i)
        for i, item in enumerate(node)
    ]


def _plain(value: Any) -> Any:
    """numpy scalars to Python numbers, integral floats kept as given."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldPathError(f"{value} is not a usable value")
    return value
