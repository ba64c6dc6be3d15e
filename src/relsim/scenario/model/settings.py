"""Simulation settings: the horizon (with its warm-up), money conventions and the plan's goals.

Why apart: how long and in what money a scenario is simulated and judged, apart from the
market and the strategies.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from relsim import units
from relsim.scenario.model.base import MAX_WEEKS, WHOLE, Frozen, Probability


class Goals(Frozen):
    """The plan's targets for the focal firm; the report checks each strategy against them."""

    retention_rate_annual: Probability | None = Field(
        default=None, description="Target annual retention rate (1 - churn), 0-1."
    )
    npv: float | None = Field(default=None, description="Target NPV over the horizon (currency).")
    market_share_end: Probability | None = Field(
        default=None, description="Target share of customers at the end of the horizon, 0-1."
    )


class Horizon(Frozen):
    """Simulated time."""

    weeks: Annotated[int, Field(ge=1, json_schema_extra={"maximum": MAX_WEEKS}), WHOLE] = Field(
        default=260,
        description="Weeks simulated and reported (after the warm-up; at most 5200, 100 years).",
    )

    @field_validator("weeks")
    @classmethod
    def _simulable(cls, weeks: int) -> int:
        if weeks > MAX_WEEKS:
            raise ValueError(
                f"{weeks:,} weeks are {units.years(weeks):,.0f} years; relsim simulates at most "
                f"{MAX_WEEKS} weeks (100 years): its tables store weeks compactly, and a "
                "strategy comparison needs a planning horizon of a few years (hint: 260 weeks "
                "are five years)"
            )
        return weeks

    warmup_weeks: Annotated[int, Field(ge=0, le=5200), WHOLE] = Field(
        default=52,
        description="Weeks simulated before the horizon under the status quo, excluded from "
        "every metric, so that week 0 starts from the model's own steady state.",
    )


class Economics(Frozen):
    """Money conventions."""

    discount_rate_per_year: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.10, description="Annual discount rate i; weekly rate (1+i)^(1/52) - 1."
    )
    currency: str = Field(default="EUR", description="Currency label for reports.")
