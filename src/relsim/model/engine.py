"""One replication: a SimPy environment whose processes drive a vectorised market.

Clock: one SimPy time unit is one week; week ``w`` (negative in the warm-up) starts at time
``w + W`` where ``W`` is the warm-up length. At the start of a week shocks and the strategy
launch take effect, in the middle of it customers are born and leads arrive, and at its end the
market process runs the weekly step over all customers at once:

1. exits (relocation, substitute adoption) -- market and technology defections -- and
   lapses: relationships that end by the customer's own propensity (non-contractual); a
   customer who drifted off does not consider the firm it left while it has no relationship
   (customers lost, :mod:`relsim.model.losses`) -- :mod:`relsim.model.endings`;
2. purchase occasions (and contract renewals): choice, orders, problems, satisfaction, the
   customer's surplus, ladder, switching of the primary firm -- :mod:`relsim.model.purchases`,
   :mod:`relsim.model.surplus`, :mod:`relsim.model.relationships`;
3. the mechanisms' weekly work: service, retention tools, bonds and plugin instruments, which
   see the market through :class:`relsim.model.interface.MarketInterface`;
4. records, and the week's fixed and acquisition costs -- :mod:`relsim.model.census`.

Births, leads and shocks are SimPy processes of their own (:mod:`relsim.model.events`,
:mod:`relsim.model.arrivals`); the run's end values what continues after the horizon
(:mod:`relsim.model.residual`).

Each customer's next occasion and exit is a week number drawn from a geometric waiting time and
redrawn when its rate changes; a relationship's lapse, whose hazard moves with every purchase,
is a geometric candidate week at a bound hazard, thinned to the hazard of the moment when it
comes. So a week costs a few comparisons over the arrays plus work proportional to the customers
who act in it. No per-customer Python loop.

Customers' fields are read for a set of rows with ``field.take(rows)``, and small tables by
codes with ``table.take(codes)``: for one-dimensional gathers numpy's ``take`` skips the general
indexing machinery, about a third faster than ``field[rows]`` on this kind of machine and twice
as fast for int8 codes. Writes stay ``field[rows] = ...`` (``put`` is slower). A mask that
selects from several arrays becomes positions once (``mask.nonzero()[0]``): indexing by a random
mask of moderate density is several times slower than by positions. For 1-D masks that is
``np.flatnonzero`` without its Python layers, which cost about 2.5 us a call here: a small
market's week makes about 50 such calls. Bounds are ``np.maximum`` and ``np.minimum`` rather
than ``np.clip``, for the same reason.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import simpy

from relsim import extensions
from relsim.domain import RUNGS
from relsim.model import choice, trust
from relsim.model import records as rec
from relsim.model.allocator import keep_freed_memory
from relsim.model.arrivals import Arrivals
from relsim.model.bonds import BondBook
from relsim.model.campaigns import CRM_RECORDS, FirmCrm
from relsim.model.census import Census
from relsim.model.economics import Ledger, discount_factors
from relsim.model.endings import Endings
from relsim.model.events import Events
from relsim.model.interface import MarketInterface
from relsim.model.levers import Levers
from relsim.model.params import FirmState, Params
from relsim.model.per_market import OneMarket
from relsim.model.population import NEVER, Customers
from relsim.model.purchases import Purchases
from relsim.model.raw_run import RawRun
from relsim.model.relationships import Relationships
from relsim.model.residual import Residual
from relsim.model.retention import FirmRetention
from relsim.model.rivals import Rivalry
from relsim.model.satisfaction import SatisfactionRule
from relsim.model.service import OBSERVED_VALUE_MEMORY_WEEKS, SERVICE_RECORDS, FirmService
from relsim.model.starting import StartingCustomers
from relsim.model.streams import Streams
from relsim.model.surplus import Surplus
from relsim.model.week import Week
from relsim.scenario.model import Scenario, Strategy

N_RUNGS = len(RUNGS)
COMPACT_SHARE = 0.10
"""Gone rows are compacted away once they exceed this share of the rows (memory policy only:
results do not depend on it, which a test checks)."""


class Market(
    OneMarket,
    Week,
    Arrivals,
    Events,
    Purchases,
    Surplus,
    Relationships,
    Endings,
    Residual,
    Census,
    Levers,
):
    """The market of one replication; ``run()`` simulates it and returns a :class:`RawRun`.

    The class keeps the wiring (state, mechanisms, SimPy processes) and the weekly step; each
    part of the step lives in a module of its own, mixed in: :mod:`~relsim.model.arrivals`,
    :mod:`~relsim.model.events`, :mod:`~relsim.model.purchases`, :mod:`~relsim.model.surplus`,
    :mod:`~relsim.model.relationships`, :mod:`~relsim.model.endings`,
    :mod:`~relsim.model.residual`, :mod:`~relsim.model.census` and :mod:`~relsim.model.levers`.
    """

    def __init__(
        self,
        scenario: Scenario,
        strategy: Strategy,
        seed: int | np.random.SeedSequence,
        starting: StartingCustomers | None = None,
    ):
        self.scenario = scenario
        self.strategy = strategy
        self.p = Params.from_scenario(scenario)
        self.streams = Streams(seed)
        self.F = self.p.n_firms
        self.W = scenario.horizon.warmup_weeks
        self.H = scenario.horizon.weeks
        self.starting = None if starting is None else starting.checked(self.p.n_segments, self.F)
        n0 = scenario.market.customers if self.starting is None else len(self.starting)
        # births replace exits and compaction frees gone rows once they exceed 10% of the
        # rows, so 1.12 x the initial market rarely needs to grow (by 1.25 x if it must)
        self.c = Customers(self.F, int(1.12 * n0) + 64)
        self.compact_share = COMPACT_SHARE
        self.ledger = Ledger(self.H, self.F)
        self.recorder = rec.Recorder(self.H, self.F, SERVICE_RECORDS + CRM_RECORDS, self.W)
        self.discount = discount_factors(self.H, self.p.weekly_discount)
        # the status quo is the baseline strategy: the warm-up runs it for every strategy
        self.status_quo = scenario.strategy(scenario.baseline_strategy)
        self.state: FirmState = self.p.under_strategy(self.p.status_quo, self.status_quo)
        self._set_up_rules(scenario)
        self._set_up_firms()
        self._buffers: dict[str, np.ndarray] = {}
        self._costs_of: FirmState | None = None  # the offer _weekly_costs converted
        self.unhappy = np.zeros(self.F)
        self.ever_bought = np.zeros(self.F, dtype=np.int64)  # live customers who bought there
        self.last_ladder = np.zeros((self.F, N_RUNGS), dtype=np.int64)
        self.customer_weeks = 0
        self.shock_log: list[dict[str, Any]] = []
        self.instruments: list[extensions.Instrument] = []
        self.crm: FirmCrm | None = None  # the focal firm's database and campaigns
        self.interface = MarketInterface(self)  # what mechanisms and plugins see of it
        self.bonds = BondBook(self.interface)
        for firm, spec in enumerate(scenario.firms[1:], start=1):
            self.bonds.run(firm, spec.bonds)
        self.bonds.run(0, self.status_quo.bonds)
        self._refresh_offer()

    def _set_up_rules(self, scenario: Scenario) -> None:
        """The behavioural rules' constants: price weights, segment draws, satisfaction,
        trust, choice, the lapse candidates' bound and the recency of observed value."""
        p = self.p
        self.any_contractual = bool(p.contractual.any())
        # utility per unit of price index by (segment, rung), flat: beta_p * m_p(rung)
        self.price_weight = np.multiply.outer(p.price_sensitivity, p.price_multiplier).reshape(-1)
        cdf = np.cumsum(p.segment_share)
        self.segment_cdf = cdf / cdf[-1]
        # recency weights of observed value by whole weeks of age (ages run 0 .. W + H): a
        # lookup instead of an exponential per customer
        self.recency = np.exp(-np.arange(self.W + self.H + 1) / OBSERVED_VALUE_MEMORY_WEEKS)
        self.trust_rule = trust.TrustRule.from_scenario(scenario.trust)
        # no relationship's hazard exponent exceeds this (bonds only lower it): the lapse
        # candidates' rate, thinned to the current hazard at each candidate week
        self.any_periodic = bool((p.defection_period > 1).any())  # death opportunities
        self.lapse_exponent_bound = (
            float(p.defection_multiplier[1:].max())
            * (1.0 + scenario.satisfaction.dissatisfied_defection_multiplier)
            * trust.max_hazard_factor(self.trust_rule)
        )
        sat = scenario.satisfaction
        self.rule = SatisfactionRule(
            sat.learning_rate, sat.expectation_rate, sat.tolerance, sat.problem_penalty
        )
        self.terms = choice.ChoiceTerms(
            habit=p.habit,
            satisfaction_weight=sat.choice_weight,
            lead_bonus=scenario.acquisition.lead_bonus,
            winback_penalty=scenario.switching.winback_penalty,
        )
        self.choice_rule = extensions.choice_rule(scenario.choice_rule)
        self.logit = isinstance(self.choice_rule, extensions.Logit)
        # the plain logit's outside weights by segment (None: the rule samples on its own)
        plain = type(self.choice_rule) is extensions.Logit
        self.outside_weight = choice.outside_weights(p.outside_utility) if plain else None
        self.varied_order_values = bool((p.within_shape > 0).any())

    def _set_up_firms(self) -> None:
        """The firms' levers that mechanisms and events move through the market's hooks:
        quality, problem rate, assortment (occasions indexed by primary firm, the last entry
        for customers without one; order value per firm), price factor, shock penalty and
        the substitute technology's hazard."""
        self.quality = self.state.quality.copy()
        self.problem_rate = self.p.problem_rate.copy()
        self.occasion_factor = np.ones(self.F + 1)
        self.value_factor = np.ones(self.F)
        self.assortment = False
        self.price_factor = np.ones(self.F)
        self.shock_penalty = np.zeros(self.F)
        self.substitute_hazard = 0.0
        self.price_match = 0.0  # the focal firm's price-match claim share (0: none)
        self.match_gap = 0.0  # its price over the cheapest rival's, while it is higher

    def run(self) -> RawRun:
        """Simulate warm-up and horizon; return the recorded arrays."""
        self.warm_up()
        return self.horizon()

    def warm_up(self) -> None:
        """Simulate the warm-up under the status quo, which never depends on the strategy: the
        strategies of one seed share it (:mod:`relsim.model.shared_warm_up`). Ends where the
        launch comes at week 0 (what the status quo queued for week 0 before the launch comes
        first, as in one environment) with the SimPy environment let go (``env`` is None), so the
        warmed-up market can be copied; :meth:`horizon` starts a new one."""
        self.begin_warm_up()
        self.env.run()
        self.end_warm_up()

    def begin_warm_up(self, ticking: bool = True) -> None:
        """The warm-up's environment with the initial market and its processes (``ticking``
        False: no weekly births, leads and step of its own; a pass of markets brings them to
        all its markets together, :mod:`relsim.model.market_pass`). Running the environment
        to its end reaches the launch point."""
        self._started = time.perf_counter()
        env = simpy.Environment()
        self.env = env
        self.service = FirmService(self.interface, self.status_quo, env)
        self.retention = FirmRetention(self.interface, self.status_quo, env)
        if self.status_quo.crm is not None:
            self.crm = FirmCrm(self.interface, self.status_quo.crm)
        self._populate(-self.W)
        # the warm-up ends where the launch comes: a process started where the launch's was,
        # so that what the status quo queued for week 0 before it (a quality ramp's first
        # step) still comes first, and nothing queued after it
        env.process(self._launch_point())
        self.shock_times = self._shock_times()
        if self.W:
            for process in (self._births, self._leads, self._tick) if ticking else ():
                env.process(process(-self.W))

    def end_warm_up(self) -> None:
        """Let the warm-up's environment go (at the launch point)."""
        # what is left pending: the weekly processes (horizon starts them again at week 0) and
        # a ramp's later steps, which the launch stops before they could act; the status quo's
        # service desk is replaced by the launch
        self.env = None  # type: ignore[assignment]
        self.service = None  # type: ignore[assignment]
        self.warm_up_seconds = time.perf_counter() - self._started

    def horizon(self) -> RawRun:
        """From week 0: launch the strategy, simulate the horizon, return the arrays."""
        self.begin_horizon()
        self.env.run(until=self.W + self.H)
        return self.end_horizon()

    def begin_horizon(self, ticking: bool = True) -> None:
        """The horizon's environment from week 0 (``ticking``: as :meth:`begin_warm_up`). The
        processes start in the order a single environment would have queued them (launch,
        staffing, shocks, then the weekly ones), so same-time events keep their order."""
        self._started = time.perf_counter()
        env = simpy.Environment(initial_time=self.W)
        self.env = env
        self.rivalry = Rivalry(self.interface, self.strategy.responds_to_rivals)
        env.process(self._launch_strategy())
        for change in self.strategy.staffing.changes:
            if change.week < self.H:
                env.process(self._staffing(change.week, change.pool, change.count))
        for shock, weeks in self.shock_times:
            for week in weeks:
                env.process(self._shock(shock, int(week)))
        for process in (self._births, self._leads, self._tick) if ticking else ():
            env.process(process(0))

    def end_horizon(self) -> RawRun:
        """The run's arrays, once the environment reached the horizon's end."""
        return self._result(self.warm_up_seconds + time.perf_counter() - self._started)

    def _launch_point(self):  # type: ignore[no-untyped-def]
        """Stops the warm-up's environment the moment the launch's event would be processed
        (as ``run(until=event)`` does, but on the timeout itself: the end of a process is an
        event of its own, queued after whatever else is due at that time)."""
        point = self.env.timeout(self.W - self.env.now)
        point.callbacks.append(simpy.core.StopSimulation.callback)
        yield point

    def _tick(self, first: int):  # type: ignore[no-untyped-def]
        for week in range(first, self.H):
            yield self.env.timeout(week + self.W + 0.75 - self.env.now)
            self.step(week)

    def _launch_strategy(self):  # type: ignore[no-untyped-def]
        yield self.env.timeout(self.W - self.env.now)
        old_price = self.price[0]
        self.state = self.p.under_strategy(self.p.status_quo, self.strategy)
        self.service = FirmService(self.interface, self.strategy, self.env)
        self.retention.stop()
        self.retention = FirmRetention(self.interface, self.strategy, self.env)
        crm = self.strategy.crm
        self.crm = None if crm is None else FirmCrm(self.interface, crm)
        if self.strategy.key_accounts is None:
            self.c.key_account[: self.c.n] = False
        before = self.status_quo.bonds
        after = self.strategy.bonds
        old_rate = self.bonds.reward_rate[0]
        self.bonds.run(0, after)
        self.instruments = [
            extensions.instrument(spec.name, spec.params) for spec in self.strategy.instruments
        ]
        self._refresh_offer()
        # the launch is a move the rivals watch
        if after.points is not None and after.points.reward_rate > old_rate + 1e-12:
            self.rivalry.announce(0, 0, "points", "launch" if before.points is None else "raise")
        for instrument in ("club", "structural"):
            if getattr(after, instrument) is not None and getattr(before, instrument) is None:
                self.rivalry.announce(0, 0, instrument, "launch")
        if self.price[0] < old_price - 1e-12:
            self.rivalry.price_cut(0, 1.0 - self.price[0] / old_price)

    def _staffing(self, week: int, pool: str, count: float):  # type: ignore[no-untyped-def]
        yield self.env.timeout(week + self.W - self.env.now)
        self.service.staff(pool, count)

    def offer_changed(self) -> None:
        """A firm's price, quality, reputation or program changed: rebuild the offer."""
        self._refresh_offer()

    def _refresh_offer(self) -> None:
        self.price = self.state.price_index * self.price_factor
        # customers see a points program as a discount of its reward rate
        self.perceived_price = self.price * (1.0 - self.bonds.reward_rate)
        # a price-match guarantee: buyers count on the share of the gap they would claim
        cheapest = float(self.price[1:].min()) if self.F > 1 else float(self.price[0])
        self.match_gap = max(float(self.price[0]) - cheapest, 0.0)
        if self.price_match:
            self.perceived_price[0] -= self.price_match * self.match_gap
        offer = FirmState(
            self.perceived_price,
            self.state.reputation_penalty + self.shock_penalty,
            self.state.acquisition_spend,
            self.quality,
        )
        self.table = self.p.utility_table(offer)
        self.table_by_cell = choice.by_cell(self.table)  # what each occasion's choice gathers
        self.penalty = offer.reputation_penalty

    def now_week(self) -> int:
        """The current week (negative in the warm-up); ``math.floor``, a third of the cost of
        ``np.floor`` on one number (read a few times a week)."""
        return math.floor(self.env.now) - self.W

    def customers_of(self, firm: int) -> int:
        """Customers whose primary firm is ``firm`` (as counted at the end of last week)."""
        return int(self.last_ladder[firm, 1:].sum())

    def observed_value(self, rows: np.ndarray, week: int) -> np.ndarray:
        """The focal firm's recency-weighted margin of each customer (its own records)."""
        c = self.c
        last = c.last_order_focal.take(rows)
        age = np.where(last == NEVER, 0, week - last)
        return c.observed_value.take(rows) * self.recency.take(age)

    def service_log(self, name: str, week: int, value: float) -> None:
        """Add to the focal firm's weekly service record (reported weeks only)."""
        if 0 <= week < self.H:
            self.recorder.service[name][week] += value

    def trust_kept(self, rows: np.ndarray, gain: np.float32) -> None:
        """A promise kept outside a purchase (a problem resolved, a contact that delivered):
        trust in the primary firm moves ``gain`` of the way to 1."""
        self.c.trust[rows] = trust.kept(self.c.trust[rows], gain)


def simulate_arrays(
    scenario: Scenario,
    strategy: Strategy,
    seed: int | np.random.SeedSequence,
    starting: StartingCustomers | None = None,
) -> RawRun:
    """Run one replication of ``scenario`` under ``strategy``; arrays only (no pandas).
    ``starting`` replaces the drawn initial market by named customers."""
    keep_freed_memory()  # the week's temporaries reuse faulted-in memory (allocator.py)
    return Market(scenario, strategy, seed, starting).run()
