"""More replications for a finished run (``relsim.experiment.extend``): the tables equal those of
a run of that many from scratch, packed or not, and a crash while unpacking loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from relsim import load_scenario, run_experiment
from relsim.errors import ResultsExist
from relsim.experiment import extend, records, runner, storage
from relsim.scenario import Scenario
from tests.conftest import SCENARIOS

TABLES = ("replications", *storage.TABLES)


SHORT = {"market.customers": 400, "horizon.weeks": 16, "horizon.warmup_weeks": 6}


@pytest.fixture(scope="module")
def small() -> Scenario:
    return load_scenario(SCENARIOS / "classroom.yaml", overrides=SHORT)


def _same_tables(a: Path, b: Path) -> None:
    """Every table file byte for byte, ``replications`` but for its wall times."""
    for name in storage.TABLES:
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name
    found = [pd.read_parquet(p / "replications.parquet").drop(columns="seconds") for p in (a, b)]
    pd.testing.assert_frame_equal(*found)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many replications each batch the runner computes holds."""
    computed: list[int] = []
    run_tasks = runner._run_tasks
    monkeypatch.setattr(
        runner, "_run_tasks", lambda *a, **k: computed.append(len(a[2])) or run_tasks(*a, **k)
    )
    return computed


@pytest.mark.parametrize(
    ("scenario", "keep_parts"),
    # ci-smoke: its moves table is empty in every replication (an all-empty categorical column)
    [("classroom", False), ("classroom", True), ("ci-smoke", False)],
)
def test_more_replications_give_the_tables_of_a_run_that_many(
    small: Scenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    keep_parts: bool,
) -> None:
    if scenario != "classroom":
        small = load_scenario(SCENARIOS / f"{scenario}.yaml", overrides=SHORT)
    names = [s.name for s in small.strategies][:3]
    run = {"workers": 1, "progress": False, "strategies": names, "keep_parts": keep_parts}
    fresh, grown = tmp_path / "fresh", tmp_path / "grown"
    run_experiment(small, replications=5, out=fresh, **run)
    run_experiment(small, replications=2, out=grown, **run)
    assert (grown / records.TABLES_RECORD).exists() is not keep_parts
    computed = _counting(monkeypatch)
    more = run_experiment(small, replications=5, out=grown, resume=True, workers=1, progress=False)
    assert computed == [3 * len(names)]  # only replications 2, 3 and 4 were computed
    assert len(more.replications) == 5 * len(names)
    _same_tables(fresh, grown)
    manifest = json.loads((grown / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_target"] == 5
    assert [(e["from"], e["to"]) for e in manifest["extended"]] == [(2, 5)]
    assert (grown / "parts").exists() is keep_parts  # packed again unless kept


def test_a_crash_after_the_manifest_asked_for_more_resumes_the_extension(
    small: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the manifest asked for more but before the packed tables' record went: a
    plain resume sees packed tables that hold fewer replications than asked, an extension
    under way, and completes it from the unpacked parts."""
    run = {"workers": 1, "progress": False, "strategies": ["transactional", "price_cut"]}
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    run_experiment(small, replications=2, out=out, **run)
    unlink = Path.unlink
    monkeypatch.setattr(Path, "unlink", lambda p, *a, **k: _killed(p) or unlink(p, *a, **k))
    with pytest.raises(SystemExit):
        run_experiment(small, replications=3, out=out, resume=True, workers=1, progress=False)
    monkeypatch.setattr(Path, "unlink", unlink)
    assert (out / records.TABLES_RECORD).exists()
    computed = _counting(monkeypatch)
    run_experiment(small, out=out, resume=True, workers=1, progress=False)
    assert computed == [2]
    run_experiment(small, replications=3, out=fresh, **run)
    _same_tables(fresh, out)


def _killed(path: Path) -> None:
    if path.name == records.TABLES_RECORD:
        raise SystemExit("killed")  # not an Exception: nothing on the way cleans up


def test_a_file_of_the_users_where_a_part_would_go_is_kept(small: Scenario, tmp_path: Path) -> None:
    run = {"workers": 1, "progress": False, "strategies": ["transactional", "price_cut"]}
    out = tmp_path / "out"
    run_experiment(small, replications=2, out=out, **run)
    mine = storage.part_dir(out, "price_cut", 1) / "mine.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("notes")
    with pytest.raises(ResultsExist, match=r"r00001 is in the way .* not a part relsim wrote"):
        run_experiment(small, replications=3, out=out, resume=True, workers=1, progress=False)
    assert mine.read_text() == "notes"
    again = run_experiment(small, out=out, resume=True, workers=1, progress=False)
    assert len(again.replications) == 4  # the finished run as it was


def test_a_crash_while_unpacking_loses_nothing(small: Scenario, tmp_path: Path) -> None:
    """Killed after the parts were written back but before the packed tables' record went: a
    plain resume still finds the 2 replications complete, and a later extension replaces the
    parts left beside them."""
    run = {"workers": 1, "progress": False, "strategies": ["transactional", "price_cut"]}
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    run_experiment(small, replications=2, out=out, **run)
    before = {name: (out / f"{name}.parquet").read_bytes() for name in TABLES}
    extend.unpack(out, json.loads((out / "manifest.json").read_text()))
    assert storage.done_parts(out, run["strategies"]) == {
        (s, r) for s in run["strategies"] for r in range(2)
    }
    again = run_experiment(small, out=out, resume=True, workers=1, progress=False)
    assert len(again.replications) == 4
    assert {name: (out / f"{name}.parquet").read_bytes() for name in TABLES} == before
    run_experiment(small, replications=3, out=out, resume=True, workers=1, progress=False)
    run_experiment(small, replications=3, out=fresh, **run)
    _same_tables(fresh, out)


def test_an_interrupted_run_asked_for_more_completes_to_that_many(
    small: Scenario, tmp_path: Path
) -> None:
    """A partial folder (what a Ctrl-C leaves) resumed with more replications than it was
    started with: the target moves, the finished parts are kept."""
    run = {"workers": 1, "progress": False, "strategies": ["transactional", "service_desk"]}
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    run_experiment(small, replications=2, out=out, keep_parts=True, **run)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "partial"
    (out / "manifest.json").write_text(json.dumps(manifest))
    storage.part_dir(out, "service_desk", 1).joinpath("weekly.parquet").unlink()  # damaged
    run_experiment(small, replications=4, out=out, resume=True, workers=1, progress=False)
    run_experiment(small, replications=4, out=fresh, **run)
    _same_tables(fresh, out)


def test_a_precision_rules_results_keep_the_count_the_rule_set(
    small: Scenario, tmp_path: Path
) -> None:
    """With a precision rule ``replications`` is the pilot's size, so a resume given a larger
    one does not extend: the rule (here capped at 2) decides how many."""
    names = ["transactional", "price_cut"]
    run = {"workers": 1, "progress": False, "strategies": names}
    out = tmp_path / "precise"
    run_experiment(small, replications=2, precision=0.01, max_replications=2, out=out, **run)
    again = run_experiment(small, replications=4, out=out, resume=True, workers=1, progress=False)
    assert len(again.replications) == 2 * len(names)


def test_asking_a_finished_run_for_more_checks_the_memory_first(
    small: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More replications run more markets at once (a pass per worker grows with them): the
    memory check applies as to a new run, before anything is written; a plain resume, which
    completes what was checked when it started, is not refused."""
    from relsim.experiment import limits

    run = {"workers": 1, "progress": False, "strategies": ["transactional", "price_cut"]}
    out = tmp_path / "out"
    run_experiment(small, replications=2, out=out, **run)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    monkeypatch.setattr(limits, "available_memory", lambda: 1_000)
    with pytest.raises(limits.ResourceLimitError, match="memory"):
        run_experiment(small, replications=4, out=out, resume=True, workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # nothing written
    again = run_experiment(small, out=out, resume=True, workers=1, progress=False)
    assert len(again.replications) == 4  # the finished run as it was (2 x 2)
