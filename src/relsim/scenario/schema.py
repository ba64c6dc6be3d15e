"""The JSON Schema of scenario files, for editors' completion and checking.

Emitted as draft-07 (what YAML editors' validators implement): pydantic's ``$defs`` become
``definitions`` and every reference is rewritten to match. The committed copy,
``scenarios/scenario.schema.json``, is referenced from each scenario file by a
``# yaml-language-server: $schema=scenario.schema.json`` comment; a test keeps it current.
"""

from __future__ import annotations

import json
from typing import Any

from relsim.scenario.model import Scenario

DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def json_schema() -> dict[str, Any]:
    """The scenario's JSON Schema (draft-07)."""
    schema = Scenario.model_json_schema()
    text = json.dumps(schema).replace('"#/$defs/', '"#/definitions/')
    schema = json.loads(text)
    schema["definitions"] = schema.pop("$defs", {})
    return {**schema, "$schema": DRAFT_07, "title": "relsim scenario"}


def json_schema_text() -> str:
    """The schema as the text committed in ``scenarios/scenario.schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
