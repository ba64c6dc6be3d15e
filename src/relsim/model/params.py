"""The scenario converted once into the engine's weekly units and lookup tables.

Conversions (documented in ``docs/model.md``; defined in :mod:`relsim.units`, the one table of
strategist units):

* orders per year ``lambda`` -> weekly occasion probability ``lambda / 52`` (at most one a week);
* probability per year ``a`` -> per week ``1 - (1 - a) ** (1 / 52)``;
* annual discount rate ``i`` -> weekly ``(1 + i) ** (1 / 52) - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.scenario.model import Scenario, Strategy
from relsim.units import per_week, weekly_discount_rate, weekly_probability

__all__ = ["FirmState", "Params"]


@dataclass(frozen=True)
class FirmState:
    """What a firm offers in a given week; shocks and strategies replace it, never mutate it."""

    price_index: np.ndarray  # (F,)
    reputation_penalty: np.ndarray  # (F,) utility units
    acquisition_spend: np.ndarray  # (F,) currency per week
    quality: np.ndarray  # (F,) product quality (improved by accountable follow-up answers)


@dataclass(frozen=True)
class Params:
    """Engine parameters: per segment (S,), per firm (F,), per rung (6,) arrays."""

    n_firms: int
    n_segments: int
    segment_share: np.ndarray
    contractual: np.ndarray  # bool (S,)
    contract_period: np.ndarray  # int (S,)
    defection_period: np.ndarray  # int (S,) weeks between own-reason death opportunities; 1: any
    defection_offset: np.ndarray  # int (S,) the first opportunity's week (mod the period)
    price_sensitivity: np.ndarray
    quality_sensitivity: np.ndarray
    outside_utility: np.ndarray
    expected_quality: np.ndarray
    relocation_weekly: np.ndarray
    voice_share: np.ndarray
    technology_affinity: np.ndarray
    political_sensitivity: np.ndarray
    within_shape: np.ndarray  # (S,) order values' within-customer gamma shape; 0: none
    unit_cost: np.ndarray  # (F,)
    problem_rate: np.ndarray  # (F,)
    fixed_cost: np.ndarray  # (F,)
    up_probability: np.ndarray  # (6,)
    down_probability: np.ndarray
    purchase_multiplier: np.ndarray
    price_multiplier: np.ndarray
    defection_multiplier: np.ndarray
    habit: np.ndarray
    referrals_weekly: np.ndarray
    weekly_discount: float
    status_quo: FirmState

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Params:
        seg = scenario.segments
        firms = scenario.firms
        lad = scenario.ladder

        def s(attr: str, dtype: type = float) -> np.ndarray:
            return np.array([getattr(x, attr) for x in seg], dtype=dtype)

        def f(attr: str) -> np.ndarray:
            return np.array([getattr(x, attr) for x in firms], dtype=float)

        fulfilment, fault = f("fulfilment_failure"), f("fault_rate")
        return cls(
            n_firms=len(firms),
            n_segments=len(seg),
            segment_share=s("share"),
            contractual=s("contractual", bool),
            contract_period=s("contract_period_weeks", int),
            defection_period=np.array([x.defection_period_weeks or 1 for x in seg], dtype=int),
            defection_offset=np.array(
                [x.defection_period_offset_weeks or 0 for x in seg], dtype=int
            ),
            price_sensitivity=s("price_sensitivity"),
            quality_sensitivity=s("quality_sensitivity"),
            outside_utility=s("outside_utility"),
            expected_quality=s("expected_quality"),
            relocation_weekly=np.asarray(weekly_probability(s("relocation_per_year"))),
            voice_share=s("voice_share"),
            technology_affinity=s("technology_affinity"),
            political_sensitivity=s("political_sensitivity"),
            within_shape=np.array([x.order_value_within_shape or 0.0 for x in seg], dtype=float),
            unit_cost=f("unit_cost"),
            problem_rate=1.0 - (1.0 - fulfilment) * (1.0 - fault),
            fixed_cost=f("fixed_cost_per_week"),
            up_probability=np.array(lad.up_probability, dtype=float),
            down_probability=np.array(lad.down_probability, dtype=float),
            purchase_multiplier=np.array(lad.purchase_multiplier, dtype=float),
            price_multiplier=np.array(lad.price_sensitivity_multiplier, dtype=float),
            defection_multiplier=np.array(lad.defection_multiplier, dtype=float),
            habit=np.array(lad.habit, dtype=float),
            referrals_weekly=per_week(np.array(lad.referrals_per_year, dtype=float)),
            weekly_discount=weekly_discount_rate(scenario.economics.discount_rate_per_year),
            status_quo=FirmState(
                price_index=f("price_index"),
                reputation_penalty=np.zeros(len(firms)),
                acquisition_spend=f("acquisition_spend_per_week"),
                quality=f("product_quality"),
            ),
        )

    def under_strategy(self, state: FirmState, strategy: Strategy) -> FirmState:
        """The focal firm's offer once ``strategy`` is launched (other firms unchanged)."""
        price = state.price_index.copy()
        spend = state.acquisition_spend.copy()
        if strategy.price_index is not None:
            price[0] = strategy.price_index
        if strategy.acquisition_spend_per_week is not None:
            spend[0] = strategy.acquisition_spend_per_week
        return FirmState(price, state.reputation_penalty, spend, state.quality)

    def utility_table(self, state: FirmState) -> np.ndarray:
        """Deterministic utility of each firm by segment and rung, shape (S, 6, F).

        ``V[s, r, f] = -beta_p[s] * m_p[r] * price[f] + beta_q[s] * quality[f] - penalty[f]``;
        the primary-firm, lead and win-back terms are added per customer at the occasion.
        """
        price_part = (
            self.price_sensitivity[:, None, None]
            * self.price_multiplier[None, :, None]
            * state.price_index[None, None, :]
        )
        quality_part = self.quality_sensitivity[:, None, None] * state.quality[None, None, :]
        return quality_part - price_part - state.reputation_penalty[None, None, :]
