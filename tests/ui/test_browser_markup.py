"""In a real browser: a malicious shared link renders no image and no link (issue 15, item 3).

The link's query key is a Markdown image pointing at the app's own port and
its value a Markdown link; the page must show both as text, create no
``<img>``/``<a>`` from them, and the browser must not fetch the image. Waits
for expected text, never for a fixed time.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from harness import CHROMIUM, AppPage, launch_chromium, serve_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not found (apt-get install -y chromium chromium-driver)"),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")


def test_a_malicious_link_renders_no_image_and_no_link():
    with serve_app() as url, sync_api.sync_playwright() as p:
        image = f"![x]({url}/bdx-injected.png)"
        link = "[Session expired - click to log in](https://example.invalid/login)"
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            app = AppPage(page, url)
            app.open(urlencode({image: "present", "anc": link}))
            page.get_by_text("link parameter", exact=False).first.wait_for()
            text = page.locator('[data-testid="stAlert"]').all_inner_texts()
            shown = "\n".join(text).replace("\u2060", "")  # md()'s invisible word joiners
            assert image in shown and link in shown  # shown as the characters written
            assert page.locator('img[src*="bdx-injected"]').count() == 0
            assert page.locator('a[href*="example.invalid"]').count() == 0
            fetched = [urlsplit(r) for r in requests]  # the page's own URL carries them in its query
            assert not [u for u in fetched if "bdx-injected" in u.path or "example.invalid" in u.netloc]
        finally:
            browser.close()
