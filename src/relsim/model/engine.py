"""One replication: a SimPy environment whose processes drive a vectorised market.

Clock: one SimPy time unit is one week; week ``w`` (negative in the warm-up) starts at time
``w + W`` where ``W`` is the warm-up length. At the start of a week shocks and the strategy
launch take effect, in the middle of it customers are born and leads arrive, and at its end the
market process runs the weekly step over all customers at once:

1. exits (relocation, substitute adoption) -- market and technology defections;
2. lapses: relationships that end by the customer's own propensity (non-contractual); a
   customer who drifted off does not consider the firm it left while it has no relationship
   (customers lost, :mod:`relsim.model.losses`);
3. purchase occasions (and contract renewals): choice, orders, problems, satisfaction, ladder,
   switching of the primary firm;
4. records.

Each customer's next occasion and exit is a week number drawn from a geometric waiting time and
redrawn when its rate changes; a relationship's lapse, whose hazard moves with every purchase,
is a geometric candidate week at a bound hazard, thinned to the hazard of the moment when it
comes. So a week costs a few comparisons over the arrays plus work proportional to the customers
who act in it. No per-customer Python loop.

Customers' fields are read for a set of rows with ``field.take(rows)``, and small tables by
codes with ``table.take(codes)``: for one-dimensional gathers numpy's ``take`` skips the general
indexing machinery, about a third faster than ``field[rows]`` on this kind of machine and twice
as fast for int8 codes. Writes stay ``field[rows] = ...`` (``put`` is slower). A mask that
selects from several arrays becomes positions once (``np.flatnonzero``): indexing by a random
mask of moderate density is several times slower than by positions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from relsim import extensions
from relsim.domain import MARKET, POLITICAL, RUNGS, SERVICE, TECHNOLOGY
from relsim.model import choice, continuation, defection, ladder, losses, trust
from relsim.model import records as rec
from relsim.model.allocator import keep_freed_memory
from relsim.model.bonds import BondBook
from relsim.model.economics import (
    Ledger,
    discount_factors,
    to_cents,
    whole_cents,
)
from relsim.model.params import WEEKS_PER_YEAR, FirmState, Params
from relsim.model.population import NEVER, NONE, Customers
from relsim.model.retention import FirmRetention
from relsim.model.rivals import Rivalry
from relsim.model.satisfaction import (
    SatisfactionRule,
    experience,
    is_satisfying,
    update_expectation,
    update_satisfaction,
)
from relsim.model.service import OBSERVED_VALUE_MEMORY_WEEKS, SERVICE_RECORDS, FirmService
from relsim.model.starting import StartingCustomers
from relsim.model.streams import Streams
from relsim.scenario.model import Scenario, Shock, Strategy

N_RUNGS = len(RUNGS)
MAX_TENURE_WEEKS = 5200
"""Initial tenures are capped at 100 years (keeps every week number within int16)."""
MIN_PRICE_WEIGHT = 1e-6
"""Below this price weight (utility per unit of price index) a customer's utility has no
money equivalent: one unit would be worth over a million orders."""
COUNT_SLICE = 65_536
"""Rows per slice of the weekly counts (work buffers of this size are kept between weeks)."""
RESULT_SLICE = 4_096
"""Rows per slice when the end of a run values the focal firm's remaining customers."""

AWAY_UTILITY = -1e6
"""Utility of the firm a customer drifted away from, while it has no relationship: below
any choice rule's bound, so the firm is never chosen (:mod:`relsim.model.choice` clips it to
-300, a weight of 1e-130)."""

COMPACT_SHARE = 0.10
"""Gone rows are compacted away once they exceed this share of the rows (memory policy only:
results do not depend on it, which a test checks)."""


@dataclass
class RawRun:
    """Arrays produced by one replication (tables are built from them in ``relsim.results``)."""

    scenario: Scenario
    strategy: Strategy
    weekly_counts: dict[str, np.ndarray]
    by_reason: np.ndarray
    ladder: np.ndarray
    market: dict[str, np.ndarray]
    revenue: np.ndarray
    costs: dict[str, np.ndarray]
    discount: np.ndarray
    defections: dict[str, np.ndarray]
    trace: dict[str, np.ndarray]
    customers: dict[str, np.ndarray]
    service: dict[str, np.ndarray]
    warmup_customers: np.ndarray  # (W, F) customers per firm in each warm-up week
    shocks: list[dict[str, Any]]
    bonds: dict[str, np.ndarray]  # (H, F) weekly bond records per firm
    moves: list[dict[str, Any]]  # launches, copies, raises and price moves, in order
    customer_weeks: int
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)
    journeys: dict[str, np.ndarray] = field(default_factory=dict)  # traced customers, weekly
    relationship: dict[str, np.ndarray] = field(default_factory=dict)  # (H, F) weekly


