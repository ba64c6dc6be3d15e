"""Every number checked before any work (issue 34, points 3 and 6).

Each bad option or value a careless user gave (``--replications -3`` left a folder marked
complete, ``--metric nosuch`` ran the whole experiment first, ``customers: true`` was one
customer...) is refused with its message and exit code before a folder is created; a run
expected to be long or big says so first; a non-terminal stderr gets plain progress lines.
``RELSIM_LONG_RUN_SECONDS=0`` makes every run "long" so these show without a long run.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from relsim.experiment import limits, run_experiment
from tests.conftest import SCENARIOS, relsim

CLASSROOM = SCENARIOS / "classroom.yaml"
TINY = (
    *("--set", "market.customers=100", "--set", "horizon.weeks=10"),
    *("--set", "horizon.warmup_weeks=0", "--replications", "1", "--workers", "1"),
)
"""A run of a few seconds: 100 customers, 10 weeks, one replication, in this process."""


def _classroom_strategies() -> int:
    """How many strategies the classroom scenario compares: TINY runs one replication each."""
    from relsim.scenario import load_scenario

    return len(load_scenario(CLASSROOM).strategies)


BAD_RUNS = [
    (["--replications", "-3"], 2, "--replications: expected a whole number from 1, got -3"),
    (["--replications", "0"], 2, "--replications: expected a whole number from 1, got 0"),
    (["--replications", "1000000000"], 2, "replications 1,000,000,000 is more than relsim runs"),
    (["--workers", "-1"], 2, "--workers: expected a whole number from 1, got -1"),
    (["--workers", "0"], 2, "--workers: expected a whole number from 1, got 0"),
    (["--workers", "5000"], 2, "workers 5,000 is more than this machine holds"),
    (["--precision", "nan"], 2, "--precision: expected a share strictly between 0 and 1"),
    (["--precision", "-1"], 2, "--precision: expected a share strictly between 0 and 1"),
    (["--precision", "1"], 2, "--precision: expected a share strictly between 0 and 1"),
    (["--metric", "nosuch"], 2, "--metric 'nosuch' is not a summary column"),
]


@pytest.mark.subprocess
@pytest.mark.parametrize(("options", "code", "message"), BAD_RUNS)
def test_each_bad_option_is_refused_before_any_folder(
    tmp_path: Path, options: list[str], code: int, message: str
) -> None:
    out = tmp_path / "out"
    done = relsim("run", str(CLASSROOM), "--out", str(out), "--no-progress", *options)
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.subprocess
def test_the_upper_bounds_say_the_estimate(tmp_path: Path) -> None:
    done = relsim("run", str(CLASSROOM), "--out", str(tmp_path / "o"), "--replications", "10**9")
    assert done.returncode == 2  # not a number at all: argparse's type
    done = relsim("run", str(CLASSROOM), "--out", str(tmp_path / "o"), "--replications", "200000")
    assert done.returncode == 2
    assert "customer-weeks each, roughly" in done.stderr and "replications on" in done.stderr
    assert not (tmp_path / "o").exists()


SWEEP = ("sweep", str(CLASSROOM), "--vary", "market.customers=100,200")


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--replications", "0"], "--replications: expected a whole number from 1, got 0"),
        (["--replications", "1000000"], "replications 1,000,000 is more than relsim runs"),
        (["--workers", "5000"], "workers 5,000 is more than this machine holds"),
        (["--metric", "nosuch"], "--metric 'nosuch' is not a summary column"),
    ],
)
def test_a_sweep_refuses_the_same_before_any_folder(
    tmp_path: Path, options: list[str], message: str
) -> None:
    done = relsim(*SWEEP, "--out", str(tmp_path / "sweep"), *options)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "sweep").exists()


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("command", "ignored"),
    # relsim run --resume takes --replications: more than the run has extends it
    [("run", "--seed, --set"), ("sweep", "--seed, --replications, --set")],
)
def test_resume_refuses_the_options_it_would_ignore(
    tmp_path: Path, command: str, ignored: str
) -> None:
    folder = tmp_path / "earlier"
    done = relsim(
        command, "--resume", str(folder), "--seed", "3", "--replications", "5", "--set", "a=1"
    )
    assert done.returncode == 2, done.stderr
    assert f"it would ignore {ignored}:" in done.stderr
    assert not folder.exists()


@pytest.mark.subprocess
def test_a_directory_as_the_scenario_is_missing_input(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = relsim("run", str(tmp_path), "--out", str(out))
    assert done.returncode == 66, done.stderr
    assert f"cannot read {tmp_path}" in done.stderr and "Errno" not in done.stderr
    assert not out.exists()


@pytest.mark.subprocess
def test_a_boolean_is_not_a_count(tmp_path: Path) -> None:
    text = CLASSROOM.read_text(encoding="utf-8").replace("customers: 1500", "customers: true")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    done = relsim("validate", str(tmp_path / "s.yaml"))
    assert done.returncode == 65
    assert "market.customers: expected a whole number" in done.stderr
    done = relsim("run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out"))
    assert done.returncode == 65 and not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_scenario_without_strategies_says_what_it_runs(tmp_path: Path) -> None:
    text = CLASSROOM.read_text(encoding="utf-8")
    (tmp_path / "s.yaml").write_text(text[: text.index("\nstrategies:")], encoding="utf-8")
    done = relsim("run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"), *TINY)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "no strategies: block" in line]
    assert len(notes) == 1 and "(transactional)" in notes[0]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("replications", 0),
        ("replications", -3),
        ("replications", True),
        ("replications", 10**9),
        ("workers", -1),
        ("workers", 10**6),
        ("precision", math.nan),
        ("precision", -1.0),
        ("precision", 1.5),
        ("metric", "nosuch"),
        ("max_replications", 0),
    ],
)
def test_the_api_refuses_the_same_values_naming_the_argument(
    tmp_path: Path, setting: str, value: object
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=setting):
        run_experiment(CLASSROOM, out=out, **{setting: value})  # type: ignore[arg-type]
    assert not out.exists()


def test_the_estimate_line_is_for_long_or_big_runs_only(baseline) -> None:  # type: ignore[no-untyped-def]
    need = limits.estimate(baseline)
    runs = 60
    seconds = need.seconds_per_replication * runs
    plenty = 10**15
    assert limits.announcement(baseline, 1, runs, available=plenty, threshold=seconds * 2) is None
    line = limits.announcement(baseline, 1, runs, available=plenty, threshold=seconds / 2)
    assert line is not None and line.startswith("relsim: this run is expected to take roughly")
    assert "\n" not in line and f"{runs:,} replications" in line
    small = need.bytes_per_replication  # one replication takes more than half of it
    big = limits.announcement(baseline, 1, runs, available=small, threshold=seconds * 2)
    assert big is not None and "free" in big


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_long_run_says_its_estimate_first_even_without_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = relsim("run", str(CLASSROOM), "--out", str(tmp_path / "a"), "--no-progress", *TINY)
    assert done.returncode == 0 and "expected to take" not in done.stderr  # quick: no line
    monkeypatch.setenv("RELSIM_LONG_RUN_SECONDS", "0")
    done = relsim("run", str(CLASSROOM), "--out", str(tmp_path / "b"), "--no-progress", *TINY)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("relsim: this run is expected to take roughly")
    assert "free" in lines[0] and f"{_classroom_strategies()} replications" in lines[0]
    assert not any("replications done" in line for line in lines)  # --no-progress


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_non_terminal_stderr_gets_plain_progress_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELSIM_LONG_RUN_SECONDS", "0")
    done = relsim("run", str(CLASSROOM), "--out", str(tmp_path / "o"), *TINY)
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if "replications done" in line]
    runs = _classroom_strategies()
    assert progress[-1].startswith(f"relsim: {runs} of {runs} replications done")
    assert "\r" not in done.stderr  # plain lines, not a bar
