"""Marketing automation: the focal firm's campaigns, aimed with its customer database.

One :class:`FirmCrm` per strategy that has a ``crm`` block (the status quo's through the
warm-up, the strategy's from its launch). Each week it books the database's upkeep, and each
campaign's wave week it:

1. lists the eligible customers from the firm's records (:mod:`relsim.model.database`):
   everybody who ever ordered from it and is still in the market; active (an order within
   ``lapsed_after_weeks``) for retention and cross-sell, lapsed for win-back;
2. ranks them by the campaign's rule and contacts the first ``budget x every_weeks / 52 /
   cost_per_contact`` (uniform draws for every eligible customer are made whatever the rule,
   so runs that differ only in the rule or the data quality are paired draw for draw);
3. acts through the model's mechanisms: the contact brings the next purchase occasion forward
   by the service's outreach boost, is a contact that delivers for the firm's own customers
   (trust), and gives an offer: for ``offer_weeks`` the focal firm's utility carries the
   discount (``price_weight x price x discount``, as a regulars' discount does) and a customer
   who drifted away from the firm considers it again; a cross-sell campaign's contact carries
   the service's cross-sell on the next order.

An order at the focal firm within the offer takes it up (a response): the discount is booked in
``campaigns`` with the contacts' cost and goes to the customers' surplus; a response by a
customer whose primary firm was not the focal firm is a customer won back. Weekly records:
``crm_records`` (current records), ``campaign_contacts``, ``campaign_responses``,
``campaign_won_back``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from relsim import units
from relsim.model import database as db
from relsim.model.economics import to_cents, whole_cents
from relsim.model.population import NEVER, NO_OFFER, top_positions
from relsim.scenario.model import Campaign, Crm

if TYPE_CHECKING:
    from relsim.model.interface import MarketInterface

FOCAL = 0
CRM_RECORDS: tuple[str, ...] = (
    "crm_records",
    "campaign_contacts",
    "campaign_responses",
    "campaign_won_back",
)
"""Weekly records of the focal firm's database and campaigns."""


@dataclass(frozen=True)
class Snapshot:
    """The records of a wave, kept for the churn score's fit ``score_window_weeks`` later."""

    week: int
    ids: np.ndarray
    x: np.ndarray


