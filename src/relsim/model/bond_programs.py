"""The bond programs' weekly work: club invitations and events, structural reviews and
set-ups, the programs' running costs and the weekly bond records.

Part of :class:`relsim.model.bonds.BondBook` (a mixin: it reads the book's programs and the
customers' bond columns, and writes the memberships and ties it creates). The focal firm's
club events and set-ups take the staff hours its service left this week, asked for through
the market's interface (capacity-bound); rivals' are assumed staffed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relsim import units
from relsim.domain import RUNGS
from relsim.model.economics import to_cents
from relsim.model.population import NEVER, slot_of, top_positions
from relsim.scenario.model import Club, Structural

if TYPE_CHECKING:
    from relsim.model.interface import MarketInterface

FOCAL = 0


def paying_members(since: np.ndarray, week: int, free_weeks: int) -> np.ndarray:
    """Which members pay the fee in ``week``: ``free_weeks`` full weeks after the week
    they joined (``since``), or joined before their club had free weeks (NEVER)."""
    return (since == NEVER) | (week - since.astype(np.int32) >= free_weeks)


class ProgramsAtWork:
    """The weekly work of a :class:`relsim.model.bonds.BondBook` (module docstring)."""

    m: MarketInterface
    F: int
    records: dict[str, np.ndarray]
    members: np.ndarray
    ties: np.ndarray
    club: list[Club | None]
    structural: list[Structural | None]
    held_weekly: tuple[tuple[str, np.ndarray], ...]

    # ------------------------------------------------------------------ running costs
    def member_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """Each firm's club fee and running cost per member per week (zeros without a club)."""
        fee = np.array([units.per_week(k.fee_per_year) if k else 0.0 for k in self.club])
        cost = np.array([k.cost_per_member_per_week if k else 0.0 for k in self.club])
        return fee, cost

    def held_costs(self, rows: np.ndarray, firm: np.ndarray) -> np.ndarray:
        """What the ties and memberships ``rows`` hold with ``firm`` cost it per week: a
        structural tie's running cost, a membership's cost less its fee."""
        c = self.m.c
        cost = np.zeros(len(rows))
        cell = None
        for (name, weekly), held in zip(self.held_weekly, (self.ties, self.members), strict=True):
            if not (c.uses(name) and held.any()):
                continue
            if cell is None:
                cell = rows * self.F + firm  # flat (customer, firm) cells: cheap indexing
            cost += getattr(c, name).reshape(-1).take(cell) * weekly.take(firm)
        return cost

    def event_hours(self, rows: np.ndarray) -> np.ndarray:
        """Contact-centre hours a week that the focal firm's club events ask for each of
        ``rows`` (members only): what the value after the horizon spreads the pool's cost by,
        beside the service's own contacts."""
        club = self.club[FOCAL]
        if club is None or not self.m.c.uses("member"):
            return np.zeros(len(rows))
        hours = units.per_week(club.events_per_year) * club.event_hours_per_member
        return self.m.c.member[:, FOCAL][rows] * hours  # the column's view: cheapest gather

    def _tie_costs(self) -> np.ndarray:
        return np.array([t.running_cost_per_week if t else 0.0 for t in self.structural])

    def work(self, week: int) -> None:
        """Club invitations and events, structural reviews and set-ups, running costs. The
        focal firm's events and set-ups use the staff hours its service left this week
        (:meth:`relsim.model.service.FirmService.contacts`)."""
        c = self.m.c
        n = c.n
        primary = c.primary[:n]
        for f in range(self.F):
            club = self.club[f]
            if club is not None:
                self._club(week, f, club, primary)
            tie = self.structural[f]
            if tie is not None:
                self._structural(week, f, tie, primary)
            points = self.points[f]
            if points is not None:
                self._book(week, f, "program", points.fixed_cost_per_week)
        if week >= 0:
            self._record(week, primary)

    def _club(self, week: int, f: int, club: Club, primary: np.ndarray) -> None:
        m, c = self.m, self.m.c
        n = len(primary)
        rng = m.streams.bonds
        if week % club.review_weeks == 0:
            invited = (
                (primary == f) & (c.rung[:n] >= RUNGS.index(club.min_rung)) & ~c.member[:n, f]
            ).nonzero()[0]
            join = invited[rng.random(len(invited)) < club.join_probability]
            c.member[join, f] = True
            self.members[f] += len(join)
            if club.free_weeks > 0:
                c.use("member_since")
                c.member_since[join, f] = week
        members = c.member[:n, f].nonzero()[0]
        if club.events_per_year > 0 and len(members):
            interval = max(1, round(units.WEEKS_PER_YEAR / club.events_per_year))
            due = members[slot_of(c.id[members], interval) == (-week) % interval]
            if f == FOCAL:
                hours = len(due) * club.event_hours_per_member
                m.service_log("contact_demand_hours", week, hours)
            if f == FOCAL and club.event_hours_per_member > 0:
                capacity = m.contacts(
                    week, "contact_centre", "club_events", len(due), club.event_hours_per_member
                )
                missed = max(len(due) - capacity, 0)
                if missed:
                    due = due[rng.permutation(len(due))[:capacity]]
                if week >= 0:
                    self.records["club_events_missed"][week, f] += missed
            if len(due):
                self.renew_social(due, f, week, club.event_social_gain)
                if week >= 0:
                    self.records["club_events"][week, f] += len(due)
        count = int(self.members[f])
        self._book(
            week, f, "club", club.fixed_cost_per_week + club.cost_per_member_per_week * count
        )
        paying = self._paying(week, f, club, members)
        if week >= 0:
            self.records["club_paying_members"][week, f] = paying
        if club.fee_per_year > 0 and week >= 0 and paying:
            fees = to_cents(units.per_week(club.fee_per_year) * paying)
            m.ledger.revenue[week, f] += fees
            # members pay it: the customers' side of the relationship (focal firm recorded)
            if f == FOCAL:
                m.add_customer_surplus(week, f, -fees / 100.0)

    def _paying(self, week: int, f: int, club: Club, members: np.ndarray) -> int:
        """Members of ``f``'s club who pay the fee this week: those past the club's free weeks
        since they joined (members from before the club had free weeks pay)."""
        c = self.m.c
        if club.free_weeks == 0 or not c.uses("member_since"):
            return len(members)
        return int(paying_members(c.member_since[:, f].take(members), week, club.free_weeks).sum())

    def _structural(self, week: int, f: int, tie: Structural, primary: np.ndarray) -> None:
        m, c = self.m, self.m.c
        n = len(primary)
        tied = c.structural[:n, f]
        if week % tie.review_weeks == 0:
            mine = primary == f
            target = int(np.floor(tie.top_share * mine.sum()))
            if tie.max_accounts is not None:
                target = min(target, tie.max_accounts)
            need = target - int(self.ties[f])
            if need > 0:
                eligible = (mine & ~tied & (c.rung[:n] >= RUNGS.index(tie.min_rung))).nonzero()[0]
                if f == FOCAL and tie.setup_manager_hours > 0:
                    m.service_log("manager_demand_hours", week, need * tie.setup_manager_hours)
                    need = m.contacts(
                        week,
                        "managers",
                        "structural_setups",
                        min(need, len(eligible)),
                        tie.setup_manager_hours,
                    )
                # the firm picks by what it observes: the value of the customer's orders
                new = eligible[top_positions(c.value[eligible], need)]
                c.structural[new, f] = True
                self.ties[f] += len(new)
                self._book(week, f, "structural_setup", tie.setup_cost * len(new))
                if week >= 0:
                    self.records["structural_setups"][week, f] += len(new)
        running = tie.running_cost_per_week * int(self.ties[f])
        self._book(week, f, "structural", running)

    def _book(self, week: int, firm: int, kind: str, amount: float) -> None:
        if week >= 0 and amount:
            # the firm's one cell of the ledger's account (what booking a per-firm array
            # that is zero elsewhere adds, without building it)
            self.m.ledger.costs[kind][week, firm] += to_cents(amount)

    def _record(self, week: int, primary: np.ndarray) -> None:
        self.records["reward_rate"][week] = self.reward_rate
        self.records["club_members"][week] = self.members
        self.records["structural_ties"][week] = self.ties
