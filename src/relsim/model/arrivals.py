"""Customers arriving in the market: the initial market and the customers born into it.

Part of :class:`relsim.model.engine.Market` (a mixin: it reads and writes the state the
market sets up in its constructor). Traits are drawn from the population
stream, exit weeks from the exits stream; the starting relationships of current customers
from the initial stream.
"""

from __future__ import annotations

import numpy as np

from relsim import units
from relsim.domain import MARKET, RUNGS
from relsim.model import defection
from relsim.model.population import Customers
from relsim.model.starting import StartingCustomers
from relsim.scenario.model import Segment

N_RUNGS = len(RUNGS)

MAX_TENURE_WEEKS = 5200
"""Initial tenures are capped at 100 years (keeps every week number within int16)."""


class Arrivals:
    """Arrivals of the market (see the module docstring)."""

    def _add_customers(self, count: int, week: int) -> slice:
        """Born customers: traits from the population stream, exits from the exits stream."""
        c, p = self.c, self.p
        rows = c.add(count)
        pop = self.streams.population
        seg = self._draw_segments(count)
        c.segment[rows] = seg
        c.born[rows] = week
        for s, segment in enumerate(self.scenario.segments):
            members = (seg == s).nonzero()[0] + rows.start
            if len(members):
                set_traits(c, members, segment, *segment_draws(pop, segment, len(members)))
        c.traced[rows] = pop.random(count) < self.scenario.trace_share
        exits = self.streams.exits
        c.exit_week[rows] = defection.schedule(week, p.relocation_weekly[seg], exits.random(count))
        c.exit_kind[rows] = MARKET
        if self.substitute_hazard > 0:
            self._draw_substitute(np.arange(rows.start, rows.stop), week, self.substitute_hazard)
        idx = np.arange(rows.start, rows.stop)
        c.next_occasion[rows] = self._next_occasion(idx, week)
        return rows

    def _draw_segments(self, count: int) -> np.ndarray:
        """The segments of ``count`` born customers (population stream): the draws
        Generator.choice(p=segment_share) makes (one uniform each, searched in the cumulative
        shares), without its per-call checks of the shares."""
        u = self.streams.population.random(count)
        return self.segment_cdf.searchsorted(u, side="right").astype(np.int8)

    def _populate(self, week: int) -> None:
        """The market at the start of the warm-up: current customers and prospects."""
        if self.starting is not None:
            self._populate_from(self.starting, week)
            return
        market = self.scenario.market
        rows = self._add_customers(market.customers, week)
        idx = np.arange(rows.start, rows.stop)
        rng = self.streams.initial
        c, p = self.c, self.p
        current = idx[rng.random(len(idx)) < market.current_customer_share]
        n = len(current)
        shares = np.array([f.initial_share for f in self.scenario.firms])
        firm = rng.choice(self.F, size=n, p=shares).astype(np.int8)
        rung = rng.choice(N_RUNGS, size=n, p=np.array(market.initial_ladder_mix)).astype(np.int8)
        tenure = np.minimum(
            np.floor(rng.exponential(units.weeks(market.mean_tenure_years), n)),
            MAX_TENURE_WEEKS,
        )
        c.primary[current] = firm
        c.rung[current] = rung
        c.since[current] = week - tenure.astype(np.int64)
        c.satisfaction[current] = self.scenario.satisfaction.initial
        c.trust[current] = self.trust_rule.initial
        c.orders[current, firm] = np.where(rung >= 2, 2, 1)
        c.last_order_focal[current[firm == 0]] = week - 1
        focal = current[firm == 0]
        c.acquired_week[focal] = c.since[focal]
        np.add.at(self.ever_bought, firm, 1)
        # contract holders renew on their contract's anniversaries
        contract = p.contractual[c.segment[current]]
        holders = current[contract]
        period = p.contract_period[c.segment[holders]]
        # the first renewal after the start, never at the signing week itself
        first = c.since[holders] + period * np.maximum(
            1, np.ceil((week - c.since[holders]) / period)
        )
        c.next_occasion[holders] = first.astype(np.int64)
        others = current[~contract]
        c.next_occasion[others] = self._next_occasion(others, week)
        self._schedule_lapse(others, week)

    def _populate_from(self, start: StartingCustomers, week: int) -> None:
        """The market starts with the named customers (``relsim.model.starting``): traits as
        given, current customers at rung 'customer' in a relationship begun this week."""
        c, p = self.c, self.p
        count = len(start)
        rows = c.add(count)
        idx = np.arange(rows.start, rows.stop)
        seg = start.segment.astype(np.int8)
        c.segment[rows] = seg
        c.born[rows] = week
        c.rate[rows] = units.per_week(start.orders_per_year)
        c.value[rows] = start.order_value
        theta = start.defection_propensity
        contract = p.contractual[seg]
        c.propensity[rows] = np.where(contract, theta, units.weekly_probability(theta))
        c.expectation[rows] = np.array([s.expected_quality for s in self.scenario.segments])[seg]
        c.traced[rows] = self.streams.population.random(count) < self.scenario.trace_share
        exits = self.streams.exits
        c.exit_week[rows] = defection.schedule(week, p.relocation_weekly[seg], exits.random(count))
        c.exit_kind[rows] = MARKET
        if self.substitute_hazard > 0:
            self._draw_substitute(idx, week, self.substitute_hazard)
        firm = start.firm
        current = idx[firm >= 0]
        own = firm[firm >= 0].astype(np.int8)
        c.primary[current] = own
        c.rung[current] = 1
        c.since[current] = week
        c.satisfaction[current] = self.scenario.satisfaction.initial
        c.trust[current] = self.trust_rule.initial
        c.orders[current, own] = 1
        focal = current[own == 0]
        c.last_order_focal[focal] = week - 1
        c.acquired_week[focal] = week
        np.add.at(self.ever_bought, own, 1)
        c.next_occasion[rows] = self._next_occasion(idx, week)
        holders = current[contract[firm >= 0]]
        c.next_occasion[holders] = week + p.contract_period[c.segment[holders]]
        self._schedule_lapse(current[~contract[firm >= 0]], week)


