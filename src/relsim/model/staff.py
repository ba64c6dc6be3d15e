"""The focal firm's staff pools: hours per week, and the contacts they make within them.

A pool (service desk, contact centre, relationship managers) holds its staff's hours for the
week; activities ask it for whole contacts in the order the week's work runs, and what does
not fit carries as work already done (:class:`StaffPool`). :mod:`relsim.model.service` runs
the pools; :mod:`relsim.model.bonds` asks them for club events and structural set-ups through
the market's interface.
"""

from __future__ import annotations

import math

import numpy as np

POOLS = ("desk", "contact_centre", "managers")
RECORD_PREFIX = {"desk": "desk", "contact_centre": "contact", "managers": "manager"}
"""A pool's prefix in the weekly service records (``desk_hours``, ``contact_hours``, ...)."""


class StaffPool:
    """One staff pool's working week: its hours, and the work it carries between weeks.

    The pool's activities (desk requests; follow-up calls, outreach and club events; partnership
    contacts and structural set-ups) ask, in the order the week's work runs, for whole
    contacts of a fixed length ``h``. Each activity keeps a *credit*: hours already worked on
    its next contact, always ``0 <= credit < h``.

    * If the activity's contacts all fit in the pool's hours left plus its credit, they are all
      made; they use the credit first and then the pool's hours; the credit is then 0. Hours
      nobody needs are idle: staff cannot store idle time, so they are never banked.
    * If they do not fit, the activity takes *all* the pool's remaining hours (lower-priority
      activities of the pool get none this week): it makes ``floor((left + credit) / h)``
      contacts, and the rest, ``left + credit - made * h < h``, is work done on the next
      contact and becomes its credit for next week. The pool was *short* that week.

    So a pool with a backlog delivers ``hours / h`` contacts a week on average however small it
    is (a desk of 0.025 agents x 38 h serves 0.95 requests of 1 h a week, not 0 or 1), and
    results move smoothly with the head count. Credits are work already done: a staffing event
    changes the pool's hours, not its credits. An activity with no demand in a week keeps its
    credit for its next contact.

    The pool's *served hours* in a week are the hours it worked on contacts that week,
    counting the carried part in the week it was worked (not again when the contact is
    finished): never more than the week's hours, exactly the week's hours in a week the pool
    was short. Utilisation is served hours over the week's hours.
    """

    def __init__(self) -> None:
        self.hours = 0.0
        self.left = 0.0
        self.short = False
        self.credit: dict[str, float] = {}

    def start_week(self, hours: float) -> None:
        """A new week with ``hours`` of the pool's staff time, nothing spent yet."""
        self.hours = self.left = hours
        self.short = False

    def contacts(self, activity: str, wanted: int, per_contact: float) -> tuple[int, float]:
        """Make up to ``wanted`` contacts of ``per_contact`` hours for ``activity``: returns how
        many were made and the pool's hours they took this week (its served hours)."""
        if wanted <= 0 or per_contact <= 0:
            return max(wanted, 0), 0.0
        credit = self.credit.get(activity, 0.0)
        fit = math.floor((self.left + credit) / per_contact + 1e-9)
        if fit >= wanted:
            # wanted >= 1 and credit < per_contact: the contacts need more than the credit
            spent = min(max(wanted * per_contact - credit, 0.0), self.left)
            self.left -= spent
            self.credit[activity] = 0.0
            return wanted, spent
        spent = self.left
        self.credit[activity] = max(self.left + credit - fit * per_contact, 0.0)
        self.left = 0.0
        self.short = True
        return fit, spent


def within_capacity(
    rows: np.ndarray, capacity: int, rng: np.random.Generator, keep_order: bool = False
) -> np.ndarray:
    """The contacts a pool makes this week: all of ``rows`` if ``capacity`` (the contacts its
    hours allow, :meth:`FirmService.contacts`) suffices, else that many, chosen at random (or
    the first ones when ``keep_order``)."""
    if capacity >= len(rows):
        return rows
    if keep_order:
        return rows[:capacity]
    return rows[rng.permutation(len(rows))[:capacity]]


SERVICE_FUNDED = {"desk": "desk", "contact_centre": "contacts"}
"""The pools a program funded from service takes its money from, and their cost accounts."""


def kept_share(spent: float, budget: float) -> float:
    """Share of the service pools' hours and pay left when ``spent`` (a program's cost) comes
    out of their weekly ``budget``: ``1 - spent / budget``, at least 0 (a program dearer
    than the service leaves none of it; the rest is new money)."""
    if budget <= 0 or spent <= 0:
        return 1.0
    return max(1.0 - spent / budget, 0.0)
