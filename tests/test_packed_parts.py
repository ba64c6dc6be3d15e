"""A finished run packs its parts into its tables (issue 27, point 6): ``parts/`` goes, the
tables are recorded in ``tables.json``, and a resume verifies them instead of the parts; damaged
tables are computed again to the same numbers, a crash between packing and completion is
completed, and nothing in ``parts/`` that relsim did not write is removed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from relsim.cli import main
from relsim.experiment import records, storage
from tests.conftest import SCENARIOS

SMOKE = SCENARIOS / "ci-smoke.yaml"
RUN = [str(SMOKE), "--replications", "2", "--workers", "1", "--no-progress"]
RESUME = ["--workers", "1", "--no-progress"]
TABLES = [f"{name}.parquet" for name in ("replications", *storage.TABLES)]

pytestmark = pytest.mark.slow


def _bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in TABLES}


def _numbers(out: Path) -> dict[str, pd.DataFrame]:
    found = {name: pd.read_parquet(out / name) for name in TABLES}
    found["replications.parquet"] = found["replications.parquet"].drop(columns="seconds")
    return found


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("packed") / "run"
    assert main(["run", *RUN, "--out", str(out)]) == 0
    return out


def _copy(packed: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(packed, out)
    return out


def test_a_finished_run_keeps_its_tables_and_their_record_not_its_parts(packed: Path) -> None:
    assert not (packed / "parts").exists()
    record = json.loads((packed / records.TABLES_RECORD).read_text())
    assert set(record["files"]) == set(TABLES) and record["packed_parts"] == 2 * 2
    assert record["files"]["weekly.parquet"]["rows"] == len(pd.read_parquet(packed / TABLES[1]))
    manifest = json.loads((packed / "manifest.json").read_text())
    assert records.TABLES_RECORD in manifest["written"]  # --force deletes it with the rest
    assert records.verify_tables(packed, storage.run_settings(manifest)) is None


def test_resuming_a_packed_run_computes_nothing_and_changes_no_table(
    packed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(packed, tmp_path)
    before = _bytes(out)
    capsys.readouterr()
    assert main(["run", "--resume", str(out), *RESUME]) == 0
    assert _bytes(out) == before
    assert "computing" not in capsys.readouterr().err


def test_a_crash_between_packing_and_completion_is_completed_from_the_tables(
    packed: Path, tmp_path: Path
) -> None:
    out = _copy(packed, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "partial"
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = _bytes(out)
    assert main(["run", "--resume", str(out), *RESUME]) == 0
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert _bytes(out) == before


def test_damaged_tables_are_computed_again_to_the_same_numbers(
    packed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(packed, tmp_path)
    os.truncate(out / "weekly.parquet", 100)
    capsys.readouterr()
    assert main(["run", "--resume", str(out), *RESUME]) == 0
    said = capsys.readouterr().err
    assert "weekly.parquet does not match its record" in said and "computing every" in said
    after, before = _numbers(out), _numbers(packed)
    for name in TABLES:
        pd.testing.assert_frame_equal(after[name], before[name], check_exact=True, obj=name)
    assert not (out / "parts").exists()


def test_packing_leaves_what_relsim_did_not_write_in_parts(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", *RUN, "--out", str(out), "--keep-parts"]) == 0
    assert len(list(out.glob("parts/*/r*"))) == 4  # kept when asked
    (out / "parts" / "notes.txt").write_text("mine")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.update(status="partial", keep_parts=False)
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(["run", "--resume", str(out), *RESUME]) == 0
    assert (out / "parts" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (out / "parts").iterdir()) == ["notes.txt"]


def test_keep_parts_is_the_folders_choice_on_resume(
    packed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--resume", str(packed), "--keep-parts"]) == 2
    assert "--keep-parts" in capsys.readouterr().err
