"""bayesdx.ui.index_page: Streamlit's page, with the first page's scripts preloaded and its ranking drawn."""

from __future__ import annotations

import asyncio
import functools
import re
import shutil

import pytest

from bayesdx.ui import index_page, state
from bayesdx.ui.first_paint import first_paint_html
from bayesdx.ui.index_page import FIRST_PAGE_CHUNKS, FIRST_PAINT_ID, STATIC, preloads, render, template

JS = STATIC / "static" / "js"


def test_every_first_page_script_is_found_in_this_streamlit():
    """A Streamlit that renames its element scripts fails here, not silently in the browser."""
    names = {p.split(".")[0] for p in preloads()}
    assert set(FIRST_PAGE_CHUNKS) <= names


def test_the_preloads_are_closed_under_import():
    """Everything a preloaded script imports is preloaded too, or already loaded by Streamlit's page."""
    index = (STATIC / "index.html").read_text()
    have = set(re.findall(r"static/js/([A-Za-z0-9_.-]+\.js)", index)) | set(preloads())
    for f in preloads():
        assert (JS / f).is_file()
        for dep in re.findall(r'(?:from|import)\s*"\./([A-Za-z0-9_.-]+\.js)"', (JS / f).read_text()):
            assert dep in have, (f, dep)


def test_the_template_is_streamlits_page_with_the_preloads_and_the_style():
    head, tail = template()
    page = (STATIC / "index.html").read_text()
    assert head.startswith(page.split("</head>")[0]) and tail == page[page.index('<div id="root">'):]
    assert all(f'href="./static/js/{f}"' in head for f in preloads())
    assert f"#{FIRST_PAINT_ID}" in head and head.count("</head>") == 1


@pytest.fixture()
def ready():
    """The page's route with the app's model loaded (as bayesdx.ui.serve.warm hands it over)."""
    index_page.set_first_page(functools.partial(first_paint_html, state.get_model()))
    yield
    index_page._READY.clear()
    index_page._DRAW.clear()


def test_render_draws_for_the_apps_own_hosts_only(ready):
    assert render("anc=severe", "127.0.0.1:8501").startswith(f'<div id="{FIRST_PAINT_ID}"')
    assert render("", "localhost:8501").startswith(f'<div id="{FIRST_PAINT_ID}"')
    assert render("", "rebind.attacker.invalid:8501") == ""  # outside server.allowedHosts
    assert render("", None) == ""
    assert render("anc=" + "x" * index_page.MAX_QUERY, "127.0.0.1") == ""


def test_render_draws_nothing_without_a_model(monkeypatch):
    index_page.set_first_page(None)  # the knowledge failed to load: the app shows why
    try:
        assert render("", "127.0.0.1") == ""
    finally:
        index_page._READY.clear()
        index_page._DRAW.clear()


def test_render_never_fails_the_page(caplog):
    def broken(params):
        raise RuntimeError("a bug")

    index_page.set_first_page(broken)
    try:
        assert render("anc=severe", "127.0.0.1") == ""
        assert "no first page drawn" in caplog.text
        assert render("&".join(f"k{i}=1" for i in range(index_page.MAX_FIELDS + 1)), "127.0.0.1") == ""
    finally:
        index_page._READY.clear()
        index_page._DRAW.clear()


def _get(path: str, query: str = "", host: str = "127.0.0.1:8501") -> tuple[int, dict, str]:
    """GET through the page's route (a plain ASGI call: status, headers, body)."""
    from starlette.applications import Starlette

    app = Starlette(routes=index_page.routes())
    sent: list[dict] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():  # the request, then nothing (the client stays): the response ends the call
        if requests:
            return requests.pop()
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": query.encode(), "headers": [(b"host", host.encode())], "scheme": "http",
             "server": ("127.0.0.1", 8501), "client": ("127.0.0.1", 50000), "http_version": "1.1"}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body.decode()


def test_the_route_streams_the_page_with_the_first_page_in_it(ready):
    status, headers, body = _get("/", "anc=severe")
    head, tail = template()
    assert status == 200 and headers["cache-control"] == "no-cache" and "text/html" in headers["content-type"]
    assert body.startswith(head) and body.endswith(tail)
    assert f'<div id="{FIRST_PAINT_ID}"' in body[len(head):-len(tail)]
    status, _, body = _get("/", host="evil.invalid")
    assert status == 200 and body == head + tail  # Streamlit's page, nothing drawn


# --------------------------------------------------------------------------- the empty page, kept


def test_the_key_changes_with_the_knowledge(tmp_path, monkeypatch):
    from bayesdx.knowledge.files import default_root

    for folder in ("model", "priors"):
        shutil.copytree(default_root() / folder, tmp_path / folder)
    monkeypatch.setenv("BAYESDX_ROOT", str(tmp_path))
    before = index_page.page_key()
    assert index_page.page_key() == before  # stable
    prior = sorted((tmp_path / "priors").rglob("*.yaml"))[0]
    prior.write_text(prior.read_text() + "\n# a researcher's change\n")
    assert index_page.page_key() != before


def test_the_empty_page_is_kept_for_the_next_start_and_served_before_the_model(tmp_path, monkeypatch):
    monkeypatch.setattr(index_page, "_cache_file", lambda key: tmp_path / f"{index_page.CACHE_PREFIX}{key}.html")
    monkeypatch.setattr(index_page, "page_key", lambda: "k1")
    monkeypatch.setattr(index_page, "_KEY", ["k1"])
    monkeypatch.setattr(index_page, "_EMPTY", [])
    html = first_paint_html(state.get_model(), {})
    (tmp_path / f"{index_page.CACHE_PREFIX}old.html").write_text("stale")
    index_page.remember_empty_page(html)
    assert [p.name for p in tmp_path.iterdir()] == [f"{index_page.CACHE_PREFIX}k1.html"]  # the old one removed
    index_page._read_cached_empty_page()  # the next start
    assert index_page._EMPTY == [html]
    assert not index_page._READY.is_set()
    assert render("", "127.0.0.1:8501") == html  # at once, before the model is loaded
    assert render("", "evil.invalid") == ""
    monkeypatch.setattr(index_page, "page_key", lambda: "k2")  # the code or the knowledge changed
    monkeypatch.setattr(index_page, "_EMPTY", [])
    index_page._read_cached_empty_page()
    assert index_page._EMPTY == []


def test_a_damaged_or_unwritable_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(index_page, "page_key", lambda: "k1")
    monkeypatch.setattr(index_page, "_EMPTY", [])
    monkeypatch.setattr(index_page, "_cache_file", lambda key: tmp_path / "x.html")
    (tmp_path / "x.html").write_text("<script>not ours</script>")
    index_page._read_cached_empty_page()
    assert index_page._EMPTY == []
    monkeypatch.setattr(index_page, "_cache_file", lambda key: tmp_path / "missing" / "deeper" / "x.html")
    index_page.remember_empty_page('<div id="bdx-first-paint">')  # no error; nothing kept
    assert not (tmp_path / "missing").exists()
