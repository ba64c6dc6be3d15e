"""The notebooks are committed clean; nbmake (``--nbmake`` in pytest's addopts) executes them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_six_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01-quickstart.ipynb",
        "02-loyalty-ladder-classroom.ipynb",
        "03-frequency-program-war.ipynb",
        "04-research-sweep.ipynb",
        "05-sensitivity.ipynb",
        "06-decide.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert cell.get("outputs") == [], f"{path.name}: clear the outputs before committing"
        assert cell.get("execution_count") is None, f"{path.name}: execution counts left in"
    markdown = [c for c in notebook["cells"] if c["cell_type"] == "markdown"]
    assert len(markdown) >= 3, "each notebook explains in prose what it shows"


def test_the_output_check_can_fail(tmp_path) -> None:
    dirty = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    cell = next(c for c in dirty["cells"] if c["cell_type"] == "code")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    path = tmp_path / "dirty.ipynb"
    path.write_text(json.dumps(dirty), encoding="utf-8")
    with pytest.raises(AssertionError, match="clear the outputs"):
        test_notebook_is_committed_without_outputs(path)
