"""The market's narrow door: what a mechanism or a plugin may read of a replication's market,
and the hooks through which it acts on it.

The mechanisms (bonds, service, retention tools, rivals) and the plugins of
:mod:`relsim.extensions` receive a :class:`MarketInterface`, never the
:class:`~relsim.model.engine.Market` itself. What they may **read**:

* ``c`` -- the customer arrays, one row per customer (:class:`relsim.model.population.Customers`:
  ``c.primary``, ``c.rung``, ``c.satisfaction``, ``c.trust``, ``c.segment`` ...; rows up to
  ``c.n``, of which ``c.alive`` marks those in the market). A mechanism writes only the
  columns it owns -- bonds: ``points``, ``social``, ``member``, ``structural``; service:
  ``request_week``, ``contacts``, ``manager_contacts``, ``cross_sell``, ``key_account`` --
  and the service's contacts move the customer's own ``satisfaction`` (a recovery, an
  annoyance) and close a resolved problem (``problem_firm``, ``problem_until``). Plugins
  write none.
* ``scenario``, ``F`` (firms, the focal firm first), ``W`` (warm-up weeks), ``H`` (horizon
  weeks), ``env`` (the SimPy environment: one time unit is a week), ``streams`` (each
  mechanism draws from its own stream only: common random numbers depend on it);
* the current offer: ``price`` (price index per firm), ``quality`` (product quality per firm),
  ``trust_rule``, ``match_gap()``; ``now_week()``, ``customers_of(firm)``,
  ``observed_value(rows, week)``;
* hidden state for benchmarks only: ``lapse_hazard(rows)`` (a campaign's oracle target);
* the bond programs, for rivals to copy: ``program(firm, instrument)``, ``reward_rate(firm)``.

What they may **do**, each through one hook (no mechanism writes another's state):

* book money in the ``ledger`` (:class:`relsim.model.economics.Ledger`) and add to the focal
  firm's service record (``service_log``) or to its customers' surplus
  (``add_customer_surplus``);
* change the offer: ``raise_quality``, ``improve_quality``, ``set_assortment``,
  ``set_problem_rate``, ``cut_price``, ``set_program``, ``set_price_match``,
  ``offer_changed``;
* act on customers: ``trust_kept``, ``bring_occasion_forward``, ``renew_social``;
* ask the focal firm's staff for time: ``contacts`` (capacity-bound).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import simpy

    from relsim.model.economics import Ledger
    from relsim.model.population import Customers
    from relsim.model.streams import Streams
    from relsim.model.trust import TrustRule
    from relsim.scenario.model import Scenario


class MarketInterface:
    """One replication's market as the mechanisms and plugins see it (module docstring)."""

    __slots__ = ("_market",)

    def __init__(self, market: Any) -> None:
        # the engine's Market; held privately: everything reached through it is named below
        self._market = market

    # ------------------------------------------------------------------ what may be read
    @property
    def c(self) -> Customers:
        """The customer arrays (one row per customer)."""
        return self._market.c

    @property
    def scenario(self) -> Scenario:
        """The scenario being simulated."""
        return self._market.scenario

    @property
    def F(self) -> int:
        """Number of firms (the focal firm is firm 0)."""
        return self._market.F

    @property
    def W(self) -> int:
        """Warm-up weeks (weeks -W .. -1 are not reported)."""
        return self._market.W

    @property
    def H(self) -> int:
        """Horizon weeks (weeks 0 .. H-1 are reported)."""
        return self._market.H

    @property
    def env(self) -> simpy.Environment:
        """The SimPy environment (time unit: one week; week w starts at time w + W)."""
        return self._market.env

    @property
    def streams(self) -> Streams:
        """The replication's random streams; a mechanism draws only from its own."""
        return self._market.streams

    @property
    def ledger(self) -> Ledger:
        """The money booked by week, firm and account."""
        return self._market.ledger

    @property
    def price(self) -> np.ndarray:
        """Each firm's price index now (read only)."""
        return self._market.price

    @property
    def quality(self) -> np.ndarray:
        """Each firm's product quality now (read only)."""
        return self._market.quality

    @property
    def trust_rule(self) -> TrustRule:
        """How trust moves (``relsim.model.trust``)."""
        return self._market.trust_rule

    def now_week(self) -> int:
        """The current week (negative in the warm-up)."""
        return self._market.now_week()

    def customers_of(self, firm: int) -> int:
        """Customers whose primary firm is ``firm``, as counted at the end of last week."""
        return self._market.customers_of(firm)

    def observed_value(self, rows: np.ndarray, week: int) -> np.ndarray:
        """The focal firm's recency-weighted margin of each customer (its own records)."""
        return self._market.observed_value(rows, week)

    def lapse_hazard(self, rows: np.ndarray) -> np.ndarray:
        """Hidden state: each customer's hazard now of ending its relationship (its weekly
        lapse probability). No firm observes it; only benchmarks (a campaign's oracle
        target) may read it."""
        return self._market._propensity(rows)

    def program(self, firm: int, instrument: str) -> object | None:
        """``firm``'s bonding program ``instrument`` (points, club, structural), or None."""
        return getattr(self._market.bonds, instrument)[firm]

    def reward_rate(self, firm: int) -> float:
        """``firm``'s points program's reward rate (0 without one)."""
        return float(self._market.bonds.reward_rate[firm])

    # ------------------------------------------------------------------ what may be done
    def service_log(self, name: str, week: int, value: float) -> None:
        """Add to the focal firm's weekly service record (reported weeks only)."""
        self._market.service_log(name, week, value)

    def add_customer_surplus(self, week: int, firm: int, amount: float) -> None:
        """Add ``amount`` (money) to the customers' side of ``firm``'s relationships."""
        self._market.recorder.relationship["customer_surplus"][week, firm] += amount

    def raise_quality(self, firm: int, level: float) -> None:
        """Product quality becomes ``level`` unless it is already higher."""
        self._market.raise_quality(firm, level)

    def improve_quality(self, firm: int, share: float) -> None:
        """Product quality moves ``share`` of the way to 1."""
        self._market.improve_quality(firm, share)

    def set_assortment(self, firm: int, occasions: float, value: float) -> None:
        """``firm``'s assortment multiplies its customers' occasions and its order values."""
        self._market.set_assortment(firm, occasions, value)

    def set_problem_rate(self, firm: int, rate: float) -> None:
        """Share of ``firm``'s orders that meet a problem (late, wrong or faulty)."""
        self._market.set_problem_rate(firm, rate)

    def set_price_match(self, claim_share: float) -> None:
        """The focal firm's price-match guarantee: buyers count on ``claim_share`` of the gap
        to the cheapest rival's price; the offer is rebuilt."""
        self._market.set_price_match(claim_share)

    def match_gap(self) -> float:
        """The focal firm's price index over the cheapest rival's, while it is higher (else
        0): what a price-match guarantee refunds per unit of order value, claimed in full."""
        return float(self._market.match_gap)

    def cut_price(self, firm: int, share: float) -> None:
        """``firm`` cuts its price by ``share``; the offer is rebuilt."""
        self._market.cut_price(firm, share)

    def set_program(
        self, firm: int, instrument: str, program: object, strength: float | None = None
    ) -> None:
        """``firm`` now runs ``program`` as its ``instrument`` (a copy, a raise; ``strength``:
        how complete a copied structural tie is); the offer is rebuilt."""
        self._market.bonds.set_program(firm, instrument, program, strength)
        self._market.offer_changed()

    def offer_changed(self) -> None:
        """A firm's price, quality, reputation or program changed: rebuild the offer."""
        self._market.offer_changed()

    def trust_kept(self, rows: np.ndarray, gain: np.float32) -> None:
        """A promise kept outside a purchase: trust in the primary firm moves ``gain`` of the
        way to 1."""
        self._market.trust_kept(rows, gain)

    def bring_occasion_forward(self, rows: np.ndarray, week: int, factor: float) -> None:
        """An outreach: the next purchase occasion is redrawn at ``factor`` x the rate."""
        self._market.bring_occasion_forward(rows, week, factor)

    def renew_social(self, rows: np.ndarray, firm: int, week: int, gain: float) -> None:
        """A contact that renews the social bond of ``rows`` with ``firm`` by ``gain``."""
        self._market.bonds.renew_social(rows, firm, week, gain)

    def contacts(self, week: int, pool: str, activity: str, wanted: int, per_contact: float) -> int:
        """How many of ``wanted`` contacts of ``per_contact`` hours the focal firm's staff
        ``pool`` makes for ``activity`` this week (capacity-bound)."""
        return self._market.service.contacts(week, pool, activity, wanted, per_contact)
