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
    npv = relsim.plot_metric(experiment, "npv", axes())
    assert npv.get_ylabel().startswith("NPV within the horizon, ")  # in (thousands of) EUR
    assert npv.get_ylabel().endswith("EUR")
    forest = relsim.plot_differences(experiment, ax=axes())
    assert [t.get_text() for t in forest.get_yticklabels()] == [
        s.replace("_", " ") for s in strategies[1:]
    ]
    assert relsim.plot_costs(experiment, axes()).patches
    gap = relsim.plot_cumulative_difference(experiment, axes())
    lines = [line for line in gap.lines if line.get_label().startswith("every level")]
    assert len(lines) == 1 and len(lines[0].get_xdata()) == experiment.weekly["week"].nunique()
    levels = relsim.plot_utilisation(experiment, "every_level", axes())
    assert {line.get_label() for line in levels.lines} == {
        "service desk",
        "contact centre",
        "managers",
    }


def test_plots_take_no_axes_and_return_one(experiment: relsim.Experiment) -> None:
    ax = relsim.plot_market_share(experiment)
    assert ax.get_title() == "Market share of the focal firm"


def test_save_all_writes_non_empty_pngs(experiment: relsim.Experiment, tmp_path: Path) -> None:
    files = save_all(experiment, tmp_path)
    # the plots the report shows: one ladder-mix figure for every strategy, a utilisation
    # plot only for the strategy with staff
    names = sorted(path.name for path in files)
    assert names == sorted(
        [
            "market_share.png",
            "retention.png",
            "survival.png",
            "defection_reasons.png",
            "metric.png",
            "differences.png",
            "cumulative_difference.png",
            "costs.png",
            "ladder_mix.png",
            "utilisation_every_level.png",
        ]
    )
    for path in files:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


@pytest.mark.subprocess
def test_importing_relsim_does_not_import_matplotlib() -> None:
    code = "import sys, relsim; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def test_plots_read_at_a_glance(experiment: relsim.Experiment) -> None:
    """Legends outside the data, money in thousands or millions of the currency, a colour of
    its own for every cost kind shown."""
    for draw in (relsim.plot_market_share, relsim.plot_costs, relsim.plot_cumulative_difference):
        ax = draw(experiment, axes())
        legend = ax.get_legend()
        assert legend is not None and legend.get_bbox_to_anchor().x0 > ax.bbox.x1 - 1
    costs = relsim.plot_costs(experiment, axes())
    colours = [tuple(c.patches[0].get_facecolor()) for c in costs.containers]
    assert len(set(colours)) == len(colours)
    assert "EUR" in costs.get_ylabel() and "e" not in costs.yaxis.get_offset_text().get_text()
    labels = [t.get_text() for t in costs.get_legend().get_texts()]
    assert not any("_" in label for label in labels)
