"""The report in a real browser (headless Chromium): it fits a 1 366-pixel screen without
horizontal scrolling, every figure loads, and no code name or backtick shows outside the
glossary (issue 27)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import relsim
from relsim.viz.report import write_report
from tests.conftest import ROOT, SCENARIOS
from tests.test_demo import CHROMIUM, _browser_or_skip

SCREENSHOT = ROOT / "results" / "test-artifacts" / "report-first-screen.png"
CODE_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b")

# every table's width against the column's, every image's load state, the page's width and
# the visible text before the glossary
_MEASURE = """() => {
  const body = document.body;
  const tables = Array.from(document.querySelectorAll('table')).map(t => ({
    head: t.querySelector('th') ? t.querySelector('th').textContent : '',
    width: t.getBoundingClientRect().right,
    column: body.getBoundingClientRect().right,
  }));
  const images = Array.from(document.images).map(i => ({
    alt: i.alt, complete: i.complete, width: i.naturalWidth,
  }));
  const glossary = Array.from(document.querySelectorAll('h2'))
    .find(h => h.textContent === 'Glossary');
  const range = document.createRange();
  range.setStartBefore(body.firstChild);
  range.setEndBefore(glossary);
  const holder = document.createElement('div');
  holder.appendChild(range.cloneContents());
  return {
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    tables, images,
    text: holder.innerText || holder.textContent,
    alts: images.map(i => i.alt).join(' '),
  };
}"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a small baseline run whose relationship-levels strategy is short of
    contact staff (a warning, long tables: the widest report the shipped scenarios give)."""
    scenario = relsim.load_scenario(
        SCENARIOS / "baseline.yaml",
        overrides={"market.customers": 600, "horizon.weeks": 40, "horizon.warmup_weeks": 10},
    )
    out = tmp_path_factory.mktemp("report") / "run"
    experiment = relsim.run_experiment(scenario, replications=2, workers=1, out=out, progress=False)
    return write_report(experiment)[1]


@pytest.mark.slow
@pytest.mark.browser
def test_the_report_fits_the_screen_and_shows_no_code_names(page: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    url = page.resolve().as_uri()
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1366, "height": 768})

            def guard(route: object) -> None:
                request = route.request  # type: ignore[attr-defined]
                if request.url == url or request.url.startswith("data:"):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    outside.append(request.url)
                    route.abort()  # type: ignore[attr-defined]

            tab.route("**/*", guard)
            tab.goto(url)
            tab.wait_for_load_state("load")
            seen = tab.evaluate(_MEASURE)
            first_screen = tab.evaluate("document.body.innerText").split("About this run")[0]
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert outside == [], outside
    assert seen["scroll"] <= seen["client"] == 1366  # no horizontal scroll
    wide = [t["head"] for t in seen["tables"] if t["width"] > t["column"] + 0.5]
    assert wide == [], f"tables wider than the text column: {wide}"
    assert len(seen["images"]) >= 9
    broken = [i["alt"] for i in seen["images"] if not i["complete"] or i["width"] == 0]
    assert broken == [], broken
    text = seen["text"]
    assert "`" not in text
    assert CODE_NAME.findall(text) == [], sorted(set(CODE_NAME.findall(text)))
    assert "_" not in seen["alts"]
    # the first screen answers: what to fund, how sure, what it rests on
    assert "Recommendation:" in first_screen and "% of the replications" in first_screen
    assert "What could overturn it:" in first_screen and "Basis:" in first_screen
