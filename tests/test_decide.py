"""The decision analysis through the whole relsim pipeline: a planted crossing gets the largest
value of information and an assumption no strategy uses gets none; the same numbers at one and
two workers and after a resume; the command line and its report."""

from __future__ import annotations

import copy
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from relsim import load_scenario
from relsim.experiment.decide import Decision, decide
from relsim.pipeline import run_decision
from relsim.scenario import Scenario
from tests.conftest import SCENARIOS, relsim

SMALL = {"market.customers": 500, "horizon.weeks": 26, "horizon.warmup_weeks": 13}
PLANTED = "strategies.A.staffing.senior_manager.cost_per_week"
IDLE = "service.annoyance_penalty"


def planted() -> Scenario:
    """A = financial plus an idle senior manager costing x a week, x uncertain (uniform on
    0-12 000); B = transactional plus one costing 10 000. An idle manager changes no
    customer's behaviour, so A's advantage falls by x times the discounted weeks and the
    choice flips inside the range. Outreach's annoyance penalty cannot matter: neither A nor
    B reaches out. Price sensitivity and the rivals' copying matter to both, less."""
    small = load_scenario(SCENARIOS / "baseline.yaml", overrides=SMALL)
    data = small.model_dump(mode="json")
    by_name = {s["name"]: s for s in data["strategies"]}
    a, b = copy.deepcopy(by_name["financial"]), copy.deepcopy(by_name["transactional"])
    a["name"], b["name"] = "A", "B"
    a["staffing"]["senior_manager"].update(count=1, cost_per_week=0.0)
    b["staffing"]["senior_manager"].update(count=1, cost_per_week=10000.0)
    data["strategies"], data["baseline"] = [b, a], "B"
    data["uncertainty"] = {
        "default": "fixed",
        "assumptions": {
            PLANTED: {"kind": "uniform", "low": 0, "high": 12000},
            IDLE: "pert",
            "segments.*.price_sensitivity": "pert",
            "rivalry.points.probability": "pert",
        },
        "groups": {"behaviour": ["segments.", "rivalry."], "idle": ["service.", "rivalry."]},
    }
    return Scenario.model_validate(data)


@pytest.mark.slow
def test_a_planted_crossing_is_worth_most_to_know_and_an_idle_assumption_nothing(
    tmp_path: Path,
) -> None:
    decision, (md, page) = run_decision(
        planted(), tmp_path / "d", samples=24, replications=2, workers=1, bootstrap=100
    )
    voi = decision.voi
    table = voi.evppi.set_index("name")
    assert voi.top is not None and voi.top["name"] == PLANTED
    assert table.loc[PLANTED, "evppi"] == table["evppi"].max()
    assert table.loc[PLANTED, "evppi"] > 0.5 * voi.evpi["estimate"] > 0
    idle = table.loc[IDLE]
    assert not idle["worth_knowing"]
    assert idle["evppi"] <= idle["floor"] and idle["evppi"] < 0.02 * voi.evpi["estimate"]
    assert (table["evppi"].dropna() <= voi.evpi["high"]).all()  # never above EVPI
    assert 0 < voi.p_wrong[0] < 0.5  # the choice flips inside the range
    # the probability-best curve: A best when its manager is cheap, B when dear
    curve = voi.curve
    assert curve.attrs["assumption"] == PLANTED
    assert curve.iloc[0]["A"] > 0.8 and curve.iloc[-1]["B"] > 0.8
    report = md.read_text()
    for heading in ("Value of information", "chance of being best", "noise is kept out"):
        assert heading in report
    assert "Learn first" in report and "decide_evppi.png" in report
    assert page.exists() and (tmp_path / "d" / "plots" / "decide_evppi.png").exists()
    again = Decision.load(tmp_path / "d")
    assert again.voi.evppi.equals(voi.evppi) and again.voi.evpi == voi.evpi


def tiny() -> Scenario:
    return load_scenario(SCENARIOS / "ci-smoke.yaml")


@pytest.mark.slow
def test_the_same_numbers_at_any_worker_count_and_executor_and_after_a_resume(
    tmp_path: Path,
) -> None:
    settings = {"samples": 10, "replications": 2, "bootstrap": 20, "progress": False}
    one = decide(tiny(), tmp_path / "one", workers=1, **settings)
    two = decide(tiny(), tmp_path / "two", workers=2, **settings)
    with ThreadPoolExecutor(2) as executor:  # any executor: a Dask client's, say
        decide(tiny(), tmp_path / "threads", executor=executor, **settings)
    first = json.loads((tmp_path / "one" / "decision.json").read_text())
    assert json.loads((tmp_path / "two" / "decision.json").read_text()) == first
    assert json.loads((tmp_path / "threads" / "decision.json").read_text()) == first
    assert one.voi.evpi == two.voi.evpi
    # interrupted: one draw's folder lost, the analysis not written, the sweep partial
    broken = tmp_path / "broken"
    shutil.copytree(tmp_path / "one", broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    (broken / "manifest.json").write_text(json.dumps({**manifest, "status": "partial"}))
    (broken / "decision.json").unlink()
    shutil.rmtree(broken / "points" / "p0004")
    with pytest.raises(FileExistsError, match="--resume"):
        decide(tiny(), broken, workers=1, **settings)
    decide(load_scenario(broken / "scenario.resolved.yaml"), broken, resume=True, workers=2)
    assert json.loads((broken / "decision.json").read_text()) == first


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_command_line_decides_and_refuses_what_it_would_ignore(tmp_path: Path) -> None:
    text = (SCENARIOS / "ci-smoke.yaml").read_text()
    text += (
        "\nuncertainty:\n  default: fixed\n  assumptions:\n"
        "    segments.*.price_sensitivity: uniform\n    trust.loss: pert\n"
        "    service.annoyance_penalty: pert\n  samples: 10\n"
    )
    scenario = tmp_path / "smoke.yaml"
    scenario.write_text(text)
    out = tmp_path / "d"
    args = ["decide", str(scenario), "--workers", "1", "--bootstrap", "20", "--out", str(out)]
    done = relsim(*args, "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["samples"] == 10 and answer["recommended"] in ("transactional", "every_level")
    assert {row["name"] for row in answer["evppi"]} >= {"trust.loss", "service.annoyance_penalty"}
    assert "Recommendation:" in done.stderr and "report:" in done.stderr
    assert (out / "report.html").exists() and (out / "psa.json").exists()
    again = relsim(*args)
    assert again.returncode == 2 and "already holds" in again.stderr
    resumed = relsim("decide", "--resume", str(out), "--samples", "12")
    assert resumed.returncode == 2 and "--samples" in resumed.stderr
    assert relsim("decide", "--resume", str(out), "--workers", "1").returncode == 0
    one = relsim("decide", str(scenario), "--replications", "1", "--out", str(tmp_path / "x"))
    assert one.returncode == 2 and "at least 2" in one.stderr
    assert not (tmp_path / "x").exists()
