"""Sweep design: the scenario variants ``relsim sweep`` runs (values, ranges, Latin-hypercube
distributions, linked fields).

Why apart: a design of experiments over a scenario, read only by the sweep runner.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from relsim.scenario.model.base import WHOLE, Frozen

SweepValue = float | int | str | bool


class SweepDistribution(Frozen):
    """Where a Latin-hypercube design draws a field's values from."""

    kind: Literal["uniform", "loguniform", "triangular"] = Field(
        description="uniform on [low, high]; loguniform (uniform in log, for rates spanning "
        "orders of magnitude); triangular with its peak at mode."
    )
    low: float = Field(description="Smallest value.")
    high: float = Field(description="Largest value.")
    mode: float | None = Field(default=None, description="Peak of a triangular distribution.")

    @model_validator(mode="after")
    def _ordered(self) -> SweepDistribution:
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got low={self.low}, high={self.high}")
        if self.kind == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform distribution needs low > 0")
        if self.kind == "triangular" and (
            self.mode is None or not self.low <= self.mode <= self.high
        ):
            raise ValueError("a triangular distribution needs low <= mode <= high")
        return self


class LinkedField(Frozen):
    """A field that moves together with a swept field: its i-th value goes with the swept
    field's i-th value (e.g. staff counts that grow with the number of customers)."""

    path: str = Field(min_length=1, description="Dotted path of the linked field.")
    values: tuple[SweepValue, ...] = Field(
        min_length=1, description="One value per value of the swept field."
    )


class SweepField(Frozen):
    """One scenario field a sweep varies: a list of values, a range, or (Latin hypercube only)
    a distribution. Give exactly one."""

    path: str = Field(
        min_length=1,
        description="Dotted path of the field, e.g. market.customers, "
        "strategies.financial.bonds.points.reward_value (list items by index or name).",
    )
    values: tuple[SweepValue, ...] | None = Field(
        default=None, min_length=1, description="The values to run."
    )
    range: str | None = Field(
        default=None,
        pattern=r"^\s*[-+0-9.eE]+\s*:\s*[-+0-9.eE]+\s*:\s*[0-9]+\s*$",
        description="'start:stop:count': count values from start to stop inclusive (a Latin "
        "hypercube draws from [start, stop] and ignores count).",
    )
    scale: Literal["linear", "log"] = Field(
        default="linear", description="Spacing of a range: linear, or even in log (start > 0)."
    )
    distribution: SweepDistribution | None = Field(
        default=None, description="Latin hypercube only: the distribution to draw from."
    )
    label: str = Field(default="", description="Name in plots and tables (default: the path).")
    linked: tuple[LinkedField, ...] = Field(
        default=(),
        description="Fields set together with this one, value for value (needs `values`); "
        "they are not a separate dimension of the design.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SweepField:
        given = [k for k in ("values", "range", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"{self.path}: give exactly one of values, range or distribution"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.range is not None:
            start, stop, count = (float(x) for x in self.range.split(":"))
            if count < 1:
                raise ValueError(f"{self.path}: a range needs a count of at least 1")
            if self.scale == "log" and min(start, stop) <= 0:
                raise ValueError(f"{self.path}: a log range needs start and stop above 0")
        for link in self.linked:
            if self.values is None or len(link.values) != len(self.values):
                raise ValueError(
                    f"{self.path}: linked field {link.path} needs one value per value of "
                    "`values`" + (f" ({len(self.values)})" if self.values else "")
                )
        return self


class Sweep(Frozen):
    """A design of scenario variants run through the same Monte Carlo runner (common random
    numbers across points and strategies): ``relsim sweep``."""

    fields: tuple[SweepField, ...] = Field(min_length=1, description="The fields varied.")
    design: Literal["factorial", "lhs"] = Field(
        default="factorial",
        description="factorial: every combination of the fields' values; lhs: a Latin "
        "hypercube of `samples` points over the fields' ranges or distributions.",
    )
    samples: Annotated[int, Field(ge=2, le=10_000), WHOLE] = Field(
        default=20, description="Latin hypercube: number of design points."
    )
    replications: Annotated[int, Field(ge=2), WHOLE] | None = Field(
        default=None, description="Replications per strategy at each point (default 10)."
    )

    @model_validator(mode="after")
    def _design_fits(self) -> Sweep:
        paths = [f.path for f in self.fields] + [
            link.path for f in self.fields for link in f.linked
        ]
        if len(set(paths)) != len(paths):
            raise ValueError("each field may appear once in a sweep")
        if self.design == "factorial" and any(f.distribution is not None for f in self.fields):
            raise ValueError("a factorial design needs values or ranges, not distributions")
        return self
