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
from bayesdx.ui.labels import cause_label
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


def test_the_first_page_draws_the_ranking_as_html_without_vega(app):
    """The ranking is HTML (bayesdx.ui.ranking): the first page needs no Vega to show it."""
    app.page.goto(app.url + "/")
    app.page.wait_for_function(f"() => ({RANKING_TEXT})().includes('%')")
    vega = app.page.evaluate(
        "() => performance.getEntriesByType('resource').filter((r) => /\\/embed\\.[^/]*\\.js$/.test(r.name)).length")
    assert vega == 0  # no Vega bundle fetched before the ranking is drawn
    rows = app.ranking_rows()
    model = load_model()
    readable = {cause_label(model, c) for c in model.net.causes}
    assert len(rows) == 10 and all(r["name"] in readable and r["shown"] for r in rows), rows  # no name cut
    assert all(r["pct"].endswith("%") and r["bar"] > 0 and r["prior"] is not None for r in rows), rows
    assert not any(r["whisker"] for r in rows)  # intervals are off by default
    assert app.page.get_by_role("list", name=re.compile("Causes ranked by probability")).count() == 1
    assert app.page.locator('[data-testid="stVegaLiteChart"]').count() == 0  # the empty page has no chart


def test_clozapine_agranulocytosis_through_the_widgets(app):
    app.open()
    app.expect_text("not a medical device")
    app.fill("Age (years)", "34")  # context sits above the tabs, always visible
    app.select("Sex", "male")
    app.tab("Blood count")
    app.fill("Neutrophils (ANC)", "0.1")
    app.fill("Lymphocytes (ALC)", "1.8")
    app.fill("Haemoglobin", "13.6")
    app.fill("Platelets", "240")
    app.tab("Medication")
    app.fill("Add a drug", "cloza")  # part of the name + Enter: the one best match
    app.fill("Weeks since start", "9")
    app.tab("Smear")
    app.choose("Blasts", "absent")
    app.tab("History")
    app.choose("Fever", "present")
    app.expect_top(cause_label(load_model(), "drug_antipsychotic"))
    # ANC 0.1 is very severe (< 0.2)
    app.page.wait_for_url(re.compile(r"anc=very_severe.*exposure_antipsychotic=clozapine_window|"
                                     r"exposure_antipsychotic=clozapine_window.*anc=very_severe"))
    app.tab("Blood count")
    app.page.screenshot(path=str(SHOTS / "clozapine-agranulocytosis.png"), animations="disabled")


def test_drug_box_enter_picks_one_generic(app):
    app.open()
    app.tab("Medication")
    app.fill("Add a drug", "cloza")
    def chips() -> list[str]:
        text = app.page.locator('[data-testid="stMultiSelectTagsContainer"]').first.inner_text()
        return [t.strip().lower() for t in text.splitlines() if t.strip() and t.strip() not in ("×", "none listed")]

    assert chips() == ["clozapine"]  # one drug, not "Select 5 matches"
    app.fill("Add a drug", "Tegretol")  # a brand resolves to its generic
    assert chips() == ["clozapine", "carbamazepine"]
    app.fill("Add a drug", "zzqx")
    body = app.page.inner_text("body")
    assert "No drug in the list matches" in body and "medications[" not in body and "Traceback" not in body


@pytest.mark.parametrize("app", [{"width": 1366, "height": 768}], indirect=True, ids=["laptop"])
def test_keyboard_cbc_entry_tab_goes_value_to_value(app):
    app.open()
    app.tab("Blood count")
    wbc = app.page.get_by_label("White cells (WBC)", exact=True).first
    wbc.click()
    for text in ("2.4", "0.2", "1.6", "0.3", "12.1", "240"):
        app.page.keyboard.type(text, delay=40)  # about a person's pace
        # Tab commits the value (a rerun); like a person, look at the result before typing on
        app.rerun(lambda: app.page.keyboard.press("Tab"))
    want = {"White cells (WBC)": "2.4", "Neutrophils (ANC)": "0.2", "Lymphocytes (ALC)": "1.6",
            "Monocytes (AMC)": "0.3", "Haemoglobin": "12.1", "Platelets": "240"}
    for label, text in want.items():
        assert app.page.get_by_label(label, exact=True).first.input_value() == text, label
    app.page.wait_for_url(re.compile(r"anc=severe"))
    app.page.screenshot(path=str(SHOTS / "keyboard-cbc-1366x768.png"))


