"""Scenario loading: a frozen, validated object; located errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from relsim import load_scenario
from relsim.scenario import Scenario, ScenarioError
from tests.conftest import SCENARIOS


def test_baseline_loads_into_a_frozen_scenario(baseline: Scenario) -> None:
    assert baseline.name == "baseline"
    assert baseline.focal.name == "focal"
    assert len(baseline.firms) == 3 and baseline.market.customers == 10_000
    assert baseline.baseline_strategy == "transactional"
    with pytest.raises(pydantic.ValidationError):
        baseline.seed = 3  # type: ignore[misc]


def test_every_shipped_scenario_validates() -> None:
    files = sorted(SCENARIOS.glob("*.yaml"))
    assert files
    for path in files:
        load_scenario(path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
name: NO
segments:
  - name: all
    share: 1.0
firms:
  - name: focal
    initial_share: 1.0
"""


def test_yaml_1_2_keeps_no_as_a_string(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, MINIMAL)).name == "NO"


def test_unknown_key_is_located_with_a_suggestion(tmp_path: Path) -> None:
    text = MINIMAL.replace("    share: 1.0", "    share: 1.0\n    orders_per_yaer: {mean: 3}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    message = str(info.value)
    assert "s.yaml:5:5: segments[0].orders_per_yaer: unknown key" in message
    assert "did you mean 'orders_per_year'" in message


def test_out_of_range_value_names_field_and_value(tmp_path: Path) -> None:
    text = MINIMAL.replace("    share: 1.0", "    share: 1.0\n    voice_share: 1.5")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert "segments[0].voice_share" in str(info.value)
    assert "1.5" in str(info.value)


def test_shares_must_sum_to_one(tmp_path: Path) -> None:
    text = MINIMAL.replace("initial_share: 1.0", "initial_share: 0.5")
    with pytest.raises(ScenarioError, match="initial_share must sum to 1"):
        load_scenario(write(tmp_path, text))


def test_syntax_error_and_empty_file_are_located(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"s\.yaml:\d+:\d+: YAML syntax error"):
        load_scenario(write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ScenarioError, match="empty"):
        load_scenario(write(tmp_path, ""))


def test_tags_that_would_build_objects_are_refused(tmp_path: Path) -> None:
    text = MINIMAL + "description: !!python/object/apply:os.system ['echo hi']\n"
    with pytest.raises(ScenarioError, match=r"s\.yaml:8:1: description: YAML tags are not"):
        load_scenario(write(tmp_path, text))
    with pytest.raises(ScenarioError, match="YAML tags are not allowed"):
        load_scenario(write(tmp_path, MINIMAL.replace("name: NO", "name: !include other.yaml")))


def test_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    assert load_scenario(path, overrides={"market.customers": 500}).market.customers == 500
    with pytest.raises(ScenarioError, match=r"market\.customers"):
        load_scenario(path, overrides={"market.customers": -1})


def test_unknown_strategy_name_lists_the_known_ones(baseline: Scenario) -> None:
    with pytest.raises(KeyError, match="transactional"):
        baseline.strategy("loyalty")


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_runs_every_strategy_for_a_few_weeks(path: Path) -> None:
    from relsim import simulate

    scenario = load_scenario(
        path, overrides={"horizon.weeks": 6, "horizon.warmup_weeks": 4, "market.customers": 400}
    )
    for strategy in scenario.strategies:
        run = simulate(scenario, strategy=strategy.name, seed=3)
        assert len(run.weekly) == 6 * len(scenario.firms)
        assert run.summary["customers_end"] >= 0
