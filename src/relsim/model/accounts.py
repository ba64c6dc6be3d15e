"""Key-account management's work: picking the key accounts, the managers' partnership
contacts, and (when the strategy gives one) each manager's yearly plan per account with the
senior manager's oversight.

Part of :class:`relsim.model.service.FirmService` (a mixin: it reads the service's strategy,
rules and staff pools, and writes the key-account flags and contacts it makes).

The plan (``key_accounts.plan``, :class:`relsim.scenario.model.AccountPlan`): every key
account has ``contacts_per_year`` contacts and ``reviews_per_year`` reviews, due in weeks
staggered by the account's id. A due item slips with probability :func:`slip` -- growing
with the managers' load (the plan's hours over their hours) and shrunk by the share of
managers a senior manager oversees -- and the items kept are made within the managers' hours
(reviews first). A contact renews the tie like a partnership contact; a review also catches
an account at risk (its open problem with the firm is resolved). Plan adherence is the items
made over the items due (weekly records ``plan_due``, ``plan_made``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from relsim import units
from relsim.model.levels import select_key_accounts
from relsim.model.population import slot_of
from relsim.model.staff import within_capacity
from relsim.scenario.model import AccountPlan

if TYPE_CHECKING:
    from relsim.model.interface import MarketInterface

FOCAL = 0
PLAN_RECORDS: tuple[str, ...] = ("plan_due", "plan_slipped", "plan_made", "plan_reviews_made")
"""Weekly records of the key-account plan: items due, slipped (load, no oversight), made
within the managers' hours, and of those the reviews."""


def oversight_coverage(seniors: float, managers: float, managers_per_senior: float) -> float:
    """Share of the managers a senior manager oversees: ``seniors x span / managers``, at
    most 1 (all of them when there are no managers to oversee)."""
    if managers <= 0:
        return 1.0
    return min(seniors * managers_per_senior / managers, 1.0)


def slip(plan: AccountPlan, load: float, coverage: float) -> float:
    """Probability that a due plan item slips: ``slip_at_full_load x min(load, 1) x
    (1 - oversight x coverage)`` (``load``: the plan's hours over the managers' hours)."""
    return plan.slip_at_full_load * min(max(load, 0.0), 1.0) * (1.0 - plan.oversight * coverage)


def plan_interval(per_year: float) -> int:
    """Weeks between a plan's items at ``per_year`` items a year (at least 1)."""
    return max(1, round(units.WEEKS_PER_YEAR / per_year))


class KeyAccountWork:
    """The key accounts' work of a :class:`relsim.model.service.FirmService`."""

    m: MarketInterface
    strategy: Any
    rules: Any
    counts: dict[str, float]
    staff_pools: dict[str, Any]

    # FirmService's contacts(week, pool, activity, wanted, per_contact) and _resolve(week,
    # rows) are used: the pools' capacity rule and a problem's resolution

    def _review_key_accounts(self, week: int) -> None:
        m, c = self.m, self.m.c
        ka = self.strategy.key_accounts
        assert ka is not None
        n = c.n
        eligible = (c.primary[:n] == FOCAL) & c.alive[:n]
        cap = int(np.floor(self.counts["managers"] * ka.accounts_per_manager))
        c.key_account[:n] = select_key_accounts(
            m.observed_value(np.arange(n), week),
            eligible,
            ka.top_share,
            ka.min_observed_value,
            cap,
        )

    def _partnership(self, week: int, due: np.ndarray) -> None:
        m, c, rules = self.m, self.m.c, self.rules
        if not len(due):
            return
        m.service_log("manager_contacts_planned", week, len(due))
        m.service_log("manager_demand_hours", week, len(due) * rules.partnership_hours)
        # key accounts first: they have a named manager; the rest share what is left
        due = due[np.argsort(~c.key_account.take(due), kind="stable")]
        capacity = self.contacts(  # type: ignore[attr-defined]
            week, "managers", "partnership", len(due), rules.partnership_hours
        )
        made = within_capacity(due, capacity, m.streams.service, keep_order=True)
        m.service_log("manager_contacts_made", week, len(made))
        self._manager_contact(week, made)

    def _manager_contact(self, week: int, made: np.ndarray) -> None:
        """A named manager's contact: the tie renews, satisfaction rises, trust is kept."""
        m, c, rules = self.m, self.m.c, self.rules
        if not len(made):
            return
        c.manager_contacts[made] += 1
        m.renew_social(made, FOCAL, week, rules.tie_gain)
        c.satisfaction[made] = np.minimum(
            c.satisfaction.take(made) + np.float32(rules.contact_satisfaction), 1.0
        )
        m.trust_kept(made, m.trust_rule.contact)  # a named manager's contact delivers

    def _plan(self, week: int, accounts: np.ndarray, plan: AccountPlan, seniors: float) -> None:
        """The week's plan items for the key ``accounts`` (module docstring)."""
        m = self.m
        if not len(accounts):
            return
        ids = m.c.id.take(accounts)
        every_contact = plan_interval(plan.contacts_per_year)
        contacts = accounts[slot_of(ids, every_contact) == (-week) % every_contact]
        reviews = accounts[:0]
        if plan.reviews_per_year > 0:
            every_review = plan_interval(plan.reviews_per_year)
            # offset by half an interval from the contacts' slots: not the same week
            slots = slot_of(ids + every_review // 2, every_review)
            reviews = accounts[slots == (-week) % every_review]
        hours = self.staff_pools["managers"].hours
        weekly = (
            len(accounts)
            * (
                plan.contacts_per_year * plan.contact_hours
                + plan.reviews_per_year * plan.review_hours
            )
            / units.WEEKS_PER_YEAR
        )
        load = weekly / hours if hours > 0 else 1.0
        coverage = oversight_coverage(seniors, self.counts["managers"], plan.managers_per_senior)
        p_slip = slip(plan, load, coverage)
        due = len(contacts) + len(reviews)
        m.service_log("plan_due", week, due)
        m.service_log("manager_demand_hours", week, weekly)
        rng = m.streams.service
        kept = rng.random(len(reviews)) >= p_slip
        made_reviews = self._plan_items(week, reviews, kept, plan.review_hours, "plan_reviews")
        if len(made_reviews):
            self._resolve(week, made_reviews)  # type: ignore[attr-defined]  # catches a risk
        kept = rng.random(len(contacts)) >= p_slip
        made_contacts = self._plan_items(week, contacts, kept, plan.contact_hours, "plan_contacts")
        made = np.concatenate([made_reviews, made_contacts])
        self._manager_contact(week, made)
        m.service_log("plan_reviews_made", week, len(made_reviews))

    def _plan_items(
        self, week: int, due: np.ndarray, kept: np.ndarray, hours: float, activity: str
    ) -> np.ndarray:
        """The due items a manager keeps to (``kept``) and makes within the managers' hours;
        returns the accounts reached."""
        m = self.m
        m.service_log("plan_slipped", week, int((~kept).sum()))
        kept_rows = due[kept]
        capacity = self.contacts(week, "managers", activity, len(kept_rows), hours)  # type: ignore[attr-defined]
        made = within_capacity(kept_rows, capacity, m.streams.service)
        m.service_log("plan_made", week, len(made))
        return made