def test_cbc_paste_shows_what_was_understood_then_applies(app):
    app.open()
    app.tab("Blood count")
    app.page.get_by_text("Paste a blood count").first.click()
    box = app.page.get_by_label("Blood count as printed", exact=True)
    box.click()
    app.page.keyboard.insert_text("WBC 2.4, ANC 0,2; Hb 121 g/L, PLT 240, foo 3")  # as pasted
    app.click("Read")
    body = app.page.inner_text("body")
    assert "Understood" in body and "121 g/L" in body and "Not understood" in body
    assert "?" not in app.page.url or "anc=" not in app.page.url  # nothing applied yet
    app.page.screenshot(path=str(SHOTS / "cbc-paste.png"))
    app.click("Apply these 4 values")
    app.page.wait_for_url(re.compile(r"anc=severe"))
    # the address bar can change before the form is redrawn: wait for the widget itself
    from playwright.sync_api import expect

    expect(app.page.get_by_label("Neutrophils (ANC)", exact=True).first).to_have_value(
        "0.2", timeout=app.timeout)


def test_units_converted_and_offered(app):
    app.open()
    app.tab("Blood count")
    app.fill("Neutrophils (ANC)", "0,4")  # a decimal comma is read as a point
    app.page.wait_for_url(re.compile(r"anc=severe"))
    app.fill("Haemoglobin", "89")  # g/dL by default: implausible, so the g/L reading is offered
    body = app.page.inner_text("body")
    assert "try hb:" not in body and "Read 89 as 89 g/L" in body
    app.click("Read 89 as 89 g/L")
    app.page.wait_for_url(re.compile(r"hb=very_low"))
    app.tab("Vitamins")
    app.fill("Vitamin B12", "95 pmol/L")
    assert "= 129 pg/mL" in app.page.inner_text("body")  # the converted value beside the field
    app.page.screenshot(path=str(SHOTS / "units.png"))


def test_shared_link_why_and_what_if(app):
    query = ("age_group=young&sex=male&anc=severe&exposure_antipsychotic=clozapine_window"
             "&exposure_antithyroid=none&exposure_anticonvulsant=none&exposure_antibiotic=none"
             "&exposure_immunosuppressant=none&exposure_chemotherapy=none&exposure_antiviral=none"
             "&exposure_corticosteroid=none&hx_fever=present")
    app.open(query)
    app.expect_top(cause_label(load_model(), "drug_antipsychotic"))
    app.page.screenshot(path=str(SHOTS / "shared-link.png"), animations="disabled")
    app.click("Pin as A")
    app.tab("Smear")
    app.choose("Hairy cells", "present")
    app.tab("A vs B")
    app.expect_text("Changed since A")
    app.page.locator(".st-key-bdx-ranking").scroll_into_view_if_needed()
    app.page.mouse.wheel(0, 600)
    app.page.screenshot(path=str(SHOTS / "what-if.png"), animations="disabled")
    app.tab("Why?")
    app.expect_text("likely given these findings")
    app.expect_text("Multiplies the odds")
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
    app.page.wait_for_function(f"() => ({RANKING_TEXT})().includes('%')")
    before = app.ranking_rows()
    assert not any(r["whisker"] for r in before)
    app.rerun(lambda: app.page.get_by_text("90% credible intervals").click())
    app.expect_text("Whisker: 90% credible interval")
    after = app.ranking_rows()
    strip = [{k: v for k, v in r.items() if k != "whisker"} for r in after]
    assert strip == [{k: v for k, v in r.items() if k != "whisker"} for r in before]  # same bars and names
    assert all(r["whisker"] and r["whisker"][0] <= r["bar"] + 1 for r in after), after  # whiskers added
    assert "90% credible interval" in app.ranking_text()  # said in words too (screen readers)
    app.page.locator(".st-key-bdx-ranking").screenshot(path=str(SHOTS / f"intervals-{size}.png"),
                                                       animations="disabled")
    app.tab("Next best test")
    app.expect_text("Leading cause now")
    app.expect_text("Each result of the first five")
    app.page.get_by_text("Each result of the first five").first.scroll_into_view_if_needed()
    app.page.screenshot(path=str(SHOTS / f"next-test-{size}.png"), animations="disabled")
    app.tab("Sensitivity")
    app.page.locator('[data-testid="stVegaLiteChart"]').first.scroll_into_view_if_needed()
    app.page.wait_for_function(  # the tornado chart (the page's only chart) names the cause's numbers
        "() => { const s = document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg.marks')[0];"
        " return !!s && s.textContent.includes('Antipsychotic'); }")
    app.page.screenshot(path=str(SHOTS / f"sensitivity-{size}.png"), animations="disabled")
    assert "Traceback" not in app.page.inner_text("body")


