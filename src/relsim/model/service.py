"""What the focal firm does after the sale: Kotler's relationship levels, delivered by finite
staff pools, and key-account management.

Levels are cumulative (each does what the levels below it do):

* **basic** -- nothing after the sale; voiced problems go unanswered;
* **reactive** -- voiced problems reach the service desk, served oldest first in bulk each
  week within the desk's agent-hours; waiting lowers satisfaction; resolution restores it;
* **accountable** -- a follow-up call after each purchase finds a share of the silent problems
  (and every voiced one) and fixes them; the answers slowly improve the product's quality;
* **proactive** -- outreach every few weeks brings the next purchase forward and adds a
  cross-sell to it; too frequent outreach annoys some customers;
* **partnership** -- relationship managers work with the customer continuously: ties grow,
  which raise the primary firm's utility and lower the defection hazard.

A customer's level: the key-account level for key accounts, else the rung rule, else the
segment rule, else the default. Staff pools are SimPy containers holding the week's hours;
staffing events change their level. An overloaded pool delivers fewer contacts than planned
and the shortfall is recorded; the part of a contact its hours paid for but could not finish
carries to the next week (:class:`relsim.model.staff.StaffPool`), so a pool delivers in
proportion to its hours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import simpy

from relsim import units
from relsim.domain import CUSTOMER, LEVELS, RUNGS
from relsim.model.accounts import PLAN_RECORDS, KeyAccountWork
from relsim.model.economics import to_cents
from relsim.model.levels import level_table
from relsim.model.population import NEVER, NONE, slot_of
from relsim.model.staff import (
    POOLS,
    RECORD_PREFIX,
    SERVICE_FUNDED,
    StaffPool,
    kept_share,
    within_capacity,
)
from relsim.scenario.model import Strategy

if TYPE_CHECKING:
    from relsim.model.interface import MarketInterface

REACTIVE, ACCOUNTABLE, PROACTIVE, PARTNERSHIP = (LEVELS.index(x) for x in LEVELS[1:])
FOCAL = 0
OBSERVED_VALUE_MEMORY_WEEKS = 26.0
"""Time constant of the recency weighting of a customer's observed margin (key accounts)."""

SERVICE_RECORDS: tuple[str, ...] = (
    "desk_requests",
    "desk_served",
    "desk_backlog",
    "desk_wait_days",
    "desk_hours",
    "desk_demand_hours",
    "desk_served_hours",
    "desk_short",
    "follow_ups_planned",
    "follow_ups_made",
    "silent_problems_found",
    "outreach_planned",
    "outreach_made",
    "annoyed",
    "contact_hours",
    "contact_demand_hours",
    "contact_served_hours",
    "contact_short",
    "manager_contacts_planned",
    "manager_contacts_made",
    "manager_hours",
    "manager_demand_hours",
    "manager_served_hours",
    "manager_short",
    "key_accounts",
    "service_funding_cut",
    *PLAN_RECORDS,
)
"""Weekly records of the focal firm's service (zero for rivals in the weekly table).
``<pool>_served_hours``: hours the pool worked on contacts that week (:class:`StaffPool`);
``<pool>_short``: 1 in a week the pool left some of its planned work undone;
``plan_*``: the key-account plan's items (:mod:`relsim.model.accounts`);
``service_funding_cut``: the desk's and contact centre's pay a points program funded from
service took that week (:func:`relsim.model.staff.kept_share`)."""


