"""``relsim validate``, ``relsim new``, ``relsim presets`` and ``relsim schema``: writing and
checking scenario files (the work is :mod:`relsim.scenario`'s)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from relsim.cli.common import (
    EXIT_INVALID,
    EXIT_NO_INPUT,
    EXIT_OK,
    Subparsers,
    command,
    say,
)
from relsim.errors import UsageError


def add_presets(sub: Subparsers) -> None:
    presets = command(
        sub,
        "presets",
        handle_presets,
        "list the strategy presets and their parameters",
        "examples:\n  relsim presets\n  relsim presets financial+social --json",
    )
    presets.add_argument("name", nargs="?", default=None, help="one preset (default: all)")
    presets.add_argument("--json", action="store_true", help="JSON instead of YAML")


def handle_presets(args: argparse.Namespace) -> int:
    from relsim.scenario.presets import preset, preset_names

    names = [args.name] if args.name else preset_names()
    try:
        table = {name: preset(name) for name in names}
    except ValueError as error:
        raise UsageError(str(error)) from error
    if args.json:
        json.dump(table, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    for name, values in table.items():
        sys.stdout.write(f"# preset: {name}\n")
        if values:
            yaml.dump({"preset": name, **values}, sys.stdout)
        else:
            sys.stdout.write(f"preset: {name}   # no bonds, service at the status quo\n")
        sys.stdout.write("\n")
    return EXIT_OK


def add_schema(sub: Subparsers) -> None:
    schema = command(
        sub,
        "schema",
        handle_schema,
        "write the scenario files' JSON Schema (for editors)",
        "example:\n  relsim schema --out scenarios/scenario.schema.json",
    )
    schema.add_argument("--out", type=Path, default=None, help="file (default: stdout)")


def handle_schema(args: argparse.Namespace) -> int:
    from relsim.scenario.schema import json_schema_text

    text = json_schema_text()
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        say(f"relsim: schema written to {args.out}")
    return EXIT_OK


def add_new(sub: Subparsers) -> None:
    new = command(
        sub,
        "new",
        handle_new,
        "write a commented starter scenario to edit",
        "example:\n  relsim new my-market   # writes my-market.yaml",
    )
    new.add_argument("name", help="scenario name (the file is NAME.yaml unless --out)")
    new.add_argument("--out", type=Path, default=None, help="file to write")


def handle_new(args: argparse.Namespace) -> int:
    import re
    from importlib import resources

    target = args.out or Path(f"{args.name}.yaml")
    if target.exists():
        raise UsageError(f"{target} exists; choose another name or --out")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", args.name):
        raise UsageError("NAME may use letters, digits, '_', '-' and '.' only")
    text = resources.files("relsim").joinpath("starter.yaml").read_text(encoding="utf-8")
    text = text.replace("name: baseline", f"name: {args.name}", 1)
    target.write_text(text, encoding="utf-8")
    schema = target.parent / "scenario.schema.json"
    if not schema.exists():  # the file's first line points editors at it
        from relsim.scenario.schema import json_schema_text

        schema.write_text(json_schema_text(), encoding="utf-8")
    say(f"relsim: wrote {target}; edit it, then: relsim validate {target}")
    return EXIT_OK


def add_validate(sub: Subparsers) -> None:
    validate = command(
        sub,
        "validate",
        handle_validate,
        "check scenario files and report every problem with its line",
        "example:\n  relsim validate scenarios/*.yaml",
    )
    validate.add_argument("scenarios", type=Path, nargs="+")


def handle_validate(args: argparse.Namespace) -> int:
    from relsim.scenario import ScenarioError, load_scenario

    worst = EXIT_OK
    for path in args.scenarios:
        try:
            load_scenario(path)
            say(f"{path}: ok")
        except ScenarioError as error:
            say(str(error))
            worst = max(worst, EXIT_INVALID)
        except FileNotFoundError:
            say(f"{path}: no such file")
            worst = max(worst, EXIT_NO_INPUT)
    return worst


__all__ = [
    "add_new",
    "add_presets",
    "add_schema",
    "add_validate",
    "handle_new",
    "handle_presets",
    "handle_schema",
    "handle_validate",
]
