"""Optimization settings: the levers ``relsim optimize`` searches, its constraints and how
hard it works for an honest answer.

Why apart: a search over one strategy's fields, read only by the optimizer
(:mod:`relsim.experiment.optimize`); ``relsim run`` ignores it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from relsim.scenario.model.base import WHOLE, Frozen


class Lever(Frozen):
    """One field of the optimized strategy and the range the search may set it in."""

    path: str = Field(
        min_length=1,
        description="Dotted path of a field of one strategy, e.g. "
        "strategies.financial.bonds.points.reward_value.",
    )
    low: float = Field(description="Smallest value the search tries.")
    high: float = Field(description="Largest value the search tries.")
    log: bool = Field(
        default=False, description="Search evenly in log scale (for values spanning decades)."
    )
    integer: bool | None = Field(
        default=None,
        description="Whole values only (default: whole when the field holds a whole number).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Lever:
        if not self.low < self.high:
            raise ValueError(f"{self.path}: low must be below high ({self.low}, {self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"{self.path}: a log-scale lever needs low > 0")
        return self


class Requirement(Frozen):
    """A condition the chosen design must meet on a summary column's mean (the optimized
    strategy's own value, not its difference from the baseline)."""

    column: str = Field(min_length=1, description="Summary column, e.g. churn_rate_annual.")
    at_least: float | None = Field(default=None, description="The mean must be at least this.")
    at_most: float | None = Field(default=None, description="The mean must be at most this.")

    @model_validator(mode="after")
    def _one_bound(self) -> Requirement:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError(f"{self.column}: give exactly one of at_least or at_most")
        return self


class Objective(Frozen):
    """One of several objectives: the paired difference of a summary column from the baseline
    (common random numbers), its mean or its 5th percentile over replications (the risk)."""

    column: str = Field(min_length=1, description="Summary column, e.g. npv_with_residual.")
    direction: Literal["maximize", "minimize"] = Field(
        default="maximize", description="Whether more (maximize) or less (minimize) is better."
    )
    statistic: Literal["mean", "p5"] = Field(
        default="mean",
        description="mean: the mean paired difference; p5: its 5th percentile over the "
        "replications (the risk: how bad an unlucky market gets).",
    )

    @property
    def label(self) -> str:
        """The objective's name in tables: the column, with _p5 for the risk."""
        return self.column if self.statistic == "mean" else f"{self.column}_p5"


BOND_NAMES = ("financial", "social", "structural")
"""The bonds a relationship budget is split between (Berry & Parasuraman's three levels)."""


class Allocate(Frozen):
    """Budget allocation mode: one relationship budget a year split into shares for the
    financial, social and structural bonds of one strategy, each share buying its bond's
    lever (relsim.experiment.optimize_allocate: the points program's reward, the number of
    relationship managers, the number of structural ties)."""

    strategy: str = Field(min_length=1, description="The strategy whose bonds share the budget.")
    budget: float = Field(
        gt=0, description="Relationship budget per year split between the bonds (currency a year)."
    )
    bonds: tuple[Literal["financial", "social", "structural"], ...] | None = Field(
        default=None,
        description="The bonds that share the budget (default: every bond the strategy runs: "
        "financial needs bonds.points, social key_accounts, structural bonds.structural).",
    )

    @model_validator(mode="after")
    def _distinct(self) -> Allocate:
        if self.bonds is not None and (len(set(self.bonds)) != len(self.bonds) or not self.bonds):
            raise ValueError(f"allocate.bonds: each of {', '.join(BOND_NAMES)} at most once")
        return self


class Robust(Frozen):
    """Robust mode: each design judged over joint draws of the assumption register's uncertain
    parameters (relsim.experiment.psa, as relsim decide draws them), not only at the
    scenario's values (relsim.experiment.optimize_robust)."""

    objective: Literal["expected", "regret"] = Field(
        default="expected",
        description="expected: maximize the mean over the draws of the paired difference; "
        "regret: minimize the largest shortfall, over the draws, from the best design seen "
        "at each draw.",
    )
    draws: Annotated[int, Field(ge=2, le=256), WHOLE] = Field(
        default=8, description="Joint draws of the assumptions, the same for every design."
    )
    replications: Annotated[int, Field(ge=1, le=100), WHOLE] = Field(
        default=2, description="Replications of each design and of the baseline at each draw."
    )