class Market:
    """The market of one replication; ``run()`` simulates it and returns a :class:`RawRun`."""

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
        self.any_contractual = bool(self.p.contractual.any())
        # utility per unit of price index by (segment, rung), flat: beta_p * m_p(rung)
        self.price_weight = np.multiply.outer(
            self.p.price_sensitivity, self.p.price_multiplier
        ).reshape(-1)
        cdf = np.cumsum(self.p.segment_share)
        self.segment_cdf = cdf / cdf[-1]
        self.streams = Streams(seed)
        self.F = self.p.n_firms
        self.W = scenario.horizon.warmup_weeks
        self.H = scenario.horizon.weeks
        # recency weights of observed value by whole weeks of age (ages run 0 .. W + H): a
        # lookup instead of an exponential per customer
        self.recency = np.exp(-np.arange(self.W + self.H + 1) / OBSERVED_VALUE_MEMORY_WEEKS)
        self.starting = None if starting is None else starting.checked(self.p.n_segments, self.F)
        n0 = scenario.market.customers if self.starting is None else len(self.starting)
        # births replace exits and compaction frees gone rows once they exceed 10% of the
        # rows, so 1.12 x the initial market rarely needs to grow (by 1.25 x if it must)
        self.c = Customers(self.F, int(1.12 * n0) + 64)
        self.compact_share = COMPACT_SHARE
        self.ledger = Ledger(self.H, self.F)
        self.recorder = rec.Recorder(self.H, self.F, SERVICE_RECORDS, self.W)
        self.discount = discount_factors(self.H, self.p.weekly_discount)
        # the status quo is the baseline strategy: the warm-up runs it for every strategy
        self.status_quo = scenario.strategy(scenario.baseline_strategy)
        self.state: FirmState = self.p.under_strategy(self.p.status_quo, self.status_quo)
        self.quality = self.state.quality.copy()
        # the retention tools' levers: problem rate, occasions (indexed by primary firm, the
        # last entry for customers without one) and order value per firm
        self.problem_rate = self.p.problem_rate.copy()
        self.occasion_factor = np.ones(self.F + 1)
        self.value_factor = np.ones(self.F)
        self.assortment = False
        self.trust_rule = trust.TrustRule.from_scenario(scenario.trust)
        self._buffers: dict[str, np.ndarray] = {}
        # no relationship's hazard exponent exceeds this (bonds only lower it): the lapse
        # candidates' rate, thinned to the current hazard at each candidate week
        self.lapse_exponent_bound = (
            float(self.p.defection_multiplier[1:].max())
            * (1.0 + scenario.satisfaction.dissatisfied_defection_multiplier)
            * trust.max_hazard_factor(self.trust_rule)
        )
        self.price_factor = np.ones(self.F)
        self.shock_penalty = np.zeros(self.F)
        self.substitute_hazard = 0.0
        self.unhappy = np.zeros(self.F)
        self.ever_bought = np.zeros(self.F, dtype=np.int64)  # live customers who bought there
        self.last_ladder = np.zeros((self.F, N_RUNGS), dtype=np.int64)
        self.customer_weeks = 0
        self.shock_log: list[dict[str, Any]] = []
        sat = scenario.satisfaction
        self.rule = SatisfactionRule(
            sat.learning_rate, sat.expectation_rate, sat.tolerance, sat.problem_penalty
        )
        self.terms = choice.ChoiceTerms(
            habit=self.p.habit,
            satisfaction_weight=sat.choice_weight,
            lead_bonus=scenario.acquisition.lead_bonus,
            winback_penalty=scenario.switching.winback_penalty,
        )
        self.choice_rule = extensions.choice_rule(scenario.choice_rule)
        self.logit = isinstance(self.choice_rule, extensions.Logit)
        self._premium = (np.zeros(0, np.intp), np.zeros(0))  # see _surplus
        self.instruments: list[extensions.Instrument] = []
        self.bonds = BondBook(self)
        for firm, spec in enumerate(scenario.firms[1:], start=1):
            self.bonds.run(firm, spec.bonds)
        self.bonds.run(0, self.status_quo.bonds)
        self._refresh_offer()

    # ------------------------------------------------------------------ clock and processes
    def run(self) -> RawRun:
        """Simulate warm-up and horizon; return the recorded arrays."""
        started = time.perf_counter()
        env = simpy.Environment()
        self.env = env
        self.service = FirmService(self, self.status_quo, env)
        self.retention = FirmRetention(self, self.status_quo, env)
        self.rivalry = Rivalry(self, self.strategy.responds_to_rivals)
        self._populate(-self.W)
        env.process(self._launch_strategy())
        for change in self.strategy.staffing.changes:
            if change.week < self.H:
                env.process(self._staffing(change.week, change.pool, change.count))
        for shock, weeks in self._shock_times():
            for week in weeks:
                env.process(self._shock(shock, int(week)))
        env.process(self._births())
        env.process(self._leads())
        env.process(self._tick())
        env.run(until=self.W + self.H)
        return self._result(time.perf_counter() - started)

    def _tick(self):  # type: ignore[no-untyped-def]
        for week in range(-self.W, self.H):
            yield self.env.timeout(week + self.W + 0.75 - self.env.now)
            self.step(week)

    def _births(self):  # type: ignore[no-untyped-def]
        market = self.scenario.market
        replacement = float(np.dot(self.p.segment_share, self.p.relocation_weekly))
        growth = (1.0 + market.growth_per_year) ** (1.0 / WEEKS_PER_YEAR) - 1.0
        for week in range(-self.W, self.H):
            yield self.env.timeout(week + self.W + 0.25 - self.env.now)
            target = market.customers * (1.0 + growth) ** (week + self.W)
            count = int(self.streams.births.poisson(target * (replacement + max(growth, 0.0))))
            if count:
                rows = self._add_customers(count, week)
                self._trace(week, rec.BORN, rows)
                if week >= 0:
                    self.recorder.market["births"][week] += count

    def _leads(self):  # type: ignore[no-untyped-def]
        acq = self.scenario.acquisition
        decay = np.exp(-1.0 / acq.unhappy_memory_weeks)
        for week in range(-self.W, self.H):
            yield self.env.timeout(week + self.W + 0.5 - self.env.now)
            spend = self.state.acquisition_spend
            paid = (
                acq.leads_at_saturation_per_week
                * self.c.live
                * spend
                / (spend + acq.half_saturation_spend_per_week)
            )
            referrals = self.last_ladder @ self.p.referrals_weekly
            lost = acq.negative_referrals_per_unhappy_defector * self.unhappy * (1.0 - decay)
            rate = np.maximum(paid + referrals - lost, 0.0)
            self.unhappy *= decay
            self._assign_leads(week, self.streams.leads.poisson(rate))

    def _launch_strategy(self):  # type: ignore[no-untyped-def]
        yield self.env.timeout(self.W)
        old_price = self.price[0]
        self.state = self.p.under_strategy(self.p.status_quo, self.strategy)
        self.service = FirmService(self, self.strategy, self.env)
        self.retention.stop()
        self.retention = FirmRetention(self, self.strategy, self.env)
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

    def _shock_times(self) -> list[tuple[Shock, np.ndarray]]:
        out = []
        rng = self.streams.shocks
        for shock in self.scenario.shocks:
            if shock.week is not None:
                weeks = np.array([shock.week]) if shock.week < self.H else np.array([], int)
            else:
                assert shock.rate_per_year is not None
                count = rng.poisson(shock.rate_per_year * self.H / WEEKS_PER_YEAR)
                weeks = np.sort(rng.integers(0, self.H, size=count))
            out.append((shock, weeks))
        return out

    def _shock(self, shock: Shock, week: int):  # type: ignore[no-untyped-def]
        yield self.env.timeout(week + self.W - self.env.now)
        firm = self._firm_index(shock.firm) if shock.firm is not None else NONE
        self.shock_log.append(
            {"week": week, "kind": shock.kind, "firm": shock.firm, "size": shock.size}
        )
        if shock.kind == "substitute":
            self._substitute(week, shock.size)
            return
        if shock.kind == "reputation":
            self._reputation(week, firm, shock.size)
            self.shock_penalty[firm] += shock.penalty
            self._refresh_offer()
            yield self.env.timeout(shock.duration_weeks)
            self.shock_penalty[firm] -= shock.penalty
        else:  # price_cut
            self.price_factor[firm] *= 1.0 - shock.size
            self._refresh_offer()
            yield self.env.timeout(shock.duration_weeks)
            self.price_factor[firm] /= 1.0 - shock.size
        self._refresh_offer()

    def _firm_index(self, name: str) -> int:
        return [f.name for f in self.scenario.firms].index(name)

    def offer_changed(self) -> None:
        """A firm's price, quality, reputation or program changed: rebuild the offer."""
        self._refresh_offer()

    def _refresh_offer(self) -> None:
        self.price = self.state.price_index * self.price_factor
        # customers see a points program as a discount of its reward rate
        self.perceived_price = self.price * (1.0 - self.bonds.reward_rate)
        offer = FirmState(
            self.perceived_price,
            self.state.reputation_penalty + self.shock_penalty,
            self.state.acquisition_spend,
            self.quality,
        )
        self.table = self.p.utility_table(offer)
        self.penalty = offer.reputation_penalty

    # ------------------------------------------------------------------ population
    def _add_customers(self, count: int, week: int) -> slice:
        """Born customers: traits from the population stream, exits from the exits stream."""
        c, p = self.c, self.p
        rows = c.add(count)
        pop = self.streams.population
        # the draws Generator.choice(p=segment_share) makes (one uniform each, searched in the
        # cumulative shares), without its per-call checks of the shares
        seg = self.segment_cdf.searchsorted(pop.random(count), side="right").astype(np.int8)
        c.segment[rows] = seg
        c.born[rows] = week
        for s, segment in enumerate(self.scenario.segments):
            members = np.flatnonzero(seg == s) + rows.start
            k = len(members)
            if not k:
                continue
            rate = _gamma(pop, segment.orders_per_year.mean, segment.orders_per_year.shape, k)
            c.rate[members] = rate / WEEKS_PER_YEAR
            c.value[members] = _gamma(pop, segment.order_value.mean, segment.order_value.shape, k)
            theta = _beta(
                pop,
                segment.defection_propensity.mean,
                segment.defection_propensity.concentration,
                k,
            )
            if not segment.contractual:
                theta = 1.0 - (1.0 - theta) ** (1.0 / WEEKS_PER_YEAR)
            c.propensity[members] = theta
            c.expectation[members] = segment.expected_quality
        c.traced[rows] = pop.random(count) < self.scenario.trace_share
        exits = self.streams.exits
        c.exit_week[rows] = defection.schedule(week, p.relocation_weekly[seg], exits.random(count))
        c.exit_kind[rows] = MARKET
        if self.substitute_hazard > 0:
            self._draw_substitute(np.arange(rows.start, rows.stop), week, self.substitute_hazard)
        idx = np.arange(rows.start, rows.stop)
        c.next_occasion[rows] = self._next_occasion(idx, week)
        return rows

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
            np.floor(rng.exponential(market.mean_tenure_years * WEEKS_PER_YEAR, n)),
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
        c.rate[rows] = start.orders_per_year / WEEKS_PER_YEAR
        c.value[rows] = start.order_value
        theta = start.defection_propensity
        contract = p.contractual[seg]
        c.propensity[rows] = np.where(
            contract, theta, 1.0 - (1.0 - theta) ** (1.0 / WEEKS_PER_YEAR)
        )
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

    def _traced(self, rows: np.ndarray) -> np.ndarray:
        """Positions in ``rows`` of the traced customers (few): callers build the trace's
        columns for these only."""
        return np.flatnonzero(self.c.traced.take(rows))

    def _trace(
        self,
        week: int,
        event: int,
        rows: slice | np.ndarray,
        firm: Any = NONE,
        rung: Any = 0,
        amount: Any = 0.0,
    ) -> None:
        """Keep ``event`` for the traced customers among ``rows`` (aligned firm/rung/amount)."""
        c = self.c
        idx = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
        keep = self._traced(idx)
        if not len(keep):
            return

        def pick(x: Any) -> Any:
            return x.take(keep) if isinstance(x, np.ndarray) else x

        self.recorder.trace(
            week, event, c.id.take(idx.take(keep)), pick(firm), pick(rung), pick(amount)
        )

    # ------------------------------------------------------------------ schedules
    def _next_occasion(self, idx: np.ndarray, week: int) -> np.ndarray:
        """Next purchase occasion from ``week`` on (contract holders: handled by callers)."""
        c, p = self.c, self.p
        rate = c.rate.take(idx).astype(np.float64) * p.purchase_multiplier.take(c.rung.take(idx))
        if self.assortment:
            rate *= self.occasion_factor.take(c.primary.take(idx))
        u = self.streams.occasions.random(len(idx), dtype=np.float32)
        return defection.schedule(week, rate, u)

    def _propensity(self, idx: np.ndarray) -> np.ndarray:
        c = self.c
        sat = self.scenario.satisfaction
        dissatisfied = c.satisfaction.take(idx) < sat.service_threshold
        multiplier = self.p.defection_multiplier.take(c.rung.take(idx))
        bonded = self.bonds.lapse_factor(idx, self.now_week())
        if bonded is not None:
            multiplier = multiplier * bonded
        trusting = trust.hazard_factor(c.trust.take(idx), self.trust_rule)
        if trusting is not None:
            multiplier = multiplier * trusting
        return defection.effective_propensity(
            c.propensity.take(idx), multiplier, dissatisfied, sat.dissatisfied_defection_multiplier
        )

    def _utilities(self, rows: np.ndarray, primary: np.ndarray, lead: np.ndarray) -> np.ndarray:
        """Deterministic utilities (F, n) of ``rows`` with the given primary and lead firms."""
        c = self.c
        week = self.now_week()
        seg, rung = c.segment.take(rows), c.rung.take(rows)
        cell = seg.astype(np.intp)  # flat (segment, rung) cells, for every table by both
        cell *= N_RUNGS
        cell += rung
        left = c.left.take(rows)
        v = choice.utilities(
            self.table,
            self.terms,
            seg,
            rung,
            primary,
            c.satisfaction.take(rows),
            lead,
            left,
            cell=cell,
        )
        # a customer who drifted off and has no relationship does not consider the firm it
        # left (a lost customer): it returns only once a relationship elsewhere has ended
        away = np.flatnonzero((primary == NONE) & (left != NONE))
        if len(away):
            v[left.take(away).astype(np.intp), away] = AWAY_UTILITY
        self.bonds.add_utility(v, rows, primary, week, self.price_weight.take(cell))
        for instrument in self.instruments:
            more = instrument.utility(self, rows, week)
            if more is not None:
                v += more
        return v

    def now_week(self) -> int:
        """The current week (negative in the warm-up)."""
        return int(np.floor(self.env.now)) - self.W

    def customers_of(self, firm: int) -> int:
        """Customers whose primary firm is ``firm`` (as counted at the end of last week)."""
        return int(self.last_ladder[firm, 1:].sum())

    # ------------------------------------------------------------------ service hooks
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

    def raise_quality(self, firm: int, level: float) -> None:
        """Product quality becomes ``level`` unless it is already higher (quality investment)."""
        if level > self.quality[firm]:
            self.quality[firm] = min(level, 1.0)
            self._refresh_offer()

    def set_assortment(self, firm: int, occasions: float, value: float) -> None:
        """``firm``'s assortment multiplies its own customers' occasions and its order values;
        its customers' next occasions are redrawn at the new rate (the wait is memoryless)."""
        same_occasions = self.occasion_factor[firm] == occasions
        self.occasion_factor[firm] = occasions
        self.value_factor[firm] = value
        self.assortment = bool(
            (self.occasion_factor != 1.0).any() or (self.value_factor != 1.0).any()
        )
        if same_occasions:
            return
        c = self.c
        rows = np.flatnonzero(c.primary[: c.n] == firm)
        rows = rows[~self.p.contractual[c.segment[rows]]]
        if len(rows):
            c.next_occasion[rows] = self._next_occasion(rows, self.now_week())

    def improve_quality(self, firm: int, share: float) -> None:
        """Product quality moves ``share`` of the way to 1."""
        if share > 0:
            self.quality[firm] += min(share, 1.0) * (1.0 - self.quality[firm])
            self._refresh_offer()

    def bring_occasion_forward(self, rows: np.ndarray, week: int, factor: float) -> None:
        """An outreach: the next purchase occasion is redrawn at ``factor`` x the rate (it can
        only come earlier); contract holders are left to their renewal."""
        c, p = self.c, self.p
        rows = rows[~p.contractual[c.segment.take(rows)]]
        rate = (
            c.rate.take(rows).astype(np.float64) * p.purchase_multiplier[c.rung.take(rows)] * factor
        )
        if self.assortment:
            rate *= self.occasion_factor[c.primary.take(rows)]
        u = self.streams.occasions.random(len(rows), dtype=np.float32)
        sooner = defection.schedule(week + 1, rate, u)
        c.next_occasion[rows] = np.minimum(c.next_occasion.take(rows), sooner)

    def _schedule_lapse(self, idx: np.ndarray, week: int, bound: np.ndarray | None = None) -> None:
        """Draw the next lapse candidate week of non-contractual relationships, from ``week``
        on, at the customer's bound hazard (:meth:`_lapse_bound`, when not given)."""
        if len(idx):
            u = self.streams.defection.random(len(idx), dtype=np.float32)
            bound = self._lapse_bound(idx) if bound is None else bound
            self.c.lapse_week[idx] = defection.schedule(week, bound, u)

    def _lapse_bound(self, idx: np.ndarray) -> np.ndarray:
        """Weekly hazard that no state of the relationship can exceed: the propensity at the
        largest rung multiplier, dissatisfied, with no bond and no trust."""
        base = self.c.propensity.take(idx).astype(np.float64)
        return 1.0 - (1.0 - base) ** self.lapse_exponent_bound

    def _leave(self, week: int, exits: np.ndarray, candidates: np.ndarray) -> None:
        """The week's exits from the market and lapse candidates, ended in one call.

        Thinning: a candidate week ends the relationship with probability ``hazard now /
        bound``; the others draw their next candidate. The bound's geometric candidates thinned
        this way give exactly a weekly coin flip at the current hazard, whatever moved it since
        (purchases, rungs, satisfaction, trust, bonds and their decay), without redrawing.

        A customer who exits this week ends its relationship by exiting, not by lapsing. Both
        kinds of ending read only the ending customers' own state, so ending them together is
        the same as ending the exits first; one call saves the per-call cost of a second."""
        c = self.c
        if len(exits) and len(candidates):
            candidates = candidates[c.exit_week.take(candidates) != week]
        u = self.streams.defection.random(len(candidates))
        bound = self._lapse_bound(candidates)
        lapse = u * bound < self._propensity(candidates)
        had = exits[c.primary.take(exits) != NONE]
        lapsed = candidates[lapse]
        if len(had) or len(lapsed):
            old = c.primary.take(lapsed).astype(np.intp)
            reason, chance = self._reasons(week, lapsed, old, None)
            self._end(
                week,
                np.concatenate([had, lapsed]),
                kind="lapse",
                reason=np.concatenate([c.exit_kind.take(had).astype(np.int8), reason]),
                chance=np.concatenate([np.zeros(len(had), dtype=bool), chance]),
                reshop=slice(len(had), len(had) + len(lapsed)),
            )
        if len(exits):
            self._exit(week, exits)
        self._schedule_lapse(candidates[~lapse], week + 1, bound[~lapse])

    # ------------------------------------------------------------------ the weekly step
    def step(self, week: int) -> None:
        """Advance every customer in the market by one week."""
        c = self.c
        n = c.n
        self.customer_weeks += c.live
        exits = np.flatnonzero(c.exit_week[:n] == week)
        candidates = np.flatnonzero(c.lapse_week[:n] == week)
        if len(exits) or len(candidates):
            self._leave(week, exits, candidates)
        due = np.flatnonzero(c.next_occasion[:n] == week)
        if len(due):
            self._occasions(week, due)
        self.service.work(week)
        self.retention.work(week)
        self.bonds.work(week)
        for instrument in self.instruments:
            for kind, amount in instrument.weekly(self, week).items():
                if week >= 0 and amount:
                    self.ledger.book_focal(week, kind, to_cents(amount))
        self._count(week)
        if week >= 0:
            self.ledger.book(week, "acquisition", to_cents(self.state.acquisition_spend))
            self.ledger.book(week, "fixed", to_cents(self.p.fixed_cost))
        c.compact_if_worthwhile(self.compact_share)

    def _exit(self, week: int, rows: np.ndarray) -> None:
        """Customers ``rows`` leave the market (their relationships already ended)."""
        c = self.c
        bought = np.take(c.orders, rows, axis=0) > 0  # 2-D fancy indexing is slow
        self.ever_bought -= bought.sum(axis=0)
        self._trace(week, rec.EXIT, rows)
        c.remove(rows)
        if week >= 0:
            self.recorder.market["exits"][week] += len(rows)

    def _occasions(self, week: int, idx: np.ndarray) -> None:
        c, p = self.c, self.p
        F = self.F
        seg = c.segment.take(idx)
        # contract holders renew, cancel or re-choose; markets without contractual segments
        # skip those rules (they would change nothing)
        contracts = self.any_contractual
        if contracts:
            contract = p.contractual[seg]
            renewing = contract & (c.primary.take(idx) != NONE)
            if renewing.any():
                holders = idx[renewing]
                if week >= 0:
                    self._count_renewals(week, holders)
                cancel = self.streams.defection.random(len(holders)) < self._propensity(holders)
                if cancel.any():
                    self._end(week, holders[cancel], kind="lapse", renewal=True)
                    keep = np.ones(len(idx), dtype=bool)
                    keep[np.flatnonzero(renewing)[cancel]] = False
                    idx, seg, contract = idx[keep], seg[keep], contract[keep]
            if not len(idx):
                return
        primary = c.primary.take(idx)
        v = self._utilities(idx, primary, c.lead.take(idx))  # (F, n): freed once sampled
        outside = p.outside_utility.take(seg)
        chosen = self.choice_rule.sample(v, outside, self.streams.choice.random(len(idx)))
        if contracts:
            holders = contract & (primary != NONE)
            if holders.any():
                # a contract holder re-chooses at renewal only if it reviewed the market during
                # the period (at its shopping rate); otherwise the contract simply renews
                rows = idx[holders]
                weekly = np.minimum(
                    c.rate.take(rows) * p.purchase_multiplier[c.rung.take(rows)], 1.0
                )
                reviewed = 1.0 - (1.0 - weekly) ** p.contract_period[seg[holders]]
                keep = self.streams.occasions.random(len(rows)) >= reviewed
                renew = np.flatnonzero(holders)[keep]
                chosen[renew] = primary[renew]
        if week >= 0 and self.logit:
            # the focal firm's buyers' taste shock, for their surplus (renewals included)
            at = np.flatnonzero(chosen == 0)
            self._premium = (idx.take(at), choice.taste_premium(v[:, at], outside.take(at)))
        del v
        c.lead[idx] = NONE  # a lead is spent at the next occasion
        if contracts:
            # contract holders who pick the outside option at renewal cancel
            out = (chosen == F) & contract & (primary != NONE)
            if out.any():
                self._end(week, idx[out], kind="outside", renewal=True)
        buy = np.flatnonzero(chosen < F)
        if len(buy):
            # the buyers' primary firms are as read above: only non-buyers' relationships ended
            firm = chosen.take(buy).astype(np.intp)
            self._purchase(week, idx.take(buy), firm, primary.take(buy))
        # the next occasion: renewal for contract holders, else a geometric wait
        nxt = self._next_occasion(idx, week + 1)
        if contracts:
            holder = contract & (c.primary.take(idx) != NONE)
            nxt = np.where(holder, week + p.contract_period[seg], nxt)
        c.next_occasion[idx] = nxt

    def _count_renewals(self, week: int, holders: np.ndarray) -> None:
        """Renewals due this week by firm, and their periods in weeks (churn's exposure)."""
        firm = self.c.primary.take(holders).astype(np.intp)
        period = self.p.contract_period.take(self.c.segment.take(holders))
        counts = self.recorder.counts
        counts["renewals"][week] += np.bincount(firm, minlength=self.F)
        weeks = np.bincount(firm, weights=period, minlength=self.F)
        counts["renewal_weeks"][week] += weeks.astype(np.int64)

    def _purchase(self, week: int, b: np.ndarray, firm: np.ndarray, primary: np.ndarray) -> None:
        """Orders of customers ``b`` at ``firm`` (``primary``: their primary firms): money,
        order history, problems, experience, then the relationship (climb with the primary firm,
        begin one, or buy elsewhere).

        The orders are first grouped by a stable sort on a small key, so that every part the
        rules treat apart is a slice rather than a mask: the focal firm's orders come first,
        and the orders elsewhere (focal and rival) sit together in the middle::

            focal: with primary | new | elsewhere || rivals: elsewhere | new | with primary
        """
        c, p, rec_ = self.c, self.p, self.recorder
        F = self.F
        n = len(b)
        b, firm, primary, edge = _grouped(b, firm, primary)
        focal = slice(0, edge[2])
        with_primary = (slice(0, edge[0]), slice(edge[4], n))
        new = (slice(edge[0], edge[1]), slice(edge[3], edge[4]))
        elsewhere = slice(edge[1], edge[3])
        fb = b[focal]
        seg = c.segment.take(b)
        value = c.value.take(b).astype(np.float64)
        if self.assortment:
            value *= self.value_factor.take(firm)  # a wider assortment's cross-sell
        cross_sell = c.cross_sell.take(fb)  # an outreach's cross-sell rides on this order
        if cross_sell.any():
            focal_value = value[focal]  # a view: scaled in place
            focal_value[cross_sell] *= 1.0 + self.scenario.service.outreach_cross_sell
            c.cross_sell[fb[cross_sell]] = False
        revenue, focal_margin = self._order_money(week, firm, value, focal)
        rewards = self.bonds.after_purchases(week, b, firm, revenue)
        if week >= 0:
            c.margin_focal[fb] += focal_margin * self.discount[week]
            rec_.add("orders", week, firm, F)
        c.observed_value[fb] = self.observed_value(fb, week) + focal_margin
        self._count_orders(b, firm)
        c.last_order_focal[fb] = week
        t = self._traced(b)
        if len(t):
            self._trace(week, rec.PURCHASE, b[t], firm[t], c.rung[b[t]], revenue[t] / 100.0)
        # problems
        rng = self.streams.problems
        problem = rng.random(n) < self.problem_rate.take(firm)
        voiced_all = np.zeros(n, dtype=bool)
        at = np.flatnonzero(problem)  # positions: cheaper than a mask used four times
        if len(at):
            pb, pf = b.take(at), firm.take(at)
            voiced = rng.random(len(pb)) < p.voice_share.take(seg.take(at))
            voiced_all[at] = voiced
            own = pb[primary.take(at) == pf]
            c.satisfaction_before_problem[own] = c.satisfaction.take(own)
            c.problem_firm[pb] = pf
            c.problem_voiced[pb] = voiced
            c.problem_until[pb] = week + self.scenario.satisfaction.problem_memory_weeks
            rec_.add("problems", week, pf, F)
            rec_.add("voiced_problems", week, pf[voiced], F)
            self._trace(week, rec.PROBLEM, pb, pf, 0, voiced.astype(float))
        felt = experience(self.quality.take(firm), problem, self.rule)
        if week >= 0 and len(fb):
            self._surplus(
                week,
                fb,
                seg[focal],
                value[focal],
                revenue[focal],
                None if rewards is None else rewards[focal],
                felt[focal],
            )
            self.retention.after_orders(week, len(fb))
        expected = c.expectation.take(b)
        satisfying = is_satisfying(felt, expected, self.rule)
        c.expectation[b] = update_expectation(expected, felt, self.rule)
        if week >= 0:
            starting = sum(part.stop - part.start for part in new)
            at_primary = sum(part.stop - part.start for part in with_primary)
            self.recorder.market["orders_with_primary"][week] += int(n - starting)
            self.recorder.market["orders_at_primary"][week] += int(at_primary)
        # the focal firm's part names its firm once (a scalar: bond columns gather as views)
        focal_part, rivals_part = with_primary
        for part, primary_firm in ((focal_part, 0), (rivals_part, firm[rivals_part])):
            if part.stop > part.start:
                self._climb(
                    week,
                    b[part],
                    primary_firm,
                    satisfying[part],
                    felt[part],
                    expected[part],
                    problem[part],
                )
        # relationships begin, in one call: first ones (at the focal firm, at rivals), then
        # switches, whose old relationships end first (the rows are distinct, and ending
        # draws nothing, so this is the order of the draws one call per part would make)
        starting = [np.arange(part.start, part.stop) for part in new]
        e = elsewhere
        if e.stop > e.start:
            starting.append(e.start + self._elsewhere(week, b[e], firm[e], problem[e]))
        begin = np.concatenate(starting)
        if len(begin):
            self._begin(week, b[begin], firm[begin], felt[begin], expected[begin], problem[begin])
        if len(fb):
            self.service.after_purchases(week, fb, problem[focal], voiced_all[focal])

    def _order_money(
        self, week: int, firm: np.ndarray, value: np.ndarray, focal: slice
    ) -> tuple[np.ndarray, np.ndarray]:
        """Orders' revenue in whole cents (float64) and the focal firm's orders' gross margin;
        revenue and cost of goods are booked by firm (reported weeks)."""
        revenue = whole_cents(value * self.price.take(firm))
        cogs = whole_cents(value * self.p.unit_cost.take(firm))
        if week >= 0:
            self.ledger.book_orders(week, firm, revenue, cogs)
        return revenue, (revenue[focal] - cogs[focal]) / 100.0

    def _count_orders(self, b: np.ndarray, firm: np.ndarray) -> None:
        """One more order of each of ``b`` with ``firm`` in the orders table (it saturates);
        firms' first-time buyers are counted."""
        cell = b * self.F + firm  # (customer, firm) cells of the orders table, flat
        all_orders = self.c.orders.reshape(-1)
        orders = all_orders.take(cell)
        first_time = orders == 0
        if first_time.any():
            self.ever_bought += np.bincount(firm[first_time], minlength=self.F)
        all_orders[cell] = np.minimum(orders, np.iinfo(np.int16).max - 1) + 1

    def _climb(
        self,
        week: int,
        b: np.ndarray,
        primary: np.ndarray | int,
        satisfying: np.ndarray,
        felt: np.ndarray,
        expected: np.ndarray,
        problem: np.ndarray,
    ) -> None:
        """Satisfaction, trust and ladder after purchases with the primary firm (``primary``:
        one per row, or one for all)."""
        c, p = self.c, self.p
        c.satisfaction[b] = update_satisfaction(c.satisfaction.take(b), felt, expected, self.rule)
        trusted = trust.after_orders(c.trust.take(b), problem, self.trust_rule)
        c.trust[b] = trusted
        c.run_count[b] = 0
        old = c.rung.take(b)
        up_factor = self.bonds.climb_factor(b, primary, week)
        trusting = trust.climb_factor(trusted, self.trust_rule)
        if trusting is not None:
            up_factor = trusting if up_factor is None else up_factor * trusting
        new = ladder.move(
            old,
            satisfying,
            self.streams.ladder.random(len(b)),
            p.up_probability,
            p.down_probability,
            up_factor=up_factor,
        )
        c.rung[b] = new
        t = self._traced(b)
        if len(t):
            bt, before, after = b[t], old[t], new[t]
            for event, moved in ((rec.RUNG_UP, after > before), (rec.RUNG_DOWN, after < before)):
                if moved.any():
                    self._trace(week, event, bt[moved], c.primary[bt[moved]], after[moved])

    def _begin(
        self,
        week: int,
        b: np.ndarray,
        firm: np.ndarray,
        felt: np.ndarray,
        expected: np.ndarray,
        problem: np.ndarray,
    ) -> None:
        """Start relationships: ``firm`` becomes the primary firm; satisfaction and trust start
        at their initial values and take in the first order; non-contractual relationships draw
        their first lapse candidate."""
        c = self.c
        c.primary[b] = firm
        c.since[b] = week
        c.rung[b] = ladder.start_rung(c.orders.reshape(-1).take(b * self.F + firm))
        start = np.full(len(b), self.scenario.satisfaction.initial, dtype=np.float32)
        c.satisfaction[b] = update_satisfaction(start, felt, expected, self.rule)
        initial = np.full(len(b), self.trust_rule.initial, dtype=np.float32)
        c.trust[b] = trust.after_orders(initial, problem, self.trust_rule)
        c.run_firm[b] = NONE
        c.run_count[b] = 0
        # a return to the firm the customer last left comes by a switch (_elsewhere records it)
        c.left[b] = np.where(c.left.take(b) == firm, NONE, c.left.take(b))
        focal = b[(firm == 0) & (c.acquired_week.take(b) == NEVER)]
        c.acquired_week[focal] = week
        self.recorder.add("acquired", week, firm, self.F)
        self._trace(week, rec.ACQUIRED, b, firm, c.rung.take(b))
        if self.any_contractual:
            b = b[~self.p.contractual[c.segment.take(b)]]
        self._schedule_lapse(b, week + 1)

    def _elsewhere(
        self,
        week: int,
        b: np.ndarray,
        firm: np.ndarray,
        problem: np.ndarray,
    ) -> np.ndarray:
        """Purchases away from the primary firm: a run of them (or a contract) switches. Ends
        the switchers' relationships and returns their positions in ``b`` (the caller begins
        their new ones)."""
        c, p = self.c, self.p
        same = c.run_firm.take(b) == firm
        count = np.where(same, c.run_count.take(b) + 1, 1)
        count = np.where(problem, 0, count)  # a bad experience breaks the run
        c.run_firm[b] = firm
        c.run_count[b] = np.minimum(count, 127)
        switch = count >= self.scenario.switching.purchases_elsewhere
        renewal: np.ndarray | bool = False
        if self.any_contractual:
            renewal = p.contractual[c.segment.take(b)]
            switch |= renewal
        switched = np.flatnonzero(switch)
        if len(switched):
            rows, to = b[switched], firm[switched]
            back = np.flatnonzero(c.left.take(rows) == to)
            if week >= 0 and len(back):
                # back with the firm it last left (read before this ending replaces it)
                self.recorder.restarts(week, c.id.take(rows.take(back)), to.take(back))
            if not isinstance(renewal, bool):
                renewal = renewal.take(switched)  # a contract holder switches at renewal
            self._end(week, rows, kind="switch", to_firm=to, renewal=renewal)
        return switched

    def _surplus(
        self,
        week: int,
        rows: np.ndarray,
        seg: np.ndarray,
        value: np.ndarray,
        revenue: np.ndarray,
        rewards: np.ndarray | None,
        felt: np.ndarray,
    ) -> None:
        """Record the customer's side of the focal firm's orders: value received minus price
        paid, in money.

        Value received, in utility relative to the outside option: the experienced quality
        ``beta_q x felt`` (a late, wrong or faulty order delivers less), the social bond and
        club status with the firm, less the firm's reputation penalty and the outside option's
        utility. It is converted to money at the customer's own price weight (one utility unit
        is worth ``value / (beta_p x m_p(rung))`` for an order of ``value`` at the reference
        price). Price paid: the order's revenue less the rewards it earned back. Habit and
        switching costs (points held, structural ties) are not value received. The taste
        shock is: a logit buyer who chose the firm expects its shock to beat the outside
        option's by :func:`choice.taste_premium` (Small & Rosen's inclusive value), so the
        surplus of an order is never below what not buying would have given (a custom choice
        rule has no such term). Orders of customers with no price weight (below
        :data:`MIN_PRICE_WEIGHT`) cannot be converted and are counted apart."""
        c, p = self.c, self.p
        rung = c.rung.take(rows)
        weight = p.price_sensitivity.take(seg) * p.price_multiplier.take(rung)
        utility = p.quality_sensitivity.take(seg) * felt - p.outside_utility.take(seg)
        utility -= self.penalty[0]
        if c.uses("social"):
            utility = utility + self.scenario.bonding.social_utility * self.bonds.social_with(
                rows, 0, week
            )
        if c.uses("member") and self.bonds.status[0]:
            utility = utility + self.bonds.status[0] * c.member[:, 0][rows]
        if self.logit:
            # the premia were drawn up per occasion; rows are distinct within a week's occasions
            drawn, premium = self._premium
            order = np.argsort(drawn)
            at = order.take(np.searchsorted(drawn, rows, sorter=order))
            utility = utility + premium.take(at)
        paid = revenue / 100.0
        if rewards is not None:
            paid = paid - rewards
        ok = weight >= MIN_PRICE_WEIGHT
        converted = int(ok.sum())
        if converted < len(rows):
            value, utility, weight, paid = value[ok], utility[ok], weight[ok], paid[ok]
        received = value * utility / weight
        record = self.recorder.relationship
        record["customer_surplus"][week, 0] += float(received.sum() - paid.sum())
        record["surplus_unconverted_orders"][week, 0] += len(rows) - converted

    # ------------------------------------------------------------------ relationships end
    def _end(
        self,
        week: int,
        rows: np.ndarray,
        kind: str,
        to_firm: np.ndarray | None = None,
        reason: np.ndarray | None = None,
        chance: np.ndarray | None = None,
        reshop: slice | None = None,
        renewal: np.ndarray | bool = False,
    ) -> None:
        """End the relationships of ``rows`` with their primary firms and record why
        (``renewal``: which endings came at a contract renewal).

        ``kind`` (lapse, outside, switch, political) gives the reasons unless ``reason`` (and
        ``chance``) are given. Customers who lapse or leave for political reasons go back to
        shopping at their own pace: their next occasions are redrawn (``reshop``: the positions
        in ``rows`` this applies to; by default all of them for those two kinds)."""
        c, p = self.c, self.p
        old = c.primary.take(rows).astype(np.intp)
        if reason is None:
            reason, chance = self._reasons(week, rows, old, to_firm)
        elif chance is None:
            chance = np.zeros(len(rows), dtype=bool)
        # the focal firm's value lost, in the horizon only (the warm-up records nothing):
        # priced when the run ends at the final year's running costs, like the value after it
        focal = np.flatnonzero(old == 0) if week >= 0 else np.zeros(0, np.intp)
        tail = self._tail(rows.take(focal), old.take(focal), week)
        tenure = week - c.since.take(rows)
        destination = to_firm if to_firm is not None else np.full(len(rows), NONE)
        self.recorder.defections(
            week,
            c.id.take(rows),
            old,
            reason,
            chance,
            c.rung.take(rows),
            tenure,
            destination,
            tail,
            self.F,
            renewal,
        )
        self._trace(week, rec.DEFECTION, rows, old, c.rung.take(rows), reason.astype(float))
        unhappy = (reason == SERVICE) | (reason == POLITICAL)
        if unhappy.any():
            self.unhappy += np.bincount(old[unhappy], minlength=self.F)
        self.bonds.relationship_ended(rows, old)
        focal_first = rows[(old == 0) & (c.lost_week.take(rows) == NEVER)]
        c.lost_week[focal_first] = week
        c.defections[rows] += 1
        c.left[rows] = old
        c.primary[rows] = NONE
        c.rung[rows] = 0
        c.since[rows] = NEVER
        c.run_firm[rows] = NONE
        c.run_count[rows] = 0
        c.lapse_week[rows] = NEVER
        if reshop is None:
            reshop = slice(0, len(rows) if kind in ("lapse", "political") else 0)
        rows, old = rows[reshop], old[reshop]
        if not len(rows):
            return
        contract = p.contractual[c.segment.take(rows)]
        if contract.any():
            # former contract holders shop for a new contract at their own pace
            shoppers = rows[contract]
            c.next_occasion[shoppers] = self._next_occasion(shoppers, week + 1)
        if self.assortment:
            # out of the firm's assortment: occasions at the rate without it (memoryless)
            moved = rows[~contract & (self.occasion_factor[old] != 1.0)]
            c.next_occasion[moved] = self._next_occasion(moved, week)

    def _reasons(
        self,
        week: int,
        rows: np.ndarray,
        old: np.ndarray,
        to_firm: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Reasons for the endings of ``rows`` with ``old`` (``to_firm``: the rivals switched
        to; None for drift-offs), by :func:`relsim.model.defection.classify`."""
        c, p = self.c, self.p
        dissatisfied = c.satisfaction.take(rows) < self.scenario.satisfaction.service_threshold
        service = (
            dissatisfied & (c.problem_firm.take(rows) == old) & (c.problem_until.take(rows) > week)
        )
        if to_firm is None:
            return defection.drift_off(service, dissatisfied)
        seg = c.segment.take(rows)
        rung = c.rung.take(rows)
        alt = to_firm.astype(np.intp)
        price_part = (
            p.price_sensitivity[seg]
            * p.price_multiplier[rung]
            * (self.perceived_price[old] - self.perceived_price[alt])
        )
        product_part = p.quality_sensitivity[seg] * (self.quality[alt] - self.quality[old])
        political_part = self.penalty[old] - self.penalty[alt]
        return defection.classify(service, price_part, product_part, political_part)

    def _tail(
        self, rows: np.ndarray, firm: np.ndarray, week: int, weight: np.ndarray | None = None
    ) -> np.ndarray:
        """What the relationships of ``rows`` with ``firm`` are exposed to after ``week``, state
        frozen: the rows of :data:`continuation.EXPOSURES`, shape (7, n), discounted to week 0
        like every other value; :class:`continuation.RunningCosts` prices them. ``weight``
        (3,), when given, gains the focal customers' weekly staff weights (undiscounted).

        Non-contractual: per week, occasion probability x logit share of ``firm`` x margin,
        surviving the lapse, relocation and substitute hazards. Contractual: per period, the
        fee margin, surviving the renewal (propensity and the renewal choice) and relocation.
        """
        c, p = self.c, self.p
        n = len(rows)
        out = np.zeros((len(continuation.EXPOSURES), n))
        if not n:
            return out
        seg = c.segment.take(rows)
        rung = c.rung.take(rows)
        v = self._utilities(rows, firm.astype(np.int8), np.full(n, NONE, np.int8))
        share = self.choice_rule.probabilities(v, p.outside_utility[seg])[firm, np.arange(n)]
        value = c.value.take(rows) * self.value_factor[firm]
        substitute = np.minimum(self.substitute_hazard * p.technology_affinity[seg], 1.0)
        exits = (1.0 - p.relocation_weekly[seg]) * (1.0 - substitute)
        keep = 1.0 - self._propensity(rows)
        d = 1.0 + p.weekly_discount
        contract = p.contractual[seg]
        period = np.where(contract, p.contract_period[seg], 1)
        occasion = np.minimum(
            c.rate.take(rows) * p.purchase_multiplier[rung] * self.occasion_factor[firm], 1.0
        )
        buy = np.where(contract, 1.0, occasion * share)  # orders per period
        survive = np.where(contract, keep * share * exits**period, keep * exits)
        first = d ** -np.where(contract, np.maximum(c.next_occasion.take(rows), week + 1), week + 1)
        first = np.where(
            contract & (c.next_occasion.take(rows) >= NEVER), d ** -(week + period), first
        )
        periods = continuation.annuity(survive, d ** -period.astype(float), first)
        weeks = periods * period
        out[0] = periods * buy * value * (self.price[firm] - p.unit_cost[firm])
        out[1] = weeks * self.bonds.held_costs(rows, firm)
        out[2] = weeks
        out[3] = periods * buy * value * self.price[firm]
        focal = np.flatnonzero(firm == 0)
        if len(focal):
            orders_per_week = buy.take(focal) / period.take(focal)
            staff = self.service.staff_weights(rows.take(focal), orders_per_week)
            staff[1] += self.bonds.event_hours(rows.take(focal))
            if weight is not None:
                weight += staff.sum(axis=1)
            out[4:, focal] = weeks.take(focal) * staff
        return out

    def running_costs(self) -> continuation.RunningCosts:
        """The running costs of the horizon's final year, per firm: what the value after the
        horizon and the value lost at defections are priced at (``model/continuation.py``).
        The staff pools are spread by the end state's customers' weights (one pass over the
        focal firm's customers, in slices)."""
        live = np.flatnonzero(self.c.alive[: self.c.n])
        focal = live[self.c.primary[live] == 0]
        weight = np.zeros((3, self.F))
        for rows in _slices(focal):
            self._tail(rows, np.zeros(len(rows), np.intp), self.H - 1, weight[:, 0])
        return continuation.final_year(
            self.ledger.costs,
            self.ledger.revenue,
            self.recorder.counts["customers"],
            self.bonds.records["club_members"],
            *self.bonds.member_terms(),
            weight,
        )

    # ------------------------------------------------------------------ shocks and leads
    def _substitute(self, week: int, hazard: float) -> None:
        """A substitute technology appears: every customer may adopt it and leave."""
        c = self.c
        self.substitute_hazard += hazard
        live = np.flatnonzero(c.alive[: c.n])
        self._draw_substitute(live, week, hazard)

    def _draw_substitute(self, idx: np.ndarray, week: int, hazard: float) -> None:
        c, p = self.c, self.p
        prob = np.minimum(hazard * p.technology_affinity[c.segment[idx]], 1.0)
        when = defection.schedule(week, prob, self.streams.exits.random(len(idx)))
        earlier = when < c.exit_week[idx]
        c.exit_week[idx[earlier]] = when[earlier]
        c.exit_kind[idx[earlier]] = TECHNOLOGY

    def _reputation(self, week: int, firm: int, size: float) -> None:
        """A reputation event: some of the firm's customers leave it at once (political)."""
        c, p = self.c, self.p
        members = np.flatnonzero(c.primary[: c.n] == firm)
        share = np.minimum(size * p.political_sensitivity[c.segment[members]], 1.0)
        leave = members[self.streams.defection.random(len(members)) < share]
        if len(leave):
            self._end(
                week, leave, kind="political", reason=np.full(len(leave), POLITICAL, dtype=np.int8)
            )

    def _assign_leads(self, week: int, counts: np.ndarray) -> None:
        """Prospects drawn to each firm: random market members not already its customers.

        Targets are drawn among the customers in the market (not among array rows, some of
        which may be gone and awaiting compaction), so results do not depend on when the
        arrays are compacted."""
        c = self.c
        if not counts.any():
            return
        rng = self.streams.leads
        live = np.flatnonzero(c.alive[: c.n])
        for firm, count in enumerate(counts):
            if not count or not len(live):
                continue
            rows = live[rng.integers(0, len(live), size=int(count))]
            rows = rows[c.primary[rows] != firm]
            c.lead[rows] = firm
            self.recorder.add("leads", week, np.full(len(rows), firm), self.F)
            self._trace(week, rec.LEAD, rows, firm)

    # ------------------------------------------------------------------ records
    def _count(self, week: int) -> None:
        c = self.c
        n = c.n
        cells = (self.F + 1) * N_RUNGS
        counts = np.zeros(cells, dtype=np.int64)
        means = ("satisfaction", "trust") if week >= 0 else ()
        sums = {name: np.zeros(cells) for name in means}
        # in slices through small buffers kept between weeks: bincount converts any index but
        # intp and weighs float32 slowly, and fresh full-length conversions would fault in
        # new pages every week (or, kept, cost memory per customer)
        code_buffer = self._buffer("code", COUNT_SLICE, np.intp)
        weights_buffer = self._buffer("weights", COUNT_SLICE, np.float64)
        for start in range(0, n, COUNT_SLICE):
            part = slice(start, min(start + COUNT_SLICE, n))
            code = code_buffer[: part.stop - part.start]
            np.add(c.primary[part], 1, out=code, dtype=np.intp)
            code *= N_RUNGS
            code += c.rung[part]
            counts += np.bincount(code, minlength=cells)
            for name in means:
                weights = weights_buffer[: len(code)]
                np.copyto(weights, getattr(c, name)[part])
                sums[name] += np.bincount(code, weights=weights, minlength=cells)
        ladder_counts = counts[N_RUNGS:].reshape(self.F, N_RUNGS).copy()
        ladder_counts[:, 0] = c.live - self.ever_bought
        self.last_ladder = ladder_counts
        if week < 0:
            self.recorder.warmup_customers[week + self.W] = ladder_counts[:, 1:].sum(axis=1)
        else:
            self.recorder.ladder[week] = ladder_counts
            self.recorder.counts["customers"][week] = ladder_counts[:, 1:].sum(axis=1)
            self.recorder.counts["prospects"][week] = ladder_counts[:, 0]
            if self.any_contractual:
                primary = c.primary[:n]
                holders = primary[self.p.contractual[c.segment[:n]] & (primary != NONE)]
                self.recorder.counts["contract_customers"][week] = np.bincount(
                    holders, minlength=self.F
                )
            self.recorder.market["in_market"][week] = c.live
            traced = np.flatnonzero(c.traced[:n] & c.alive[:n])
            self.recorder.journeys(week, c.id[traced], c.primary[traced], c.rung[traced])
            self._record_relationships(week, sums, ladder_counts[:, 1:].sum(axis=1))

    def _buffer(self, name: str, n: int, dtype: type) -> np.ndarray:
        """A work array of ``n`` elements kept between weeks (reused, never re-faulted)."""
        held = self._buffers.get(name)
        if held is None or len(held) < n:
            held = np.empty(n, dtype=dtype)
            self._buffers[name] = held
        return held[:n]

    def _record_relationships(
        self, week: int, sums: dict[str, np.ndarray], customers: np.ndarray
    ) -> None:
        """Each firm's product quality and its customers' mean satisfaction and trust
        (``sums``: their totals per (primary firm + 1, rung) cell, as counted for the ladder)."""
        F = self.F
        record = self.recorder.relationship
        record["product_quality"][week] = self.quality
        for name, by_cell in sums.items():
            total = by_cell[N_RUNGS:].reshape(F, N_RUNGS).sum(axis=1)
            record[f"mean_{name}"][week] = np.divide(
                total, customers, out=np.full(F, np.nan), where=customers > 0
            )

    def _result(self, seconds: float) -> RawRun:
        c = self.c
        live = np.flatnonzero(c.alive[: c.n])
        focal = live[c.primary[live] == 0]
        running = self.running_costs()
        # the defections first: their exposures are freed before the customers are valued
        defections = self.recorder.price_defections(running.price)
        window = self.scenario.switching.loss_window_weeks
        by_reason = self.recorder.settle_losses(defections, window, self.F)
        # in slices: the continuation's (firms x rows) temporaries for every customer at once
        # were the run's peak memory (70 bytes per customer with all bonds)
        margin, costs = np.empty(len(focal)), np.empty(len(focal))
        done = 0
        for rows in _slices(focal):
            firm = np.zeros(len(rows), np.intp)
            part = running.price(firm, self._tail(rows, firm, self.H - 1))
            margin[done : done + len(rows)], costs[done : done + len(rows)] = part
            done += len(rows)
        live_ids, focal_ids = c.id[live], c.id[focal]
        del live, focal  # positions, no longer needed: the output's peak is at its end
        ids = c.id[: c.n].copy()
        state_bytes = c.nbytes()
        c.drop_unarchived()  # before the output is allocated: the peak stays low
        # ids are 0 .. next_id-1, each in exactly one place: scatter everything into position,
        # the archive first (released part by part), then the rows still held (released
        # field by field), so the state and its copy are never held whole at once
        customers = {name: np.empty(c.next_id, dtype=dtype) for name, dtype in c.archived_dtypes()}
        while c.archive:
            part = c.archive.pop()
            for name, values in part.items():
                customers[name][part["id"]] = values
        for name, values in c.drain():
            customers[name][ids] = values
        _settle_lost_week(customers, defections)
        customers["in_market"] = np.zeros(c.next_id, dtype=bool)
        customers["in_market"][live_ids] = True
        customers["residual_margin"] = np.zeros(c.next_id)
        customers["residual_margin"][focal_ids] = margin
        del margin
        customers["residual_costs"] = np.zeros(c.next_id)
        customers["residual_costs"][focal_ids] = costs
        return RawRun(
            scenario=self.scenario,
            strategy=self.strategy,
            weekly_counts=self.recorder.counts,
            by_reason=by_reason,
            ladder=self.recorder.ladder,
            market=self.recorder.market,
            revenue=self.ledger.revenue,
            costs=self.ledger.costs,
            discount=self.discount,
            defections=defections,
            trace=self.recorder.trace_arrays(),
            journeys=self.recorder.journey_arrays(),
            relationship=self.recorder.relationship,
            customers=customers,
            service=self.recorder.service,
            warmup_customers=self.recorder.warmup_customers,
            shocks=self.shock_log,
            bonds=self.bonds.records,
            moves=self.rivalry.moves,
            customer_weeks=self.customer_weeks,
            seconds=seconds,
            meta={"state_bytes": state_bytes},
        )


def _settle_lost_week(customers: dict[str, np.ndarray], defections: dict[str, np.ndarray]) -> None:
    """``lost_week``: the first loss to the focal firm after acquisition. The engine keeps the
    first ending; in the horizon, an ending won back was no loss, so the week becomes the
    customer's first focal ending there that was not won back (or never). Endings of the
    warm-up are not recorded and stay as they are."""
    d = defections
    lost = (d["firm"] == 0) & ~d["won_back"]
    losses.first_loss_week(customers["lost_week"], d["customer"], d["week"], lost, NEVER)


def _slices(rows: np.ndarray) -> list[np.ndarray]:
    """``rows`` in slices of at most :data:`RESULT_SLICE`."""
    return np.array_split(rows, max(1, -(-len(rows) // RESULT_SLICE)))


def _grouped(
    b: np.ndarray, firm: np.ndarray, primary: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Orders (customers ``b`` at ``firm``, ``primary`` their primary firms) in the order
    :meth:`Market._purchase` describes, and the cumulative sizes of its six groups.

    The key is each order's group (0 with its primary firm, 1 new: no primary firm yet, 2
    elsewhere), reversed to ``5 - group`` for rivals' orders. It is int8 arithmetic on the
    comparisons, a third of the cost of nested ``np.where`` on mixed types; the group sizes
    are six counts, cheaper than ``bincount`` on so few values."""
    same = (primary == firm).view(np.int8)
    key = np.int8(2) - same - same - (primary == NONE).view(np.int8)
    flip = np.int8(5) - key - key
    flip *= (firm != 0).view(np.int8)
    key += flip
    order = np.argsort(key, kind="stable")
    edge = np.cumsum([np.count_nonzero(key == k) for k in range(6)])
    return b.take(order), firm.take(order), primary.take(order), edge


def _gamma(rng: np.random.Generator, mean: float, shape: float | None, n: int) -> np.ndarray:
    if shape is None:
        return np.full(n, mean)
    return rng.gamma(shape, mean / shape, size=n)


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