def test_case_file_download_and_upload(app, tmp_path):
    app.open()
    app.fill("Neutrophils (ANC)", "800 /uL")
    app.tab("Tests")
    app.choose("HIV", "negative")
    app.page.wait_for_url(re.compile(r"test_hiv=negative"))  # the address bar may lag the run by a moment
    before = re.sub(r"&?f\.[^&]*", "", app.page.url.split("?", 1)[1])
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
    assert re.sub(r"&?f\.[^&]*", "", app.page.url.split("?", 1)[1]) == before  # the same evidence


def test_bad_input_shows_a_message_not_a_traceback(app):
    app.open()
    app.fill("White cells (WBC)", "1.0")
    app.fill("Neutrophils (ANC)", "3,5")  # a decimal comma is read; 3.5 does not fit a WBC of 1.0
    body = app.page.inner_text("body")
    assert "could not be used" in body and "must not exceed the WBC" in body
    app.fill("Neutrophils (ANC)", "1,500")  # a comma before three digits: ask, do not guess
    body = app.page.inner_text("body")
    assert "could not be used" in body and "decimal point" in body
    assert "Traceback" not in body
    app.page.screenshot(path=str(SHOTS / "input-error.png"))


def test_share_and_restore_through_the_widgets(app, browser):
    app.open()
    app.fill("Age (years)", "34")
    app.tab("Blood count")
    app.fill("Neutrophils (ANC)", "0.1")
    app.tab("Medication")
    app.fill("Add a drug", "clozapine")
    app.fill("Weeks since start", "9")
    app.page.wait_for_url(re.compile(r"f\.med\.clozapine\.weeks=9"))
    app.page.get_by_role("button", name="Share").click()
    link = app.page.locator('[data-testid="stCode"]').last.inner_text().strip()
    assert link.startswith("http") and "f.cbc.anc=0.1" in link
    other = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        again = AppPage(other.new_page(), app.url)
        again.open(link.split("?", 1)[1])  # the link as shared (waits for the first run and the ranking)
        expect = sync_api.expect
        expect(again.page.get_by_label("Age (years)", exact=True).first).to_have_value("34", timeout=30_000)
        assert "Other evidence" not in again.page.inner_text("body")  # no chips: the same widgets
        again.tab("Medication")
        again.wait_idle()
        expect(again.page.get_by_label("Weeks since start", exact=True).first).to_have_value("9", timeout=30_000)
        again.tab("Blood count")
        again.wait_idle()
        expect(again.page.get_by_label("Neutrophils (ANC)", exact=True).first).to_have_value("0.1", timeout=30_000)
        again.page.screenshot(path=str(SHOTS / "restored-link-1366x768.png"))
    finally:
        other.close()


@pytest.mark.parametrize("app", [{"width": 1366, "height": 768}, {"width": 1920, "height": 1080}],
                         indirect=True, ids=["laptop", "wide"])
def test_why_chart_labels_every_bar(app):
    size = f"{app.page.viewport_size['width']}x{app.page.viewport_size['height']}"
    for name, query in (("six", "anc=severe&alc=low&hb=low&plt=low&hx_fever=present&smear_blasts=absent&sex=male"),
                        ("two", "anc=severe&exposure_antipsychotic=clozapine_window")):
        app.open(query)
        chart = app.page.locator('[data-testid="stVegaLiteChart"]').first  # the why chart (the ranking is HTML)
        chart.scroll_into_view_if_needed()
        app.page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length === 1"
            " && document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg.marks')[0]")
        texts = app.page.evaluate("""() => {
            const svg = document.querySelectorAll('[data-testid="stVegaLiteChart"] svg.marks')[0];
            const bars = svg.querySelectorAll('g.mark-rect path').length;
            const boxes = [...svg.querySelectorAll('g.mark-text text')].filter(t => t.textContent.includes(': '))
                .map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.top, r.bottom, r.width]; });
            return {bars, boxes}; }""")
        assert texts["bars"] == len(texts["boxes"]) > 0, texts  # one readable label per bar
        tops = sorted(texts["boxes"], key=lambda b: b[1])
        assert all(b[3] > 0 for b in tops)  # drawn, not hidden
        assert all(a[2] <= b[1] + 1 for a, b in zip(tops, tops[1:])), tops  # none overprints the next
        chart.screenshot(path=str(SHOTS / f"why-{name}-{size}.png"))


