"""Bonds between customers and firms (Berry & Parasuraman's three levels), per customer x firm.

* **financial** -- a points program: every order earns ``earn_rate`` points per currency unit;
  each full ``threshold`` becomes a reward worth ``reward_value`` (claimed with probability
  ``1 - breakage``; the firm pays the expected value). Customers see the program as a price
  reduction of its reward rate, and the money value of the points they hold at a firm as a
  reason to buy there again (the points are lost to them if they never return: a switching
  cost). Regular customers may also get a discount. Both are booked as ``rewards``.
* **social** -- a bond (0-1) that partnership contacts and club events renew and that halves
  every ``social_half_life_weeks`` without them. Club members also enjoy the club's status.
* **structural** -- a tie (on/off) the firm sets up for picked customers, at a set-up cost and
  a running cost; it lasts while the relationship lasts.

Every bond raises the utility of its firm on a purchase occasion; social and structural bonds
with the primary firm lower the hazard of ending the relationship, and the social bond helps
the climb up the ladder. A customer can hold several firms' points and memberships at once,
which is why copied programs cancel out.

The per-firm arrays are allocated only when a firm runs the instrument that needs them. The
focal firm's club events and structural set-ups take staff hours left over by its service
(capacity-bound); rivals' are assumed staffed (their service is not modelled in detail).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relsim.domain import RUNGS
from relsim.model.bond_programs import ProgramsAtWork
from relsim.model.economics import whole_cents
from relsim.model.population import NONE
from relsim.scenario.model import Bonds, Club, Points, Structural

if TYPE_CHECKING:
    from relsim.model.interface import MarketInterface

FOCAL = 0
SOCIAL_EPOCH_HALVINGS = 32.0
"""Half-lives after which the social bonds' epoch moves on (held values stay below 2**32)."""
SOCIAL_FLUSH = np.float32(2.0**-90)
"""Held social bonds below this are zeroed when the epoch moves (one more move takes them at
most 2**-33 further: never into denormal floats, whose arithmetic is slow)."""
NEVER_READ = -(2**62)
"""The week of the decay factor read last before any is read (no simulated week)."""
BOND_RECORDS: tuple[str, ...] = (
    "reward_rate",
    "rewards_issued",
    "club_members",
    "club_paying_members",
    "club_events",
    "club_events_missed",
    "structural_ties",
    "structural_setups",
)
"""Weekly records per firm: reward rate in effect, rewards issued, club members (and those
past their free weeks, who pay the fee), club events delivered and missed for lack of staff,
structural ties and new set-ups."""


