"""The app's first page drawn by the server, shown while Streamlit's scripts load.

A browser with an empty cache needs one to two seconds to load and start
Streamlit's scripts (about 3 MB of JavaScript) before the app's own page can
be drawn. So the page the server sends (:mod:`bayesdx.ui.index_page`)
already holds the ranking the app is about to show: the same scenario (read
from the link's query parameters by :func:`bayesdx.ui.share.open_link`, as a
session's first run reads it), the same numbers (the same light-evidence
path, :func:`bayesdx.ui.results.rank_light`) and the same markup
(:func:`bayesdx.ui.ranking.ranking_html`), laid out where the app puts them.
It says that the form is loading, and covers the page until the live
ranking is drawn (or the first run ends without one: an error shows); a
static script then removes it (:data:`bayesdx.ui.index_page.FIRST_PAINT_JS`).

It is drawn only when it can be the page's real answer: nothing for heavy
evidence (the app ranks those in a job of the session, with a progress
bar), impossible evidence or a model that fails to load; the page then
shows Streamlit's own loading state as before. Nothing is stored.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> html = first_paint_html(load_model(), {})
>>> html.startswith('<div id="bdx-first-paint"'), 'class="bdx-rank"' in html
(True, True)
>>> first_paint_html(load_model(), {"anc": ["severe"], "hb": ["high"], "hb_": ["x"]}) is not None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from ..alerts import check_alerts
from ..diagnosis import DISCLAIMER, Model
from ..errors import BayesdxError
from ..words import pct
from . import jobs
from .charts import family_legend_html
from .entry import normalised
from .labels import cause_label
from .page import TITLE
from .index_page import FIRST_PAINT_ID, FIRST_PAINT_JS
from .ranking import ranking_html
from .results import SHOW, rank_light, ranking_caption, ranking_rows
from .scenario import derive
from .share import open_link
from .spec import form_spec

__all__ = ["first_paint_html"]


def first_paint_html(model: Model, params: Mapping[str, list[str]]) -> str | None:
    """The first page for a link's query parameters (``name -> values``), or ``None``
    when the server should not draw one (heavy or impossible evidence; see the module).

    The text is static markup: labels and numbers are escaped or formatted here,
    nothing from the link is echoed.
    """
    spec = form_spec(model.kb)
    opened = open_link(model, params)
    evidence = derive(model, normalised(opened.values, spec), opened.direct).evidence
    if not jobs.is_light(model, evidence):
        return None
    d = rank_light(model, evidence)
    if isinstance(d, BayesdxError):
        return None
    rows = ranking_rows(model, d)
    shown = rows[:SHOW[next(iter(SHOW))]]
    top = " &nbsp;·&nbsp; ".join(f"{i + 1}. <b>{escape(cause_label(model, c.id))}</b> {pct(c.posterior)}"
                                 for i, c in enumerate(d.causes[:3]))
    alerts = check_alerts(model.kb, d.evidence, {c.id: c.posterior for c in d.causes})
    dnm = ("<p><b>Do not miss</b> " + " ".join(
        f'<span class="bdx-fp-badge">{escape(x.label)} {pct(x.probability)}</span>' for x in alerts.do_not_miss)
        + "</p>") if alerts.do_not_miss else ""
    slots = '<div class="bdx-fp-slot"></div>' * 4
    return (f'<div id="{FIRST_PAINT_ID}" role="status" aria-busy="true" '
            'aria-label="The ranking, drawn by the server while the app loads">'
            f'<div class="bdx-fp-head"><div><p class="bdx-title">{escape(TITLE)}</p>'
            f'<p class="bdx-fp-caption"><b>{escape(DISCLAIMER)}</b> Nothing you enter is stored or sent '
            'anywhere.</p></div><div></div></div>'
            '<div class="bdx-fp-cols">'
            f'<div><p class="bdx-fp-busy">Loading the form …</p>{slots}</div>'
            f'<div><p class="bdx-fp-top">Most probable: {top}</p>{dnm}'
            '<div class="bdx-fp-slot bdx-fp-space"></div><div class="bdx-fp-toggle bdx-fp-space"></div>'
            f'{family_legend_html()}'
            f'<div class="bdx-fp-ranking">{ranking_html(shown)}</div>'
            f'<p class="bdx-fp-note">{escape(ranking_caption(len(d.causes) - len(shown)))}</p></div>'
            '<div></div></div></div>' + FIRST_PAINT_JS)
