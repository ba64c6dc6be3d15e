"""Choice on a purchase occasion: a multinomial logit over the firms and an outside option.

For customer ``i`` and firm ``f``::

    V[f, i] = T[segment_i, rung_i, f]                         (price, quality, reputation)
            + [f == primary_i] * (habit[rung_i] + w_s * (satisfaction_i - 0.5))
            + [f == lead_i] * lead_bonus
            - [f == left_i] * winback_penalty
    V[outside, i] = outside_utility[segment_i]
    P(i chooses k) = exp(V[k, i]) / sum_j exp(V[j, i])

Arrays are laid out firm-major, shape (F, n): with few firms and many customers every
operation then runs over contiguous memory. The choice is sampled from the closed-form
probabilities with one uniform per occasion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.model.population import NONE

SEQUENTIAL_TERMS = 8
"""numpy sums fewer terms than this one after another (from the first) along any axis of any
layout; from this many on, along a contiguous axis, it sums them pairwise."""

UTILITY_BOUND = 300.0
"""Utilities are clipped to +-300 before exponentiation (exp stays finite in float64); a
difference of 300 utility units is a certain choice either way."""


@dataclass(frozen=True)
class ChoiceTerms:
    """Per-customer terms that shift one firm's utility."""

    habit: np.ndarray  # (6,) utility by rung for the primary firm
    satisfaction_weight: float
    lead_bonus: float
    winback_penalty: float


def utilities(
    table: np.ndarray,
    terms: ChoiceTerms,
    segment: np.ndarray,
    rung: np.ndarray,
    primary: np.ndarray,
    satisfaction: np.ndarray,
    lead: np.ndarray | None,
    left: np.ndarray,
    extra: np.ndarray | None = None,
    cell: np.ndarray | None = None,
    by_cell: np.ndarray | None = None,
) -> np.ndarray:
    """Deterministic utilities of the firms, shape (F, n), for the given customers' states.

    ``table`` has shape (S, 6, F): the segment-and-rung part of every firm's utility;
    ``extra`` (F, n), when given, is added to every firm's utility (bonds, instruments);
    ``cell``, when given, is ``segment * 6 + rung`` (intp), computed by the caller;
    ``by_cell``, when given, is ``table`` firm-major, (F, S*6) (:func:`by_cell`), kept by a
    caller that reads one table many times; ``lead`` None: no customer has a lead.
    """
    n_segments, n_rungs, n_firms = table.shape
    flat = by_cell if by_cell is not None else table.reshape(n_segments * n_rungs, n_firms).T
    code = segment.astype(np.intp) * n_rungs + rung if cell is None else cell
    v = flat.take(code, axis=1)  # a fresh (F, n) array
    n = len(segment)
    flat_v = v.reshape(-1)  # a view: element (f, i) is flat_v[f * n + i]
    has = (primary != NONE).nonzero()[0]
    if len(has):
        habit = terms.habit.take(rung.take(has))
        habit += terms.satisfaction_weight * (satisfaction.take(has) - 0.5)
        flat_v[primary.take(has).astype(np.intp) * n + has] += habit
    if lead is not None:
        has = (lead != NONE).nonzero()[0]
        if len(has):
            flat_v[lead.take(has).astype(np.intp) * n + has] += terms.lead_bonus
    has = (left != NONE).nonzero()[0]
    if len(has):
        flat_v[left.take(has).astype(np.intp) * n + has] -= terms.winback_penalty
    if extra is not None:
        v += extra
    return v


def by_cell(table: np.ndarray) -> np.ndarray:
    """``table`` (S, 6, F) firm-major, (F, S*6) and contiguous: each firm's utilities by
    (segment, rung) cell, gathered by :func:`utilities` (the same numbers as the transposed
    view it makes otherwise, in one contiguous pass)."""
    n_segments, n_rungs, n_firms = table.shape
    return np.ascontiguousarray(table.reshape(n_segments * n_rungs, n_firms).T)


