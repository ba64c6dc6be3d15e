"""``relsim optimize`` (issue 35): a search that finds known optima, an honest answer on fresh
seeds that measures the optimizer's curse, constraints kept, and a study that resumes.

Most tests optimize a synthetic instrument whose value is known exactly: it books
``LEVEL - CURVE * (x - BEST)**2 + NOISE * z`` as rewards every week, with ``z`` a standard
normal drawn once per replication and design (seeded from the replication's initial customers
and ``x``: independent across designs, the same for the same design and replication). It has
no effect on customers, so under common random numbers the candidate's market is the
baseline's and the paired difference of ``rewards`` is the instrument's bookings exactly:
``weeks * (LEVEL - CURVE * (x - BEST)**2 + NOISE * z)``. Maximizing it is a concave problem
with a known optimum and known noise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

import relsim
import relsim.extensions as ext
from relsim.experiment import optimize_search
from relsim.experiment.optimize import optimize, parse_lever, parse_requirement, with_levers
from relsim.scenario import Scenario
from relsim.statistics import selection_gap
from tests.conftest import ONE_FIRM, ctrl_c_at_call, design_noise, scenario

LEVEL, CURVE, BEST, NOISE = 1200.0, 100.0, 3.0, 60.0
WEEKS = 4
LEVER = "strategies.synthetic.instruments.0.params.x"
SETTINGS = dict(
    metric="rewards",
    trials=10,
    replications=3,
    max_replications=6,
    fresh_replications=6,
    max_fresh_replications=12,
)


class Synthetic:
    """The instrument of the module docstring (no utility: customers never notice it)."""

    def __init__(self, x: float = 0.0, noise: float = NOISE, y: float = 0.0):
        self.x, self.noise, self.z = x, noise, None  # y: a lever that does nothing

    def utility(self, market: Any, rows: np.ndarray, week: int) -> None:
        return None

    def weekly(self, market: Any, week: int) -> dict[str, float]:
        if self.z is None:
            self.z = float(design_noise(market, self.x))
        return {"rewards": LEVEL - CURVE * (self.x - BEST) ** 2 + self.noise * self.z}


ext.register_instrument("optimize_test_synthetic", Synthetic)


def truth(x: float) -> float:
    """The instrument's expected paired difference over the horizon."""
    return WEEKS * (LEVEL - CURVE * (x - BEST) ** 2)


def synthetic_scenario(seed: int = 1, **settings: Any) -> Scenario:
    segment = {**ONE_FIRM["segments"][0], "order_value": {"mean": 50.0, "shape": 2.0}}
    instrument = {"name": "optimize_test_synthetic", "params": {"x": 1.0}}
    base = scenario(
        {
            "seed": seed,
            "market": {"customers": 40},
            "segments": [segment],
            "horizon": {"weeks": WEEKS, "warmup_weeks": 0},
            "strategies": [{"name": "plain"}, {"name": "synthetic", "instruments": [instrument]}],
        }
    )
    return with_levers(base, [parse_lever(f"{LEVER}=0:6")], **{**SETTINGS, **settings})


def quiet(line: str) -> None:
    """Progress lines are not shown in the tests."""


@pytest.fixture(scope="module")
def searches(tmp_path_factory: pytest.TempPathFactory) -> list[relsim.Optimization]:
    """Five independent optimizations of the synthetic instrument (seeds 1 to 5), each trial
    at 3 replications (no adaptive replications: the classic curse, which adding replications
    to the contenders shrinks; measured with them, the winner's excess was a third as large)."""
    root = tmp_path_factory.mktemp("optimize")
    return [
        optimize(
            synthetic_scenario(seed, max_replications=3),
            workers=1,
            out=root / f"s{seed}",
            say=quiet,
        )
        for seed in range(1, 6)
    ]


def test_the_synthetic_difference_is_the_known_function_exactly() -> None:
    """The oracle itself: with no noise, the paired difference is ``truth(x)`` to the cent."""
    s = synthetic_scenario()
    data = s.model_dump(mode="json")
    data["strategies"][1]["instruments"][0]["params"] = {"x": 2.0, "noise": 0.0}
    s = Scenario.model_validate(data)
    a = relsim.simulate(s, "synthetic", seed=5).summary["rewards"]
    b = relsim.simulate(s, "plain", seed=5).summary["rewards"]
    assert a - b == pytest.approx(truth(2.0), abs=0.01 * WEEKS)


@pytest.mark.slow
def test_the_search_finds_the_optimum_and_its_estimate_of_its_winner_is_biased_upward(
    searches: list[relsim.Optimization],
) -> None:
    """Every search's best design lies near BEST (within 1, a sixth of the range: a design 1
    away is worth CURVE per week less, about the noise of 3 to 6 replications), and the search
    estimate of its best design exceeds the truth there on average by more than 2 standard
    errors of that average: the optimizer's curse."""
    excess = []
    for result in searches:
        top = result.candidates.sort_values("search_estimate").iloc[-1]
        assert abs(top[LEVER] - BEST) <= 1.0
        excess.append(top["search_estimate"] - truth(top[LEVER]))
    excess = np.array(excess)
    se = excess.std(ddof=1) / np.sqrt(len(excess))
    assert excess.mean() > 2 * se, excess


@pytest.mark.slow
def test_the_fresh_seed_estimates_are_unbiased(searches: list[relsim.Optimization]) -> None:
    """Every re-run design's fresh estimate minus the truth at its levers: their mean over all
    searches lies within 4 standard errors of zero (seeds the search never used)."""
    rows = pd.concat([result.candidates for result in searches])
    error = rows["fresh_estimate"] - rows[LEVER].map(truth)
    se = error.std(ddof=1) / np.sqrt(len(error))
    assert abs(error.mean()) <= 4 * se
    for result in searches:
        fresh = result.fresh
        assert set(fresh["replication"]) == set(range(result.answer["replications"]))
        assert result.answer["fresh_seed"] != result.answer.get("seed", 1)


