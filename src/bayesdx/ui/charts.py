"""Charts of the app: the why-chart, the A/B comparison and the sensitivity tornado.

Each chart is designed with Altair once per shape (number of rows) and kept as
a Vega-Lite spec; every rerun only supplies a new data frame, so a redraw
costs no chart construction. The functions take plain rows computed by the
package; they compute no probabilities. The ranking itself is HTML
(:mod:`bayesdx.ui.ranking`), so that the first page needs no Vega.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import copy
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any


from ..words import pct

if TYPE_CHECKING:
    import pandas as pd
from .ranking import FAMILIES, FAMILY_COLORS


class _Altair:
    """:mod:`altair`, imported on first use (its import and first validated spec cost
    ~0.5 s): the first page's ranking is HTML (:mod:`bayesdx.ui.ranking`), not a chart."""

    def __getattr__(self, name: str):
        import altair

        return getattr(altair, name)


alt = _Altair()

__all__ = ["FAMILIES", "FAMILY_COLORS", "chart_height", "compare_chart", "effect_text", "family_legend_html",
           "tornado_chart", "why_chart", "why_rows"]

ROW = 24
_LABEL_LIMIT = 300
WEIGHT_CLIP = 3.0


def family_legend_html(families: Sequence[str] = FAMILIES) -> str:
    """An HTML legend line of the family colours (static markup, no user input)."""
    color = dict(zip(FAMILIES, FAMILY_COLORS))
    items = [f'<span style="white-space:nowrap"><span style="color:{color.get(f, "#999")}">&#9632;</span> {f}</span>'
             for f in families]
    return ('<div style="font-size:0.8rem;color:#555;line-height:1.6">' + " &nbsp; ".join(items)
            + ' &nbsp; <span style="white-space:nowrap"><b>|</b> prior</span></div>')


