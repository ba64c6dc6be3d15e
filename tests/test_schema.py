"""The JSON Schema editors use, and the starter scenario."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from relsim.scenario.schema import json_schema_text
from tests.conftest import ROOT, SCENARIOS, relsim

SCHEMA_FILE = SCENARIOS / "scenario.schema.json"


def yaml_data(path: Path) -> object:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def test_the_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "scenarios/scenario.schema.json is stale: run relsim schema --out "
        "scenarios/scenario.schema.json"
    )


def test_every_shipped_scenario_validates_against_the_schema_and_points_to_it() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    files = sorted(SCENARIOS.glob("*.yaml"))
    assert files
    for path in files:
        errors = list(validator.iter_errors(yaml_data(path)))
        assert not errors, (path, [e.message for e in errors])
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=scenario.schema.json", path


def test_the_schema_catches_what_editors_should_flag() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA_FILE.read_text()))
    data = yaml_data(SCENARIOS / "baseline.yaml")
    data["segments"][0]["orders_per_yaer"] = {"mean": 3}  # misspelt key
    data["firms"][0]["fulfilment_failure"] = 1.5  # a probability above 1
    messages = " ".join(e.message for e in validator.iter_errors(data))
    assert "orders_per_yaer" in messages and "1.5" in messages


def test_the_schema_uses_only_draft_07_constructs() -> None:
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    for newer in (
        '"$defs"',
        '"prefixItems"',
        '"unevaluatedProperties"',
        '"dependentRequired"',
        '"$dynamicRef"',
    ):
        assert newer not in text, newer
    jsonschema.Draft7Validator.check_schema(json.loads(text))


def test_the_starter_is_the_baseline_scenario() -> None:
    """`relsim new` ships the baseline as its starter; the two files must not drift apart."""
    starter = ROOT / "src" / "relsim" / "starter.yaml"
    assert starter.read_text(encoding="utf-8") == (SCENARIOS / "baseline.yaml").read_text(
        encoding="utf-8"
    )


def test_the_bundled_classroom_scenario_is_the_shipped_one() -> None:
    """`relsim demo` without a file uses a copy inside the package; it must not drift."""
    bundled = ROOT / "src" / "relsim" / "classroom.yaml"
    assert bundled.read_text(encoding="utf-8") == (SCENARIOS / "classroom.yaml").read_text(
        encoding="utf-8"
    )


@pytest.mark.subprocess
def test_relsim_new_writes_a_valid_scenario_and_its_schema(tmp_path: Path) -> None:
    made = relsim("new", "my-market", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "scenario.schema.json").exists()
    assert relsim("validate", "my-market.yaml", cwd=tmp_path).returncode == 0
    assert "name: my-market" in (tmp_path / "my-market.yaml").read_text()
    again = relsim("new", "my-market", cwd=tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr
    schema = relsim("schema", cwd=tmp_path)
    assert schema.returncode == 0 and json.loads(schema.stdout)["title"] == "relsim scenario"
