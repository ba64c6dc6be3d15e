"""Resume heals (issue 34, points 4 and 5): every finished part is verified against its record,
damaged ones are computed again from their seeds, stray entries are named and left alone, a
damaged manifest is rebuilt; and the worker processes end with the main process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from relsim.cli import main
from relsim.experiment import records, storage
from relsim.experiment.design import parse_vary, with_sweep
from relsim.experiment.sweep import point_dir, run_sweep
from relsim.scenario import load_scenario
from tests.conftest import SCENARIOS

SMOKE = SCENARIOS / "ci-smoke.yaml"
RUN = [str(SMOKE), "--replications", "3", "--workers", "1", "--no-progress", "--keep-parts"]
TABLES = ("replications", *storage.TABLES)


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    found = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}
    found["replications"] = found["replications"].drop(columns="seconds")  # wall time
    return found


def _assert_same_tables(a: Path, b: Path) -> None:
    x, y = _tables(a), _tables(b)
    for name in TABLES:
        pd.testing.assert_frame_equal(x[name], y[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(an uninterrupted run, the same run as an interruption leaves it: partial, with the
    last replication of every strategy missing)."""
    root = tmp_path_factory.mktemp("heals")
    whole = root / "whole"
    assert main(["run", *RUN, "--out", str(whole)]) == 0
    partial = root / "partial"
    shutil.copytree(whole, partial)
    for name in (*TABLES, "report", "plots"):
        for path in partial.glob(f"{name}*"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for part in partial.glob("parts/*/r00002"):
        shutil.rmtree(part)
    manifest = json.loads((partial / "manifest.json").read_text())
    manifest["status"] = "partial"
    (partial / "manifest.json").write_text(json.dumps(manifest))
    return whole, partial


def _first_part(out: Path) -> Path:
    return sorted(out.glob("parts/*/r*"))[0]


def _edit_values(out: Path) -> None:
    summary = _first_part(out) / "summary.json"
    summary.write_text(json.dumps({k: 1e30 for k in json.loads(summary.read_text())}))


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty summary.json": (lambda out: (_first_part(out) / "summary.json").write_text(""), "r0"),
    "deleted ladder.parquet": (lambda out: (_first_part(out) / "ladder.parquet").unlink(), "r0"),
    "stray file in parts/": (lambda out: (out / "parts" / "notes.txt").write_text("mine"), "notes"),
    "truncated manifest.json": (
        lambda out: os.truncate(out / "manifest.json", 100),
        "rebuilt",
    ),
    "summary.json values edited to 1e30": (_edit_values, "r0"),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_resume_after_a_damage_gives_the_tables_of_an_uninterrupted_run(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    whole, partial = folders
    out = tmp_path / "damaged"
    shutil.copytree(partial, out)
    do, said = DAMAGES[damage]
    do(out)
    capsys.readouterr()
    code = main(["run", "--resume", str(out), "--workers", "1", "--no-progress"])
    stderr = capsys.readouterr().err
    assert code == 0, stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    _assert_same_tables(out, whole)
    line = next(line for line in stderr.splitlines() if line.startswith("relsim: resume:"))
    assert said in line
    if damage.startswith("stray"):
        assert (out / "parts" / "notes.txt").read_text() == "mine"  # named, left alone


def _as_an_older_relsim_wrote_it(out: Path) -> None:
    for record in out.glob(f"parts/*/r*/{records.RECORD}"):
        record.unlink()


@pytest.mark.slow
def test_parts_without_records_are_checked_kept_or_computed_again(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Parts of an older relsim (no record): the sound ones are kept as they are (and given a
    record), an unreadable one is computed again."""
    whole, partial = folders
    out = tmp_path / "older"
    shutil.copytree(partial, out)
    _as_an_older_relsim_wrote_it(out)
    broken = _first_part(out)
    os.truncate(broken / "weekly.parquet", 50)
    kept = {p: (p / "summary.json").read_text() for p in out.glob("parts/*/r*") if p != broken}
    code = main(["run", "--resume", str(out), "--workers", "1", "--no-progress"])
    stderr = capsys.readouterr().err
    assert code == 0, stderr
    _assert_same_tables(out, whole)
    assert f"{broken.relative_to(out)} is damaged (weekly.parquet is unreadable" in stderr
    assert {p: (p / "summary.json").read_text() for p in kept} == kept  # not recomputed
    assert all((p / records.RECORD).exists() for p in out.glob("parts/*/r*"))


def test_a_damaged_manifest_without_records_says_what_to_do(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lost"
    shutil.copytree(folders[1], out)
    _as_an_older_relsim_wrote_it(out)
    os.truncate(out / "manifest.json", 100)
    code = main(["run", "--resume", str(out), "--workers", "1", "--no-progress"])
    stderr = capsys.readouterr().err
    assert code != 0
    assert f"{out / 'manifest.json'} is damaged" in stderr
    assert "--force" in stderr and "Traceback" not in stderr


def test_a_part_is_written_with_its_record_and_verified_against_it(
    folders: tuple[Path, Path],
) -> None:
    whole, _ = folders
    part = _first_part(whole)
    record = json.loads((part / records.RECORD).read_text())
    assert set(record["files"]) == set(storage.PART_FILES)
    assert record["files"]["weekly.parquet"]["rows"] == len(
        pd.read_parquet(part / "weekly.parquet")
    )
    assert record["run"]["replications_target"] == 3
    strategy, replication = record["strategy"], record["replication"]
    assert records.verify(part, strategy, replication, storage.PART_FILES) is None


@pytest.mark.slow
def test_a_sweep_resume_heals_a_damaged_part_of_a_complete_point(tmp_path: Path) -> None:
    scenario = load_scenario(SMOKE)
    scenario = with_sweep(scenario, [parse_vary("economics.discount_rate_per_year=0.05,0.1")])
    run_sweep(scenario, replications=2, workers=1, out=tmp_path / "whole", progress=False)
    damaged = tmp_path / "damaged"
    shutil.copytree(tmp_path / "whole", damaged)
    manifest = json.loads((damaged / "manifest.json").read_text())
    manifest["status"] = "partial"
    (damaged / "manifest.json").write_text(json.dumps(manifest))
    table = point_dir(damaged, 1) / "weekly.parquet"  # its parts were packed into the tables
    pd.read_parquet(table).assign(active=0).to_parquet(table, index=False)
    run_sweep(scenario, workers=1, out=damaged, resume=True, progress=False)
    for name in ("points", "replications"):
        a = pd.read_parquet(damaged / f"{name}.parquet").drop(columns="seconds", errors="ignore")
        b = pd.read_parquet(tmp_path / f"whole/{name}.parquet").drop(
            columns="seconds", errors="ignore"
        )
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="watches the run's worker processes through Linux's /proc",
)
def test_workers_end_when_the_main_process_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the main process alone (not its group): no worker of it, nor the resource
    tracker, is alive 15 s later."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "relsim", "run", str(SMOKE), "--replications", "500"),
            *("--workers", "2", "--no-progress", "--out", str(tmp_path / "run")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    children: list[int] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            children = _children(process.pid)
            if sum(map(_is_worker, children)) >= 2:
                break
            time.sleep(0.05)
        assert sum(map(_is_worker, children)) >= 2, "the run never started its workers"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        deadline = time.time() + 15
        while time.time() < deadline and any(map(_alive, children)):
            time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        process.kill()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
