"""The scenario's building blocks: the frozen base class, the numeric field types, the limits
of what relsim simulates, and the helpers that turn a strategist's input into the engine's.

Why apart: every other scenario module builds on these and on nothing else of the scenario.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from relsim.names import check_name

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Name = Annotated[str, AfterValidator(check_name)]
"""A name of the scenario, a firm, a segment or a strategy: a label (printable, at most
:data:`relsim.names.MAX_NAME_LENGTH` characters). Files are never named from it directly, only
from its :func:`relsim.names.slug`."""
SHARE_TOLERANCE = 1e-6
MAX_CUSTOMERS = 50_000_000
MAX_WEEKS = 5200
BYTES_PER_CUSTOMER = 400
"""Engine peak plus the run's tables, per customer ever born (measured peak <= 330 B)."""
Level = Literal["basic", "reactive", "accountable", "proactive", "partnership"]
Rung = Literal["prospect", "customer", "client", "supporter", "advocate", "partner"]


class Frozen(BaseModel):
    """Base of every scenario part: immutable, unknown keys are errors, no NaN or infinity."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _derive(
    data: dict, target: str, value: float, given: str, given_value: object, label: str = ""
) -> dict:
    """``data`` with ``target`` set to ``value``, the engine's form of the strategist's input
    ``given`` (the caller drops ``given``: a validated scenario holds the engine's form only, so
    a dumped and edited one validates again). A ``target`` the file also gives must agree."""
    value = round(value, 12)  # a strategist's 24.8% gives 0.2, not 0.19999999999999996
    current = data.get(target)
    label = label or target
    if _is_number(current) and abs(float(current) - value) > 1e-9 * max(1.0, abs(value)):
        raise ValueError(
            f"give `{given}` or `{label}`, not both: {given} = {given_value} means "
            f"{label} = {value:.6g}, but {label} = {current} (hint: delete one of them)"
        )
    return {**data, target: value}


def _in_range(value: object, low: float, high: float) -> bool:
    return _is_number(value) and low <= float(value) <= high  # type: ignore[arg-type]
