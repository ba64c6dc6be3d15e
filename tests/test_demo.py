"""The classroom page: self-contained, offline, and it really plays in a browser."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from relsim import load_scenario
from relsim.domain import RUNGS
from relsim.experiment.pool import WorkerPool
from relsim.viz.demo import (
    Lever,
    _comparison,
    default_levers,
    demo_data,
    kept_share,
    parse_lever,
    render,
)
from relsim.viz.demo_grid import compute_grid, judge, lesson
from relsim.viz.demo_words import info, statistics
from tests.conftest import ROOT, SCENARIOS, relsim

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "results" / "test-artifacts" / "classroom-demo.png"


TINY = {"market.customers": 400, "horizon.weeks": 40, "horizon.warmup_weeks": 10}
"""A tiny classroom market for the page's browser tests: the page, not the numbers, is tested."""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A tiny page: the classroom scenario at 400 customers and 40 weeks, three of its
    strategies, 2 runs per strategy, the default grid's corners."""
    levers = default_levers(load_scenario(SCENARIOS / "classroom.yaml"))
    data = demo_data(
        SCENARIOS / "classroom.yaml",
        strategies=["transactional", "price_cut", "points_card"],
        replications=2,
        grid_replications=2,
        levers=[Lever(x.path, (x.values[0], x.values[-1]), x.name) for x in levers],
        overrides=TINY,
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
        kept = data["curves"][s]["kept"]  # retention: starts at 1, never rises
        assert kept[0] <= 1.0 and all(b <= a for a, b in itertools.pairwise(kept))
    grid = data["grid"]
    assert len(grid["cells"]) == 4 and grid["strategies"] == ["transactional", "points_card"]
    assert {c["best"] for c in grid["cells"]} <= set(grid["strategies"])
    assert grid["lesson"]["changes"] == (len({c["best"] for c in grid["cells"]}) > 1)
    # the same runs under two strategies are not the same journeys (the strategies differ)
    a, b = (data["journeys"][s]["codes"] for s in ("transactional", "points_card"))
    assert a != b
    assert data["firms"][0] == "our firm" and data["currency"] == "EUR"


def test_levers_are_parsed_and_defaulted() -> None:
    lever = parse_lever("rivalry.points.lag.mean_weeks=4, 26,78")
    assert lever.values == (4, 26, 78) and lever.label == "lag mean weeks"
    with pytest.raises(ValueError, match="at least two values"):
        parse_lever("market.customers=500")
    levers = default_levers(load_scenario(SCENARIOS / "classroom.yaml"))
    assert [x.path for x in levers] == [
        "rivalry.points.probability",
        "rivalry.points.lag.mean_weeks",
    ]
    assert default_levers(load_scenario(SCENARIOS / "subscription.yaml")) == []


def test_customers_kept_counts_only_customers_who_stayed() -> None:
    """Week 0's customers of ours: one stays, one leaves for the rival and comes back (lost
    at week 2 all the same), one leaves the market after week 1; a rival's customer and a
    newcomer do not count. Kept: 3/3, 3/3, 1/3, 1/3."""
    rows = [
        *((0, w, "focal") for w in range(4)),
        *((1, w, f) for w, f in enumerate(["focal", "focal", "rival", "focal"])),
        *((2, w, "focal") for w in range(2)),
        *((3, w, "rival") for w in range(4)),
        *((4, w, "focal") for w in range(1, 4)),
    ]
    journeys = pd.DataFrame(rows, columns=["customer", "week", "firm"])
    journeys["firm"] = journeys["firm"].astype("category")
    assert kept_share(journeys, "focal", 4) == pytest.approx([1.0, 1.0, 1 / 3, 1 / 3], abs=1e-4)


def _row(name: str, npv: float, significant: bool, could_be_best: bool) -> dict:
    return {
        "strategy": name,
        "npv": npv,
        "significant": significant,
        "could_be_best": could_be_best,
    }


def test_a_cell_is_clear_only_when_both_marks_agree() -> None:
    """The issue's cell: only the points card could be best but its difference from the
    baseline is not significant: not a clear winner, and the cell says why."""
    alone = judge(
        [_row("transactional", 1.0, False, False), _row("points", 2.0, False, True)],
        "transactional",
    )
    assert alone["best"] == "points" and not alone["clear"] and "within luck" in alone["why"]
    sure = judge(
        [_row("transactional", 1.0, False, False), _row("points", 2.0, True, True)], "transactional"
    )
    assert sure["clear"] and sure["why"] == ""
    base = judge(
        [_row("transactional", 3.0, False, True), _row("points", 2.0, True, False)], "transactional"
    )
    assert base["clear"] and base["best"] == "transactional"
    tied = judge(
        [_row("transactional", 1.0, False, True), _row("points", 2.0, False, True)], "transactional"
    )
    assert not tied["clear"] and "cannot separate transactional and points" in tied["why"]
    assert lesson([{"best": "a"}, {"best": "a"}])["changes"] is False
    changing = lesson([{"best": "a"}, {"best": "b"}, {"best": "a"}])
    assert changing["changes"] and changing["winners"] == ["a", "b"]
    assert "a in 2 of 3 cells" in changing["text"]


def test_the_info_tab_says_what_each_strategy_does() -> None:
    scenario = load_scenario(SCENARIOS / "classroom.yaml")
    names = [s.name for s in scenario.strategies]
    words = info(scenario, names)
    assert [r["rung"] for r in words["rungs"]] == list(RUNGS)
    said = {s["name"]: s["sentence"] for s in words["strategies"]}
    assert said["transactional"].startswith("Business as usual")
    assert said["price_cut"] == "Prices 5% lower."
    assert "service desk" in said["service_desk"] and "call" in said["service_desk"]
    assert "about 4% back" in said["points_card"]  # 25 per 500, a fifth never claimed
    assert "letter" in said["customer_letters"]
    assert "80%" in words["rivals"] and "26 weeks" in words["rivals"]
    assert "Money is in EUR" in words["what"][1]
    explained = statistics("EUR", "transactional")
    assert {"npv", "difference", "significant", "could_be_best", "p_best", "kept"} <= set(explained)


@pytest.mark.slow
def test_the_shipped_grid_changes_its_winner() -> None:
    """The classroom scenario's default grid, at the corners of its first lever (the rival
    never copies the points card / always does) with its fastest copy, 2 runs each: the points
    card wins where no rival copies it and loses where one copies it fast, so the winner
    changes (the lesson of issue 32; `relsim demo`'s full 3 x 3 grid shows it too)."""
    path = SCENARIOS / "classroom.yaml"
    chance, lag = default_levers(load_scenario(path))
    corners = [Lever(chance.path, (chance.values[0], chance.values[-1]), chance.name)]
    fastest = {lag.path: lag.values[0]}
    with tempfile.TemporaryDirectory() as tmp, WorkerPool(2, None) as pool:
        grid = compute_grid(
            path,
            ["transactional", "points_card"],
            corners,
            2,
            7,
            Path(tmp),
            pool,
            _comparison,
            lambda _: None,
            fastest,
        )
    assert grid is not None
    assert [c["best"] for c in grid["cells"]] == ["points_card", "transactional"]
    assert grid["lesson"]["changes"] and "changes across the grid" in grid["lesson"]["text"]


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


# every visible text's computed font size, by tab; the canvases' bitmaps against their boxes
_MEASURE = """() => {
  const small = [];
  for (const node of document.querySelectorAll('body *')) {
    if (!node.offsetParent && node.tagName !== 'BODY') continue;
    const own = Array.from(node.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const size = parseFloat(getComputedStyle(node).fontSize);
    if (own && size < 18) small.push(node.tagName + ' ' + size + ' ' + node.textContent);
  }
  const canvases = Array.from(document.querySelectorAll('canvas')).filter(c => c.offsetParent)
    .map(c => ({id: c.id, crisp: c.width === Math.round(c.clientWidth * devicePixelRatio),
                label: Number(c.dataset.labelPx), bottom: c.getBoundingClientRect().bottom}));
  return {small, canvases};
}"""


def _open(browser: object, url: str, ratio: float, allowed: str) -> tuple[object, list, list]:
    """A 1 366 x 768 tab at ``ratio`` that refuses any request outside ``allowed``."""
    tab = browser.new_page(  # type: ignore[attr-defined]
        viewport={"width": 1366, "height": 768}, device_scale_factor=ratio
    )
    outside: list[str] = []
    errors: list[str] = []

    def guard(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if request.url.startswith(allowed):
            route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(request.url)
            route.abort()  # type: ignore[attr-defined]

    tab.route("**/*", guard)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(url)
    return tab, outside, errors


def _projector_ready(tab: object) -> None:
    """Every tab: no text under 18 px; canvases crisp at the device-pixel ratio with 18 px
    labels; on the ladder tab, the two ladders and the controls fit the 768-pixel screen."""
    for name in ("info", "grid", "curves", "ladder"):
        tab.click(f"#tab-{name}")  # type: ignore[attr-defined]
        seen = tab.evaluate(_MEASURE)  # type: ignore[attr-defined]
        assert seen["small"] == [], (name, seen["small"][:5])
        assert all(c["crisp"] and c["label"] >= 18 for c in seen["canvases"]), seen
    assert {c["id"] for c in seen["canvases"]} == {"ladder-a", "ladder-b"}
    assert max(c["bottom"] for c in seen["canvases"]) <= 768
    assert tab.evaluate("document.getElementById('controls').getBoundingClientRect().top") >= 0  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_plays_offline_in_a_real_browser(page: tuple[Path, dict]) -> None:
    """Headless Chromium opens the file at 1 366 x 768 (at device-pixel ratios 1 and 1.5);
    any request that leaves it fails the test. It says it is the offline file; Go plays,
    Go once advances one week, Setup returns to week 0; a click follows a customer; the
    strategy switch changes the panel; a grid cell shows its verdict and table; the Info tab
    defines the rungs and says what each strategy does."""
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    url = page[0].resolve().as_uri()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            sharp, outside, errors = _open(browser, url, 1.5, url)
            _projector_ready(sharp)
            tab, more, other = _open(browser, url, 1.0, url)
            assert tab.text_content("#mode").startswith("Offline file")
            _projector_ready(tab)
            tab.click("#play")
            tab.wait_for_function(
                "document.getElementById('ladder-a').dataset.week >= 3", timeout=10_000
            )
            tab.click("#play")  # stop
            week = int(tab.get_attribute("#ladder-a", "data-week"))
            tab.click("#step")
            assert tab.get_attribute("#ladder-a", "data-week") == str(week + 1)
            assert f"Week {week + 1}" in tab.text_content("#week-label")
            tab.click("#setup")
            assert tab.get_attribute("#ladder-a", "data-week") == "0"
            tab.select_option("#follow", index=1)
            assert tab.text_content("#follow-text").startswith("Customer ")
            before = tab.text_content("#stats-a")
            tab.select_option("#strategy-a", "points_card")
            assert tab.get_attribute("#ladder-a", "data-strategy") == "points_card"
            assert tab.text_content("#title-a") == "points card"
            assert tab.text_content("#stats-a") != before
            tab.click("#tab-grid")
            assert tab.text_content("#grid-lesson") == page[1]["grid"]["lesson"]["text"]
            tab.click("#cell-3")
            detail = tab.text_content("#cell-detail")
            assert "weeks until it copies (mean) = 78" in detail
            assert "A clear winner" in detail or "Not sure" in detail
            tab.click("#tab-info")
            assert "recommends the firm" in tab.text_content("#info-rungs")
            assert "Prices 5% lower." in tab.text_content("#info-strategies")
            tab.click("#tab-ladder")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert outside == [] and more == [], outside + more
    assert errors == [] and other == [], errors + other
    assert SCREENSHOT.stat().st_size > 10_000


def _tiny_scenario(folder: Path) -> Path:
    """The classroom scenario at 200 customers and 20 weeks (a 6-week warm-up)."""
    text = (SCENARIOS / "classroom.yaml").read_text(encoding="utf-8")
    for old, new in (
        ("customers: 1500", "customers: 200"),
        ("weeks: 156", "weeks: 20"),
        ("warmup_weeks: 52", "warmup_weeks: 6"),
    ):
        assert old in text
        text = text.replace(old, new)
    path = folder / "tiny-classroom.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _wait_for(tab: object, words: str, before: str) -> str:
    """Wait for the live page's progress to say ``words`` and show other numbers."""
    tab.wait_for_function(  # type: ignore[attr-defined]
        f"document.getElementById('progress').textContent.includes({words!r})", timeout=60_000
    )
    after = tab.text_content("#comparison")  # type: ignore[attr-defined]
    assert after != before
    return after


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.subprocess
def test_the_live_page_reruns_on_loopback_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """``relsim demo --serve`` on a tiny scenario: the page says it is live; a lever change
    shows new numbers (2 runs, then refined to 3); New luck shows others; Go once advances one
    week; no request leaves 127.0.0.1, no console error; Ctrl-C stops the server cleanly, here
    while it refines."""
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    command = [sys.executable, "-m", "relsim", "demo", str(_tiny_scenario(tmp_path))]
    command += ["--serve", "--replications", "3"]
    for name in ("transactional", "points_card"):
        command += ["--strategy", name]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines = []
        while not any("live classroom at" in line for line in lines):
            line = server.stderr.readline()  # type: ignore[union-attr]
            assert line, "".join(lines)
            lines.append(line)
        url = re.search(r"http://127\.0\.0\.1:\d+/", lines[-1]).group(0)  # type: ignore[union-attr]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                tab, outside, errors = _open(browser, url, 1.0, url)
                assert tab.text_content("#mode").startswith("Live")
                first = tab.text_content("#comparison")
                tab.eval_on_selector(
                    "#lever-reward",
                    "e => { e.value = '50'; e.dispatchEvent(new Event('change')); }",
                )
                changed = _wait_for(tab, "done: 3 runs per strategy", first)
                tab.click("#luck")
                _wait_for(tab, "seed 8", changed)
                tab.click("#step")
                assert tab.get_attribute("#ladder-a", "data-week") == "1"
            finally:
                browser.close()
        assert outside == [] and errors == [], outside + errors
    finally:
        server.send_signal(signal.SIGINT)
        _, rest = server.communicate(timeout=30)
    assert server.returncode == 0, rest
    assert "stopping the live classroom" in rest
    assert "Traceback" not in rest, rest
