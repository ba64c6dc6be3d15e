"""Uncertainty about the assumptions: how ``relsim decide`` draws them (the ``uncertainty:``
block).

Why apart: a probabilistic description of the scenario's own values, read only by the
decision analysis (:mod:`relsim.experiment.psa`). Without the block every numeric assumption
of the register (docs/model.md, section 5) gets a Beta-PERT distribution over its plausible
range with its mode at the scenario's value; the block changes the family, overrides any
entry, fixes any at its value, adds uncertain fields of its own, and names groups of
assumptions whose joint value of information is wanted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from relsim.scenario.model.base import WHOLE, Frozen

Family = Literal["pert", "triangular", "uniform", "loguniform", "normal", "fixed"]


class UncertainValue(Frozen):
    """One assumption's distribution. Bounds left out are the register's plausible range; a
    mode left out is the scenario's own value (for every item of a ``*`` entry, its own)."""

    kind: Family = Field(
        default="pert",
        description="pert: Beta-PERT (low, mode, high; the mode weighted 4 to 1); triangular; "
        "uniform (low, high); loguniform (low > 0); normal (mean at the mode, sd given, "
        "truncated to low-high); fixed: held at the scenario's value.",
    )
    low: float | None = Field(default=None, description="Smallest value (default: register).")
    high: float | None = Field(default=None, description="Largest value (default: register).")
    mode: float | None = Field(
        default=None, description="Most likely value (default: the scenario's own)."
    )
    sd: float | None = Field(default=None, gt=0, description="Standard deviation (normal only).")

    @model_validator(mode="after")
    def _consistent(self) -> UncertainValue:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be below high, got low={self.low}, high={self.high}")
        if self.kind == "normal" and self.sd is None:
            raise ValueError("a normal distribution needs sd")
        if self.kind != "normal" and self.sd is not None:
            raise ValueError(f"sd belongs to a normal distribution, not {self.kind}")
        if self.kind == "loguniform" and self.low is not None and self.low <= 0:
            raise ValueError("a loguniform distribution needs low > 0")
        return self


class Uncertainty(Frozen):
    """What ``relsim decide`` treats as uncertain, and how (see docs/voi.md)."""

    default: Literal["pert", "triangular", "uniform", "fixed"] = Field(
        default="pert",
        description="Family of every register assumption the block does not name; `fixed` "
        "varies only the ones named under `assumptions`.",
    )
    assumptions: dict[str, UncertainValue] = Field(
        default_factory=dict,
        description="Per register entry (its path, e.g. segments.*.price_sensitivity or "
        "trust.loss) or any other numeric field (low and high then required): its "
        "distribution, or `fixed`.",
    )
    groups: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Named groups for a joint value of information: each a list of entry "
        "paths or path prefixes (e.g. 'rivals': [rivalry.]). Default: the register's sections.",
    )
    samples: Annotated[int, Field(ge=8, le=10_000), WHOLE] | None = Field(
        default=None, description="Joint draws of the assumptions (default 32)."
    )
    replications: Annotated[int, Field(ge=2, le=1000), WHOLE] | None = Field(
        default=None, description="Replications per strategy at each draw (default 2)."
    )
    design: Literal["sobol", "lhs"] = Field(
        default="sobol",
        description="sobol: a scrambled Sobol sequence; lhs: a Latin hypercube.",
    )

    @field_validator("assumptions", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """``path: fixed`` (or any family's name alone) for ``path: {kind: fixed}``."""
        if isinstance(value, dict):
            return {k: {"kind": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _named(self) -> Uncertainty:
        for path in self.assumptions:
            if not path or path.split(".")[0] in ("uncertainty", "sweep", "seed"):
                raise ValueError(f"uncertainty.assumptions: {path!r} is not an assumption")
        for name, members in self.groups.items():
            if not name.strip() or not members:
                raise ValueError(f"uncertainty.groups: {name!r} needs a name and members")
        return self
