"""End-to-end: the app in Debian's headless Chromium, driven through its widgets.

Starts ``streamlit run app.py`` on a free localhost port, enters a clozapine
agranulocytosis case the way a clinician would, and checks the ranking; saves
screenshots under reports/screenshots/ (gitignored). Skipped when
/usr/bin/chromium is missing (``apt-get install -y chromium chromium-driver``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bayesdx.diagnosis import load_model
from harness import CHROMIUM, RANKING_TEXT, AppPage, launch_chromium, serve_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not found (apt-get install -y chromium chromium-driver)"),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "reports" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}  # a laptop screen


@pytest.fixture(scope="module")
def app_url():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve_app(log=SHOTS.parent / "browser-test-app.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture()
def app(browser, app_url, request):
    viewport = getattr(request, "param", VIEWPORT)
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield AppPage(page, app_url)
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def labels():
    return load_model().net.labels


def test_clozapine_agranulocytosis_through_the_widgets(app):
    app.open()
    app.expect_text("not a medical device")
    app.tab("Blood count")
    app.fill("Neutrophils (ANC)", "0.1")
    app.fill("Lymphocytes (ALC)", "1.8")
    app.fill("Haemoglobin", "13.6")
    app.fill("Platelets", "240")
    app.tab("Medication")
    app.add_drug("clozapine")
    app.fill("Weeks since start", "9")
    app.tab("Smear")
    app.choose("Blasts", "absent")
    app.tab("Context & history")
    app.fill("Age (years)", "34")
    app.select("Sex", "male")
    app.choose("Fever", "present")
    app.expect_top(labels()["drug_antipsychotic"])
    app.page.wait_for_function(f"() => ({RANKING_TEXT})().includes({labels()['drug_antipsychotic']!r})")
    app.page.wait_for_url(re.compile(r"anc=severe.*exposure_antipsychotic=clozapine_window|"
                                     r"exposure_antipsychotic=clozapine_window.*anc=severe"))
    app.tab("Blood count")
    app.page.screenshot(path=str(SHOTS / "clozapine-agranulocytosis.png"), animations="disabled")


def test_shared_link_why_and_what_if(app):
    query = ("age_group=young&sex=male&anc=severe&exposure_antipsychotic=clozapine_window"
             "&exposure_antithyroid=none&exposure_anticonvulsant=none&exposure_antibiotic=none"
             "&exposure_immunosuppressant=none&exposure_chemotherapy=none&exposure_antiviral=none"
             "&exposure_corticosteroid=none&hx_fever=present")
    app.open(query)
    app.expect_top(labels()["drug_antipsychotic"])
    app.page.screenshot(path=str(SHOTS / "shared-link.png"), animations="disabled")
    app.click("Pin as A")
    app.tab("Smear")
    app.choose("Hairy cells", "present")
    app.tab("What-if: A vs B")
    app.expect_text("Changed since A")
    app.page.locator(".st-key-bdx-ranking").scroll_into_view_if_needed()
    app.page.mouse.wheel(0, 600)
    app.page.screenshot(path=str(SHOTS / "what-if.png"), animations="disabled")
    app.tab("Why?")
    app.expect_text("Multiplies the odds")
    app.expect_text("LR")
    app.page.get_by_text("Multiplies the odds").first.scroll_into_view_if_needed()
    app.page.screenshot(path=str(SHOTS / "why.png"), animations="disabled")


CLOZAPINE_LINK = ("age_group=young&sex=male&anc=severe&alc=normal&hb=normal&plt=normal&smear_blasts=absent"
                  "&hx_fever=present&exposure_antipsychotic=clozapine_window&exposure_antithyroid=none"
                  "&exposure_anticonvulsant=none&exposure_antibiotic=none&exposure_immunosuppressant=none"
                  "&exposure_chemotherapy=none&exposure_antiviral=none&exposure_corticosteroid=none")


@pytest.mark.parametrize("app", [{"width": 1366, "height": 768}, {"width": 1920, "height": 1080}],
                         indirect=True, ids=["laptop", "wide"])
def test_intervals_next_test_and_sensitivity(app):
    size = f"{app.page.viewport_size['width']}x{app.page.viewport_size['height']}"
    app.open(CLOZAPINE_LINK)
    app.page.wait_for_function(f"() => ({RANKING_TEXT})().includes('96%')")
    before = app.ranking_text()
    app.rerun(lambda: app.page.get_by_text("90% credible intervals").click())
    app.expect_text("Whisker: 90% credible interval")
    assert app.ranking_text() == before  # same bars and labels, whiskers added
    app.page.locator(".st-key-bdx-ranking").screenshot(path=str(SHOTS / f"intervals-{size}.png"),
                                                       animations="disabled")
    app.tab("Next best test")
    app.expect_text("Leading cause now")
    app.expect_text("Each result of the first five")
    app.page.get_by_text("Each result of the first five").first.scroll_into_view_if_needed()
    app.page.screenshot(path=str(SHOTS / f"next-test-{size}.png"), animations="disabled")
    app.tab("Sensitivity")
    app.page.locator('[data-testid="stVegaLiteChart"]').nth(1).scroll_into_view_if_needed()
    app.page.wait_for_function(  # the tornado chart (the second chart) names the prior
        "() => { const s = document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg.marks')[1];"
        " return !!s && s.textContent.includes('Prior of Drug: Antipsychotic'); }")
    app.page.screenshot(path=str(SHOTS / f"sensitivity-{size}.png"), animations="disabled")
    assert "Traceback" not in app.page.inner_text("body")


def test_case_file_download_and_upload(app, tmp_path):
    app.open()
    app.fill("Neutrophils (ANC)", "800 /uL")
    app.tab("Tests")
    app.choose("HIV", "negative")
    app.page.wait_for_url(re.compile(r"test_hiv=negative"))  # the address bar may lag the run by a moment
    before = app.page.url.split("?", 1)[1]
    app.page.get_by_role("button", name="Case file").click()
    with app.page.expect_download() as dl:
        app.page.get_by_role("button", name="Save case file").click()
    path = tmp_path / "case.yaml"
    dl.value.save_as(path)
    text = path.read_text()
    assert "anc: 800 /uL" in text and "hiv: negative" in text
    app.click("Clear all evidence")
    app.page.wait_for_url(lambda u: "?" not in u or u.endswith("?"))
    app.page.get_by_role("button", name="Case file").click()
    app.rerun(lambda: app.page.locator('input[type="file"]').set_input_files(str(path)))
    app.page.wait_for_url(re.compile(r"test_hiv=negative"))
    assert app.page.url.split("?", 1)[1] == before
    app.expect_text("Opened")


def test_bad_input_shows_a_message_not_a_traceback(app):
    app.open()
    app.fill("White cells (WBC)", "1.0")
    app.fill("Neutrophils (ANC)", "3,5")
    app.expect_text("could not be used")
    app.expect_text("decimal point")
    assert "Traceback" not in app.page.inner_text("body")
    app.page.screenshot(path=str(SHOTS / "input-error.png"))


def test_explanation_tab_switch_lists_and_apply_undo(app):
    app.open(CLOZAPINE_LINK + "&ancestry=african")
    app.rerun(lambda: app.page.get_by_role("tab", name="Explanation").click())
    app.page.wait_for_function("() => document.body.innerText.includes('Most probable explanations')")
    body = app.page.inner_text("body")
    assert "present and needed" in body and "Tests that would most confirm it" in body
    assert "Antipsychotic alone" in body or "Antipsychotic (clozapine and others) alone" in body
    app.page.get_by_text("Most probable explanations").first.scroll_into_view_if_needed()
    app.page.wait_for_timeout(300)
    app.page.screenshot(path=str(SHOTS / "explanation.png"))
    app.rerun(lambda: app.page.get_by_role("radio", name="sufficiency").click()
              if app.page.get_by_role("radio", name="sufficiency").count()
              else app.page.get_by_text("sufficiency", exact=True).first.click())
    assert "still produce at their grade" in app.page.inner_text("body")
    url_before = app.page.url
    button = app.page.get_by_role("button", name=re.compile(r"^Assume ")).first
    button.scroll_into_view_if_needed()
    app.rerun(lambda: button.click())
    app.page.wait_for_function("() => document.body.innerText.includes('Undo:')")
    assert app.page.url != url_before
    app.page.screenshot(path=str(SHOTS / "explanation-applied.png"))
    app.rerun(lambda: app.page.get_by_role("button", name=re.compile(r"^Undo:")).click())
    app.page.wait_for_function("() => !document.body.innerText.includes('Undo:')")
    assert "Traceback" not in app.page.inner_text("body")
