"""The ranking of causes as plain HTML: bars, prior ticks, credible-interval whiskers, percentages.

The ranking is the first thing the app shows and the thing every click
redraws, so it is drawn by the server as HTML and CSS (``st.html``: no
iframe, no script) rather than as a Vega-Lite chart: the browser needs no
Vega bundle (~0.8 MB) and no chart compilation before the first paint, and a
redraw is a swap of a few kilobytes of markup. The style sheet is
:data:`RANKING_CSS` (in the page's CSS, :data:`bayesdx.ui.page.CSS`).

What it shows, for each cause, in the given order (or grouped by family):
its readable name, a bar of its probability in its family's colour, a black
tick at its prior, a thin line with round ends along the bar's lower edge
from the 5th to the 95th percentile when the 90% credible interval is known,
and the percentage at the bar's end (inside a long bar). Each row also says
all this in words for screen readers and in its tooltip, and carries its
numbers as ``data-*`` attributes (full precision), which the tests read.
Nothing is computed here: the rows come from the package.

Examples
--------
>>> rows = [{"id": "a", "label": "A & B", "family": "drug", "prior": 0.02, "posterior": 0.9}]
>>> html = ranking_html(rows)
>>> 'data-id="a"' in html, "A &amp; B" in html, ">90%<" in html
(True, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from ..words import pct

__all__ = ["AXIS_TICKS", "FAMILIES", "FAMILY_COLORS", "INSIDE", "PRIOR_NEAR", "RANKING_CSS", "label_place",
           "ordered", "ranking_html"]

FAMILIES = ("marrow", "autoimmune", "infection", "drug", "nutritional", "congenital", "other")
FAMILY_COLORS = ("#7b3294", "#e08214", "#c51b7d", "#2166ac", "#1b7837", "#8c510a", "#6b6b6b")
INSIDE = 0.8
"""A bar at least this long carries its percentage inside (white)."""
PRIOR_NEAR = 0.02
"""A prior tick this close right of a bar's end pushes the percentage past it."""
AXIS_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Where the probability axis is labelled (and gridlines drawn)."""

RANKING_CSS = """
.bdx-rank {list-style: none; margin: 0 !important; padding: 0 !important; font-size: 13px;}
.bdx-rank li, .bdx-axis {display: grid; grid-template-columns: minmax(7rem, 46%) 1fr; column-gap: 8px;
  align-items: center; margin: 0; padding: 0;}
.bdx-rank li {min-height: 22px;}
.bdx-lab {text-align: right; line-height: 1.15; color: #31333f; overflow: hidden;  /* a long name: two lines */
  display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow-wrap: anywhere;}
