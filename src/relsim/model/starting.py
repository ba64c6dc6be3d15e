"""Named customers a market starts with, instead of customers drawn from the segments.

A calibration knows each customer of a real firm: its own purchase rate, defection propensity
and order value drawn from what its history says (``relsim.calibration``). The engine then
starts the market from exactly those customers -- each a current customer of its firm at rung
'customer' with a fresh relationship, or a prospect -- and runs the same process from there
(conditional simulation). Births, exits and everything else follow the scenario as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.model.population import NONE


@dataclass(frozen=True)
class StartingCustomers:
    """One entry per customer; arrays of equal length.

    ``orders_per_year`` and ``defection_propensity`` are in the units of the segment fields of
    the same name (per year, or per contract period for contractual segments); ``firm`` is the
    index of the customer's primary firm (0 is the focal firm) or -1 for a prospect.
    """

    orders_per_year: np.ndarray
    defection_propensity: np.ndarray
    order_value: np.ndarray
    firm: np.ndarray | None = None
    segment: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.orders_per_year)

    def checked(self, n_segments: int, n_firms: int) -> StartingCustomers:
        """Arrays as the engine stores them, or a ValueError naming the bad field."""
        n = len(self.orders_per_year)
        if n == 0:
            raise ValueError("starting customers: none given")
        firm = np.zeros(n, np.int64) if self.firm is None else np.asarray(self.firm, np.int64)
        seg = np.zeros(n, np.int64) if self.segment is None else np.asarray(self.segment, np.int64)
        out = StartingCustomers(
            np.asarray(self.orders_per_year, float),
            np.asarray(self.defection_propensity, float),
            np.asarray(self.order_value, float),
            firm,
            seg,
        )
        rules = {
            "orders_per_year": (out.orders_per_year, 0.0, np.inf),
            "defection_propensity": (out.defection_propensity, 0.0, 1.0 - 1e-12),
            "order_value": (out.order_value, 0.0, np.inf),
            "firm": (firm, NONE, n_firms - 1),
            "segment": (seg, 0, n_segments - 1),
        }
        for name, (values, low, high) in rules.items():
            if len(values) != n:
                raise ValueError(f"starting customers: {name} has {len(values)} entries, not {n}")
            bad = ~np.isfinite(values) | (values < low) | (values > high)
            if bad.any():
                i = int(bad.nonzero()[0][0])
                raise ValueError(
                    f"starting customers: {name}[{i}] = {float(values[i]):g}, expected a value in "
                    f"[{low}, {high}]"
                )
        return out