class FirmService(KeyAccountWork):
    """The focal firm's after-sale service under one strategy."""

    def __init__(self, market: MarketInterface, strategy: Strategy, env: simpy.Environment):
        self.m = market
        self.strategy = strategy
        self.rules = market.scenario.service
        self.levels = level_table(market.scenario, strategy)
        # each segment's first flat (segment, rung) cell of the table: level_of's cells by
        # one take instead of a cast and a multiply
        self.segment_cells = np.arange(len(self.levels), dtype=np.intp) * len(RUNGS)
        ka = strategy.key_accounts
        self.ka_level = LEVELS.index(ka.level) if ka else NONE
        self.max_level = max(int(self.levels.max()), self.ka_level)
        staffing = strategy.staffing
        self.counts = {name: getattr(staffing, name).count for name in POOLS}
        self.hours_per_person = {name: getattr(staffing, name).hours_per_week for name in POOLS}
        self.pools = {
            name: simpy.Container(env, init=self.counts[name] * self.hours_per_person[name])
            for name in POOLS
        }
        self.weekly_cost = {
            "desk": staffing.desk.count * staffing.desk.cost_per_week,
            "contacts": staffing.contact_centre.count * staffing.contact_centre.cost_per_week,
            "managers": staffing.managers.count * staffing.managers.cost_per_week,
            "senior_manager": staffing.senior_manager.count * staffing.senior_manager.cost_per_week,
        }
        self.cost_per_person = {
            "desk": staffing.desk.cost_per_week,
            "contact_centre": staffing.contact_centre.cost_per_week,
            "managers": staffing.managers.cost_per_week,
        }
        self.follow_up_rows: list[np.ndarray] = []
        self.cents_of: dict[float, np.int64] = {}  # to_cents of the weekly pay (_cents)
        self.staff_pools = {name: StaffPool() for name in POOLS}
        points = strategy.bonds.points
        self.funded_by_service = points is not None and points.funded_from == "service"
        self.partnership_interval = max(
            1, round(units.WEEKS_PER_YEAR / 12.0 / self.rules.partnership_contacts_per_month)
        )

    # ------------------------------------------------------------------ staffing
    def staff(self, pool: str, count: float) -> None:
        """A staffing event: the pool now has ``count`` people (its SimPy level changes). Work
        already done on unfinished contacts (the pool's credits) stays done."""
        container = self.pools[pool]
        target = count * self.hours_per_person[pool]
        if container.level:
            container.get(container.level)
        if target:
            container.put(target)
        self.counts[pool] = count
        kind = {"desk": "desk", "contact_centre": "contacts", "managers": "managers"}[pool]
        self.weekly_cost[kind] = count * self.cost_per_person[pool]

    def contacts(self, week: int, pool: str, activity: str, wanted: int, per_contact: float) -> int:
        """How many of ``wanted`` contacts of ``per_contact`` hours ``pool`` makes for
        ``activity`` this week (:class:`StaffPool`'s rule); records its served hours and
        whether it was short."""
        staff = self.staff_pools[pool]
        was_short = staff.short
        made, spent = staff.contacts(activity, wanted, per_contact)
        prefix = RECORD_PREFIX[pool]
        if spent:
            self.m.service_log(f"{prefix}_served_hours", week, spent)
        if staff.short and not was_short:
            self.m.service_log(f"{prefix}_short", week, 1)
        return made

    # ------------------------------------------------------------------ levels
    def level_of(self, rows: np.ndarray, own: bool = False) -> np.ndarray:
        """Relationship level of each customer (as the focal firm serves it); ``own``: the
        rows are known to be the focal firm's customers."""
        c = self.m.c
        # a buyer who is not (yet) the firm's own customer is served as a 'customer'
        rung = (
            c.rung.take(rows)
            if own
            else np.where(c.primary.take(rows) == FOCAL, c.rung.take(rows), CUSTOMER)
        )
        cell = self.segment_cells.take(c.segment.take(rows))  # flat (segment, rung) cells
        cell += rung
        level = self.levels.reshape(-1).take(cell)  # a new array: written in place below
        if self.ka_level != NONE:
            level[c.key_account.take(rows)] = self.ka_level
        return level

    def staff_weights(self, rows: np.ndarray, orders_per_week: np.ndarray) -> np.ndarray:
        """Weekly staff hours each of the focal firm's customers ``rows`` asks of the desk, the
        contact centre and the managers at its relationship level, shape (3, n): what the
        value after the horizon spreads each pool's cost by (``model/continuation.py``).

        Desk: one request's hours per expected order from reactive up (problems come with
        orders); contact centre: a follow-up call per expected order from accountable up, an
        outreach every ``outreach_interval_weeks`` from proactive up; managers: partnership
        contacts."""
        rules = self.rules
        weights = np.zeros((3, len(rows)))
        if self.max_level < REACTIVE or not len(rows):
            return weights
        level = self.level_of(rows, own=True)
        weights[0] = (level >= REACTIVE) * orders_per_week * rules.desk_hours_per_request
        weights[1] = (level >= ACCOUNTABLE) * orders_per_week * rules.follow_up_hours
        weights[1] += (level >= PROACTIVE) * (rules.outreach_hours / rules.outreach_interval_weeks)
        weights[2] = (level >= PARTNERSHIP) * (rules.partnership_hours / self.partnership_interval)
        return weights

    # ------------------------------------------------------------------ after purchases
    def after_purchases(
        self, week: int, rows: np.ndarray, problem: np.ndarray, voiced: np.ndarray
    ) -> None:
        """Purchases at the focal firm: voiced problems join the desk queue (reactive and up);
        purchases by accountable-and-up customers get a follow-up call this week."""
        if self.max_level < REACTIVE or not len(rows):
            return
        level = self.level_of(rows)
        c = self.m.c
        queue = rows[voiced & (level >= REACTIVE)]
        c.request_week[queue] = np.minimum(c.request_week.take(queue), week)
        self.m.service_log("desk_requests", week, len(queue))
        calls = rows[level >= ACCOUNTABLE]
        if len(calls):
            self.follow_up_rows.append(calls)

    # ------------------------------------------------------------------ the weekly work
    def work(self, week: int) -> None:
        """The week's service: desk, follow-up calls, outreach, partnership contacts."""
        m = self.m
        # the week's hours; what the service leaves is for club events and structural set-ups
        # (the pools' hours are on record even when only the bonds use them)
        kept = self._kept(week)
        for name, staff in self.staff_pools.items():
            share = kept if name in SERVICE_FUNDED else 1.0
            staff.start_week(float(self.pools[name].level) * share)
        m.service_log("contact_hours", week, self.staff_pools["contact_centre"].hours)
        m.service_log("manager_hours", week, self.staff_pools["managers"].hours)
        if week >= 0:
            for kind, cost in self.weekly_cost.items():
                share = kept if kind in SERVICE_FUNDED.values() else 1.0
                if cost:
                    m.ledger.book_focal(week, kind, self._cents(cost * share))
        if self.max_level < REACTIVE:
            return
        self._desk(week)
        self._follow_ups(week)
        ka = self.strategy.key_accounts
        if self.max_level < PROACTIVE and ka is None:
            return
        if ka is not None and week % ka.review_weeks == 0:
            self._review_key_accounts(week)
        focal = (m.c.primary[: m.c.n] == FOCAL).nonzero()[0]
        if ka is not None:
            key = focal[m.c.key_account.take(focal)]
            m.service_log("key_accounts", week, len(key))
            if ka.plan is not None:
                # the plan's contacts replace the partnership contacts of key accounts
                self._plan(week, key, ka.plan, self.strategy.staffing.senior_manager.count)
        if self.max_level < PROACTIVE:
            return
        # the customers due a contact of either kind this week (a few of them), then their
        # levels, once for both kinds (the week's contacts change no level)
        ids = m.c.id.take(focal)
        outreach = self._due(ids, week, self.rules.outreach_interval_weeks)
        partnership = None
        if self.max_level >= PARTNERSHIP:
            partnership = self._due(ids, week, self.partnership_interval)
        due = outreach if partnership is None else outreach | partnership
        at = due.nonzero()[0]
        rows = focal.take(at)
        level = self.level_of(rows, own=True)
        self._outreach(week, rows[outreach.take(at) & (level >= PROACTIVE)])
        if partnership is not None:
            partners = partnership.take(at) & (level >= PARTNERSHIP)
            if ka is not None and ka.plan is not None:
                partners &= ~m.c.key_account.take(rows)
            self._partnership(week, rows[partners])

    def _cents(self, amount: float) -> np.int64:
        """``to_cents(amount)``, remembered: the pools' weekly pay is the same most weeks."""
        cents = self.cents_of.get(amount)
        if cents is None:
            cents = self.cents_of[amount] = to_cents(amount)
        return cents

    def _kept(self, week: int) -> float:
        """Share of the desk's and contact centre's hours and pay left this week: all of it,
        unless the points program is funded from service; then last week's rewards and
        program cost come out of their weekly pay (reported weeks: the ledger's)."""
        if not self.funded_by_service or week < 1:
            return 1.0
        costs = self.m.ledger.costs
        spent = (costs["rewards"][week - 1, FOCAL] + costs["program"][week - 1, FOCAL]) / 100.0
        budget = sum(self.weekly_cost[kind] for kind in SERVICE_FUNDED.values())
        kept = kept_share(float(spent), budget)
        self.m.service_log("service_funding_cut", week, (1.0 - kept) * budget)
        return kept

    @staticmethod
    def _due(ids: np.ndarray, week: int, interval: int) -> np.ndarray:
        """Whether each customer (by id) has its contact slot in ``week``: contacts every
        ``interval`` weeks, staggered by id."""
        return slot_of(ids, interval) == (-week) % interval

    def _desk(self, week: int) -> None:
        m, c, rules = self.m, self.m.c, self.rules
        pending = (c.request_week[: c.n] < NEVER).nonzero()[0]
        m.service_log("desk_hours", week, self.staff_pools["desk"].hours)
        if not len(pending):
            return
        m.service_log("desk_demand_hours", week, len(pending) * rules.desk_hours_per_request)
        capacity = self.contacts(
            week, "desk", "requests", len(pending), rules.desk_hours_per_request
        )
        order = np.lexsort((pending, c.request_week.take(pending)))  # oldest first
        served = pending[order[:capacity]]
        waiting = pending[order[capacity:]]
        if len(served):
            waited = (week - c.request_week.take(served)) * 7.0
            m.service_log("desk_served", week, len(served))
            # the mean as np.mean computes it (the sum over the count), without its wrappers
            m.service_log("desk_wait_days", week, float(waited.sum() / len(waited)))
            self._resolve(week, served)
        m.service_log("desk_backlog", week, len(waiting))
        with_focal = waiting[c.primary.take(waiting) == FOCAL]
        if len(with_focal):
            c.satisfaction[with_focal] = np.maximum(
                c.satisfaction[with_focal] - np.float32(rules.wait_penalty_per_week), 0.0
            )

    def _resolve(self, week: int, rows: np.ndarray) -> None:
        """Close the focal firm's open problems of ``rows`` and restore satisfaction."""
        m, c, rules = self.m, self.m.c, self.rules
        c.request_week[rows] = NEVER
        rows = rows[c.problem_firm.take(rows) == FOCAL]
        c.problem_firm[rows] = NONE
        c.problem_until[rows] = NEVER
        mine = rows[c.primary.take(rows) == FOCAL]
        if len(mine):
            satisfaction = c.satisfaction.take(mine)
            recovered = np.minimum(satisfaction + np.float32(rules.recovery), 1.0)
            if not rules.recovery_can_exceed:
                cap = np.maximum(c.satisfaction_before_problem.take(mine), satisfaction)
                recovered = np.minimum(recovered, cap)
            c.satisfaction[mine] = recovered
            m.trust_kept(mine, m.trust_rule.recovery)  # a problem resolved: a promise kept

    def _follow_ups(self, week: int) -> None:
        """Follow-up calls to this week's accountable-and-up buyers."""
        m, c, rules = self.m, self.m.c, self.rules
        if not self.follow_up_rows:
            return
        rows = np.concatenate(self.follow_up_rows)
        self.follow_up_rows = []
        rows = rows[c.alive.take(rows)]
        m.service_log("follow_ups_planned", week, len(rows))
        m.service_log("contact_demand_hours", week, len(rows) * rules.follow_up_hours)
        capacity = self.contacts(
            week, "contact_centre", "follow_ups", len(rows), rules.follow_up_hours
        )
        made = within_capacity(rows, capacity, m.streams.service)
        m.service_log("follow_ups_made", week, len(made))
        if not len(made):
            return
        c.contacts[made] += 1
        open_here = (c.problem_firm.take(made) == FOCAL) & (c.problem_until.take(made) > week)
        voiced = c.problem_voiced.take(made)
        silent = open_here & ~voiced
        found = open_here & (
            voiced | (m.streams.service.random(len(made)) < rules.follow_up_finds_silent)
        )
        m.service_log("silent_problems_found", week, np.count_nonzero(found & silent))
        if found.any():
            self._resolve(week, made[found])
        customers = max(m.customers_of(FOCAL), 1)
        m.improve_quality(FOCAL, rules.quality_learning_rate * len(made) / customers)

    def _outreach(self, week: int, due: np.ndarray) -> None:
        m, c, rules = self.m, self.m.c, self.rules
        interval = rules.outreach_interval_weeks
        if not len(due):
            return
        m.service_log("outreach_planned", week, len(due))
        m.service_log("contact_demand_hours", week, len(due) * rules.outreach_hours)
        capacity = self.contacts(week, "contact_centre", "outreach", len(due), rules.outreach_hours)
        made = within_capacity(due, capacity, m.streams.service)
        m.service_log("outreach_made", week, len(made))
        if not len(made):
            return
        c.contacts[made] += 1
        c.cross_sell[made] = True
        m.bring_occasion_forward(made, week, 1.0 + rules.outreach_purchase_boost)
        annoying = np.zeros(len(made), dtype=bool)
        if interval < rules.annoying_interval_weeks:
            annoying = m.streams.service.random(len(made)) < rules.annoyance_probability
            annoyed = made[annoying]
            c.satisfaction[annoyed] = np.maximum(
                c.satisfaction[annoyed] - np.float32(rules.annoyance_penalty), 0.0
            )
            m.service_log("annoyed", week, len(annoyed))
        # proactive communication that does not annoy is a contact that delivers
        m.trust_kept(made[~annoying], m.trust_rule.contact)
