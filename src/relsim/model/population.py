"""Customer state in arrays: one row per customer in the market, one column array per field.

Rows are appended when customers are born and removed (compacted into a small archive of the
fields the customers table reports) once enough of them have left the market, so the weekly
step touches only customers who can still act. Money stays float64; traits and attitudes that
are not money are float32; small codes are int8; weeks are int16 (:data:`WEEK`; horizon and
warm-up are at most 5 200 weeks each, initial tenure at most 100 years) with :data:`NEVER`
for "no such event scheduled".
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

WEEK = np.int16
"""Dtype of week numbers: every simulated week lies within +-15 600."""

NEVER = int(np.iinfo(WEEK).max)
"""Week value of an event that is not scheduled (or falls after the end of any simulation)."""

NO_OFFER = int(np.iinfo(WEEK).min)
"""Week value of a campaign offer that is not held (every week is after it)."""

NONE = -1
"""Firm code of 'no firm'."""

# field name -> (dtype, fill value for new rows); per-firm fields have shape (n, F).
SCALAR_FIELDS: dict[str, tuple[type, float | int]] = {
    "id": (np.int32, 0),
    "segment": (np.int8, 0),
    "born": (WEEK, 0),
    "rate": (np.float32, 0.0),  # weekly occasion probability at purchase multiplier 1
    "value": (np.float32, 0.0),  # money per order at the reference price
    "propensity": (np.float32, 0.0),  # per week (non-contractual) or per period (contractual)
    "primary": (np.int8, NONE),
    "rung": (np.int8, 0),
    "since": (WEEK, NEVER),  # week the current primary relationship began
    "lead": (np.int8, NONE),  # firm that drew this customer's attention (acquisition/referral)
    "left": (np.int8, NONE),  # last firm defected from (remembered history)
    "run_firm": (np.int8, NONE),
    "run_count": (np.int8, 0),
    "satisfaction": (np.float32, 0.0),  # with the primary firm, 0-1
    "trust": (np.float32, 0.0),  # in the primary firm, 0-1
    "expectation": (np.float32, 0.0),  # expected quality, 0-1
    "problem_firm": (np.int8, NONE),  # firm of the open, unresolved problem
    "problem_voiced": (np.bool_, False),
    "problem_until": (WEEK, NEVER),  # week the open problem is forgotten
    "next_occasion": (WEEK, NEVER),  # purchase occasion, or renewal for contract holders
    "lapse_week": (WEEK, NEVER),  # non-contractual end of relationship by own propensity
    "exit_week": (WEEK, NEVER),
    "exit_kind": (np.int8, 0),  # reason code used when the exit happens (market, technology)
    "acquired_week": (WEEK, NEVER),  # first week the focal firm became primary
    "lost_week": (WEEK, NEVER),  # first defection from the focal firm after acquisition
    "defections": (np.int16, 0),
    "traced": (np.bool_, False),
    # the focal firm's customer database: what it can observe of each customer
    "last_order_focal": (WEEK, NEVER),
    "margin_focal": (np.float64, 0.0),  # gross margin with the focal firm, discounted to week 0
    "observed_value": (np.float32, 0.0),  # recency-weighted margin (the firm's own records)
    # the focal firm's service (relationship levels)
    "request_week": (WEEK, NEVER),  # voiced problem waiting at the desk since
    "satisfaction_before_problem": (np.float32, 0.0),
    "key_account": (np.bool_, False),
    "cross_sell": (np.bool_, False),  # the next order carries an outreach's cross-sell
    "contacts": (np.int16, 0),  # follow-up calls and outreach received
    "manager_contacts": (np.int16, 0),
    # the focal firm's campaigns (marketing automation, relsim.model.campaigns)
    "offer_until": (WEEK, NO_OFFER),  # last week of the campaign offer the customer holds
    "offer_discount": (np.float32, 0.0),  # its share off the focal firm's price
    "campaign_contacts": (np.int16, 0),
    "campaign_responses": (np.int16, 0),  # offers taken up (an order within the offer)
}
FIRM_FIELDS: dict[str, tuple[type, float | int]] = {
    "orders": (np.int16, 0),  # orders placed with each firm (saturates at 32 767)
}
BOND_FIELDS: dict[str, tuple[type, float | int]] = {
    "points": (np.float32, 0.0),  # points held at each firm
    "social": (np.float32, 0.0),  # social bond with each firm, held relative to an epoch
    "structural": (np.bool_, False),  # tied structurally to the firm
    "member": (np.bool_, False),  # member of the firm's club
    "member_since": (WEEK, NEVER),  # week it joined the firm's club (clubs with free weeks)
}
"""Per-firm bond fields, allocated only once a run uses them (memory is paid for use)."""
ARCHIVED: tuple[str, ...] = (
    "id",
    "segment",
    "born",
    "primary",
    "rung",
    "exit_week",
    "exit_kind",
    "acquired_week",
    "lost_week",
    "defections",
    "contacts",
    "manager_contacts",
    "key_account",
)
"""Fields kept for customers who left the market (plus the focal firm's columns)."""


def slot_of(ids: np.ndarray, interval: int) -> np.ndarray:
    """Each customer's contact slot, ``id % interval`` (contacts every ``interval`` weeks are
    staggered by id). Computed by floor division: numpy divides by a scalar with a
    precomputed multiplier, which its remainder does not (3x faster)."""
    return ids - (ids // interval) * interval


def top_positions(values: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` largest ``values``, ties broken by position: the same set a
    stable descending sort would put first, found by partition instead of a full sort."""
    n = len(values)
    if count <= 0:
        return np.zeros(0, dtype=np.intp)
    if count >= n:
        return np.arange(n)
    kth = np.partition(values, n - count)[n - count]  # the count-th largest value
    above = (values > kth).nonzero()[0]
    tied = (values == kth).nonzero()[0][: count - len(above)]
    return np.concatenate([above, tied])


class Customers:
    """Arrays of the customers in the market; ``n`` rows are live, the rest is spare capacity."""

    def __init__(self, n_firms: int, capacity: int):
        self.n_firms = n_firms
        self.n = 0
        self.next_id = 0
        self.gone = 0  # rows whose exit has happened but are not compacted yet
        self.archive: list[dict[str, np.ndarray]] = []
        self.firm_fields = dict(FIRM_FIELDS)
        self._alloc(max(capacity, 16))

    def use(self, name: str) -> None:
        """Allocate bond field ``name`` (:data:`BOND_FIELDS`) if it is not there yet."""
        if name in self.firm_fields:
            return
        dtype, fill = BOND_FIELDS[name]
        self.firm_fields[name] = (dtype, fill)
        setattr(self, name, np.full((self._capacity, self.n_firms), fill, dtype=dtype))

    def uses(self, name: str) -> bool:
        """Whether field ``name`` is allocated."""
        return name in self.firm_fields

    def _alloc(self, capacity: int) -> None:
        old = self.__dict__.get("_capacity", 0)
        for name, (dtype, fill) in SCALAR_FIELDS.items():
            arr = np.full(capacity, fill, dtype=dtype)
            if old:
                arr[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, arr)
        for name, (dtype, fill) in self.firm_fields.items():
            arr = np.full((capacity, self.n_firms), fill, dtype=dtype)
            if old:
                arr[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, arr)
        alive = np.zeros(capacity, dtype=np.bool_)
        if old:
            alive[: self.n] = self.alive[: self.n]
        self.alive = alive
        self._capacity = capacity

    def add(self, count: int) -> slice:
        """Append ``count`` rows with default values and fresh ids; returns their slice."""
        if self.n + count > self._capacity:
            self._alloc(max(int(1.25 * self._capacity) + 16, self.n + count))
        rows = slice(self.n, self.n + count)  # rows past n hold the fill values (compact)
        self.id[rows] = np.arange(self.next_id, self.next_id + count)
        self.alive[rows] = True
        self.n += count
        self.next_id += count
        return rows

    def remove(self, rows: np.ndarray) -> None:
        """Mark customers as gone from the market; their calendars can no longer fire."""
        self.alive[rows] = False
        self.next_occasion[rows] = NEVER
        self.lapse_week[rows] = NEVER
        # the firm no longer serves them: out of the desk queue, no longer key accounts
        self.request_week[rows] = NEVER
        self.key_account[rows] = False
        self.cross_sell[rows] = False
        self.offer_until[rows] = NO_OFFER
        self.gone += len(rows)

    def ending(self, week: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows whose exit falls in ``week``, and rows whose lapse candidate does (both
        ascending): one scan of the earlier of the two weeks instead of one of each calendar,
        then the few hits split (a row may be in both)."""
        n = self.n
        hits = (np.minimum(self.exit_week[:n], self.lapse_week[:n]) == week).nonzero()[0]
        return hits[self.exit_week.take(hits) == week], hits[self.lapse_week.take(hits) == week]

    def compact_if_worthwhile(self, share: float = 0.2) -> None:
        """Archive and drop gone rows once they are more than ``share`` of the live rows."""
        if self.gone <= share * max(self.n, 1):
            return
        live = self.alive[: self.n]
        gone_rows = (~live).nonzero()[0]
        self.archive.append(self.snapshot(gone_rows))
        keep = live.nonzero()[0]
        count = len(keep)
        for name, (_, fill) in {**SCALAR_FIELDS, **self.firm_fields}.items():
            arr = getattr(self, name)
            arr[:count] = arr.take(keep, axis=0)  # take: a third faster than arr[keep]
            arr[count : self.n] = fill  # rows past n always hold the fill values: add relies on it
        self.alive[:count] = True
        self.alive[count : self.n] = False
        self.n = count
        self.gone = 0

    def snapshot(self, rows: np.ndarray | slice) -> dict[str, np.ndarray]:
        """Copies of the archived fields (focal firm's columns for per-firm fields)."""
        return dict(self.archived_columns(rows))

    def archived_columns(self, rows: np.ndarray | slice) -> Iterator[tuple[str, np.ndarray]]:
        """The archived fields of ``rows``, one column at a time."""
        for name in ARCHIVED:
            yield name, getattr(self, name)[rows]
        yield "orders_focal", self.orders[rows, 0]
        yield "value_focal", self.margin_focal[rows]

    def archived_dtypes(self) -> list[tuple[str, np.dtype]]:
        """Name and dtype of each archived column."""
        empty = np.zeros(0, dtype=np.intp)
        return [(name, values.dtype) for name, values in self.archived_columns(empty)]

    def drain(self) -> Iterator[tuple[str, np.ndarray]]:
        """Hand out the archived columns of the rows still held, releasing each field (and
        every field the archive does not keep) as soon as it is handed out: the end of a run
        then never holds the state and its copy at once. The arrays are unusable afterwards."""
        n = self.n
        self.drop_unarchived()
        for name, values in self.archived_columns(slice(0, n)):
            yield name, values
            self._drop({"orders_focal": "orders", "value_focal": "margin_focal"}.get(name, name))
        self.n = self._capacity = 0

    def drop_unarchived(self) -> None:
        """Release every field the archive does not keep (the end of a run)."""
        keep = {*ARCHIVED, "orders", "margin_focal"}
        for name in (*SCALAR_FIELDS, *self.firm_fields, "alive"):
            if name not in keep and getattr(self, name).size:
                self._drop(name)

    def _drop(self, name: str) -> None:
        setattr(
            self,
            name,
            np.zeros((0, *getattr(self, name).shape[1:]), dtype=getattr(self, name).dtype),
        )

    @property
    def live(self) -> int:
        """Customers currently in the market."""
        return self.n - self.gone

    def nbytes(self) -> int:
        """Bytes held by the state arrays (capacity included)."""
        names = (*SCALAR_FIELDS, *self.firm_fields, "alive")
        return sum(getattr(self, name).nbytes for name in names)
