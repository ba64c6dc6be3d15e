"""Names are labels, file names are relsim's; only relsim's own files are ever replaced
(issue 34, points 1 and 2).

Whatever a scenario's names say (path separators, ``..``, absolute paths, NUL and control
characters, HTML, very long or non-ASCII text), nothing is written outside the output folder,
and every call either succeeds or raises the scenario loader's located error. A user's files
in ``--out`` survive a run and a ``--force`` run; export, demo and report keep a file of the
user's unless ``--force``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from relsim.cli import main
from relsim.errors import UsageError
from relsim.experiment import run_experiment
from relsim.exports import export_tables, export_transactions
from relsim.names import MAX_NAME_LENGTH, check_name, slug
from relsim.scenario import ScenarioError, load_scenario
from tests.conftest import SCENARIOS

ABS = "/ABS"
"""Stands for an absolute path inside the example's sandbox (so an escape is seen)."""

HOSTILE = [
    "../../../x/escaped",
    f"{ABS}/some/abs/path",
    "a/b",
    "..",
    ".",
    "a\\b",
    "<script>alert(1)</script>",
    "a\x00b",
    "tab\tname",
    "line\nbreak",
    "x" * 300,
    "é" * 81,
    "名前/../x",
    "CON",
    " ",
    ".hidden",
    "trailing.",
]

names = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=100),
    st.lists(st.sampled_from(["..", ".", "a", ABS, "é", "<b>"]), min_size=1, max_size=6).map(
        "/".join
    ),
)


def tiny(**changes: str) -> dict:
    """ci-smoke scaled down (60 customers, 8 weeks), with ``changes`` to its names:
    ``scenario``, ``strategy`` (the second strategy), ``firm`` (the rival), ``segment``."""
    data = YAML(typ="safe").load((SCENARIOS / "ci-smoke.yaml").read_text())
    data["market"]["customers"] = 60
    data["horizon"] = {"weeks": 8, "warmup_weeks": 2}
    data["shocks"] = []
    data["name"] = changes.get("scenario", data["name"])
    data["strategies"][1]["name"] = changes.get("strategy", "every_level")
    data["firms"][1]["name"] = changes.get("firm", "rival")
    data["segments"][1]["name"] = changes.get("segment", "subscribers")
    return data


