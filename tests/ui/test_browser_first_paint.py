"""End-to-end: the server-drawn first page in Debian's headless Chromium (bayesdx.ui.first_paint).

A first visit sees the ranking before Streamlit's scripts have loaded; the app's
own ranking then replaces it, with the same numbers, and the drawn page is gone.
Skipped when /usr/bin/chromium is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import CHROMIUM, RANKING_TEXT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not found (apt-get install -y chromium chromium-driver)"),
]

pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")

from test_browser import app_url, browser  # noqa: E402,F401 - the same server and browser fixtures

#: JavaScript (before the page's scripts): the drawn first page's ranking as first seen, and what
#: was in the page when it was removed
WATCH = """
window.__fp = {};
new MutationObserver(() => {
  const fp = document.getElementById('bdx-first-paint');
  const r = fp && fp.querySelector('ol.bdx-rank');
  if (r && !window.__fp.rows) window.__fp.rows = [...r.querySelectorAll('li')].map(
      (li) => [li.dataset.id, li.dataset.posterior]);
  if (window.__fp.rows && !fp && window.__fp.live === undefined)
    window.__fp.live = !!document.querySelector('.st-key-bdx-ranking ol.bdx-rank');
}).observe(document, {subtree: true, childList: true});
"""
LIVE_ROWS = """() => [...document.querySelectorAll('.st-key-bdx-ranking ol.bdx-rank li')].map(
    (li) => [li.dataset.id, li.dataset.posterior])"""


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})  # an empty cache: a first visit
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(WATCH)
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.mark.parametrize("query", ["", "?anc=severe&hb=low&plt=low"])
def test_the_first_page_shows_the_ranking_the_app_then_draws(page, app_url, query):
    page.goto(app_url + "/" + query)
    page.wait_for_function(f"() => ({RANKING_TEXT})().includes('%')")
    page.wait_for_function("() => !document.getElementById('bdx-first-paint')")
    seen = page.evaluate("() => window.__fp")
    assert seen.get("rows"), "the server drew the first page's ranking"
    assert seen["live"] is True, "it was removed once the app's own ranking was drawn, not before"
    live = page.evaluate(LIVE_ROWS)
    assert [i for i, _ in seen["rows"]] == [i for i, _ in live], "the same causes, in the same order"
    # the same numbers (the app may have switched to the compiled kernel meanwhile: ~1e-16 apart)
    assert max(abs(float(a) - float(b)) for (_, a), (_, b) in zip(seen["rows"], live)) <= 1e-12


def test_the_first_page_stays_readable_when_streamlits_scripts_do_not_load(page, app_url):
    page.route("**/static/js/index.*.js", lambda route: route.abort())
    page.goto(app_url + "/")
    fp = page.locator("#bdx-first-paint")
    fp.locator("ol.bdx-rank li").first.wait_for()
    assert fp.is_visible() and "not a medical device" in fp.inner_text() and "Loading the form" in fp.inner_text()
    # it covers the page (Streamlit's page, loading beneath it, is not what a click reaches)
    assert page.evaluate("() => !!document.elementFromPoint(683, 384).closest('#bdx-first-paint')")
