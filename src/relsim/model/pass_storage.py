"""The arrays of a pass of markets: one block of rows per market (issue 31).

Market ``k``'s rows are rows ``k x cap .. k x cap + cap`` of the pass's arrays; its own
:class:`~relsim.model.population.Customers` are views of its block (:class:`BlockCustomers`),
so that everything a market does on its own (births, leads, shocks, the mechanisms) works on
its local rows, unchanged, while the week's rules run once over the pass's arrays
(:mod:`relsim.model.market_pass`). Rows past a market's ``n`` hold the fill values, as in any
:class:`~relsim.model.population.Customers`, so a scan of the pass's arrays never finds them
due; a block that fills grows every block (its market's births outpacing its exits).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from relsim.model.population import BOND_FIELDS, SCALAR_FIELDS, Customers

GROWTH = 1.25
"""A pass whose block fills grows every block by this factor."""


class BlockCustomers(Customers):
    """A market's customers, held in its block of a pass's arrays (each field a view)."""

    def __init__(self, own: Customers, storage: PassStorage, k: int):
        self.__dict__.update(own.__dict__)
        self.firm_fields = dict(own.firm_fields)
        self._storage = storage
        self._k = k

    def _alloc(self, capacity: int) -> None:
        self._storage.grow(capacity)

    def detached(self) -> Customers:
        """The same customers in arrays of their own."""
        own = Customers.__new__(Customers)
        own.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("_storage", "_k")})
        for name in (*SCALAR_FIELDS, *self.firm_fields, "alive"):
            setattr(own, name, getattr(self, name).copy())
        return own

    def use(self, name: str) -> None:
        if name in self.firm_fields:
            return
        self.firm_fields[name] = BOND_FIELDS[name]
        self._storage.use(name)


class PassStorage:
    """The arrays of a pass: market ``k``'s rows are ``k x cap .. k x cap + cap``; ``c`` holds
    them all (a :class:`Customers` whose ``n`` is every row, inert rows included)."""

    def __init__(self, customers: Sequence[Customers]):
        self.K = len(customers)
        self.F = customers[0].n_firms
        self.cap = max(own._capacity for own in customers)
        self.c = Customers(self.F, self.K * self.cap)
        for own in customers:
            for name in own.firm_fields:
                if name in BOND_FIELDS:
                    self.c.use(name)
        self.members = [BlockCustomers(own, self, k) for k, own in enumerate(customers)]
        for k, own in enumerate(customers):
            for name in self._names():
                getattr(self.c, name)[self._block(k)][: own.n] = getattr(own, name)[: own.n]
        self.c.n = self.K * self.cap
        self._bind()

    def _names(self) -> list[str]:
        return [*SCALAR_FIELDS, *self.c.firm_fields, "alive"]

    def _block(self, k: int) -> slice:
        return slice(k * self.cap, (k + 1) * self.cap)

    def _bind(self) -> None:
        for k, member in enumerate(self.members):
            for name in self._names():
                setattr(member, name, getattr(self.c, name)[self._block(k)])
            member._capacity = self.cap

    def cell_codes(self, primary: np.ndarray, rung: np.ndarray, rungs: int) -> np.ndarray:
        """Every row's census cell, ``k x cells + (primary + 1) x rungs + rung`` for block
        ``k`` (``cells = (firms + 1) x rungs``: a market's cells), as intp, which
        ``bincount`` takes without a conversion of its own. Built in the smallest integer type
        that numbers every cell and widened once, in buffers kept until the blocks grow (as a
        lone market's census does, :meth:`relsim.model.census.Census._cell_codes`)."""
        n = self.K * self.cap
        cells = (self.F + 1) * rungs
        small = np.int16 if self.K * cells <= np.iinfo(np.int16).max + 1 else np.int32
        if getattr(self, "_codes", (None,))[0] != (n, cells, small):
            offsets = np.repeat(np.arange(self.K, dtype=small) * small(cells), self.cap)
            self._codes = ((n, cells, small), offsets, np.empty(n, small), np.empty(n, np.intp))
        _, offsets, narrow, code = self._codes
        np.add(primary, 1, out=narrow, dtype=small)
        narrow *= small(rungs)
        narrow += rung
        narrow += offsets
        np.copyto(code, narrow)
        return code

    def offset(self, k: int) -> int:
        """Market ``k``'s first row in the pass's arrays."""
        return k * self.cap

    def grow(self, capacity: int) -> None:
        """Every block to at least ``capacity`` rows (one market's births need them)."""
        cap = max(capacity, int(GROWTH * self.cap) + 16)
        old, old_cap = self.c, self.cap
        new = Customers(self.F, self.K * cap)
        for name in old.firm_fields:
            if name in BOND_FIELDS:
                new.use(name)
        for k, member in enumerate(self.members):
            for name in self._names():
                start = k * old_cap
                getattr(new, name)[k * cap : k * cap + member.n] = getattr(old, name)[
                    start : start + member.n
                ]
        self.c, self.cap = new, cap
        self.c.n = self.K * cap
        self._bind()

    def use(self, name: str) -> None:
        """Bond field ``name`` for every block (a market that does not use it ignores it)."""
        if not self.c.uses(name):
            self.c.use(name)
            self._bind()
