"""User-controlled text never renders as Markdown (issue 15, item 3): link keys and values,
uploaded file names and contents, typed values echoed in messages."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("streamlit.testing.v1")

from bayesdx.ui.markup import md
from test_app import _uploader_key, new_app, shown

IMAGE = "![x](http://127.0.0.1:9/b.png)"
LINK = "[Session expired - click to log in](https://example.invalid/login)"
EXTRA = "**bold** :red[red] :material/home: $x^2$ <b>html</b> www.example.invalid"


def _raw(at) -> str:
    return "\n".join(str(e.value) for e in [*at.error, *at.warning, *at.info, *at.success,
                                            *at.markdown, *at.caption])


def _inert(raw: str, payload: str) -> None:
    """The payload is in the page only escaped: read as itself, never rendered."""
    assert payload not in raw
    assert md(payload) in raw
    assert payload in shown(raw)


@pytest.mark.parametrize("payload", [IMAGE, LINK, EXTRA])
def test_md_escapes_every_markdown_construct(payload):
    out = md(payload)
    assert not re.search(r"(?<!\\)[\[\]()!*:$<>_`~|#&@.]", out)
    assert shown(out) == payload


def test_md_folds_line_breaks():
    assert md("a\n# heading\r\n- item") == "a \\# heading \\- item"


@pytest.mark.parametrize("params", [{IMAGE: "present"}, {"anc": IMAGE}, {LINK: "1"}, {"anc": LINK}])
def test_a_malicious_link_is_shown_as_text(params):
    at = new_app(params)
    raw = _raw(at)
    assert "link parameter" in shown(raw)
    payload = next(iter(params)) if next(iter(params)) != "anc" else params["anc"]
    _inert(raw, payload)


def test_an_uploaded_file_name_and_content_are_shown_as_text():
    at = new_app()
    up = at.file_uploader(key=_uploader_key(at))
    name = f"{IMAGE}.yaml"
    up.set_value((name, f"medications:\n  - name: '{LINK}'\n".encode(), "application/x-yaml")).run()
    assert not at.exception
    raw = "\n".join(e.value for e in at.error)
    _inert(raw, name)
    assert "[Session expired" not in raw.replace("\\[Session expired", "")


def test_an_uploaded_duplicate_key_is_refused():
    at = new_app()
    up = at.file_uploader(key=_uploader_key(at))
    up.set_value(("dup.yaml", b"medications: [{name: clozapine, weeks: 9}]\nmedications: []\n",
                  "application/x-yaml")).run()
    err = shown("\n".join(e.value for e in at.error))
    assert "medications: must be given once; got it at line 1 and again at line 2" in err


def test_a_typed_value_echoed_in_an_error_is_shown_as_text():
    at = new_app()
    at.text_input(key="w:cbc.anc").input(IMAGE).run()
    raw = _raw(at)
    assert "must be a number" in shown(raw)
    assert "](http" not in raw
