"""Plots: each draws the data it claims, from an experiment's tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import relsim
from relsim.domain import REASONS
from relsim.viz import save_all
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> relsim.Experiment:
    out = tmp_path_factory.mktemp("plots") / "run"
    return relsim.run_experiment(
        SCENARIOS / "ci-smoke.yaml", replications=3, workers=1, out=out, progress=False
    )


def axes():  # a fresh axes on an off-screen figure
    return Figure().subplots()


def test_every_plot_draws_its_data(experiment: relsim.Experiment) -> None:
    strategies = experiment.strategies
    ax = relsim.plot_market_share(experiment, axes())
    assert len(ax.lines) == len(strategies) and len(ax.collections) == len(strategies)
    assert len(relsim.plot_retention(experiment, axes()).lines) == len(strategies)
    survival = relsim.plot_survival(experiment, axes())
    assert len(survival.lines) == len(strategies)
    assert survival.lines[0].get_ydata()[0] <= 1.0
    assert len(relsim.plot_ladder_mix(experiment, strategies[0], axes()).collections) == 5
    bars = relsim.plot_defection_reasons(experiment, axes()).patches
    assert len(bars) == len(REASONS) * len(strategies)  # one segment per reason and strategy
    assert relsim.plot_metric(experiment, "npv", axes()).get_ylabel() == "npv"
    forest = relsim.plot_differences(experiment, ax=axes())
    assert [t.get_text() for t in forest.get_yticklabels()] == strategies[1:]
    assert relsim.plot_costs(experiment, axes()).patches
    gap = relsim.plot_cumulative_difference(experiment, axes())
    lines = [line for line in gap.lines if line.get_label().startswith("every_level")]
    assert len(lines) == 1 and len(lines[0].get_xdata()) == experiment.weekly["week"].nunique()
    levels = relsim.plot_utilisation(experiment, "every_level", axes())
    assert {line.get_label() for line in levels.lines} == {"desk", "contact", "manager"}


def test_plots_take_no_axes_and_return_one(experiment: relsim.Experiment) -> None:
    ax = relsim.plot_market_share(experiment)
    assert ax.get_title() == "Market share of the focal firm"


def test_save_all_writes_non_empty_pngs(experiment: relsim.Experiment, tmp_path: Path) -> None:
    files = save_all(experiment, tmp_path)
    # one ladder per strategy, a utilisation plot only for the strategy with staff
    assert len(files) == 9 + len(experiment.strategies) + 1
    for path in files:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


@pytest.mark.subprocess
def test_importing_relsim_does_not_import_matplotlib() -> None:
    code = "import sys, relsim; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"