def write(path: Path, data: dict) -> Path:
    """The scenario as a file (JSON is YAML; control characters are escaped in it)."""
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if not p.is_dir() or p.is_symlink()}


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh folder as the working folder (hypothesis examples cannot share tmp_path)."""
    here = Path.cwd()
    root = Path(tempfile.mkdtemp(prefix="relsim-names-"))
    try:
        (root / "cwd").mkdir()
        os.chdir(root / "cwd")
        yield root
    finally:
        os.chdir(here)
        shutil.rmtree(root, ignore_errors=True)


def test_a_bad_name_is_refused_with_its_location(tmp_path: Path) -> None:
    for name, why in (
        ("a\x00b", "printable"),
        ("tab\tname", "printable"),
        ("x" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH}"),
        (" ", "empty"),
    ):
        file = write(tmp_path / "s.yaml", tiny(strategy=name))
        with pytest.raises(ScenarioError, match=rf"strategies\[1\]\.name: .*{why}.*hint"):
            load_scenario(file)
        assert main(["validate", str(file)]) == 65
    for name in ("a/b", "../x", "<b>", "名前", "/abs"):  # labels: allowed, slugged for files
        assert check_name(name) == name
        assert "/" not in slug(name) and not slug(name).startswith(".")
    assert slug("every_level") == "every_level" and slug("a-1") == "a-1"  # layout unchanged


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@pytest.mark.slow
@given(scenario=names, strategy=names, firm=names, segment=names)
def test_no_name_writes_outside_the_output_folder(
    scenario: str, strategy: str, firm: str, segment: str
) -> None:
    with sandbox() as root:
        given = {"scenario": scenario, "strategy": strategy, "firm": firm, "segment": segment}
        given = {k: v.replace(ABS, str(root / "abs")) for k, v in given.items()}
        file = write(root / "s.yaml", tiny(**given))
        before = files_under(root)
        try:
            scenario_read = load_scenario(file)
        except ScenarioError as error:
            assert str(file) in str(error) and "name" in str(error)
            event("refused with its location")
            return
        event("ran")
        out = Path("results")
        experiment = run_experiment(scenario_read, replications=2, workers=1, progress=False)
        assert experiment.out.resolve().is_relative_to(out.resolve())
        export_tables(experiment.out)
        tx = export_transactions(file, strategy=scenario_read.strategies[1].name)
        assert tx.path.resolve().is_relative_to(out.resolve())
        outside = {p for p in files_under(root) - before if not p.is_relative_to(out.resolve())}
        assert outside == set()
        assert not (root / "abs").exists() and not (root / "x").exists()


@pytest.mark.slow
def test_hostile_names_run_the_whole_pipeline_inside_the_folder(tmp_path: Path) -> None:
    from relsim.pipeline import run_pipeline

    for k, name in enumerate(("../../x/escaped", f"{tmp_path}/abs/b", "<i>a/b</i>")):
        out = tmp_path / "runs" / f"o{k}"
        file = write(tmp_path / "s.yaml", tiny(scenario=name, strategy=name))
        outcome = run_pipeline(file, out, replications=2, workers=1, progress=False)
        assert outcome.report is not None and all(p.exists() for p in outcome.report)
        assert main(["report", str(out)]) == 0
    assert {p.parent.name for p in tmp_path.rglob("*")} <= {
        tmp_path.name,
        "runs",
        *(p.name for p in (tmp_path / "runs").rglob("*") if p.is_dir()),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "s.yaml"]


def relsim_run(file: Path, out: Path, *more: str) -> int:
    return main(["run", str(file), "--out", str(out), "--replications", "2", "--workers", "1",
                 "--no-progress", *more])  # fmt: skip


@pytest.mark.slow
def test_the_users_files_survive_a_run_and_a_forced_run(tmp_path: Path) -> None:
    file = write(tmp_path / "s.yaml", tiny())
    mine = tmp_path / "mine"
    (mine / "plots").mkdir(parents=True)
    (mine / "report.html").write_text("my report")
    (mine / "plots" / "mine.png").write_text("my plot")
    for more in ((), ("--force",)):
        assert relsim_run(file, mine, *more) == 2  # a folder of the user's: refused
        assert sorted(p.name for p in mine.rglob("*")) == ["mine.png", "plots", "report.html"]
    out = tmp_path / "out"
    assert relsim_run(file, out, "--keep-parts") == 0  # parts/ kept to hold links below
    (out / "plots" / "mine.png").write_text("my plot")
    (out / "csv").mkdir()
    (out / "csv" / "data.csv").write_text("my data")
    (out / "notes.txt").write_text("my notes")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "keep").mkdir(parents=True)
    (elsewhere / "keep" / "r00000").mkdir()
    (elsewhere / "keep" / "r00000" / "summary.json").write_text("{}")
    (out / "parts" / "link").symlink_to(elsewhere / "keep")
    assert relsim_run(file, out, "--force", "--keep-parts") == 0
    assert (out / "plots" / "mine.png").read_text() == "my plot"
    assert (out / "csv" / "data.csv").read_text() == "my data"
    assert (out / "notes.txt").read_text() == "my notes"
    assert (elsewhere / "keep" / "r00000" / "summary.json").read_text() == "{}"
    shutil.rmtree(out / "parts")
    (out / "parts").symlink_to(elsewhere)  # parts/ itself a link out of the folder
    assert relsim_run(file, out, "--force", "--keep-parts") == 0
    assert not (out / "parts").is_symlink() and (out / "parts" / "transactional").is_dir()
    assert (elsewhere / "keep" / "r00000" / "summary.json").read_text() == "{}"
    assert (out / "plots" / "mine.png").read_text() == "my plot"


@pytest.mark.slow
def test_export_demo_and_report_keep_the_users_file_unless_forced(tmp_path: Path) -> None:
    file = write(tmp_path / "s.yaml", tiny())
    out = tmp_path / "out"
    run_experiment(file, out=out, replications=2, workers=1, progress=False)
    to = tmp_path / "to"
    to.mkdir()
    (to / "weekly.csv").write_text("mine")
    with pytest.raises(UsageError, match=r"weekly\.csv"):
        export_tables(out, to)
    assert (to / "weekly.csv").read_text() == "mine" and not (to / "ladder.csv").exists()
    export_tables(out, to, force=True)
    assert (to / "weekly.csv").read_text().startswith("strategy")
    export_tables(out)
    export_tables(out)  # relsim's own csv/ files are replaced without --force
    tx = tmp_path / "tx.csv"
    tx.write_text("mine")
    assert main(["export", str(file), "--transactions", "--to", str(tx)]) == 2
    assert tx.read_text() == "mine"
    page = tmp_path / "page.html"
    page.write_text("mine")
    assert main(["demo", str(file), "--out", str(page), "--no-grid"]) == 2
    assert page.read_text() == "mine"
    page.write_text('<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>relsim classroom: x</title>')
    assert main(["demo", str(file), "--out", str(page), "--no-grid", "--replications", "2"]) == 0
    assert "relsim classroom" in page.read_text()  # relsim's own page: replaced
    (out / "report.html").write_text("mine")
    assert main(["report", str(out)]) == 2
    assert (out / "report.html").read_text() == "mine"
    assert main(["report", str(out), "--force"]) == 0
    assert (out / "report.html").read_text() != "mine"
    assert main(["report", str(out)]) == 0  # now relsim's own: replaced