def _weights(v: np.ndarray, outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = _bounded(v)
    np.exp(e, out=e)
    return e, np.exp(_bounded(outside))


def _bounded(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to the utility bound, as a new array. The array method: one pass, and
    without ``np.clip``'s Python layers; it chooses the same values as ``np.maximum`` then
    ``np.minimum`` (NaN included), at a third of their cost on a (3, 3000) array."""
    return np.asarray(x).clip(-UTILITY_BOUND, UTILITY_BOUND)


def probabilities(v: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Logit probabilities, shape (F + 1, n): the firms, then the outside option last."""
    e, e_out = _weights(v, outside)
    total = e.sum(axis=0) + e_out
    p = np.empty((len(e) + 1, len(e_out)), dtype=total.dtype)  # divided in place: no stacked copy
    np.divide(e, total, out=p[:-1])
    np.divide(e_out, total, out=p[-1])
    return p


def chosen_probability(v: np.ndarray, outside: np.ndarray, firm: np.ndarray | int) -> np.ndarray:
    """``probabilities(v, outside)[firm, arange(n)]``, the same division, without the other
    alternatives' rows (``firm``: one per column, or one for all)."""
    e, e_out = _weights(v, outside)
    total = e.sum(axis=0) + e_out
    picked = e[firm] if isinstance(firm, int) else e[firm, np.arange(len(firm))]
    return picked / total


def sample(v: np.ndarray, outside: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Index of the chosen alternative per customer: a firm ``0..F-1`` or ``F`` (outside).

    The chosen index is the number of cumulative firm weights below ``u * total``: exact, and
    cheaper than drawing a Gumbel shock per alternative.
    """
    return sample_weighted(v, outside_weights(outside), uniforms)


def outside_weights(outside: np.ndarray) -> np.ndarray:
    """The outside option's logit weights, ``exp`` of its bounded utilities: a caller whose
    outside utilities come from a table by segment weighs the table once instead of each
    occasion (the same numbers: ``exp`` works element by element)."""
    return np.exp(_bounded(outside))


def sample_weighted(v: np.ndarray, e_out: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """:func:`sample` given the outside option's weights ``e_out`` (:func:`outside_weights`)."""
    e = _bounded(v)
    np.exp(e, out=e)
    chosen = np.zeros(v.shape[1], dtype=np.int8)
    if not e.flags.c_contiguous and len(e) >= SEQUENTIAL_TERMS:  # summed pairwise by numpy
        threshold = uniforms * (e.sum(axis=0) + e_out)
        cumulative = np.zeros(v.shape[1])
        for weights in e:
            cumulative += weights
            chosen += (cumulative < threshold).view(np.int8)  # 0 or 1, added without a cast
        return chosen
    # the running totals in place, row after row: the last is the total, as ``sum(axis=0)``
    # adds these rows (one after another), and each is a cumulative weight of the rule
    for k in range(1, len(e)):
        e[k] += e[k - 1]
    threshold = uniforms * (e[-1] + e_out)
    for running in e:
        chosen += (running < threshold).view(np.int8)  # 0 or 1, added without a cast
    return chosen


def columns(v: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``v[:, at]``, the columns ``at`` of a (F, n) array, for :func:`taste_premium`: by
    ``take`` (six times faster) when that sums the same, with fewer than
    :data:`SEQUENTIAL_TERMS` firms; with more, numpy would sum the rows of take's C-ordered
    copy in another order than the column-major copy of fancy indexing."""
    return v.take(at, axis=1) if len(v) < SEQUENTIAL_TERMS else v[:, at]


def taste_premium(v: np.ndarray, outside: np.ndarray, firm: int = 0) -> np.ndarray:
    """Expected taste shock that a buyer who chose ``firm`` enjoys over the outside option's,
    in utility, per column of ``v`` (F, n) (Small & Rosen's inclusive value).

    With ``S = sum_k exp(v_k - outside)`` and ``P = S / (1 + S)`` the chance of buying at all,
    the expected surplus against not buying on an occasion is ``log(1 + S)``, and it is all
    earned on the occasions that end in a purchase, equally for every firm chosen (in the logit
    the best utility's distribution does not depend on which option gave it). So a buyer's
    expected utility over the outside option is ``log(1 + S) / P``; less the deterministic part
    ``v_firm - outside``, this is the taste shock's share. It is never negative, and the value
    of an order counted with it is never below what not buying would have given."""
    gap = _bounded(v - outside)
    total = _sum_rows(np.exp(gap))
    inclusive = np.log1p(total)
    buying = -np.expm1(-inclusive)  # S / (1 + S), exact for small S
    return np.maximum(inclusive / buying - gap[firm], 0.0)


def _sum_rows(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=0)`` of a (F, n) array, the same numbers: fewer than
    :data:`SEQUENTIAL_TERMS` rows are added as whole rows, one after another, as numpy adds
    them; a column-major ``x`` (the firms' columns gathered by fancy indexing) would otherwise
    be summed one short column per call."""
    if len(x) >= SEQUENTIAL_TERMS:
        return x.sum(axis=0)
    total = x[0].copy()
    for row in x[1:]:
        total += row
    return total