.bdx-track {position: relative; height: 22px; margin-right: 2.4rem;
  background-image: linear-gradient(to right, #e4e4e4 1px, transparent 1px); background-size: 25% 100%;
  border-right: 1px solid #e4e4e4;}
.bdx-bar {position: absolute; left: 0; top: 3px; height: 16px; border-radius: 0 2px 2px 0;}
.bdx-prior {position: absolute; top: 1px; width: 2.5px; height: 20px; margin-left: -1.25px; background: #111;}
.bdx-ci {position: absolute; top: 16.5px; height: 1.5px; background: #333;}
.bdx-ci::before, .bdx-ci::after {content: ""; position: absolute; top: -2px; width: 5.5px; height: 5.5px;
  border-radius: 50%; background: #333;}
.bdx-ci::before {left: -2.75px;} .bdx-ci::after {right: -2.75px;}
.bdx-pct {position: absolute; top: 0; line-height: 21px; font-size: 12px; font-weight: 700; white-space: nowrap;}
.bdx-out {padding-left: 5px; color: #222; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff;}
.bdx-in {padding-right: 6px; color: #fff; transform: translateX(-100%);}
.bdx-axis {height: 2.6rem; align-items: start; font-size: 12px; color: #555;}
.bdx-ticks {position: relative; height: 100%; margin-right: 2.4rem;}
.bdx-ticks span {position: absolute; top: 2px; transform: translateX(-50%);}
.bdx-ticks .bdx-axtitle {top: 1.3rem; left: 50%; white-space: nowrap; font-size: 12px; font-weight: 400;}
.bdx-sr {position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;}
"""
"""The ranking's style sheet (static; part of :data:`bayesdx.ui.page.CSS`)."""


def label_place(post: float, prior: float) -> tuple[float, bool]:
    """Where the percentage goes: (x, inside the bar?), at the end of the bar, past a prior tick just there.

    >>> label_place(0.9, 0.1), label_place(0.30, 0.31), label_place(0.3, 0.1)
    ((0.9, True), (0.31, False), (0.3, False))
    """
    if post >= INSIDE:
        return post, True
    if post <= prior < post + PRIOR_NEAR:
        return prior, False  # start after the tick rather than on it
    return post, False


def ordered(rows: Sequence[dict], by_family: bool = False) -> list[dict]:
    """The rows in the order they are drawn: as given, or grouped by family (in :data:`FAMILIES`
    order, most probable first within a family; stable).

    >>> [r["id"] for r in ordered([{"id": "a", "family": "other", "posterior": 0.9},
    ...                            {"id": "b", "family": "drug", "posterior": 0.1}], by_family=True)]
    ['b', 'a']
    """
    if not by_family:
        return list(rows)
    rank = {f: i for i, f in enumerate(FAMILIES)}
    return sorted(rows, key=lambda r: (rank.get(r["family"], len(rank)), -r["posterior"]))


def _x(p: float) -> str:
    """A probability as a CSS percentage of the track (clipped to [0, 100])."""
    return f"{100 * min(max(p, 0.0), 1.0):.3f}%"


def _row(r: dict, color: dict[str, str]) -> str:
    post, prior = float(r["posterior"]), float(r["prior"])
    lo, hi = float(r.get("lo", math.nan)), float(r.get("hi", math.nan))
    has_ci = math.isfinite(lo) and math.isfinite(hi)
    label, fam = escape(str(r["label"])), escape(str(r["family"]))
    interval = f"{pct(lo)} to {pct(hi)}" if has_ci else "not shown"
    words = f"prior {pct(prior)}" + (f", 90% credible interval {pct(lo)} to {pct(hi)}" if has_ci else "")
    tip = f"{label} ({fam}): posterior {pct(post)}; 90% interval: {interval}; prior {pct(prior)}"
    x, inside = label_place(post, prior)
    data = f'data-id="{escape(str(r["id"]))}" data-posterior="{post!r}" data-prior="{prior!r}"'
    if has_ci:
        data += f' data-lo="{lo!r}" data-hi="{hi!r}"'
    parts = [f'<li {data} title="{tip}">', f'<span class="bdx-lab">{label}</span>',
             '<span class="bdx-track">',
             f'<span class="bdx-bar" style="width:{_x(post)};background:{color.get(r["family"], "#999")}"></span>']
    if has_ci:
        parts.append(f'<span class="bdx-ci" style="left:{_x(lo)};width:calc({_x(hi)} - {_x(lo)})"></span>')
    parts.append(f'<span class="bdx-prior" style="left:{_x(prior)}"></span>')
    parts.append(f'<span class="bdx-pct {"bdx-in" if inside else "bdx-out"}" style="left:{_x(x)}">{pct(post)}</span>')
    parts.append(f'<span class="bdx-sr">, {words}</span></span></li>')
    return "".join(parts)


def ranking_html(rows: Sequence[dict], *, by_family: bool = False) -> str:
    """The ranking as HTML (for ``st.html``; styled by :data:`RANKING_CSS`).

    ``rows`` hold ``id, label, family, prior, posterior`` and optionally
    ``lo, hi``, a 90% credible interval drawn as a whisker (NaN or missing:
    none). Labels are escaped; everything else is numbers and fixed markup.
    """
    color = dict(zip(FAMILIES, FAMILY_COLORS))
    items = "".join(_row(r, color) for r in ordered(rows, by_family))
    ticks = "".join(f'<span style="left:{_x(t)}">{100 * t:g}%</span>' for t in AXIS_TICKS)
    order = "grouped by family" if by_family else "most probable first"
    return (f'<ol class="bdx-rank" aria-label="Causes ranked by probability, {order}">{items}</ol>'
            '<div class="bdx-axis" aria-hidden="true"><span></span><span class="bdx-ticks">'
            f'{ticks}<span class="bdx-axtitle">Probability present</span></span></div>')
