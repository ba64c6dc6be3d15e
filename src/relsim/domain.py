"""The vocabulary of relationship marketing that the whole package shares.

The names follow the project's domain brief: the loyalty ladder's rungs (customer side), the
reasons a customer defects, and Kotler's relationship levels (firm side). Code indexes rungs and
reasons by their position in these tuples, so the order is part of the model.
"""

from __future__ import annotations

RUNGS: tuple[str, ...] = ("prospect", "customer", "client", "supporter", "advocate", "partner")
"""Loyalty-ladder rungs, lowest first. A customer's rung belongs to the relationship with its
primary firm; ``prospect`` means no purchase yet (or no current relationship)."""

PROSPECT, CUSTOMER, CLIENT, SUPPORTER, ADVOCATE, PARTNER = range(len(RUNGS))

REASONS: tuple[str, ...] = (
    "price",
    "product",
    "service",
    "market",
    "technology",
    "political",
    "unobserved",
)
"""Classes of defectors used in exit management: the six reasons of the domain brief, and
``unobserved`` for an ending whose cause the customer's history does not show (a drift-off
of a satisfied customer, a switch made by taste alone); never folded into one of the six."""

PRICE, PRODUCT, SERVICE, MARKET, TECHNOLOGY, POLITICAL, UNOBSERVED = range(len(REASONS))

FIRM_CAUSED: tuple[str, ...] = ("price", "product", "service", "political")
"""Reasons a firm can act on: its price, its product, its service, its reputation."""
EXTERNAL: tuple[str, ...] = ("market", "technology")
"""Reasons no strategy prevents: leaving the market, adopting a substitute."""

LEVELS: tuple[str, ...] = ("basic", "reactive", "accountable", "proactive", "partnership")
"""Kotler's five relationship levels (what the firm does after the sale)."""

BONDS: tuple[str, ...] = ("transactional", "financial", "social", "structural")
"""Berry and Parasuraman's bonding levels, with ``transactional`` meaning no bond."""