def chart_height(spec: dict[str, Any], extra: int = 70) -> int:
    """Pixel height for ``st.vega_lite_chart``: the plot height plus axis and legend."""
    return int(spec.get("height", 40)) + extra


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite spec without data: every layer reads the data frame given at draw time."""
    d = chart.to_dict()
    for key in ("data", "datasets", "config", "$schema"):
        d.pop(key, None)
    for layer in d.get("layer", []):
        if layer.get("data") == {"name": "empty"}:
            del layer["data"]
    return d


def _family_color(legend: bool = True) -> alt.Color:
    return alt.Color("family:N", scale=alt.Scale(domain=list(FAMILIES), range=list(FAMILY_COLORS)),
                     legend=alt.Legend(orient="top", title=None, direction="horizontal",
                                       labelFontSize=12, symbolType="square") if legend else None)


def _y(field: str = "label", size: int = 13) -> alt.Y:
    # sorted by the data's "rank" column, so the spec stays the same from one draw to the next
    # (the browser then only swaps the data); layers need op "min" to share a sorted domain
    return alt.Y(f"{field}:N", sort=alt.EncodingSortField("rank", op="min", order="ascending"), title=None,
                 axis=alt.Axis(labelLimit=_LABEL_LIMIT, labelFontSize=size, ticks=False, domain=False))


# --------------------------------------------------------------------------- why


def effect_text(lr: float) -> str:
    """A likelihood ratio as what it does to the odds, in words a clinician reads at once.

    >>> effect_text(83.2), effect_text(1.37), effect_text(0.25), effect_text(0.0), effect_text(float("inf"))
    ('odds ×83', 'odds ×1.37', 'odds ÷4', 'rules it out', 'required')
    """
    if math.isinf(lr):
        return "required"
    if lr == 0:
        return "rules it out"
    if math.isnan(lr):
        return "no effect"
    x = lr if lr >= 1 else 1 / lr
    num = f"{x:,.0f}" if x >= 10 else f"{x:.3g}"
    return f"odds {'×' if lr >= 1 else '÷'}{num}"


def why_rows(items, label) -> list[dict]:
    """Chart rows from :class:`~bayesdx.explain.Contribution` items (``label(c) -> text``)."""
    rows = []
    for c in items:
        w = c.weight
        shown = 0.0 if math.isnan(w) else max(-WEIGHT_CLIP, min(WEIGHT_CLIP, w))
        rows.append({"finding": label(c), "weight": shown, "lr": effect_text(c.lr),
                     "direction": "raises" if w > 0 else "lowers",
                     "without": pct(c.without), "exact": f"{c.lr:.4g}"})
    return rows


WHY_ROW = 40  # each row: the finding's name on a line, its bar below (never dropped, never overprinted)


@lru_cache(maxsize=64)
def _why_spec(n: int, lim: float) -> dict[str, Any]:
    label_expr = ("datum.value == 0 ? '×1' : datum.value > 0 ? '×' + format(pow(10, datum.value), '~g')"
                  " : '÷' + format(pow(10, -datum.value), '~g')")
    ticks = [float(v) for v in range(-int(lim), int(lim) + 1)]
    x_scale = alt.Scale(domain=[-lim, lim], nice=False)
    base = alt.Chart().encode(
        y=alt.Y("key:N", sort=alt.EncodingSortField("rank", op="min", order="ascending"), title=None, axis=None),
        tooltip=[alt.Tooltip("finding:N", title="Finding"), alt.Tooltip("exact:N", title="Likelihood ratio"),
                 alt.Tooltip("weight:Q", title="Weight (log10 LR)", format="+.2f"),
                 alt.Tooltip("without:N", title="Probability without it")])
    bars = base.mark_bar(height=14, yOffset=8).encode(
        x=alt.X("weight:Q", scale=x_scale,
                axis=alt.Axis(title="Multiplies the odds of the cause by (log scale)", labelExpr=label_expr,
                              values=ticks, titleFontWeight="normal", grid=True)),
        color=alt.Color("direction:N", scale=alt.Scale(domain=["raises", "lowers"],
                                                       range=["#1a7f37", "#c62828"]),
                        legend=alt.Legend(orient="top", title=None)))
    name = base.mark_text(align="left", baseline="bottom", dy=-2, fontSize=12, color="#222222").encode(
        x=alt.X("x0:Q", scale=x_scale), text="finding:N")
    pos = base.transform_filter("datum.weight >= 0").mark_text(
        fontSize=11, color="#222222", align="left", dx=4, dy=8).encode(x="weight:Q", text="lr:N")
    neg = base.transform_filter("datum.weight < 0").mark_text(
        fontSize=11, color="#222222", align="right", dx=-4, dy=8).encode(x="weight:Q", text="lr:N")
    zero = alt.Chart().mark_rule(color="#444444").encode(x=alt.datum(0))
    return _spec(alt.layer(bars, name, pos, neg, zero).properties(height=max(WHY_ROW * n, 40)))


def why_chart(rows: Sequence[dict]) -> tuple[dict[str, Any], pd.DataFrame]:
    """Diverging bars of the weight of evidence (log10 likelihood ratio) per finding: (spec, data).

    Every bar carries its finding's name on the line above it (text, not an
    axis label, so none is dropped or overprinted at any width) and its
    effect on the odds at its end.

    >>> spec, df = why_chart([{"finding": "Neutrophil count: severe", "weight": 0.84, "lr": "odds ×6.9",
    ...                        "direction": "raises", "without": "40%", "exact": "6.87"}])
    >>> list(df["finding"]), spec["height"]
    (['Neutrophil count: severe'], 40)
    """
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
    df = pd.DataFrame(list(rows), columns=["finding", "weight", "lr", "direction", "without", "exact"])
    df["rank"] = range(len(df))
    df["key"] = [f"{i}: {f}" for i, f in enumerate(df["finding"])]  # one band per row even if names repeat
    biggest = max([abs(w) for w in df["weight"]] or [1.0])
    lim = float(max(1, math.ceil(biggest + 0.6)))  # room for the effect labels
    df["x0"] = -lim
    return copy.deepcopy(_why_spec(len(df), lim)), df


# --------------------------------------------------------------------------- what-if


@lru_cache(maxsize=64)
def _compare_spec(n: int) -> dict[str, Any]:
    tooltip = [alt.Tooltip("label:N", title="Cause"), alt.Tooltip("A:N", title="A (pinned)"),
               alt.Tooltip("B:N", title="B (now)"), alt.Tooltip("change:N", title="Change")]
    scale = alt.Scale(domain=[0, 1], nice=False)
    base = alt.Chart().encode(y=_y("label", 12), tooltip=tooltip)
    rule = base.mark_rule(color="#9e9e9e", strokeWidth=2).encode(
        x=alt.X("a:Q", scale=scale, axis=alt.Axis(format="%", title="Probability: A (grey) → B (colour)",
                                                    titleFontWeight="normal")), x2="b:Q")
    a = base.mark_point(filled=True, size=70, color="#9e9e9e", opacity=1).encode(x="a:Q")
    b = base.mark_point(filled=True, size=90, opacity=1).encode(x="b:Q", color=_family_color(legend=False))
    right = base.transform_filter("datum.right < 0.8").mark_text(
        align="left", dx=8, fontSize=11, color="#222222").encode(x="right:Q", text="change:N")
    left = base.transform_filter("datum.right >= 0.8").mark_text(
        align="right", dx=-8, fontSize=11, color="#222222").encode(x="left:Q", text="change:N")
    return _spec(alt.layer(rule, a, b, right, left).properties(height=max(ROW * n, 40)))


def compare_chart(rows: Sequence[dict]) -> tuple[dict[str, Any], pd.DataFrame]:
    """A (grey) and B (coloured) posterior per cause joined by a line: (spec, data).

    ``rows`` hold ``label, family, a, b``.
    """
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
    df = pd.DataFrame(list(rows), columns=["label", "family", "a", "b"])
    df["rank"] = range(len(df))
    df["A"] = df["a"].map(pct)
    df["B"] = df["b"].map(pct)
    df["right"] = df[["a", "b"]].max(axis=1)
    df["left"] = df[["a", "b"]].min(axis=1)
    df["change"] = [f"{100 * (b - a):+.1f} pts" if abs(b - a) >= 0.0005 else "same"
                    for a, b in zip(df["a"], df["b"])]
    return copy.deepcopy(_compare_spec(len(df))), df


# --------------------------------------------------------------------------- tornado

LOW_HIGH_COLORS = ("#4575b4", "#d6604d")  # the number at its low, at its high
TORNADO_ROW = 46  # each row: the number's name and source on a line, its bar below
NAME_LIMIT = 520  # px; a longer line ends in an ellipsis (the tooltip and the table have it whole)


def _num(x: float) -> str:
    return f"{x:.3g}"


@lru_cache(maxsize=64)
def _tornado_spec(n: int, lo: float, hi: float, fmt: str, title: str) -> dict[str, Any]:
    tooltip = [alt.Tooltip("name:N", title="Number"), alt.Tooltip("path:N", title="Key in priors/"),
               alt.Tooltip("values:N", title="Value (low to high)"),
               alt.Tooltip("end:N", title="Set to"), alt.Tooltip("P:N", title="Probability then"),
               alt.Tooltip("reference:N", title="Source")]
    y = alt.Y("label:N", sort=alt.EncodingSortField("rank", op="min", order="ascending"), title=None,
              axis=None)
    x_scale = alt.Scale(domain=[lo, hi], nice=False, zero=False)
    base = alt.Chart().encode(y=y, tooltip=tooltip)
    bars = base.mark_bar(height=16, yOffset=8).encode(
        x=alt.X("p:Q", scale=x_scale,
                axis=alt.Axis(format=fmt, title=title, titleFontWeight="normal", grid=True, tickCount=6)),
        x2="base:Q",
        color=alt.Color("end:N", scale=alt.Scale(domain=["its low", "its high"], range=list(LOW_HIGH_COLORS)),
                        legend=alt.Legend(orient="top", title="One number at", direction="horizontal",
                                          labelFontSize=12, titleFontSize=12, titleFontWeight="normal")))
    right = base.transform_filter("datum.p >= datum.base").mark_text(
        align="left", dx=4, dy=8, fontSize=11, color="#222222").encode(x="p:Q", text="number:N")
    left = base.transform_filter("datum.p < datum.base").mark_text(
        align="right", dx=-4, dy=8, fontSize=11, color="#222222").encode(x="p:Q", text="number:N")
    first = base.transform_filter("datum.end == 'its low'")
    # the name and its source on one line, never overprinting each other (an ellipsis when too long;
    # the tooltip and the table below have both whole)
    name = first.mark_text(align="left", baseline="bottom", dy=-3, fontSize=12, color="#222222",
                           limit=NAME_LIMIT).encode(x=alt.X("x0:Q", scale=x_scale), text="headline:N")
    at_value = first.mark_tick(color="#111111", thickness=2, size=24, yOffset=8).encode(x="base:Q")
    return _spec(alt.layer(bars, right, left, name, at_value).properties(height=max(TORNADO_ROW * n, 40)))


def tornado_chart(rows: Sequence[dict], base: float, title: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """A tornado chart of one cause's posterior, one bar per number of ``priors/``: (spec, data).

    ``rows`` (largest swing first) hold ``name, source, path, value, low, high,
    at_low, at_high`` and ``reference``: the cause's posterior with the number
    at its low (``at_low``) and at its high (``at_high``), every other number
    at its value. ``base`` (the posterior with every number at its value) is
    the vertical line; each bar's ends carry the low and high values, and the
    number's name and source stand above it.
    """
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
    long = []
    for rank, r in enumerate(rows):
        label = f"{rank}: {r['name']}"  # unique: one band per row
        for end, p, x in (("its low", r["at_low"], r["low"]), ("its high", r["at_high"], r["high"])):
            long.append({"label": label, "rank": rank, "end": end, "p": float(p), "base": float(base),
                         "number": _num(x), "name": r["name"], "source": r["source"], "path": r["path"],
                         "headline": f"{r['name']} · {r['source']}",
                         "values": f"{_num(r['value'])} ({_num(r['low'])} to {_num(r['high'])})",
                         "P": pct(float(p)), "reference": r["reference"]})
    df = pd.DataFrame(long, columns=["label", "rank", "end", "p", "base", "number", "name", "source", "path",
                                     "headline", "values", "P", "reference"])
    xs = [float(base), *df["p"]]
    span = max(xs) - min(xs)
    pad = max(0.2 * span, 0.004)
    lo, hi = max(0.0, min(xs) - pad), min(1.0, max(xs) + pad)
    if hi - lo < 0.01:  # hardly any swing: still a readable axis
        lo, hi = max(0.0, min(xs) - 0.005), min(1.0, max(xs) + 0.005)
    df["x0"], df["x1"] = lo, hi
    fmt = ".0%" if hi - lo > 0.2 else ".1%" if hi - lo > 0.02 else ".2%"
    return copy.deepcopy(_tornado_spec(len(rows), round(lo, 4), round(hi, 4), fmt, title)), df