class BondBook(ProgramsAtWork):
    """Every firm's bonding programs and the bond state they create."""

    def __init__(self, market: MarketInterface):
        self.m = market
        self.rules = market.scenario.bonding
        self.F = market.F
        self.points: list[Points | None] = [None] * self.F
        self.club: list[Club | None] = [None] * self.F
        self.structural: list[Structural | None] = [None] * self.F
        self.structural_strength = np.ones(self.F)  # copies may be less complete
        # members and ties per firm, kept as they change (a tie or membership ends with the
        # relationship, and every exit of a customer with a primary firm ends one)
        self.members = np.zeros(self.F, dtype=np.int64)
        self.social_firms = np.zeros(self.F, dtype=bool)  # firms whose bonds were ever renewed
        self.ties = np.zeros(self.F, dtype=np.int64)
        self.records = {name: np.zeros((market.H, self.F)) for name in BOND_RECORDS}
        # social bonds are held relative to an epoch: held = bond x 2**((renewed - epoch)/h),
        # so a bond read in any week is held x 2**(-(week - epoch)/h), one factor for all
        # (no renewal week per customer and firm); the epoch moves on before factors get large
        self.epoch = -market.W
        self.decay_read: tuple[int, int, np.float32] = (NEVER_READ, 0, np.float32(1.0))
        self.derivations = 0  # how often the programs' tables were derived (a pass's cache key)
        self._derive()

    # ------------------------------------------------------------------ programs
    def run(self, firm: int, bonds: Bonds) -> None:
        """``firm`` now runs ``bonds`` (replacing what it ran)."""
        self.points[firm] = bonds.points
        self.club[firm] = bonds.club
        self.structural[firm] = bonds.structural
        self._derive()

    def set_program(
        self, firm: int, instrument: str, program: object, strength: float | None = None
    ) -> None:
        """Replace one instrument of ``firm`` (a copy, a raise; ``strength``: how complete a
        copied structural tie is)."""
        if strength is not None:
            self.structural_strength[firm] = strength
        getattr(self, instrument)[firm] = program
        self._derive()

    def _derive(self) -> None:
        c = self.m.c
        self.derivations += 1
        self.reward_rate = np.array([p.reward_rate if p else 0.0 for p in self.points])
        self.point_value = np.array(
            [p.reward_value / p.threshold * (1.0 - p.breakage) if p else 0.0 for p in self.points]
        )
        self.status = np.array([k.status_utility if k else 0.0 for k in self.club])
        self.earn = np.array([p.earn_rate if p else 0.0 for p in self.points])
        self.regular_discount = np.array([p.regular_discount if p else 0.0 for p in self.points])
        self.regular_min_rung = np.array(
            [RUNGS.index(p.regular_min_rung) if p else 0 for p in self.points]
        )
        self.threshold = np.array([p.threshold if p else np.inf for p in self.points])
        self.claimed = np.array(
            [p.reward_value * (1.0 - p.breakage) if p else 0.0 for p in self.points]
        )
        # the firms whose points are worth something, with that worth (a numpy float64,
        # as add_utility multiplies by it): a list, walked every occasion
        self.point_firms = [(int(f), self.point_value[f]) for f in self.point_value.nonzero()[0]]
        self.every_firm_earns = bool((self.earn > 0).all())
        fee, per_member = self.member_terms()
        # what a tie and a membership cost their firm per week (held_costs, every week)
        self.held_weekly = (("structural", self._tie_costs()), ("member", per_member - fee))
        if any(self.points):
            c.use("points")
        if any(self.club):
            c.use("social")
        if any(self.club):
            c.use("member")
        if any(self.structural):
            c.use("structural")
        self.any_points = bool(any(self.points))
        self.any_regular = any(p is not None and p.regular_discount > 0 for p in self.points)

    # ------------------------------------------------------------------ effects on customers
    def social_with(self, rows: np.ndarray, firm: np.ndarray | int, week: int) -> np.ndarray:
        """Social bond of each of ``rows`` with ``firm`` (one firm per row, or one for all),
        decayed since it was last renewed (half-life ``social_half_life_weeks``)."""
        decay = self.decay_since_epoch(week)  # first: it may move the epoch
        social = self.m.c.social
        if isinstance(firm, (int, np.integer)):
            bond = social[:, firm][rows]  # one firm's column: a view, then a 1-D gather
        else:
            bond = social.reshape(-1).take(rows * self.F + firm)  # flat (customer, firm) cells
        bond *= decay
        return bond

    def settle_epoch(self, week: int) -> None:
        """Read the decay at the start of the week's step, moving the epoch if it is due, so
        that no read during the step moves it: the week it moves is then fixed, not the week
        of the first question that came with rows (a pass asks a market only for rows it has;
        alone, some questions come with none)."""
        if self.m.c.uses("social"):
            self.decay_since_epoch(week)

    def decay_since_epoch(self, week: int) -> np.float32:
        """The decay factor from the epoch to ``week``; moves the epoch to ``week`` first when
        it is more than SOCIAL_EPOCH_HALVINGS half-lives back."""
        if self.decay_read[:2] == (week, self.epoch):
            return self.decay_read[2]  # read already this week (a few times per occasion)
        halvings = (week - self.epoch) / self.rules.social_half_life_weeks
        if halvings > SOCIAL_EPOCH_HALVINGS:
            c = self.m.c
            held = c.social[: c.n]
            held *= np.float32(np.exp2(-halvings))
            held[held < SOCIAL_FLUSH] = 0.0  # long-gone bonds: zero, never denormal floats
            self.epoch, halvings = week, 0.0
        decay = np.float32(np.exp2(-halvings))
        self.decay_read = (week, self.epoch, decay)
        return decay

    def add_utility(
        self,
        v: np.ndarray,
        rows: np.ndarray,
        primary: np.ndarray,
        week: int,
        price_weight: np.ndarray,
    ) -> None:
        """Add the bond utilities of ``rows`` to ``v`` (F, n) in place, firm by firm (few
        firms, many customers: no (n, F) temporaries); ``price_weight`` is each customer's
        utility per unit of price index."""
        c, rules = self.m.c, self.rules
        # per-firm columns are gathered as views (``field[:, f][rows]``), the cheapest gather
        # of one firm's column; firms nobody is tied to or a member of add exactly nothing
        if self.any_points and rules.points_weight > 0:
            # money held at each firm, in units of the customer's order value (price index)
            scale = rules.points_weight * price_weight / np.maximum(c.value.take(rows), 1e-6)
            for f, value in self.point_firms:
                held = value * c.points[:, f][rows]
                held *= scale  # in place: the same product as scale * held
                v[f] += held
        if c.uses("social"):
            firms = self.social_firms.nonzero()[0]
            if len(firms):
                # one decay factor for every firm (social_with's, read once: it may move the
                # epoch), then each firm's column as social_with gathers it
                decay = self.decay_since_epoch(week)
                for f in firms:
                    bond = c.social[:, f][rows]
                    bond *= decay
                    bond *= rules.social_utility  # float32, as rules.social_utility * bond
                    v[f] += bond
        if c.uses("structural"):
            weight = rules.structural_utility * self.structural_strength
            for f in self.ties.nonzero()[0]:
                v[f] += c.structural[:, f][rows] * weight[f]
        if c.uses("member"):
            for f in (self.status * self.members).nonzero()[0]:
                v[f] += c.member[:, f][rows] * self.status[f]
        if self.any_regular:
            v += self._regular_discount(rows, primary, price_weight)

    def _regular_discount(
        self, rows: np.ndarray, primary: np.ndarray, price_weight: np.ndarray
    ) -> np.ndarray:
        out = np.zeros((self.F, len(rows)))
        discount, min_rung = self.regular_discount, self.regular_min_rung
        has = (primary != NONE).nonzero()[0]
        f = primary[has].astype(np.intp)
        eligible = self.m.c.rung[rows[has]] >= min_rung[f]
        gain = price_weight[has] * self.m.price[f] * discount[f] * eligible
        out[f, has] = gain
        return out

    def holds_back_lapses(self) -> bool:
        """Whether a bond acts on ending (:meth:`lapse_factor` is not None): a pass of
        markets asks every market before it splits the rows among them."""
        return self.m.c.uses("social") or self.m.c.uses("structural")

    def speeds_climbs(self) -> bool:
        """Whether a social bond acts on climbing (:meth:`climb_factor` is not None)."""
        return self.m.c.uses("social") and self.rules.social_climb != 0

    def pays_back(self) -> bool:
        """Whether orders earn money back (:meth:`after_purchases` is not None)."""
        return self.any_points or self.any_regular

    def lapse_factor(self, rows: np.ndarray, week: int) -> np.ndarray | None:
        """Multiplier on the hazard of ending the relationship with the primary firm."""
        if not self.holds_back_lapses():
            return None
        c, rules = self.m.c, self.rules
        use_social, use_structural = c.uses("social"), c.uses("structural")
        primary = c.primary.take(rows)
        has = (primary != NONE).nonzero()[0]
        firm = primary.take(has).astype(np.intp)
        held_by = rows.take(has)
        # the factors of ``has`` (float64, products in the order a factor of ones times each
        # bond's would make them: 1.0 x a is a), scattered into ones only when some rows
        # have no primary firm
        bonded = None
        if use_social:
            bond = self.social_with(held_by, firm, week)
            bonded = (1.0 - rules.social_protection * bond).astype(np.float64)
        if use_structural:
            tied = c.structural.reshape(-1).take(held_by * self.F + firm)
            protection = rules.structural_protection * self.structural_strength.take(firm)
            bonded = tied_kept(bonded, tied, protection)
        return over_rows(bonded, has, len(rows))

    def climb_factor(
        self, rows: np.ndarray, primary: np.ndarray | int, week: int
    ) -> np.ndarray | None:
        """Multiplier on the probability of climbing a rung (social bond with the primary
        firm, ``primary``: one per row or one for all)."""
        if not self.speeds_climbs():
            return None
        return 1.0 + self.rules.social_climb * self.social_with(rows, primary, week)

    def renew_social(
        self, rows: np.ndarray, firm: int | np.ndarray, week: int, gain: float
    ) -> None:
        """Contacts or events: the social bond moves ``gain`` of the way to 1."""
        c = self.m.c
        c.use("social")
        one_firm = isinstance(firm, (int, np.integer))
        if one_firm:
            self.social_firms[firm] = True  # one firm (the model's callers): no unique()
        else:
            firm = np.broadcast_to(np.asarray(firm, dtype=np.intp), rows.shape)
            self.social_firms[np.unique(firm)] = True
        bond = self.social_with(rows, firm, week)
        renewed = bond + np.float32(gain) * (1.0 - bond)
        held = renewed / self.decay_since_epoch(week)  # epoch as read
        if one_firm:
            c.social[:, firm][rows] = held  # the firm's column: a view, written through
        else:
            c.social[rows, firm] = held

    # ------------------------------------------------------------------ purchases and ends
    def after_purchases(
        self, week: int, rows: np.ndarray, firm: np.ndarray, spent_cents: np.ndarray
    ) -> np.ndarray | None:
        """Points earned and rewards issued on orders; regulars' discounts. Returns the money
        each order earned back (None when no firm runs a program)."""
        if not self.pays_back():
            return None
        spent = spent_cents / 100.0
        # each part's work arrays are freed when it returns: this is where the week's
        # temporaries peak
        cost = self._rewards(week, rows, firm, spent)
        if self.any_regular:
            cost += self._discounts_given(rows, firm, spent)
        cents = whole_cents(cost)
        if week >= 0:
            self.m.ledger.book_by_firm(week, "rewards", firm, cents)
        return cents / 100.0

    def _rewards(
        self, week: int, rows: np.ndarray, firm: np.ndarray, spent: np.ndarray
    ) -> np.ndarray:
        """Points earned on orders (``spent``: money per order) and the rewards they complete;
        returns the money claimed back per order (breakage deducted)."""
        earn, threshold, claimed = self.earn, self.threshold, self.claimed
        rate = earn.take(firm)  # points per unit spent at the order's firm; 0: no program
        # every firm (or every firm bought from) runs a program: no subsets; else the orders
        # that earn points
        at = None
        if not self.every_firm_earns:
            earns = rate > 0
            at = None if earns.all() else earns.nonzero()[0]

        def earning(x: np.ndarray) -> np.ndarray:
            return x if at is None else x.take(at)

        if at is not None and not len(at):
            return np.zeros(len(rows))
        f = earning(firm)
        cell = earning(rows) * self.F + f  # flat (customer, firm) cells: cheap indexing
        points = self.m.c.points.reshape(-1)
        earned = earning(rate) * earning(spent)
        rewards = rewards_completed(points, cell, earned, threshold.take(f))
        if week >= 0:
            self.records["rewards_issued"][week] += np.bincount(
                f, weights=rewards, minlength=self.F
            )
        claimed_back = rewards * claimed.take(f)
        if at is None:
            return claimed_back
        cost = np.zeros(len(rows))
        cost[at] = claimed_back
        return cost

    def _discounts_given(self, rows: np.ndarray, firm: np.ndarray, spent: np.ndarray) -> np.ndarray:
        """Regulars' discounts in money, per order: orders with the customer's primary firm
        at or above the program's rung (their pull on choice is :meth:`_regular_discount`)."""
        c = self.m.c
        discount, min_rung = self.regular_discount, self.regular_min_rung
        regular = (c.primary.take(rows) == firm) & (c.rung.take(rows) >= min_rung.take(firm))
        return np.where(regular, spent * discount.take(firm), 0.0)

    def relationship_ended(self, rows: np.ndarray, firm: np.ndarray) -> None:
        """A relationship ended: club membership and structural tie with that firm end too
        (points and the decaying social bond stay with the customer)."""
        c = self.m.c
        cell = None
        for name, held in (("member", self.members), ("structural", self.ties)):
            if not (c.uses(name) and held.any()):
                continue  # nobody holds one: nothing can end
            if cell is None:
                cell = rows * self.F + firm  # flat (customer, firm) cells: cheap indexing
            flat = getattr(c, name).reshape(-1)
            ended = flat.take(cell).nonzero()[0]
            if len(ended):
                held -= np.bincount(firm.take(ended), minlength=self.F)  # in place: the count
                flat[cell.take(ended)] = False


# the arithmetic a market alone and a pass of markets (model/pass_bonds.py) share: the same
# numbers by construction
def tied_kept(bonded: np.ndarray | None, tied: np.ndarray, protection: np.ndarray) -> np.ndarray:
    """The lapse factors ``bonded`` (None: ones) times ``1 - protection`` where ``tied``."""
    kept = np.where(tied, 1.0 - protection, 1.0)
    return kept if bonded is None else bonded * kept


def over_rows(bonded: np.ndarray | None, has: np.ndarray, n: int) -> np.ndarray | None:
    """The factors of rows ``has`` (with a primary firm) over all ``n`` rows, ones elsewhere."""
    if bonded is None or len(has) == n:
        return bonded
    factor = np.ones(n)
    factor[has] = bonded
    return factor


def rewards_completed(
    points: np.ndarray, cell: np.ndarray, earned: np.ndarray, limit: np.ndarray
) -> np.ndarray:
    """Points ``earned`` added at the flat (customer, firm) ``cell``s; each full ``limit``
    becomes a reward (returned per order), the rest stays held."""
    balance = points.take(cell) + earned.astype(np.float32)
    rewards = np.floor(balance / limit)
    points[cell] = balance - (rewards * limit).astype(np.float32)
    return rewards
