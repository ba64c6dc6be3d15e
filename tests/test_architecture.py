"""The house rules of src/relsim (docs/architecture.md): the package map names every module and
only modules that exist; no module over 400 lines, no function over 60; no import circle and
no import from a layer above (imports inside functions and under TYPE_CHECKING count)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "relsim"
MAP = ROOT / "docs" / "architecture.md"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

LAYERS: dict[str, int] = {
    **dict.fromkeys(("domain", "version", "errors", "units", "names", "statistics"), 0),
    "scenario": 1,
    **dict.fromkeys(("model", "extensions"), 2),
    **dict.fromkeys(("simulation", "results"), 3),
    **dict.fromkeys(("experiment", "calibration"), 4),
    "analysis": 5,
    "viz": 6,
    **dict.fromkeys(("pipeline", "exports"), 7),
    **dict.fromkeys(("cli", "__main__", "__init__"), 8),
}
"""Layer of each top-level module or package of relsim (``__init__``: the package root)."""


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The relsim modules ``name`` imports, wherever the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                child = f"{target}.{alias.name}"
                if child in modules:
                    found.add(child)
                elif target in modules:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
    found.discard(name)
    return found


def _layer(name: str) -> int:
    parts = name.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def test_the_package_map_names_every_module_and_only_real_ones() -> None:
    text = MAP.read_text(encoding="utf-8")
    named = {n for n in re.findall(r"`([\w/]+\.py)`", text) if not n.startswith("tests/")}
    real = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    assert named - real == set(), "docs/architecture.md names modules that do not exist"
    assert real - named == set(), "modules missing from docs/architecture.md"


def test_no_module_or_function_is_too_long() -> None:
    long = []
    for path in _modules().values():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(PACKAGE)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if size > MAX_FUNCTION_LINES:
                    long.append(f"{where}:{node.lineno} {node.name}: {size} lines")
    assert long == []


def test_every_top_level_module_has_a_layer() -> None:
    tops = {name.split(".")[1] for name in _modules() if "." in name}
    assert tops - set(LAYERS) == set()


def test_no_module_imports_from_a_layer_above() -> None:
    modules = _modules()
    upward = [
        f"{name} -> {target}"
        for name, path in modules.items()
        for target in sorted(_imports(name, path, modules))
        if _layer(target) > _layer(name)
    ]
    assert upward == []


def test_there_is_no_import_circle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    circles = _circles(graph)
    assert circles == [], circles


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, [["a", "b", "c"]]),
    ],
)
def test_the_circle_finder_finds_circles(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert _circles(defaultdict(set, graph)) == expected
