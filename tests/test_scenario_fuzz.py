"""Random edits of a valid scenario file, and hostile files (binary, anchor bombs, deep
nesting, tags, huge and odd text), give a valid scenario or a located error -- never an uncaught
exception, never a hang (hypothesis).

The fast profile runs a few hundred cases per test; ``RELSIM_FUZZ_CASES=5000`` (as
``benchmarks/soak.py`` sets it) runs the deep profile.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from relsim.scenario import Scenario, ScenarioError, load_scenario
from relsim.scenario.load import MAX_FILE_BYTES
from tests.conftest import SCENARIOS, relsim

CASES = int(os.environ.get("RELSIM_FUZZ_CASES", "300"))
BASE_TEXT = (SCENARIOS / "baseline.yaml").read_text(encoding="utf-8")
BASE = YAML(typ="safe", pure=True).load(BASE_TEXT)

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


@pytest.mark.slow
@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_random_edits_give_a_valid_scenario_or_a_located_error(
    tmp_path_factory: Any, data: dict[str, Any]
) -> None:
    path: Path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    with open(path, "w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    assert_valid_or_located(path)


def assert_valid_or_located(path: Path) -> None:
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        assert error.problems
        for problem in error.problems:
            rendered = problem.render(str(path))
            assert rendered.startswith(str(path)) and problem.message
        return
    assert isinstance(scenario, Scenario)


def bomb(levels: int, fan_out: int) -> str:
    """'Billion laughs': each anchor refers to the previous one ``fan_out`` times."""
    lines = ["a0: &a0 [lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan_out) + "]")
    return "\n".join(lines) + "\nname: bomb\n"


def nested(depth: int, flow: bool) -> str:
    if flow:
        return "segments: " + "[" * depth + "]" * depth + "\n"
    return "segments:\n" + "".join("  " * i + "- \n" for i in range(depth))


def spliced(position: float, junk: str) -> str:
    """The baseline file with ``junk`` inserted at a relative position."""
    at = int(position * len(BASE_TEXT))
    return BASE_TEXT[:at] + junk + BASE_TEXT[at:]


TAGS = [
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/name:os.system",
    "!include /etc/passwd",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!custom 3",
]

hostile_text = st.one_of(
    st.builds(bomb, st.integers(1, 12), st.integers(2, 12)),
    st.builds(nested, st.integers(1, 3000), st.booleans()),
    st.builds(spliced, st.floats(0, 1), st.text(min_size=1, max_size=40)),
    st.builds(spliced, st.floats(0, 1), st.sampled_from(TAGS)),
    st.builds(lambda n: "name: " + "x" * n + "\n", st.integers(0, 200_000)),
    st.text(max_size=300),
    st.just(""),
    st.just("\ufeff" + BASE_TEXT),
)
hostile_bytes = st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda b: BASE_TEXT.encode() + b, st.binary(min_size=1, max_size=20)),
    st.just(b"\x00" * 100),
)


@pytest.mark.slow
@settings(
    max_examples=max(CASES // 3, 100),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.one_of(hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass")), hostile_bytes))
def test_hostile_files_give_a_valid_scenario_or_a_located_error(
    tmp_path_factory: Any, content: bytes
) -> None:
    path: Path = tmp_path_factory.mktemp("hostile") / "s.yaml"
    path.write_bytes(content)
    assert_valid_or_located(path)


@pytest.mark.slow
@pytest.mark.subprocess
def test_hostile_files_through_the_command_line_exit_65_promptly(tmp_path: Path) -> None:
    """The worst of each kind through `relsim validate`: exit 65 with a message per file, no
    traceback, no code run, and the whole batch bounded (the timeout guards against hangs)."""
    files = {
        "bomb.yaml": bomb(12, 12),  # 12**12 items if expanded
        "deep-flow.yaml": nested(400_000, True),
        "deep-block.yaml": nested(500, False),
        "binary.yaml": bytes(range(256)) * 8,
        "huge.yaml": "name: " + "x" * (MAX_FILE_BYTES + 10),
        "python-tag.yaml": "x: !!python/object/apply:os.system ['touch PWNED']\n" + BASE_TEXT,
        "include.yaml": "segments: !include /etc/passwd\n",
        "nul.yaml": "name: a\x00b\n",
    }
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode()
        (tmp_path / name).write_bytes(data)
    result = relsim("validate", *sorted(files), cwd=tmp_path)
    assert result.returncode == 65, result.stderr
    assert "Traceback" not in result.stderr
    expected = {
        "bomb.yaml": "expands to more than",
        "deep-flow.yaml": "nested too deeply",
        "deep-block.yaml": "nested",
        "binary.yaml": "not a UTF-8 text file",
        "huge.yaml": "larger than",
        "python-tag.yaml": "YAML tags are not allowed",
        "include.yaml": "YAML tags are not allowed",
        "nul.yaml": "not a valid YAML text",
    }
    lines = result.stderr.splitlines()
    for name, fragment in expected.items():
        said = [line for line in lines if line.startswith(name)]
        assert said and fragment in said[0], (name, said)
    assert not (tmp_path / "PWNED").exists()
    for name in ("bomb.yaml", "python-tag.yaml", "binary.yaml"):  # nor does a run start
        out = tmp_path / f"out-{name}"
        run = relsim("run", name, "--out", str(out), cwd=tmp_path)
        assert run.returncode == 65 and "Traceback" not in run.stderr
        assert not out.exists(), "an invalid scenario must not leave a results folder"
