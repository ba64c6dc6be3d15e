"""Read a scenario file (YAML 1.2) into a validated :class:`Scenario`, with located errors.

YAML 1.2 does not turn ``NO`` or ``on`` into booleans, and the loader builds plain data only
(mappings, sequences, scalars); tags that would construct objects are refused, so nothing in a
scenario file can run code or read another file. What a hostile or broken file could do to the
loader is bounded: files over :data:`MAX_FILE_BYTES`, non-UTF-8 (binary) files, nesting deeper
than :data:`MAX_DEPTH` and anchor/alias expansions ("billion laughs") past :data:`MAX_NODES`
nodes are refused with a located error instead of exhausting memory or the stack. A validation
error names the file, the line and column the parser recorded for the offending field, the
field's path (``segments[1].share``), what was wrong and what was expected.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from relsim.scenario.model import CrossCheckError, Scenario

MAX_FILE_BYTES = 1_000_000
"""Largest scenario file read (the shipped ones are under 10 kB)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted (a scenario needs about 6)."""
MAX_NODES = 100_000
"""Most values a file may expand to, aliases counted each time they are used."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, located as precisely as the parser allows."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def render(self, file: str) -> str:
        where = file if self.line is None else f"{file}:{self.line}:{self.column}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``problems`` says where and why."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path:
        YAML file.
    overrides:
        Optional mapping of dotted field paths to values (``{"market.customers": 500}``),
        applied before validation, for quick what-ifs.

    Raises
    ------
    ScenarioError
        With the file, line, column and field path of every problem found.
    FileNotFoundError
        When the file does not exist.
    """
    path = Path(path)
    text = read_text(path)
    document = parse_yaml(text, str(path))
    try:
        data = to_plain(document)
    except TagError as error:
        line, column = _locate(document, error.loc)
        problem = Problem(_format_path(error.loc), str(error), line, column)
        raise ScenarioError(str(path), [problem]) from None
    for dotted, value in (overrides or {}).items():
        _set_path(data, dotted, value, str(path))
    return validate(data, str(path), document)


def read_text(path: Path) -> str:
    """The file's text, refusing what cannot be a scenario: too large, or not UTF-8 text."""
    with open(path, "rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        message = (
            f"the file is larger than {MAX_FILE_BYTES:,} bytes; a scenario file is a few "
            "kilobytes (is this the right file?)"
        )
        raise ScenarioError(str(path), [Problem("", message)])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        message = (
            f"not a UTF-8 text file (undecodable byte at offset {error.start}); "
            "a scenario is a YAML text file"
        )
        raise ScenarioError(str(path), [Problem("", message)]) from None


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML 1.2 text into round-trip nodes that remember their line and column."""
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    try:
        document = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        message = f"YAML syntax error: {error.problem or error.context}"
        raise ScenarioError(file, [Problem("", message, line, column)]) from None
    except YAMLError as error:  # e.g. control characters the reader refuses
        message = f"not a valid YAML text: {str(error).splitlines()[0]}"
        raise ScenarioError(file, [Problem("", message)]) from None
    except RecursionError:
        message = f"nested too deeply (a scenario nests about 6 levels; at most {MAX_DEPTH})"
        raise ScenarioError(file, [Problem("", message)]) from None
    if document is None:
        raise ScenarioError(file, [Problem("", "the file is empty (expected a YAML mapping)")])
    if not isinstance(document, CommentedMap):
        found = type(document).__name__
        raise ScenarioError(file, [Problem("", f"expected a YAML mapping at the top, got {found}")])
    return document


class TagError(ValueError):
    """Something a scenario file may not hold, at ``loc``: a YAML tag (``!!python/...``,
    ``!include``), nesting past :data:`MAX_DEPTH`, or an expansion past :data:`MAX_NODES`."""

    def __init__(self, loc: list[Any], message: str):
        self.loc = loc
        super().__init__(message)


def to_plain(node: Any, loc: list[Any] | None = None) -> Any:
    """Round-trip nodes to plain dicts, lists and scalars; tagged nodes, nesting past
    :data:`MAX_DEPTH` and alias expansions past :data:`MAX_NODES` values are refused."""
    return _Plain().convert(node, loc or [], frozenset())


class _Plain:
    """One conversion, counting every value produced (an alias used twice counts twice)."""

    def __init__(self) -> None:
        self.nodes = 0

    def convert(self, node: Any, loc: list[Any], open_ids: frozenset[int]) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise TagError(
                loc,
                f"the file expands to more than {MAX_NODES:,} values (anchors and aliases "
                "counted each time they are used); a scenario needs a few hundred",
            )
        if len(loc) > MAX_DEPTH:
            raise TagError(loc, f"nested deeper than {MAX_DEPTH} levels")
        tag = getattr(getattr(node, "tag", None), "value", None)
        if tag is not None:
            raise TagError(loc, f"YAML tags are not allowed in scenario files (found {tag})")
        if isinstance(node, CommentedMap | CommentedSeq):
            if id(node) in open_ids:
                raise TagError(loc, "an alias refers to the mapping or list that contains it")
            inner = open_ids | {id(node)}
            if isinstance(node, CommentedMap):
                return {str(k): self.convert(v, [*loc, str(k)], inner) for k, v in node.items()}
            return [self.convert(v, [*loc, i], inner) for i, v in enumerate(node)]
        return _scalar(node, loc)


def _scalar(node: Any, loc: list[Any]) -> Any:
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if node is None:
        return None
    raise TagError(
        loc, f"YAML tags are not allowed in scenario files (found {type(node).__name__})"
    )


def validate(data: Any, file: str, document: Any = None) -> Scenario:
    """Validate plain data as a scenario; errors are located in ``document`` when given."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        problems = [p for e in error.errors() for p in _problems(e, document)]
        problems += _cross_checks_despite(error, data, document)
        raise ScenarioError(file, problems) from None


