"""Random edits of a valid scenario file give a valid scenario or a located error -- never an
uncaught exception (hypothesis)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from relsim.scenario import Scenario, ScenarioError, load_scenario
from tests.conftest import SCENARIOS

BASE = YAML(typ="safe", pure=True).load((SCENARIOS / "baseline.yaml").read_text())

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.integers(-5, 5), max_size=7),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += paths(value, (*prefix, i))
    return out


ALL_PATHS = paths(BASE)


@st.composite
def edited(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[path[-1]] = draw(values)
            elif action == "delete" and isinstance(node, dict):
                node.pop(path[-1], None)
            elif isinstance(node, dict):
                node[draw(st.text(min_size=1, max_size=12))] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this path
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_random_edits_give_a_valid_scenario_or_a_located_error(
    tmp_path_factory: Any, data: dict[str, Any]
) -> None:
    path: Path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    with open(path, "w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        assert error.problems
        for problem in error.problems:
            rendered = problem.render(str(path))
            assert rendered.startswith(str(path)) and problem.message
        return
    assert isinstance(scenario, Scenario)