def segment_draws(
    pop: np.random.Generator, segment: Segment, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The population stream's draws for ``k`` born members of ``segment``, in its order:
    their yearly order rates, order values, defection propensities (yearly, or per contract
    period) and, where some never defect, one uniform each that tells the stayers."""
    rate = _gamma(pop, segment.orders_per_year.mean, segment.orders_per_year.shape, k)
    value = segment.order_value
    if segment.order_value_between == "inverse-gamma":
        values = _inverse_gamma(pop, value.mean, value.shape, k)
    else:
        values = _gamma(pop, value.mean, value.shape, k)
    propensity = segment.defection_propensity
    theta = _beta(pop, propensity.mean, propensity.concentration, k)
    stayers = None
    if not segment.contractual and segment.never_defecting_share:
        stayers = pop.random(k)  # drawn only then
    return rate, values, theta, stayers


def set_traits(
    c: Customers,
    members: np.ndarray,
    segment: Segment,
    rate: np.ndarray,
    value: np.ndarray,
    theta: np.ndarray,
    stayers: np.ndarray | None,
) -> None:
    """Write born ``members``' traits from their :func:`segment_draws`: weekly order rates,
    order values, weekly defection propensities (contract holders': per contract period),
    expected quality."""
    c.rate[members] = units.per_week(rate)
    c.value[members] = value
    if not segment.contractual:
        if segment.defection_rate_power:
            relative = rate / segment.orders_per_year.mean
            theta = defection.rate_linked(theta, relative, segment.defection_rate_power)
        if stayers is not None:
            # stayers never defect for reasons of their own
            theta[stayers < segment.never_defecting_share] = 0.0
        theta = units.weekly_probability(theta)
    c.propensity[members] = theta
    c.expectation[members] = segment.expected_quality


def _gamma(rng: np.random.Generator, mean: float, shape: float | None, n: int) -> np.ndarray:
    if shape is None:
        return np.full(n, mean)
    return rng.gamma(shape, mean / shape, size=n)


def _inverse_gamma(rng: np.random.Generator, mean: float, shape: float, n: int) -> np.ndarray:
    """Gamma-gamma's customer means p / nu, nu ~ Gamma(q, rate gamma): an inverse gamma of
    shape q and scale p gamma = mean (q - 1)."""
    return mean * (shape - 1.0) / rng.gamma(shape, 1.0, size=n)


MIN_BETA_PARAMETER = 1e-9
"""A beta distribution with a parameter below this is degenerate at its mean and drawn as the
mean (tiny means would otherwise underflow to a parameter of 0, which numpy refuses)."""


def _beta(rng: np.random.Generator, mean: float, concentration: float | None, n: int) -> np.ndarray:
    if concentration is None:
        return np.full(n, mean)
    a, b = mean * concentration, (1.0 - mean) * concentration
    if min(a, b) < MIN_BETA_PARAMETER:
        return np.full(n, mean)
    return rng.beta(a, b, size=n)