def _cross_checks_despite(error: ValidationError, data: Any, document: Any) -> list[Problem]:
    """The cross-checks' problems of a file whose fields also failed, so that one reading
    reports everything: pydantic runs the cross-checks only once every field is valid, so the
    parts that failed are dropped (their defaults stand in) and the checks that read none of
    them run on the rest."""
    if not isinstance(data, dict):
        return []
    failed = {str(e["loc"][0]) for e in error.errors() if e["loc"] and not _is_cross_check(e)}
    if not failed:
        return []
    rest = {key: value for key, value in data.items() if key not in failed}
    try:
        Scenario.model_validate(rest, context={"skip_parts": frozenset(failed)})
    except ValidationError as again:
        return [p for e in again.errors() if _is_cross_check(e) for p in _problems(e, document)]
    return []


def _is_cross_check(error: Any) -> bool:
    return isinstance((error.get("ctx") or {}).get("error"), CrossCheckError)


def _problems(error: Any, document: Any) -> list[Problem]:
    """A pydantic error as located problems: one for a field, one per cross-check finding."""
    if _is_cross_check(error):
        findings = error["ctx"]["error"].findings
        return [_located(list(f.loc), f.message, document) for f in findings]
    return [_problem(error, document)]


def _located(loc: list[Any], message: str, document: Any) -> Problem:
    line, column = _locate(document, loc)
    return Problem(_format_path(loc), message, line, column)


def _problem(error: Any, document: Any) -> Problem:
    loc = [part for part in error["loc"] if part not in _VALIDATOR_TAGS]
    path = _format_path(loc)
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if error["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}" + _suggestion(loc, document)
    elif "input" in error and error["type"] not in {"missing", "extra_forbidden"}:
        found = error["input"]
        if not isinstance(found, dict | list):
            message += f" (got {found!r})"
    line, column = _locate(document, loc)
    return Problem(path, message, line, column)


_VALIDATOR_TAGS = {"function-after[_consistent(), Scenario]"}


def _format_path(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _locate(document: Any, loc: list[Any]) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the deepest node of ``loc`` present in the document."""
    node, line, column = document, None, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            key_line, key_col = node.lc.key(part)
            line, column = key_line + 1, key_col + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            item_line, item_col = node.lc.item(part)
            line, column = item_line + 1, item_col + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(document, CommentedMap):
        line, column = 1, 1
    return line, column


def _suggestion(loc: list[Any], document: Any) -> str:
    model: type[BaseModel] | None = Scenario
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field else None
    if model is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _set_path(data: dict[str, Any], dotted: str, value: Any, file: str) -> None:
    parts = dotted.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key: Any = int(part) if isinstance(node, list) and part.isdigit() else part
        if last:
            if isinstance(node, list):
                node[key] = value
            else:
                node[key] = value
            return
        try:
            node = node[key] if isinstance(node, list) else node.setdefault(key, {})
        except (IndexError, TypeError):
            raise ScenarioError(file, [Problem(dotted, "no such field to override")]) from None
