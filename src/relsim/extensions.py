"""Extension points: strategy instruments and choice rules added in Python, by name.

A researcher adds a mechanism without editing the engine: write a factory (a class or a
function) whose result follows :class:`Instrument`, register it, and name it in a scenario::

    import relsim.extensions as ext

    class BirthdayCoupon:
        def __init__(self, value: float = 5.0, uplift: float = 0.2):
            self.value, self.uplift = value, uplift
        def utility(self, market, rows, week):
            extra = np.zeros((market.F, len(rows)))
            extra[0] = self.uplift          # the focal firm is firm 0
            return extra
        def weekly(self, market, week):
            return {"rewards": self.value * market.customers_of(0) / 52}

    ext.register_instrument("birthday_coupon", BirthdayCoupon)

    # scenario file
    strategies:
      - name: coupons
        instruments: [{name: birthday_coupon, params: {value: 5}}]

The focal firm runs a strategy's instruments from the strategy's launch (week 0). A choice rule
replaces the multinomial logit on purchase occasions (``choice_rule:`` in the scenario); it
gives the probabilities of each alternative (used for residual lifetime values) and samples a
choice from one uniform per occasion, so common random numbers keep working.

Registered objects reach the worker processes of :func:`relsim.run_experiment` (pickled by
reference), so register them in an importable module, not in ``__main__`` of a script run by
the spawn start method. Scenario files can only *name* what Python code registered: a file
never imports or runs code. The command line loads registrations with ``--plugin MODULE``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from relsim.model import choice as logit

if TYPE_CHECKING:
    from relsim.model.interface import MarketInterface


@runtime_checkable
class Instrument(Protocol):
    """What a strategy instrument does each week and on each purchase occasion.

    ``market`` is the replication's :class:`relsim.model.interface.MarketInterface`, the
    market's narrow door: instruments may read ``market.c`` (customer arrays, one row per
    customer, e.g. ``c.primary``, ``c.rung``, ``c.satisfaction``), ``market.F`` (firms, focal
    first), ``market.price``, ``market.quality`` and ``market.scenario``, and call
    ``market.customers_of(firm)`` and ``market.now_week()``. They must not write the market's
    state: their effect goes through the utilities and costs they return.
    """

    def utility(self, market: MarketInterface, rows: np.ndarray, week: int) -> np.ndarray | None:
        """Extra utility of each firm, shape (F, len(rows)), for customers ``rows`` on a
        purchase occasion in ``week``; None for none."""
        ...

    def weekly(self, market: MarketInterface, week: int) -> dict[str, float]:
        """The focal firm's costs of the instrument in ``week``, by cost kind (currency)."""
        ...


class ChoiceRule(Protocol):
    """How a customer picks among the firms and the outside option."""

    def probabilities(self, v: np.ndarray, outside: np.ndarray) -> np.ndarray:
        """Probabilities, shape (F + 1, n): firms then the outside option, from utilities
        ``v`` (F, n) and the outside utility (n,)."""
        ...

    def sample(self, v: np.ndarray, outside: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """Chosen alternative per customer (0..F-1 a firm, F the outside option), one uniform
        per customer."""
        ...


class Logit:
    """The multinomial logit (the default rule)."""

    def probabilities(self, v: np.ndarray, outside: np.ndarray) -> np.ndarray:
        return logit.probabilities(v, outside)

    def sample(self, v: np.ndarray, outside: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        return logit.sample(v, outside, uniforms)


_INSTRUMENTS: dict[str, Callable[..., Instrument]] = {}
_CHOICE_RULES: dict[str, ChoiceRule] = {"logit": Logit()}


def register_instrument(name: str, factory: Callable[..., Instrument]) -> None:
    """Make ``factory(**params)`` available to scenarios as instrument ``name``."""
    _check_name(name)
    _INSTRUMENTS[name] = factory


def register_choice_rule(name: str, rule: ChoiceRule) -> None:
    """Make ``rule`` available to scenarios as ``choice_rule: name``."""
    _check_name(name)
    if name == "logit":
        raise ValueError("'logit' is the built-in rule and cannot be replaced")
    _CHOICE_RULES[name] = rule


def unregister(name: str) -> None:
    """Remove a registered instrument or choice rule (tests, notebooks)."""
    _INSTRUMENTS.pop(name, None)
    if name != "logit":
        _CHOICE_RULES.pop(name, None)


def instrument(name: str, params: dict[str, Any]) -> Instrument:
    """A new instrument ``name`` built with ``params``; a clear error names what exists."""
    if name not in _INSTRUMENTS:
        known = ", ".join(sorted(_INSTRUMENTS)) or "none registered"
        raise KeyError(
            f"unknown instrument {name!r}; registered: {known} (register one with "
            "relsim.extensions.register_instrument, or --plugin MODULE on the command line)"
        )
    try:
        return _INSTRUMENTS[name](**params)
    except TypeError as exc:
        raise ValueError(f"instrument {name!r}: bad params {params}: {exc}") from exc


def choice_rule(name: str) -> ChoiceRule:
    """The choice rule ``name``; a clear error names what exists."""
    if name not in _CHOICE_RULES:
        raise KeyError(
            f"unknown choice rule {name!r}; registered: {', '.join(sorted(_CHOICE_RULES))}"
        )
    return _CHOICE_RULES[name]


def snapshot() -> dict[str, dict[str, Any]]:
    """What is registered (for worker processes)."""
    return {"instruments": dict(_INSTRUMENTS), "choice_rules": dict(_CHOICE_RULES)}


def restore(state: dict[str, dict[str, Any]]) -> None:
    """Register everything in ``state`` (a worker process's initializer)."""
    _INSTRUMENTS.update(state.get("instruments", {}))
    _CHOICE_RULES.update(state.get("choice_rules", {}))


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError("a registered name must be a non-empty string")
