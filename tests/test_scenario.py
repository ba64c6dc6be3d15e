"""Scenario loading: a frozen, validated object; located errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from relsim import load_scenario
from relsim.scenario import Scenario, ScenarioError
from tests.conftest import ONE_FIRM, SCENARIOS, scenario


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


TWO_SEGMENTS = """\
name: two
segments:
  - name: a
    share: 0.6
  - name: b
    share: 0.5
firms:
  - name: focal
    initial_share: 1.0
strategies:
  - name: plain
    preset: transactional
  - name: points
    preset: finacial
"""


def test_every_problem_of_a_file_is_reported_at_once_each_at_its_line(tmp_path: Path) -> None:
    """A field error (the preset typo) no longer hides a cross-check (shares summing to 1.1),
    and the cross-check is located at the segments, not at the top of the file."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, TWO_SEGMENTS))
    lines = str(info.value).splitlines()
    assert len(lines) == 2, lines
    assert "s.yaml:14:5: strategies[1].preset:" in lines[0]
    assert lines[1] == f"{tmp_path / 's.yaml'}:2:1: segments: segment shares must sum to 1, got 1.1"


def test_several_cross_checks_are_all_reported(tmp_path: Path) -> None:
    text = TWO_SEGMENTS.replace("finacial", "financial").replace("name: points", "name: plain")
    text += "baseline: nowhere\nshocks:\n  - {week: 5, kind: price_cut, size: 0.1, firm: ghost}\n"
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    found = {p.path: p.line for p in info.value.problems}
    assert found == {
        "segments": 2,
        "strategies[1].name": 13,
        "shocks[0].firm": 17,
        "baseline": 15,
    }, found


def test_a_part_that_failed_is_not_cross_checked_again(tmp_path: Path) -> None:
    """A segment whose own field failed is left out of the shares check, so the report holds
    the field's error and no consequence of it."""
    text = TWO_SEGMENTS.replace("finacial", "financial").replace("share: 0.5", "share: 1.5")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert [p.path for p in info.value.problems] == ["segments[1].share"]


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


def test_strategist_terms_convert_to_the_engines_parameters() -> None:
    """Annual retention %, gross margin % and salaries are converted at validation; the dumped
    scenario (both forms) validates again to the same scenario."""

    segment = {k: v for k, v in ONE_FIRM["segments"][0].items() if k != "defection_propensity"}
    firm = {k: v for k, v in ONE_FIRM["firms"][0].items() if k != "unit_cost"}
    sc = scenario(
        {
            "segments": [{**segment, "relocation_per_year": 0.05, "annual_retention_percent": 80}],
            "firms": [{**firm, "price_index": 1.2, "gross_margin_percent": 25}],
            "strategies": [
                {"name": "s", "staffing": {"managers": {"count": 2, "salary_per_year": 78000}}}
            ],
        }
    )
    seg = sc.segments[0]
    assert seg.annual_churn_percent is None  # read once, held in the engine's form
    # (1 - 0.2) = (1 - 0.05)(1 - p)  =>  p = 1 - 0.8 / 0.95
    assert seg.defection_propensity.mean == pytest.approx(1 - 0.8 / 0.95, abs=1e-12)
    assert seg.defection_propensity.concentration == 4.0  # the default spread is kept
    assert sc.firms[0].unit_cost == pytest.approx(1.2 * 0.75)
    assert sc.strategies[0].staffing.managers.cost_per_week == pytest.approx(1500.0)
    assert Scenario.model_validate(sc.model_dump()) == sc
    # and a dumped scenario can be edited and validated again
    edited = sc.model_dump()
    edited["segments"][0]["relocation_per_year"] = 0.5
    assert Scenario.model_validate(edited).segments[0].relocation_per_year == 0.5
    # a contract period converts the annual figure to one per period
    contract = scenario(
        {
            "segments": [
                {
                    **segment,
                    "relocation_per_year": 0.0,
                    "contractual": True,
                    "contract_period_weeks": 26,
                    "annual_churn_percent": 36,
                }
            ]
        }
    )
    assert contract.segments[0].defection_propensity.mean == pytest.approx(0.2)
    with pytest.raises(pydantic.ValidationError, match="give `salary_per_year` or `cost_per_week`"):
        scenario(
            {
                "strategies": [
                    {
                        "name": "s",
                        "staffing": {"desk": {"cost_per_week": 1, "salary_per_year": 5200}},
                    }
                ]
            }
        )
