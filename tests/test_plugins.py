"""The plugin page's example (docs/plugins.md), run as written: a coupon instrument written
against the market's narrow interface."""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest

import relsim
from relsim import extensions
from relsim.model.interface import MarketInterface
from relsim.scenario import Scenario, Strategy

PAGE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def _page_module() -> types.ModuleType:
    """The page's Python block, executed as a module of its own."""
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/plugins.md should hold one Python block"
    module = types.ModuleType("plugins_page")
    exec(compile(blocks[0], str(PAGE), "exec"), module.__dict__)
    return module


def test_the_coupon_plugin_of_the_docs_runs_against_the_narrow_interface(
    small_baseline: Scenario,
) -> None:
    page = _page_module()
    seen: list[object] = []
    booked: list[float] = []

    class Spy(page.NewCustomerCoupon):  # type: ignore[name-defined,misc]
        """The page's coupon, recording what it was given and what it charged."""

        def weekly(self, market, week):  # type: ignore[no-untyped-def]
            seen.append(market)
            costs = super().weekly(market, week)
            if week >= 0:
                booked.append(costs["rewards"])
            return costs

    extensions.register_instrument("new_customer_coupon", Spy)
    try:
        spec = {"name": "new_customer_coupon", "params": {"value": 5.0, "uplift": 1.0}}
        coupons = Strategy(name="coupons", instruments=[spec])
        sc = small_baseline.model_copy(update={"strategies": (*small_baseline.strategies, coupons)})
        with_coupon = relsim.simulate(sc, "coupons", seed=11)
        without = relsim.simulate(sc, "transactional", seed=11)
    finally:
        extensions.unregister("new_customer_coupon")
    # the plugin saw the narrow door, not the engine's Market
    assert seen and all(isinstance(m, MarketInterface) for m in seen)
    assert not hasattr(seen[0], "bonds") and not hasattr(seen[0], "step")
    # its costs are booked as the focal firm's rewards, week by week (whole cents)
    weekly = with_coupon.weekly[with_coupon.weekly["firm"] == "focal"]
    assert len(booked) == sc.horizon.weeks and sum(booked) > 0
    np.testing.assert_allclose(weekly["rewards"].to_numpy(), booked, atol=0.005)
    assert without.weekly[without.weekly["firm"] == "focal"]["rewards"].sum() == 0
    # and it works: with common random numbers, the coupon brings the focal firm more orders
    assert with_coupon.summary["orders"] > without.summary["orders"]
    with pytest.raises(KeyError, match="new_customer_coupon"):
        relsim.simulate(sc, "coupons", seed=11)


class _HalvedLogit(extensions.Logit):
    """A plugin's rule that subclasses the logit and changes its probabilities."""

    def probabilities(self, v: np.ndarray, outside: np.ndarray) -> np.ndarray:
        return super().probabilities(v * 0.5, outside * 0.5)


@pytest.mark.parametrize("rule", [_HalvedLogit(), extensions.Logit()], ids=["subclass", "logit"])
def test_the_value_lost_prices_a_share_with_the_rule_s_own_probabilities(rule: object) -> None:
    """The value after a defection uses the probability of choosing the firm; the engine's
    shortcut for the logit (no other alternatives' rows) must not catch a subclass of it that
    redefines its probabilities (a review found it did)."""
    import simpy

    from relsim.model.engine import Market
    from relsim.model.population import NONE

    scenario = relsim.load_scenario(
        Path(__file__).resolve().parents[1] / "scenarios" / "ci-smoke.yaml",
        overrides={"market.customers": 300},
    )
    market = Market(scenario, scenario.strategies[0], 1)
    market.choice_rule = rule
    market.warm_up()
    market.env = simpy.Environment(initial_time=market.W)  # week 0, as the horizon starts
    c = market.c
    rows = (c.alive[: c.n] & (c.primary[: c.n] == 0)).nonzero()[0]
    assert len(rows) > 50
    firm, none = np.zeros(len(rows), np.intp), np.full(len(rows), NONE, np.int8)
    seg, rung = c.segment.take(rows), c.rung.take(rows)
    v = market._utilities(rows, firm.astype(np.int8), none, seg, rung)
    expected = rule.probabilities(v, market.p.outside_utility.take(seg))[0]  # type: ignore[attr-defined]
    assert np.array_equal(market._share(rows, firm, seg, rung, True), expected)
