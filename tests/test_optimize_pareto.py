"""``relsim optimize`` with several objectives (issue 35, point 5): a Pareto front by NSGA-II,
each of its designs re-run on fresh seeds.

A synthetic instrument with a known trade-off books, every week, ``rewards = LEVEL - CURVE x
(x - 4)**2`` and ``program = CURVE x (x - 2)**2``, each plus its own noise (standard normals
drawn once per replication and design). It has no effect on customers, so under common random
numbers the paired differences are the bookings exactly. Maximizing rewards wants ``x = 4``,
minimizing program wants ``x = 2``: the true Pareto set is ``2 <= x <= 4``; a design outside
it is beaten on both by the nearer end. A design ``d`` outside loses ``WEEKS x CURVE x d**2``
on the nearer end's objective; the search's estimates of two designs differ by noise of
standard deviation ``WEEKS x NOISE x sqrt(2 / 3)`` (3 replications a trial, 33 here), so a
design more than ``TOLERANCE`` = 0.6 outside (a loss of 144, 4.4 of those standard
deviations) cannot pass as non-dominated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import relsim
import relsim.extensions as ext
from relsim.experiment import optimize_search
from relsim.experiment.optimize import optimize, parse_lever, parse_objective, with_levers
from relsim.experiment.optimize_pareto import non_dominated
from relsim.experiment.optimize_search import RESULT, STUDY_FILE, finished, open_study
from relsim.scenario import Scenario
from tests.conftest import ONE_FIRM, ctrl_c_at_call, design_noise, scenario

LEVEL, CURVE, NOISE, WEEKS = 1000.0, 100.0, 10.0, 4
LEVER = "strategies.two.instruments.0.params.x"
TOLERANCE = 0.6


class TradeOff:
    """The instrument of the module docstring."""

    def __init__(self, x: float = 0.0):
        self.x, self.z = x, None

    def utility(self, market: Any, rows: np.ndarray, week: int) -> None:
        return None

    def weekly(self, market: Any, week: int) -> dict[str, float]:
        if self.z is None:
            self.z = design_noise(market, self.x, 2)
        return {
            "rewards": LEVEL - CURVE * (self.x - 4.0) ** 2 + NOISE * self.z[0],
            "program": CURVE * (self.x - 2.0) ** 2 + NOISE * self.z[1],
        }


ext.register_instrument("optimize_test_trade_off", TradeOff)


def trade_off(**settings: Any) -> Scenario:
    segment = {**ONE_FIRM["segments"][0], "order_value": {"mean": 50.0, "shape": 2.0}}
    instrument = {"name": "optimize_test_trade_off", "params": {"x": 1.0}}
    base = scenario(
        {
            "seed": 2,
            "market": {"customers": 40},
            "segments": [segment],
            "horizon": {"weeks": WEEKS, "warmup_weeks": 0},
            "strategies": [{"name": "plain"}, {"name": "two", "instruments": [instrument]}],
        }
    )
    objectives = [parse_objective("rewards"), parse_objective("program:min")]
    defaults = dict(trials=24, replications=3, fresh_replications=4, objectives=objectives)
    return with_levers(base, [parse_lever(f"{LEVER}=0:6")], **{**defaults, **settings})


def test_the_front_is_non_dominated_and_on_the_true_trade_off(tmp_path: Path) -> None:
    """The reported front: no trial of the search beats a front design on both objectives
    (search values); every front design lies in the true Pareto set 2 <= x <= 4 within
    TOLERANCE, and the front reaches into both halves of it (it is a front, not a point);
    each design's fresh values are within 4 standard errors of the truth at its x; the
    report draws the Pareto plot."""
    result = optimize(trade_off(), workers=1, out=tmp_path / "o", say=lambda line: None)
    trials, front = result.trials, result.pareto
    assert len(front) >= 3
    sense = np.array([1.0, -1.0])
    everyone = trials[["obj_rewards", "obj_program"]].to_numpy() * sense
    for _, row in front.iterrows():
        mine = np.array([row["rewards_search"], row["program_search"]]) * sense
        beaten = np.all(everyone >= mine, axis=1) & np.any(everyone > mine, axis=1)
        assert not beaten.any(), row[LEVER]
    x = front[LEVER].to_numpy()
    assert (x >= 2.0 - TOLERANCE).all() and (x <= 4.0 + TOLERANCE).all(), x
    assert x.min() < 3.0 < x.max(), x
    se = WEEKS * NOISE / np.sqrt(4)
    truth_rewards = WEEKS * (LEVEL - CURVE * (x - 4.0) ** 2)
    truth_program = WEEKS * CURVE * (x - 2.0) ** 2
    assert np.abs(front["rewards_fresh"] - truth_rewards).max() <= 4 * se
    assert np.abs(front["program_fresh"] - truth_program).max() <= 4 * se
    assert (tmp_path / "o" / "pareto.yaml").is_file()
    from relsim.viz.optimize_report import write_optimize_report

    written = write_optimize_report(result)
    assert tmp_path / "o" / "plots" / "optimize_pareto.png" in written
    assert "The front on fresh seeds" in (tmp_path / "o" / "report.md").read_text(encoding="utf-8")


def test_the_risk_objective_is_the_fifth_percentile_over_replications() -> None:
    """``risk`` parses to the decision metric's 5th percentile, maximized; a column with
    :min is minimized; bad text and a single objective are refused, saying what to give."""
    risk = parse_objective("risk")
    assert (risk.column, risk.statistic, risk.direction) == ("npv_with_residual", "p5", "maximize")
    assert parse_objective("churn_rate_annual:min").direction == "minimize"
    with pytest.raises(ValueError, match="COLUMN:min"):
        parse_objective("churn:down")
    with pytest.raises(ValueError, match="two or more"):
        trade_off(objectives=[parse_objective("rewards")])


def test_non_dominated_by_hand() -> None:
    """Larger is better in both columns: (1, 3) and (3, 1) stay, (1, 1) is beaten, a tie
    with a front point stays."""
    values = np.array([[1.0, 3.0], [3.0, 1.0], [1.0, 1.0], [3.0, 1.0]])
    assert non_dominated(values).tolist() == [True, True, False, True]


RISKY = dict(
    trials=10,
    replications=5,
    objectives=[
        parse_objective("rewards"),
        parse_objective("program:min"),
        parse_objective("rewards:p5"),
    ],
)
"""The trade-off with a third objective, the risk (rewards' 5th percentile), 5 replications a
trial: the 5th percentile is then an interpolation between the two lowest (not the worst)."""


def quiet(line: str) -> None:
    """Progress lines are not shown in the tests."""


@pytest.fixture(scope="module")
def risky(tmp_path_factory: pytest.TempPathFactory) -> relsim.Optimization:
    """An uninterrupted search of the risky trade-off."""
    out = tmp_path_factory.mktemp("risky") / "whole"
    return optimize(trade_off(**RISKY), workers=1, out=out, say=quiet)


def fifth_percentile(values: list[float]) -> float:
    """By hand for 5 values: the 5th percentile sits at 0.05 x (5 - 1) = 0.2 of the way from
    the lowest value to the next (the linear rule of Hyndman & Fan's definition 7)."""
    low, next_low = sorted(values)[:2]
    return low + 0.2 * (next_low - low)


def test_the_risk_is_the_fifth_percentile_of_the_trials_own_replications(
    risky: relsim.Optimization,
) -> None:
    """Every trial's risk value (in the study and in trials.parquet) is the 5th percentile, by
    hand, of its 5 replications' paired differences from the baseline's same replications; each
    front design's fresh risk is that of its fresh replications (fresh.parquet). It is not the
    worst difference nor the mean: the test can tell the statistic apart."""
    study = open_study(risky.out / STUDY_FILE)
    base = study.user_attrs["baseline"]
    done = finished(study)
    assert len(done) == len(risky.trials) == 10
    for k, trial in enumerate(done):
        rows = trial.user_attrs[RESULT]["rows"]
        d = [row["rewards"] - b["rewards"] for row, b in zip(rows, base, strict=False)]
        assert len(d) == 5
        by_hand = fifth_percentile(d)
        assert trial.values[2] == pytest.approx(by_hand, rel=1e-12)
        assert risky.trials["obj_rewards_p5"].iloc[k] == pytest.approx(by_hand, rel=1e-12)
        assert min(d) < by_hand < np.mean(d)
    fresh = risky.fresh
    baseline = fresh[fresh["strategy"] == "plain"].sort_values("replication")["rewards"]
    for _, row in risky.pareto.iterrows():
        mine = fresh[fresh["strategy"] == row["candidate"]].sort_values("replication")["rewards"]
        d = list(mine.to_numpy() - baseline.to_numpy())
        low, next_low = sorted(d)[:2]
        position = 0.05 * (len(d) - 1)
        by_hand = low + (position - int(position)) * (next_low - low)
        assert row["rewards_p5_fresh"] == pytest.approx(by_hand, rel=1e-12)


def test_an_interrupted_pareto_search_resumes_to_the_same_trials_and_front(
    risky: relsim.Optimization, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the sixth of 10 trials keeps the five finished ones; resuming gives the
    trials, the front on fresh seeds and the answer of the uninterrupted search (NSGA-II's
    sampler seeded per trial from the seed and the finished trials)."""
    with ctrl_c_at_call(monkeypatch, optimize_search, "evaluate", 6):
        optimize(trade_off(**RISKY), workers=1, out=tmp_path / "b", say=quiet)
    assert len(finished(open_study(tmp_path / "b" / STUDY_FILE))) == 5
    resumed = optimize(trade_off(**RISKY), workers=1, out=tmp_path / "b", resume=True, say=quiet)
    pd.testing.assert_frame_equal(resumed.trials, risky.trials)
    pd.testing.assert_frame_equal(resumed.pareto, risky.pareto)
    pd.testing.assert_frame_equal(resumed.fresh, risky.fresh)
    assert resumed.answer == risky.answer