class FirmCrm:
    """The focal firm's database and campaigns under one strategy (module docstring)."""

    def __init__(self, market: MarketInterface, crm: Crm):
        self.m = market
        self.crm = crm
        self.quality = crm.database.data_quality
        self.offset = float(market.streams.crm.random())
        self.launch = market.now_week()
        self.snapshots: list[Snapshot] = []
        self.model: db.Logistic | None = None

    # ------------------------------------------------------------------ the week's work
    def work(self, week: int) -> None:
        """The database's upkeep and the campaigns' waves due this week."""
        c = self.m.c
        n = c.n
        listed = (c.alive[:n] & (c.orders[:n, 0] > 0)).nonzero()[0]
        is_current = db.current(c.id.take(listed), self.offset, self.quality)
        kept = int(is_current.sum())
        self.m.service_log("crm_records", week, kept)
        upkeep = units.per_week(self.crm.database.cost_per_customer_year) * kept
        if week >= 0 and upkeep:
            self.m.ledger.book_focal(week, "database", to_cents(upkeep))
        due = [k for k in self.crm.campaigns if (week - self.launch) % k.every_weeks == 0]
        if not due:
            return
        records = db.observe(c, listed, week, self.m.observed_value(listed, week))
        self._learn(week, records, is_current)
        for campaign in due:
            self._contact(week, campaign, self._choose(week, campaign, records, is_current))

    def _learn(self, week: int, records: db.Records, is_current: np.ndarray) -> None:
        """Keep this wave's current records; refit the churn score on the snapshot
        ``score_window_weeks`` back: did each of those customers order since?"""
        window = self.crm.score_window_weeks
        x = db.features(records)
        self.snapshots.append(Snapshot(week, records.ids[is_current], x[is_current]))
        old = [s for s in self.snapshots if s.week <= week - window]
        if not old:
            return
        snap = old[-1]
        self.snapshots = [s for s in self.snapshots if s.week > snap.week]
        if len(snap.ids) < 20:
            return
        c = self.m.c
        ids = c.id[: c.n]
        at = np.minimum(np.searchsorted(ids, snap.ids), max(c.n - 1, 0))
        # a customer gone from the market ordered no more, whether its row was compacted
        # away (not found) or is still held until the next compaction (not alive)
        if c.n:
            found = (ids.take(at) == snap.ids) & c.alive.take(at)
        else:
            found = np.zeros(len(snap.ids), bool)
        last = np.where(found, c.last_order_focal.take(at), NEVER).astype(np.int64)
        # no order since the snapshot
        y = ((last == NEVER) | (last <= snap.week)).astype(np.float64)
        if 0 < y.sum() < len(y):
            self.model = db.fit_logistic(snap.x, y)

    def _score(self, campaign: Campaign, records: db.Records) -> np.ndarray:
        """The rule's score of each record (higher: contacted first)."""
        kind = campaign.kind
        if campaign.target == "oracle":
            return self._oracle(kind, records.rows)
        if campaign.target == "score" and self.model is not None:
            drift = self.model.predict(db.features(records))
        else:  # rfm, and the score's rule before its first fit
            drift = db.drift_ratio(records)
            if kind == "winback":
                return records.value
        return drift if kind == "retention" else -drift

    def _oracle(self, kind: str, rows: np.ndarray) -> np.ndarray:
        """The hidden state's ranking (a benchmark): for retention and cross-sell the firm's
        own customers by their lapse hazard now (highest first for retention, lowest for
        cross-sell) after those who have already drifted off; for win-back the drifted-off
        customers by their propensity to stay once back (lowest first)."""
        c = self.m.c
        hazard = self.m.lapse_hazard(rows)
        gone = c.primary.take(rows) != FOCAL
        if kind == "retention":
            return np.where(gone, 2.0, hazard)
        if kind == "cross_sell":
            return np.where(gone, -2.0, -hazard)
        return np.where(gone, 1.0 - c.propensity.take(rows), -2.0)

    def _choose(
        self, week: int, campaign: Campaign, records: db.Records, is_current: np.ndarray
    ) -> np.ndarray:
        """The rows a wave of ``campaign`` contacts: the eligible customers with the largest
        keys, as many as the wave's budget pays for (draws one uniform per eligible customer
        from ``streams.crm``, whatever the rule)."""
        active = records.recency <= self.crm.lapsed_after_weeks
        eligible = (~active if campaign.kind == "winback" else active).nonzero()[0]
        u = self.m.streams.crm.random(len(eligible))
        affordable = campaign.budget_per_year * campaign.every_weeks / units.WEEKS_PER_YEAR
        count = min(int(affordable / campaign.cost_per_contact + 1e-9), len(eligible))
        if count <= 0:
            return np.zeros(0, np.intp)
        if campaign.target == "random":
            key = u
        else:
            score = self._score(campaign, records).take(eligible)
            known = is_current.take(eligible)
            if campaign.target == "oracle":
                known = np.ones(len(eligible), dtype=bool)  # it needs no records
            key = db.ranking_key(score, known, u)
        return records.rows.take(eligible.take(top_positions(key, count)))

    def targets(self, week: int, campaign: Campaign) -> np.ndarray:
        """The rows a wave of ``campaign`` would contact now, changing nothing (the stream's
        state is restored): for tests and tools."""
        c = self.m.c
        listed = (c.alive[: c.n] & (c.orders[: c.n, 0] > 0)).nonzero()[0]
        is_current = db.current(c.id.take(listed), self.offset, self.quality)
        records = db.observe(c, listed, week, self.m.observed_value(listed, week))
        stream = self.m.streams.crm
        saved = stream.bit_generator.state
        try:
            return self._choose(week, campaign, records, is_current)
        finally:
            stream.bit_generator.state = saved

    def _contact(self, week: int, campaign: Campaign, rows: np.ndarray) -> None:
        """Contacts and offers (module docstring)."""
        m, c = self.m, self.m.c
        if not len(rows):
            return
        if week >= 0:
            m.ledger.book_focal(week, "campaigns", to_cents(campaign.cost_per_contact * len(rows)))
        m.service_log("campaign_contacts", week, len(rows))
        c.campaign_contacts[rows] += 1
        c.offer_until[rows] = week + campaign.offer_weeks - 1
        c.offer_discount[rows] = campaign.discount
        if campaign.kind == "cross_sell":
            c.cross_sell[rows] = True
        own = rows[c.primary.take(rows) == FOCAL]
        m.trust_kept(own, m.trust_rule.contact)
        m.bring_occasion_forward(rows, week, 1.0 + m.scenario.service.outreach_purchase_boost)

    # ------------------------------------------------------------------ hooks of the market
    def add_utility(
        self, v: np.ndarray, rows: np.ndarray, week: int, price_weight: np.ndarray
    ) -> None:
        """The offers' pull on the focal firm's utility of ``rows`` (in place)."""
        c = self.m.c
        at = (c.offer_until.take(rows) >= week).nonzero()[0]
        if len(at):
            gain = (
                price_weight.take(at) * self.m.price[FOCAL] * c.offer_discount.take(rows.take(at))
            )
            v[FOCAL, at] += gain

    def reopened(self, away: np.ndarray, week: int) -> np.ndarray:
        """Which of the drifted-off customers ``away`` (rows) the focal firm's offer reopens it
        to: those who hold an offer and left the focal firm (an offer reopens only it)."""
        c = self.m.c
        return (c.offer_until.take(away) >= week) & (c.left.take(away) == FOCAL)

    def after_orders(self, week: int, rows: np.ndarray, revenue_cents: np.ndarray) -> None:
        """Orders at the focal firm (``rows``, revenue in cents): offers taken up."""
        c = self.m.c
        at = (c.offer_until.take(rows) >= week).nonzero()[0]
        if not len(at):
            return
        took = rows.take(at)
        discount = whole_cents(c.offer_discount.take(took) * revenue_cents.take(at) / 100.0)
        cents = int(discount.sum())
        if week >= 0 and cents:
            self.m.ledger.book_focal(week, "campaigns", cents)
            self.m.add_customer_surplus(week, FOCAL, cents / 100.0)
        self.m.service_log("campaign_responses", week, len(took))
        won = int((c.primary.take(took) != FOCAL).sum())
        self.m.service_log("campaign_won_back", week, won)
        c.campaign_responses[took] += 1
        c.offer_until[took] = NO_OFFER
