"""A scenario scaled to another market size: size-bound money and staff follow the ratio of
the sizes, per-customer values do not (:mod:`relsim.scenario.scaling`)."""

from __future__ import annotations

import pytest

from relsim import load_scenario
from relsim.scenario.paths import get_value
from relsim.scenario.scaling import scaled, scaling_overrides
from tests.conftest import SCENARIOS

WAR = load_scenario(SCENARIOS / "frequency-war.yaml")  # 4 000 customers, staff on one strategy


def test_the_written_size_changes_nothing() -> None:
    for path, value in scaling_overrides(WAR, WAR.market.customers).items():
        assert value == pytest.approx(get_value(WAR, path), rel=1e-4), path


def test_size_bound_fields_follow_the_ratio_and_the_rest_stays() -> None:
    small = scaled(WAR, 1_000, horizon__weeks=52)
    paths = scaling_overrides(WAR, 1_000)
    assert small.market.customers == 1_000 and small.horizon.weeks == 52
    assert "strategies.3.staffing.managers.count" in paths  # staff are among the scaled fields
    assert "firms.0.fixed_cost_per_week" in paths
    for path in paths.keys() - {"market.customers"}:
        assert get_value(small, path) == pytest.approx(get_value(WAR, path) / 4, rel=1e-3), path
    for path in ("firms.0.unit_cost", "strategies.1.bonds.points.reward_value"):
        assert get_value(small, path) == get_value(WAR, path), path  # per order: unchanged
