"""The classroom page: self-contained, offline, and it really plays in a browser."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from relsim.viz.demo import Lever, default_levers, demo_data, parse_lever, render
from tests.conftest import ROOT, SCENARIOS, relsim

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "results" / "test-artifacts" / "classroom-demo.png"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small page for the classroom scenario: 2 runs per strategy, a 2 x 2 grid, four of its
    strategies (the page treats every strategy alike; a fifth would cost a quarter more)."""
    data = demo_data(
        SCENARIOS / "classroom.yaml",
        strategies=["transactional", "price_cut", "service_desk", "points_card"],
        replications=2,
        grid_replications=2,
        levers=[
            Lever("strategies.3.bonds.points.reward_value", (12.5, 37.5)),
            Lever("rivalry.points.lag.mean_weeks", (4, 78), "copy lag"),
        ],
    )
    path = tmp_path_factory.mktemp("demo") / "demo.html"
    path.write_text(render(data), encoding="utf-8")
    return path, data


@pytest.mark.slow
def test_the_page_needs_nothing_outside_itself(page: tuple[Path, dict]) -> None:
    text = page[0].read_text(encoding="utf-8")
    assert "<script>" in text and "relsim-data" in text
    # no external script, style, font or image: no src/href attributes, no url() or @import
    assert not re.search(r"\b(src|href)\s*=", text, re.I)
    assert not re.search(r"url\(|@import|https?://", text, re.I)
    assert "replays simulations computed when it was written" in text


@pytest.mark.slow
def test_the_page_data_follow_the_same_customers_under_every_strategy(
    page: tuple[Path, dict],
) -> None:
    data = page[1]
    samples = [data["journeys"][s]["customers"] for s in data["strategies"]]
    assert all(sample == samples[0] for sample in samples) and len(samples[0]) > 50
    weeks = data["weeks"]
    for s in data["strategies"]:
        codes = data["journeys"][s]["codes"]
        assert len(codes) == len(samples[0]) * weeks
        assert len(data["curves"][s]["profit"]) == weeks
    assert len(data["grid"]["cells"]) == 4
    assert {c["best"] for c in data["grid"]["cells"]} <= set(data["strategies"])
    # the same runs under two strategies are not the same journeys (the strategies differ)
    a, b = (data["journeys"][s]["codes"] for s in ("transactional", "points_card"))
    assert a != b


def test_levers_are_parsed_and_defaulted() -> None:
    lever = parse_lever("rivalry.points.lag.mean_weeks=4, 26,78")
    assert lever.values == (4, 26, 78) and lever.label == "lag mean weeks"
    with pytest.raises(ValueError, match="at least two values"):
        parse_lever("market.customers=500")
    from relsim import load_scenario

    levers = default_levers(load_scenario(SCENARIOS / "classroom.yaml"))
    assert [x.path for x in levers] == [
        "strategies.3.bonds.points.reward_value",
        "rivalry.points.lag.mean_weeks",
    ]
    assert default_levers(load_scenario(SCENARIOS / "subscription.yaml")) == []


@pytest.mark.slow
@pytest.mark.subprocess
def test_demo_command_writes_the_page_and_refuses_bad_levers(tmp_path: Path) -> None:
    out = tmp_path / "class.html"
    result = relsim(
        "demo",
        str(SCENARIOS / "classroom.yaml"),
        "--out",
        str(out),
        "--no-grid",
        "--replications",
        "2",
        "--strategy",
        "transactional",
        "--strategy",
        "price_cut",
    )
    assert result.returncode == 0, result.stderr
    assert out.exists() and "classroom page written" in result.stderr
    # a phase of minutes is never silent: the journeys and the comparison each say so
    assert "journeys" in result.stderr and "the comparison, 2 replications" in result.stderr
    payload = out.read_text(encoding="utf-8").split('type="application/json">')[1]
    data = json.loads(payload.split("</script>")[0])
    assert data["strategies"] == ["transactional", "price_cut"] and data["grid"] is None
    bad = relsim("demo", "--lever", "market.customers", "--out", str(tmp_path / "x.html"))
    assert bad.returncode == 2 and "--lever" in bad.stderr
    unknown = relsim("demo", "--strategy", "nope", "--no-grid", "--out", str(tmp_path / "y.html"))
    assert unknown.returncode == 2 and "unknown strategy 'nope'" in unknown.stderr


def _browser_or_skip() -> None:
    missing = not CHROMIUM.exists() or shutil.which("chromium") is None
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing = True
    if missing:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium and Playwright (see .ci/run)")
        pytest.skip("needs /usr/bin/chromium and playwright (apt-get install chromium)")


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_plays_offline_in_a_real_browser(page: tuple[Path, dict]) -> None:
    """Headless Chromium opens the page; any request that leaves it fails the test. Play
    advances the weeks, the strategy switch changes the panel, a grid cell shows its table."""
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    path = page[0]
    url = path.resolve().as_uri()
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1300, "height": 1000})

            def guard(route: object) -> None:
                request = route.request  # type: ignore[attr-defined]
                if request.url == url:
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    outside.append(request.url)
                    route.abort()  # type: ignore[attr-defined]

            tab.route("**/*", guard)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.goto(url)
            assert tab.text_content("#week-label").startswith("Week 0")
            tab.click("#play")
            tab.wait_for_function(
                "document.getElementById('ladder-a').dataset.week >= 3", timeout=10_000
            )
            tab.click("#play")  # pause
            week = int(tab.get_attribute("#ladder-a", "data-week"))
            assert week >= 3 and f"Week {week}" in tab.text_content("#week-label")
            before = tab.text_content("#stats-a")
            tab.select_option("#strategy-a", "points_card")
            assert tab.get_attribute("#ladder-a", "data-strategy") == "points_card"
            assert tab.text_content("#title-a") == "points card"
            assert tab.text_content("#stats-a") != before
            tab.click("#cell-3")
            assert "copy lag = 78" in tab.text_content("#cell-detail")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert outside == [], outside
    assert errors == [], errors
    assert SCREENSHOT.stat().st_size > 10_000
