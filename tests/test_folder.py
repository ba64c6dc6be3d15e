"""The results folder's owner (ResultsFolder), the pipeline's place in the public API, and the
command line's light import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import relsim
from relsim.errors import UsageError
from relsim.experiment.folder import (
    RESOLVED_SCENARIO,
    OutsideFolder,
    ResultsFolder,
)
from relsim.scenario import load_scenario
from tests.conftest import SCENARIOS


def test_output_paths_stay_inside_the_folder(tmp_path: Path) -> None:
    folder = ResultsFolder(tmp_path / "res")
    assert folder.path("plots", "a.png") == tmp_path / "res" / "plots" / "a.png"
    assert folder.path() == tmp_path / "res"
    for parts in (("..", "elsewhere"), ("plots", "..", "..", "x"), (str(tmp_path / "other"),)):
        with pytest.raises(OutsideFolder, match="outside the results folder"):
            folder.path(*parts)
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "link").symlink_to(tmp_path)
    with pytest.raises(OutsideFolder):
        folder.path("link", "x")


def test_a_new_folder_is_started_refused_cleared_and_reopened(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "ci-smoke.yaml")
    folder = ResultsFolder(tmp_path / "res").create()
    (folder.root / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match=r"not empty.*notes\.txt"):  # the user's folder
        folder.start(scenario, {"strategies": ["transactional"]})
    (folder.root / "notes.txt").unlink()
    with folder.lock():
        manifest = folder.start(scenario, {"strategies": ["transactional"]})
    (folder.root / "notes.txt").write_text("mine")  # the user's file in relsim's folder
    assert manifest["status"] == "partial" and manifest["model_version"] == relsim.MODEL_VERSION
    assert json.loads(folder.manifest_path.read_text()) == json.loads(json.dumps(manifest))
    assert folder.scenario_path.name == RESOLVED_SCENARIO
    assert folder.load_scenario() == scenario
    assert folder.holds_results() and not folder.is_complete()
    assert folder.reopen(scenario)["strategies"] == ["transactional"]
    other = scenario.model_copy(update={"seed": scenario.seed + 1})
    with pytest.raises(ValueError, match="different scenario"):
        folder.reopen(other)
    with pytest.raises(ValueError, match="not a sweep folder"):
        folder.reopen(scenario, kind="sweep")
    with pytest.raises(FileExistsError, match=r"partial results.*--resume.*--force"):
        folder.start(scenario, {})
    with pytest.raises(UsageError, match="not complete"):
        folder.require_complete()
    folder.complete(manifest, started=0.0, replications_per_strategy=1)
    assert folder.require_complete()["replications_per_strategy"] == 1
    folder.start(other, {"strategies": ["every_level"]}, force=True)
    assert folder.reopen(other)["strategies"] == ["every_level"]
    assert (folder.root / "notes.txt").read_text() == "mine"  # not relsim's: left alone


def test_the_pipeline_is_part_of_the_public_api() -> None:
    from relsim import exports, pipeline

    for name in ("run_pipeline", "prepare_scenario", "analyse_robustness"):
        assert getattr(relsim, name) is getattr(pipeline, name)
        assert name in relsim.__all__
    for name in ("export_tables", "export_transactions"):
        assert getattr(relsim, name) is getattr(exports, name)
    from relsim.version import MODEL_VERSION

    assert relsim.MODEL_VERSION == MODEL_VERSION


@pytest.mark.subprocess
def test_importing_the_command_line_imports_no_numerical_library() -> None:
    """``relsim.cli`` (and the modules it names at import) stays on the standard library, so
    a Ctrl-C during the heavy imports reaches ``main`` and gets the plain message."""
    probe = (
        "import sys, relsim.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numpy', 'pandas', 'scipy', 'pydantic', 'matplotlib', 'simpy'}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_kind_of_results_is_written_in_one_sequence(tmp_path: Path) -> None:
    """ResultsFolder.writing: new results get a partial manifest under the lock; a failure in
    the body leaves them partial, a resume completes them with the body's fields."""
    scenario = load_scenario(SCENARIOS / "ci-smoke.yaml")
    folder = ResultsFolder(tmp_path / "res")
    with pytest.raises(RuntimeError), folder.writing(scenario, {"kind": "test"}) as writing:
        assert (folder.root / ".lock").exists()
        assert writing.manifest["status"] == "partial"
        raise RuntimeError("interrupted")
    assert not (folder.root / ".lock").exists()
    assert folder.read_manifest()["status"] == "partial"
    with folder.writing(scenario, None, resume=True, kind="test") as writing:
        writing.completion["answer"] = 42
    manifest = folder.read_manifest()
    assert manifest["status"] == "complete" and manifest["answer"] == 42
    with pytest.raises(FileExistsError), folder.writing(scenario, {"kind": "test"}):
        pass