@pytest.mark.slow
def test_the_answer_states_its_guarantee_and_the_winner_is_a_strategy_block(
    searches: list[relsim.Optimization],
) -> None:
    """The chosen design is the fresh best among the candidates meeting the constraints; the
    gap is Hsu's bound on the fresh replications; winner.yaml is a strategy a scenario takes."""
    result = searches[0]
    table = result.candidates
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["fresh_estimate"] == table["fresh_estimate"].max()
    fresh = result.fresh
    values = {
        s: fresh[fresh["strategy"] == s].sort_values("replication")["rewards"].to_numpy()
        for s in table["candidate"]
    }
    gap = selection_gap(values, chosen["candidate"], result.answer["confidence"])
    assert result.answer["gap"] == pytest.approx(gap)
    assert result.answer["sure"] == (gap <= result.answer["delta"])
    block = YAML(typ="safe").load(result.winner_yaml)
    data = synthetic_scenario().model_dump(mode="json")
    data["strategies"].append(block[0])
    extended = Scenario.model_validate(data)
    x = extended.strategy("synthetic_optimized").instruments[0].params["x"]
    assert x == pytest.approx(chosen[LEVER])


def test_a_budget_is_never_broken_by_a_reported_design(tmp_path: Path) -> None:
    """A budget below the optimum's spend (feasible: at least 1 away from BEST): every trial
    the search calls feasible, and the chosen design on the fresh seeds, spend at most it."""
    budget = 52.0 * (LEVEL - CURVE * 1.0**2)
    result = optimize(synthetic_scenario(budget=budget), workers=1, out=tmp_path / "o", say=quiet)
    trials = result.trials
    assert (~trials["feasible"]).any(), "the budget should bind"
    feasible = trials[trials["feasible"]]
    assert (feasible["relationship_spend_per_year_mean"] <= budget).all()
    chosen = result.candidates[result.candidates["chosen"]].iloc[0]
    if result.answer["feasible"]:
        assert chosen["relationship_spend_per_year_fresh_mean"] <= budget
        assert abs(chosen[LEVER] - BEST) >= 0.9
    else:
        assert "None of the re-run designs met" in _verdict(result)


def test_a_requirement_no_design_meets_is_reported(tmp_path: Path) -> None:
    """A requirement no design can meet: the answer lists no feasible design, says so."""
    impossible = [parse_requirement("rewards>=1e9")]
    result = optimize(
        synthetic_scenario(requirements=impossible, trials=4),
        workers=1,
        out=tmp_path / "o",
        say=quiet,
    )
    assert not result.trials["feasible"].any()
    assert result.answer["feasible"] == []
    assert "None of the re-run designs met the constraints" in _verdict(result)


def _verdict(result: relsim.Optimization) -> str:
    from relsim.viz.optimize_report import verdict

    return verdict(result.answer)


@pytest.mark.slow
def test_an_interrupted_optimization_resumes_to_the_same_trials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of the fourth trial keeps the three finished ones; resuming
    gives the trials, candidates and answer of an uninterrupted optimization."""
    settings = dict(trials=6, top=3)
    whole = optimize(synthetic_scenario(**settings), workers=1, out=tmp_path / "a", say=quiet)
    with ctrl_c_at_call(monkeypatch, optimize_search, "evaluate", 4):
        optimize(synthetic_scenario(**settings), workers=1, out=tmp_path / "b", say=quiet)
    study = optimize_search.open_study(tmp_path / "b" / optimize_search.STUDY_FILE)
    assert len(optimize_search.finished(study)) == 3
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "partial"
    resumed = optimize(
        synthetic_scenario(**settings), workers=1, out=tmp_path / "b", resume=True, say=quiet
    )
    pd.testing.assert_frame_equal(resumed.trials, whole.trials)
    pd.testing.assert_frame_equal(resumed.candidates, whole.candidates)
    assert resumed.answer == whole.answer


def test_selection_gap_is_the_one_sided_bound_of_the_best_rival() -> None:
    """By hand for two designs: mean of the paired difference plus t(0.95, n-1) x SE."""
    from scipy import stats

    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([1.5, 2.0, 3.5, 4.5])
    d = b - a
    by_hand = d.mean() + stats.t.ppf(0.95, 3) * d.std(ddof=1) / 2.0
    assert selection_gap({"a": a, "b": b}, "a") == pytest.approx(by_hand)
    assert selection_gap({"a": a}, "a") == 0.0


@pytest.mark.slow
def test_the_lever_that_matters_gets_the_importance_and_its_plot(tmp_path: Path) -> None:
    """Two levers, x (the known curve) and y (does nothing), 12 trials: dropping x from the
    quadratic fit loses most of the variance of the trials' estimates (0.89), dropping y
    almost none; the report draws the importance plot."""
    from relsim.viz.optimize_report import write_optimize_report

    data = synthetic_scenario(trials=12).model_dump(mode="json")
    data["strategies"][1]["instruments"][0]["params"]["y"] = 0.0
    base = Scenario.model_validate(data)
    assert base.optimize is not None
    idle = parse_lever("strategies.synthetic.instruments.0.params.y=0:6")
    problem = with_levers(base, [*base.optimize.levers, idle])
    result = optimize(problem, workers=1, out=tmp_path / "o", say=quiet)
    shares = result.answer["importance"]
    assert shares[LEVER] > 0.5 > shares[idle.path]
    written = write_optimize_report(result)
    assert tmp_path / "o" / "plots" / "optimize_importance.png" in written
    assert "Which lever mattered" in (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