class Optimize(Frozen):
    """What ``relsim optimize`` searches (the levers of one strategy), what it maximizes (the
    paired difference of a summary column from the baseline, common random numbers), under
    which constraints, and the fresh-seed re-evaluation of its best designs."""

    levers: tuple[Lever, ...] = Field(default=(), description="The fields searched.")
    allocate: Allocate | None = Field(
        default=None,
        description="Budget allocation mode instead of levers: split one budget between bonds.",
    )
    objectives: tuple[Objective, ...] = Field(
        default=(),
        description="Several objectives (two or more, instead of metric): the search looks "
        "for the Pareto front of non-dominated designs (Optuna's NSGA-II).",
    )
    metric: str | None = Field(
        default=None,
        description="Summary column whose paired difference from the baseline is maximized "
        "(default: the decision metric, npv_with_residual).",
    )
    trials: Annotated[int, Field(ge=1, le=10_000), WHOLE] = Field(
        default=30, description="Designs the search evaluates."
    )
    sampler: Literal["tpe", "cmaes"] = Field(
        default="tpe",
        description="Optuna's sampler for one objective: tpe (tree-structured Parzen "
        "estimator, handles constraints) or cmaes (CMA-ES, needs the cmaes package; "
        "constraints only filter). Several objectives use NSGA-II.",
    )
    replications: Annotated[int, Field(ge=2), WHOLE] = Field(
        default=5, description="Replications of a trial at first."
    )
    max_replications: Annotated[int, Field(ge=2), WHOLE] = Field(
        default=20,
        description="At most this many for a trial that could still beat the best so far.",
    )
    budget: float | None = Field(
        default=None,
        gt=0,
        description="Relationship-marketing spend per year the design may cost at most "
        "(currency a year; the cost kinds of relsim.experiment.optimize_trials.SPEND_KINDS).",
    )
    requirements: tuple[Requirement, ...] = Field(
        default=(), description="Conditions on summary columns the design must meet."
    )
    top: Annotated[int, Field(ge=3, le=20), WHOLE] = Field(
        default=3, description="Best designs re-run on fresh seeds (k, at least 3)."
    )
    fresh_replications: Annotated[int, Field(ge=3), WHOLE] = Field(
        default=20, description="Fresh-seed replications of each re-run design at first."
    )
    max_fresh_replications: Annotated[int, Field(ge=3), WHOLE] = Field(
        default=100, description="At most this many fresh-seed replications."
    )
    indifference: float | None = Field(
        default=None,
        gt=0,
        description="Indifference zone, in the metric's units: designs closer than this are "
        "as good (default: 1% of the baseline's mean, at least 1).",
    )
    confidence: float = Field(
        default=0.95,
        gt=0.5,
        lt=1.0,
        description="Probability of correct selection within the indifference zone.",
    )

    robust: Robust | None = Field(
        default=None,
        description="Robust mode: judge each design over draws of the uncertain assumptions "
        "(expected value or maximum regret) instead of at the scenario's values.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Optimize:
        paths = [lever.path for lever in self.levers]
        if len(set(paths)) != len(paths):
            raise ValueError("each lever may appear once")
        if self.allocate is not None and self.levers:
            raise ValueError(
                "give levers or allocate, not both (allocate sets the bonds' levers itself)"
            )
        if len(self.objectives) == 1:
            raise ValueError("objectives: give two or more (one objective: metric)")
        if self.objectives and self.metric is not None:
            raise ValueError("give metric (one objective) or objectives (several), not both")
        if len({o.label for o in self.objectives}) != len(self.objectives):
            raise ValueError("objectives: each column and statistic at most once")
        if self.max_replications < self.replications:
            raise ValueError("max_replications must be at least replications")
        if self.robust is not None and (self.objectives or self.allocate is not None):
            raise ValueError("robust: for levers and one objective (not objectives or allocate)")
        if self.max_fresh_replications < self.fresh_replications:
            raise ValueError("max_fresh_replications must be at least fresh_replications")
        return self
