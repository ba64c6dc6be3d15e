"""Purchase occasions: who shops, what they choose, and what the orders bring.

Part of :class:`relsim.model.engine.Market` (a mixin). A due occasion renews, cancels or
re-chooses a contract; other customers choose among the firms and the outside option by the
choice rule; orders book money, count in the orders table, may meet a problem, and move
satisfaction and expectations; the relationship then climbs, begins, or runs elsewhere
(:mod:`relsim.model.relationships`).
"""

from __future__ import annotations

import numpy as np

from relsim.domain import RUNGS
from relsim.model import choice, defection
from relsim.model import records as rec
from relsim.model.economics import whole_cents
from relsim.model.population import NONE
from relsim.model.satisfaction import experience, is_satisfying, update_expectation
from relsim.model.surplus import focal_in_order

N_RUNGS = len(RUNGS)
_GROUP_ENDS = np.arange(1, 7, dtype=np.int8)  # the key after each of _group_order's groups


AWAY_UTILITY = -1e6
"""Utility of the firm a customer drifted away from, while it has no relationship: below
any choice rule's bound, so the firm is never chosen (:mod:`relsim.model.choice` clips it to
-300, a weight of 1e-130)."""


class Purchases:
    """Purchases of the market (see the module docstring)."""

    def _next_occasion(self, idx: np.ndarray, week: int) -> np.ndarray:
        """Next purchase occasion from ``week`` on (contract holders: handled by callers)."""
        c, p = self.c, self.p
        # float32 rates times float64 multipliers: float64 products, without a widened copy
        rate = c.rate.take(idx) * p.purchase_multiplier.take(c.rung.take(idx))
        if self.any_assortment():
            rate *= self._by_firm("occasion_factor", c.primary.take(idx), idx)
        u = self._uniform("occasions", idx, np.float32)
        return defection.schedule(week, rate, u)

    def _utilities(
        self,
        rows: np.ndarray,
        primary: np.ndarray,
        lead: np.ndarray | None,
        seg: np.ndarray | None = None,
        rung: np.ndarray | None = None,
    ) -> np.ndarray:
        """Deterministic utilities (F, n) of ``rows`` with the given primary and lead firms
        (``seg``, ``rung``: their segments and rungs, when the caller has them). ``lead``
        None: the rows are valued in their relationships (``primary``: their firms), so none
        has a lead and none is away from a firm it left."""
        c = self.c
        week = self.now_week()
        seg = c.segment.take(rows) if seg is None else seg
        rung = c.rung.take(rows) if rung is None else rung
        cell = seg.astype(np.intp)  # flat (segment, rung) cells, for every table by both
        cell *= N_RUNGS
        cell += rung
        left = c.left.take(rows)
        table, by_cell, code = self._choice_tables(rows, cell)
        v = choice.utilities(
            table,
            self.terms,
            seg,
            rung,
            primary,
            c.satisfaction.take(rows),
            lead,
            left,
            cell=code,
            by_cell=by_cell,
        )
        # a customer who drifted off and has no relationship does not consider the firm it
        # left (a lost customer): it returns only once a relationship elsewhere has ended
        if lead is not None:  # (valued relationships have a firm: none is away)
            away = ((primary == NONE) & (left != NONE)).nonzero()[0]
            if len(away):  # a campaign's offer reopens the firm
                away = away[~self._reopened(rows.take(away), week)]
            if len(away):
                v[left.take(away).astype(np.intp), away] = AWAY_UTILITY
        price_weight = self.price_weight.take(cell)
        for market, local, at in self._each_market(rows):  # at: a slice, v[:, at] a view
            part = v[:, at]
            market.bonds.add_utility(part, local, primary[at], week, price_weight[at])
            if market.crm is not None:
                market.crm.add_utility(part, local, week, price_weight[at])
            for instrument in market.instruments:
                more = instrument.utility(market.interface, local, week)
                if more is not None:
                    part += more
            if not isinstance(at, slice):  # a copy (rows not ascending): written back
                v[:, at] = part
        return v

    def _occasions(self, week: int, idx: np.ndarray) -> None:
        """The week's purchase occasions of ``idx``: renewals, choice, orders, next occasion.

        Contract holders renew, cancel or re-choose; markets without contractual segments
        skip those rules (they would change nothing)."""
        c, p = self.c, self.p
        F = self.F
        seg = c.segment.take(idx)
        contracts = self.any_contractual
        contract = np.zeros(0, dtype=bool)
        if contracts:
            idx, seg, contract = self._renewals(week, idx, seg)
            if not len(idx):
                return
        primary = c.primary.take(idx)
        lead = c.lead.take(idx)
        v = self._utilities(idx, primary, lead, seg)  # (F, n): freed once sampled
        outside = p.outside_utility.take(seg)
        chosen = self._choose(v, outside, seg, self._uniform("choice", idx), idx)
        if contracts:
            self._unreviewed_renew(idx, seg, contract & (primary != NONE), primary, chosen)
        premium = None
        if week >= 0 and self.logit:
            # the focal firm's buyers' taste shock, for their surplus (renewals included), in
            # the order of their occasions: it travels with their orders to the surplus
            at = (chosen == 0).nonzero()[0]
            premium = choice.taste_premium(choice.columns(v, at), outside.take(at))
        del v
        # a lead is spent at the next occasion (written for the rows that had one: few)
        c.lead[idx.take((lead != NONE).nonzero()[0])] = NONE
        if contracts:
            # contract holders who pick the outside option at renewal cancel
            out = (chosen == F) & contract & (primary != NONE)
            if out.any():
                self._end(week, idx[out], kind="outside", renewal=True)
        buy = (chosen < F).nonzero()[0]
        if len(buy):
            # the buyers' primary firms are as read above: only non-buyers' relationships ended
            firm = chosen.take(buy).astype(np.intp)
            self._purchase(week, idx.take(buy), firm, primary.take(buy), premium)
        # the next occasion: renewal for contract holders, else a geometric wait
        nxt = self._next_occasion(idx, week + 1)
        if contracts:
            holder = contract & (c.primary.take(idx) != NONE)
            nxt = np.where(holder, week + p.contract_period[seg], nxt)
        c.next_occasion[idx] = nxt

    def _renewals(
        self, week: int, idx: np.ndarray, seg: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Contract holders due for renewal are counted and may cancel (their propensity);
        returns the occasions left (rows, segments, which are contractual)."""
        c = self.c
        contract = self.p.contractual[seg]
        renewing = contract & (c.primary.take(idx) != NONE)
        if renewing.any():
            holders = idx[renewing]
            if week >= 0:
                for market, local, _ in self._each_market(holders):
                    market._count_renewals(week, local)
            cancel = self._uniform("defection", holders) < self._propensity(holders)
            if cancel.any():
                self._end(week, holders[cancel], kind="lapse", renewal=True)
                keep = np.ones(len(idx), dtype=bool)
                keep[renewing.nonzero()[0][cancel]] = False
                idx, seg, contract = idx[keep], seg[keep], contract[keep]
        return idx, seg, contract

    def _unreviewed_renew(
        self,
        idx: np.ndarray,
        seg: np.ndarray,
        holders: np.ndarray,
        primary: np.ndarray,
        chosen: np.ndarray,
    ) -> None:
        """A contract holder re-chooses at renewal only if it reviewed the market during the
        period (at its shopping rate); otherwise the contract simply renews (``chosen`` is
        set back to the primary firm in place)."""
        if not holders.any():
            return
        c, p = self.c, self.p
        rows = idx[holders]
        weekly = np.minimum(c.rate.take(rows) * p.purchase_multiplier[c.rung.take(rows)], 1.0)
        reviewed = 1.0 - (1.0 - weekly) ** p.contract_period[seg[holders]]
        keep = self._uniform("occasions", rows) >= reviewed
        renew = holders.nonzero()[0][keep]
        chosen[renew] = primary[renew]

    def _count_renewals(self, week: int, holders: np.ndarray) -> None:
        """Renewals due this week by firm, and their periods in weeks (churn's exposure)."""
        firm = self.c.primary.take(holders).astype(np.intp)
        period = self.p.contract_period.take(self.c.segment.take(holders))
        counts = self.recorder.counts
        counts["renewals"][week] += np.bincount(firm, minlength=self.F)
        weeks = np.bincount(firm, weights=period, minlength=self.F)
        counts["renewal_weeks"][week] += weeks.astype(np.int64)

    def _purchase(
        self,
        week: int,
        b: np.ndarray,
        firm: np.ndarray,
        primary: np.ndarray,
        premium: np.ndarray | None = None,
    ) -> None:
        """Orders of customers ``b`` at ``firm`` (``primary``: their primary firms): money,
        order history, problems, experience, then the relationship (climb with the primary firm,
        begin one, or buy elsewhere). ``premium``: the focal orders' taste premia (or None).

        The orders are first grouped by a stable sort on a small key, so that every part the
        rules treat apart is a slice rather than a mask: the focal firm's orders come first,
        and the orders elsewhere (focal and rival) sit together in the middle::

            focal: with primary | new | elsewhere || rivals: elsewhere | new | with primary
        """
        c = self.c
        n = len(b)
        order, edge = _group_order(firm, primary)
        premium = focal_in_order(premium, firm, order[: edge[2]])
        b, firm, primary = b.take(order), firm.take(order), primary.take(order)
        focal = slice(0, edge[2])
        with_primary = (slice(0, edge[0]), slice(edge[4], n))
        new = (slice(edge[0], edge[1]), slice(edge[3], edge[4]))
        elsewhere = slice(edge[1], edge[3])
        fb = b[focal]
        seg = c.segment.take(b)
        value = self._order_values(b, firm, focal)
        revenue, rewards = self._book_orders(week, b, firm, focal, value)
        problem, voiced_all = self._problems(week, b, firm, primary, seg)
        felt = experience(self._by_firm("quality", firm, b), problem, self.rule)
        if week >= 0 and len(fb):
            rewarded = None if rewards is None else rewards[focal]
            self._focal_orders(
                week, fb, seg[focal], value[focal], revenue[focal], rewarded, felt[focal], premium
            )
        expected = c.expectation.take(b)
        satisfying = is_satisfying(felt, expected, self.rule)
        c.expectation[b] = update_expectation(expected, felt, self.rule)
        if week >= 0:
            self._count_primary_orders(week, b, new, with_primary)
        self._climb_with_primary(week, b, firm, with_primary, satisfying, felt, expected, problem)
        self._relationships_begin(week, b, firm, new, elsewhere, felt, expected, problem)
        for market, local, at in self._each_market(fb):
            market.service.after_purchases(week, local, problem[focal][at], voiced_all[focal][at])

    def _count_primary_orders(
        self, week: int, b: np.ndarray, new: tuple[slice, slice], with_primary: tuple[slice, slice]
    ) -> None:
        """The week's orders by customers who had a primary firm, and those placed with it."""
        n = len(b)
        starting = sum(part.stop - part.start for part in new)
        at_primary = sum(part.stop - part.start for part in with_primary)
        self.recorder.market["orders_with_primary"][week] += int(n - starting)
        self.recorder.market["orders_at_primary"][week] += int(at_primary)

    def _order_values(self, b: np.ndarray, firm: np.ndarray, focal: slice) -> np.ndarray:
        """Each order's value: the customer's order value, times a wider assortment's
        cross-sell; an outreach's cross-sell rides on the focal firm's next order."""
        c = self.c
        value = c.value.take(b).astype(np.float64)
        if self.varied_order_values:
            # times a gamma of mean 1 and the segment's within-customer shape (0: the
            # customer's value), one draw per varied order in the orders' order
            shape = self.p.within_shape.take(c.segment.take(b))
            at = np.flatnonzero(shape > 0)
            if len(at):
                spread = shape.take(at)
                value[at] *= self._gammas("order_values", b.take(at), spread) / spread
        if self.any_assortment():
            value *= self._by_firm("value_factor", firm, b)
        fb = b[focal]
        cross_sell = c.cross_sell.take(fb)
        if cross_sell.any():
            focal_value = value[focal]  # a view: scaled in place
            focal_value[cross_sell] *= 1.0 + self.scenario.service.outreach_cross_sell
            c.cross_sell[fb[cross_sell]] = False
        return value

    def _book_orders(
        self, week: int, b: np.ndarray, firm: np.ndarray, focal: slice, value: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Money and history of the orders: revenue, rewards earned, the focal firm's margin
        and its observed value of each customer, the orders table; returns revenue (cents)
        and rewards (None without a points program)."""
        c = self.c
        fb = b[focal]
        revenue, focal_margin = self._order_money(week, b, firm, value, focal)
        rewards = self._rewards_earned(week, b, firm, revenue)
        for market, local, at in self._each_market(fb):
            if market.crm is not None:
                market.crm.after_orders(week, local, revenue[focal][at])
        if week >= 0:
            c.margin_focal[fb] = c.margin_focal.take(fb) + focal_margin * self.discount[week]
            self._record_add("orders", week, firm, b)
        c.observed_value[fb] = self.observed_value(fb, week) + focal_margin
        self._count_orders(b, firm)
        c.last_order_focal[fb] = week
        t = self._traced(b)
        if len(t):
            self._trace(week, rec.PURCHASE, b[t], firm[t], c.rung[b[t]], revenue[t] / 100.0)
        return revenue, rewards

    def _problems(
        self, week: int, b: np.ndarray, firm: np.ndarray, primary: np.ndarray, seg: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which orders meet a problem (late, wrong or faulty) and which of those the customer
        voices; a problem is remembered for the reasons of a later ending."""
        c, p = self.c, self.p
        n = len(b)
        problem = self._uniform("problems", b) < self._by_firm("problem_rate", firm, b)
        voiced_all = np.zeros(n, dtype=bool)
        at = problem.nonzero()[0]  # positions: cheaper than a mask used four times
        if len(at):
            pb, pf = b.take(at), firm.take(at)
            voiced = self._uniform("problems", pb) < p.voice_share.take(seg.take(at))
            voiced_all[at] = voiced
            own = pb[primary.take(at) == pf]
            c.satisfaction_before_problem[own] = c.satisfaction.take(own)
            c.problem_firm[pb] = pf
            c.problem_voiced[pb] = voiced
            c.problem_until[pb] = week + self.scenario.satisfaction.problem_memory_weeks
            self._record_add("problems", week, pf, pb)
            self._record_add("voiced_problems", week, pf[voiced], pb[voiced])
            self._trace(week, rec.PROBLEM, pb, pf, 0, voiced)  # the trace's amounts: 1.0, 0.0
        return problem, voiced_all

    def _relationships_begin(
        self,
        week: int,
        b: np.ndarray,
        firm: np.ndarray,
        new: tuple[slice, slice],
        elsewhere: slice,
        felt: np.ndarray,
        expected: np.ndarray,
        problem: np.ndarray,
    ) -> None:
        """Relationships begin, in one call: first ones (at the focal firm, at rivals), then
        switches, whose old relationships end first (the rows are distinct, and ending draws
        nothing, so this is the order of the draws one call per part would make)."""
        starting = [np.arange(part.start, part.stop) for part in new]
        e = elsewhere
        if e.stop > e.start:
            starting.append(e.start + self._elsewhere(week, b[e], firm[e], problem[e]))
        begin = np.concatenate(starting)
        if len(begin):
            self._begin(week, b[begin], firm[begin], felt[begin], expected[begin], problem[begin])

    def _order_money(
        self, week: int, b: np.ndarray, firm: np.ndarray, value: np.ndarray, focal: slice
    ) -> tuple[np.ndarray, np.ndarray]:
        """Orders' revenue in whole cents (float64) and the focal firm's orders' gross margin;
        revenue and cost of goods are booked by firm (reported weeks)."""
        revenue = whole_cents(value * self._by_firm("price", firm, b))
        cogs = whole_cents(value * self.p.unit_cost.take(firm))
        if week >= 0:
            self._book_order_money(week, b, firm, revenue, cogs)
        return revenue, (revenue[focal] - cogs[focal]) / 100.0

    def _count_orders(self, b: np.ndarray, firm: np.ndarray) -> None:
        """One more order of each of ``b`` with ``firm`` in the orders table (it saturates);
        firms' first-time buyers are counted."""
        cell = b * self.F + firm  # (customer, firm) cells of the orders table, flat
        all_orders = self.c.orders.reshape(-1)
        orders = all_orders.take(cell)
        first_time = orders == 0
        if first_time.any():
            self._add_ever_bought(b[first_time], firm[first_time])
        all_orders[cell] = np.minimum(orders, np.iinfo(np.int16).max - 1) + 1


def _grouped(
    b: np.ndarray, firm: np.ndarray, primary: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Orders (customers ``b`` at ``firm``, ``primary`` their primary firms) in the order
    :meth:`Purchases._purchase` describes, and the cumulative sizes of its six groups.

    The key is each order's group (0 with its primary firm, 1 new: no primary firm yet, 2
    elsewhere), reversed to ``5 - group`` for rivals' orders. It is int8 arithmetic on the
    comparisons, a third of the cost of nested ``np.where`` on mixed types; the groups' ends
    are one search of the sorted keys, cheaper than ``bincount`` or six counts."""
    order, edge = _group_order(firm, primary)
    return b.take(order), firm.take(order), primary.take(order), edge


def _group_order(firm: np.ndarray, primary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stable order that groups the orders as :func:`_grouped` describes, and the
    cumulative sizes of the six groups."""
    same = (primary == firm).view(np.int8)
    key = np.int8(2) - same - same - (primary == NONE).view(np.int8)
    flip = np.int8(5) - key - key
    flip *= (firm != 0).view(np.int8)
    key += flip
    order = np.argsort(key, kind="stable")
    edge = np.searchsorted(key.take(order), _GROUP_ENDS)  # where each next key starts
    return order, edge