def test_printable_summary(app, tmp_path):
    app.open(CLOZAPINE_LINK)
    app.page.get_by_role("button", name="Summary").click()
    with app.page.expect_download(timeout=120_000) as dl:
        app.page.get_by_role("button", name="Printable page (HTML)").click()
    page = tmp_path / "summary.html"
    dl.value.save_as(page)
    text = page.read_text()
    for part in ("Evidence entered", "Ranking", "90% credible interval", "Why the top causes rank",
                 "Tests that would tell the most", "knowledge", "not a medical device", "Do not miss"):
        assert part in text, part
    with app.page.expect_download(timeout=120_000) as dl:
        app.page.get_by_role("button", name="PDF").click()
    pdf = tmp_path / "summary.pdf"
    dl.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1  # one page
    view = app.page.context.new_page()
    view.goto(page.as_uri())
    view.screenshot(path=str(SHOTS / "summary-html.png"), full_page=True)
    view.emulate_media(media="print")
    printed = view.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", printed)) == 1
    view.close()
    # printing the app itself gives the results, not a blank form
    app.page.keyboard.press("Escape")
    app.page.emulate_media(media="print")
    assert not app.page.locator(".st-key-bdx-form").is_visible()
    assert app.page.locator(".st-key-bdx-ranking").is_visible()
    app.page.emulate_media(media="screen")


def test_explanation_tab_switch_lists_and_apply_undo(app):
    app.open(CLOZAPINE_LINK + "&ancestry=african")
    app.rerun(lambda: app.page.get_by_role("tab", name="Explanation").click())
    app.page.wait_for_function("() => document.body.innerText.includes('Most probable explanations')")
    body = app.page.inner_text("body")
    assert "present and needed" in body and "Tests that would most confirm it" in body
    assert "Antipsychotic alone" in body or "Antipsychotic (clozapine and others) alone" in body
    app.page.get_by_text("Most probable explanations").first.scroll_into_view_if_needed()
    app.page.screenshot(path=str(SHOTS / "explanation.png"), animations="disabled")
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


#: JavaScript: where the ranking, the open analysis and the two tab bars sit in the window
_FOLD = """() => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
                        return [Math.round(r.top), Math.round(r.bottom), Math.round(r.width)]; };
  const a = document.querySelector('.st-key-bdx-analysis');
  const panel = a && [...a.querySelectorAll('[role="tabpanel"]')].find((p) => p.offsetParent !== null);
  return {h: window.innerHeight, y: window.scrollY,
          ranking: box(document.querySelector('.st-key-bdx-ranking ol.bdx-rank')),
          chart: box(panel && panel.querySelector('[data-testid="stVegaLiteChart"]')),
          table: box(panel && panel.querySelector('[data-testid="stDataFrame"]')),
          tabs: [...document.querySelectorAll('[role="tablist"]')].map((t) => t.scrollWidth - t.clientWidth)}; }"""


@pytest.mark.parametrize("app", [{"width": 1366, "height": 768}, {"width": 1920, "height": 1080}],
                         indirect=True, ids=["laptop", "wide"])
def test_ranking_why_and_next_tests_fit_the_screen(app):
    """Issue 13 item 8: ranking, Why and next best tests are read without scrolling the page."""
    app.open(CLOZAPINE_LINK)
    app.page.wait_for_function(f"() => ({RANKING_TEXT})().includes('%')")  # the ranking is drawn
    app.page.wait_for_function(  # and the Why chart
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg.marks').length >= 1")
    app.expect_text("likely given these findings")
    fold = app.page.evaluate(_FOLD)
    assert fold["y"] == 0 and all(over <= 1 for over in fold["tabs"]), fold  # every tab title shows
    assert fold["ranking"] and fold["ranking"][1] <= fold["h"], fold
    assert fold["chart"] and fold["chart"][1] <= fold["h"] and fold["chart"][2] > 300, fold
    app.tab("Next best test")
    app.expect_text("Leading cause now")
    app.page.locator(".st-key-bdx-analysis [data-testid='stDataFrame']").first.wait_for()
    fold = app.page.evaluate(_FOLD)
    assert fold["y"] == 0 and fold["table"] and fold["table"][1] <= fold["h"], fold
    assert fold["ranking"][1] <= fold["h"], fold
