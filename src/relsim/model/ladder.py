"""Loyalty-ladder moves of the relationship with the primary firm.

After a purchase with the primary firm a *satisfying* purchase (experienced quality within the
zone of tolerance of the expectation) climbs one rung with probability ``up[rung]``; a
dissatisfying one falls one rung with probability ``down[rung]``, never below ``customer``
while the relationship lasts. One uniform per purchase decides.
"""

from __future__ import annotations

import numpy as np

from relsim.domain import CUSTOMER, PARTNER


def move(
    rung: np.ndarray,
    satisfying: np.ndarray,
    uniforms: np.ndarray,
    up: np.ndarray,
    down: np.ndarray,
    up_factor: np.ndarray | None = None,
) -> np.ndarray:
    """New rungs (int8) after one purchase each; inputs are aligned 1-D arrays.
    ``up_factor`` multiplies each customer's climbing probability (social bonds)."""
    up_probability = up.take(rung)
    if up_factor is not None:
        up_probability = np.minimum(up_probability * up_factor, 1.0)
    climbs = satisfying & (uniforms < up_probability)
    falls = ~satisfying & (uniforms < down.take(rung))
    new = rung + climbs.view(np.int8) - falls.view(np.int8)  # bools as 0/1 int8: no copies
    # bounded in place: np.clip's Python layers cost more than two ufuncs on small arrays
    np.maximum(new, CUSTOMER, out=new)
    np.minimum(new, PARTNER, out=new)
    return new.astype(np.int8, copy=False)


def start_rung(orders_with_firm: np.ndarray) -> np.ndarray:
    """Rung of a new relationship: 'client' when the customer has bought there at least twice
    (a repeat buyer by definition), else 'customer'."""
    return np.where(orders_with_firm >= 2, CUSTOMER + 1, CUSTOMER).astype(np.int8, copy=False)
