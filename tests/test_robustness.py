"""Robustness to the assumptions register: the register in code agrees with docs/model.md,
variants that cannot matter leave the advantage untouched (common random numbers), and the
command line adds the section to the report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relsim import load_scenario
from relsim.experiment.assumptions import REGISTER, Assumption, concrete_paths
from relsim.experiment.robustness import load_robustness, robustness, variants
from tests.conftest import ROOT, SCENARIOS, relsim

DOCS = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
SMALL = {"market.customers": 500, "horizon.weeks": 26, "horizon.warmup_weeks": 13}


def register_rows() -> dict[str, str]:
    """Backticked parameter name -> range cell, from the register's tables."""
    section = DOCS.split("## 5. Assumptions register", 1)[1].split("## 6.", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells[3]
    return rows


@pytest.mark.parametrize("entry", REGISTER, ids=lambda a: a.path)
def test_every_varied_assumption_has_its_range_from_the_register(entry: Assumption) -> None:
    rows = register_rows()
    parts = [p for p in entry.path.split(".") if p != "*" and not p.isdigit()]
    names = [".".join(parts[i:]) for i in range(len(parts))]  # longest suffix first
    name = next((n for n in names if n in rows), None)
    assert name is not None, f"{entry.path} is not in docs/model.md's register"
    numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", rows[name].replace("−", "-"))]
    assert numbers[:2] == [entry.low, entry.high], (name, rows[name])


def test_concrete_paths_expand_over_items_that_have_the_field() -> None:
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    voice = Assumption("segments.*.voice_share", 0.04, 0.5, "share")
    assert concrete_paths(scenario, voice) == ["segments.0.voice_share", "segments.1.voice_share"]
    breakage = Assumption("strategies.*.bonds.points.breakage", 0, 0.5, "share")
    with_points = [s.name for s in scenario.strategies if s.bonds.points is not None]
    assert len(concrete_paths(scenario, breakage)) == len(with_points) >= 2


@pytest.mark.slow
def test_variants_that_cannot_matter_leave_the_advantage_unchanged(tmp_path: Path) -> None:
    """Outreach's annoyance penalty cannot touch strategies without outreach: with common
    random numbers the advantage at both ends equals the base run's, exactly. Price
    sensitivity does matter: its ends move the advantage."""
    scenario = load_scenario(SCENARIOS / "baseline.yaml", overrides=SMALL)
    register = (
        Assumption("service.annoyance_penalty", 0.0, 0.3, "satisfaction"),
        Assumption("segments.*.price_sensitivity", 0.0, 10.0, "utility"),
    )
    design, _, skipped = variants(scenario, register)
    assert len(design) == 1 + 4 and not skipped
    result = robustness(
        scenario,
        tmp_path / "rob",
        replications=2,
        workers=1,
        strategies=["transactional", "financial"],
        register=register,
    )
    table = result.table.set_index(["assumption", "end"])
    for end in ("low", "high"):
        row = table.loc[("service.annoyance_penalty", end)]
        assert row["advantage"] == result.base_advantage and not row["changes"]
    moved = table.loc["segments.*.price_sensitivity", "advantage"]
    assert (moved != result.base_advantage).all()
    again = load_robustness(tmp_path / "rob")
    assert again.table.equals(result.table)


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_command_line_adds_a_robustness_section_to_the_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    smoke = str(SCENARIOS / "ci-smoke.yaml")
    assert (
        relsim("run", smoke, "--replications", "2", "--workers", "1", "--out", str(out)).returncode
        == 0
    )
    args = ["robustness", str(out), "--replications", "2", "--workers", "1"]
    first = relsim(*args, "--only", "annoyance_penalty", "--only", "voice_share")
    assert first.returncode == 0, first.stderr
    assert "stays best at" in first.stderr
    report = (out / "report.md").read_text()
    assert "## Robustness to the assumptions" in report and "robustness.png" in report
    assert (out / "plots" / "robustness.png").exists()
    again = relsim(*args)
    assert again.returncode == 2 and "--resume completes it" in again.stderr
    unknown = relsim(*args, "--force", "--only", "no-such-assumption")
    assert unknown.returncode == 2 and "no assumption" in unknown.stderr
