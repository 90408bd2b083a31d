"""A one-page summary of a scenario for the notes: printable HTML and PDF.

Holds what a reader of the notes needs and nothing else: the evidence as
entered (and as the model counted it), the ranking with 90% credible
intervals, why the top causes rank where they do, the "do not miss" and
consistency lines, the tests that would tell the most, the model's version
and the disclaimer. Every number comes from the package
(:func:`~bayesdx.diagnosis.diagnose_evidence`, :func:`~bayesdx.explain.explain`,
:func:`~bayesdx.voi.next_tests`, :func:`~bayesdx.uncertainty.credible_intervals`,
:func:`~bayesdx.alerts.check_alerts`); this module lays them out.

The PDF is drawn with `fpdf2 <https://py-pdf.github.io/fpdf2/>`_ (pure
Python, maintained, no system libraries), from the same :class:`Summary`.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> m = load_model()
>>> s = build_summary(m, {"anc": "severe", "exposure_antipsychotic": "clozapine_window"}, draws=0)
>>> s.ranking[0][0]
'Drug: Antipsychotic'
>>> "not a medical device" in to_html(s) and to_pdf(s)[:5] == b"%PDF-"
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from . import __version__
from .alerts import check_alerts
from .diagnosis import DISCLAIMER, diagnose_evidence
from .explain import explain
from .uncertainty import credible_intervals
from .voi import next_tests
from .words import pct, short_label, state_text

__all__ = ["Summary", "build_summary", "to_html", "to_pdf"]

TOP = 8
"""Causes listed in the ranking."""
EXPLAINED = 3
"""Top causes whose reasons are given."""
TESTS = 5
"""Suggested tests."""


@dataclass(frozen=True)
class Summary:
    """Everything on the page, as text (no numbers left to compute)."""

    entered: tuple[tuple[str, str], ...]
    counted: tuple[tuple[str, str], ...]
    ranking: tuple[tuple[str, str, str], ...]  # cause, probability, 90% interval ('' if none)
    reasons: tuple[tuple[str, str], ...]  # cause, one sentence
    alerts: tuple[str, ...]
    tests: tuple[tuple[str, str], ...]  # test, what it would do
    version: str
    day: str
    disclaimer: str = DISCLAIMER


def build_summary(model, evidence: Mapping[str, str], *, entered: Sequence[tuple[str, str]] = (),
                  intervals: Mapping[str, tuple[float, float]] | None = None, draws: int = 1000,
                  engine=None, label=None) -> Summary:
    """The summary of one scenario.

    Parameters
    ----------
    model : Model
        From :func:`bayesdx.diagnosis.load_model`.
    evidence : mapping
        Node -> state, as the model sees it.
    entered : sequence of (field, value)
        What the person typed, as they typed it (shown first).
    intervals : mapping, optional
        Cause id -> (5th, 95th percentile), when already computed; otherwise
        computed with ``draws`` draws (0: none).
    engine : Engine, optional
        The engine to run the analyses on (default ``model.engine``).
    label : callable, optional
        ``label(node) -> text`` for findings (default: the node's label in ``model/``).
    """
    engine = engine or model.engine
    labels = model.net.labels
    name = label or (lambda n: labels.get(n, n))
    d = diagnose_evidence(model, evidence, draws=0)
    if intervals is None and draws > 0:
        iv = credible_intervals(engine, dict(evidence), draws=draws, seed=0)
        intervals = {c: (float(iv[i, 0]), float(iv[i, 1])) for i, c in enumerate(engine.causes)}
    intervals = intervals or {}
    ranking = tuple((short_label(c.label), pct(c.posterior),
                     f"{pct(intervals[c.id][0])}-{pct(intervals[c.id][1])}" if c.id in intervals else "")
                    for c in d.causes[:TOP])
    reasons = []
    for c in d.causes[:EXPLAINED] if evidence else ():
        ex = explain(engine, c.id, dict(evidence))
        up = "; ".join(f"{name(i.node)}: {state_text(i.state)}" for i in ex.supporting[:3])
        down = "; ".join(f"{name(i.node)}: {state_text(i.state)}" for i in ex.against[:2])
        text = f"{pct(ex.prior)} before any finding, {pct(ex.posterior)} now."
        text += f" Raised most by {up}." if up else ""
        text += f" Lowered by {down}." if down else ""
        reasons.append((short_label(c.label), text))
    a = check_alerts(model.kb, evidence, {c.id: c.posterior for c in d.causes})
    alerts = tuple([f"Check these entries: {x.message}." for x in a.inconsistent]
                   + [f"Do not miss: {x.text}" for x in a.do_not_miss])
    nt = next_tests(engine, dict(evidence), by="info")
    tests = []
    for t in nt.items[:TESTS]:
        best = max(t.outcomes, key=lambda o: o.prob, default=None)
        what = f"{t.expected_entropy_reduction:.2f} bits"
        if best is not None:
            what += f"; most likely {state_text(best.state)} ({pct(best.prob)})"
        tests.append((name(t.finding), what))
    counted = tuple((name(n), state_text(s)) for n, s in evidence.items())
    return Summary(tuple(entered), counted, ranking, tuple(reasons), alerts, tuple(tests),
                   f"bayesdx {__version__}, knowledge {model.kb.digest[:12]}", date.today().isoformat())


# --------------------------------------------------------------------------- HTML

_CSS = """
@page { size: A4; margin: 14mm; }
body { font: 9.5pt/1.3 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; max-width: 190mm;
       margin: 0 auto; }
h1 { font-size: 13pt; margin: 0 0 1mm; } h2 { font-size: 10.5pt; margin: 3mm 0 1mm; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; } td, th { padding: 0.3mm 2mm; text-align: left; vertical-align: top; }
th { font-weight: 600; border-bottom: 1px solid #ccc; } td.n { text-align: right; white-space: nowrap; }
.disc { font-weight: 600; } .alert { color: #a00000; font-weight: 600; } .meta { color: #555; font-size: 9pt; }
@media print { .noprint { display: none; } }
"""


def _rows(rows, head=None, numeric=()) -> str:
    esc = html.escape
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{esc(str(v))}</td>'
                                    for i, v in enumerate(r)) + "</tr>")
    return "".join(out) + "</table>"


def to_html(s: Summary) -> str:
    """A self-contained printable HTML page (no scripts, no external files); user text is escaped."""
    esc = html.escape
    parts = [f"<!doctype html><html lang=en><meta charset=utf-8><title>bayesdx summary {esc(s.day)}</title>"
             f"<style>{_CSS}</style><body>",
             "<h1>bayesdx: causes of a low white-cell count, summary</h1>",
             f'<p class=disc>{esc(s.disclaimer)}</p>']
    parts.append("<h2>Evidence entered</h2>")
    if s.entered:
        parts.append("<p><b>Entered:</b> " + " · ".join(f"{esc(k)}: {esc(v)}" for k, v in s.entered) + "</p>")
    parts.append("<p><b>Counted as:</b> " + " · ".join(f"{esc(k)}: <b>{esc(v)}</b>" for k, v in s.counted) + "</p>"
                 if s.counted else "<p>No findings entered.</p>")
    if s.alerts:
        parts.append("<h2>Safety</h2>" + "".join(f"<p class=alert>{esc(a)}</p>" for a in s.alerts))
    parts.append("<h2>Ranking</h2>")
    parts.append(_rows(s.ranking, ("Cause", "Probability", "90% credible interval"), numeric=(1, 2)))
    parts.append("<p class=meta>Causes can co-exist, so the probabilities need not add up to 100%. The interval "
                 "shows how much the answer depends on the uncertain numbers of the model.</p>")
    if s.reasons:
        parts.append("<h2>Why the top causes rank here</h2>" + _rows(s.reasons))
    if s.tests:
        parts.append("<h2>Tests that would tell the most</h2><p class=meta>Expected information about which "
                     "causes are present (bits) and the most likely result.</p>" + _rows(s.tests))
    parts.append(f"<p class=meta>{esc(s.version)} · {esc(s.day)} · research and teaching tool, not a "
                 "medical device.</p></body></html>")
    return "".join(parts)


# --------------------------------------------------------------------------- PDF

_LATIN = str.maketrans({"–": "-", "—": "-", "→": "->", "≤": "<=", "≥": ">=", "’": "'", "‘": "'", "“": '"',
                        "”": '"', "…": "...", "·": "-", "⁹": "9", "\u202f": " "})


def _t(text: str) -> str:
    """Text for the PDF's core font (Latin-1): a few typographic signs spelt out, anything else '?'."""
    return str(text).translate(_LATIN).encode("latin-1", "replace").decode("latin-1")


def to_pdf(s: Summary) -> bytes:
    """The summary as a one-page A4 PDF (fpdf2, core Helvetica font)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(14, 12, 14)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_title("bayesdx summary")
    w = pdf.epw

    def heading(text: str) -> None:
        pdf.ln(1.5)
        pdf.set_font("Helvetica", "B", 10.5)
        pdf.cell(w, 5.5, _t(text), new_x="LMARGIN", new_y="NEXT", border="B")
        pdf.ln(0.8)

    def para(text: str, style: str = "", size: float = 9, color=(0, 0, 0)) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.set_text_color(*color)
        pdf.multi_cell(w, 3.9, _t(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)

    def table(rows, head, widths) -> None:
        pdf.set_font("Helvetica", "", 8.5)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=3.8, padding=0.4,
                       headings_style=FontFace(emphasis="BOLD"), borders_layout="HORIZONTAL_LINES",
                       first_row_as_headings=bool(head)) as t:
            for r in ([head] if head else []) + [list(r) for r in rows]:
                row = t.row()
                for v in r:
                    row.cell(_t(v))

    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(w, 7, "bayesdx: causes of a low white-cell count - summary", new_x="LMARGIN", new_y="NEXT")
    para(s.disclaimer, "B")
    heading("Evidence entered")
    if s.entered:
        para("Entered: " + "; ".join(f"{k}: {v}" for k, v in s.entered))
    para("Counted as: " + "; ".join(f"{k}: {v}" for k, v in s.counted) if s.counted else "No findings entered.")
    if s.alerts:
        heading("Safety")
        for a in s.alerts:
            para(a, "B", color=(160, 0, 0))
    heading("Ranking")
    table(s.ranking, ["Cause", "Probability", "90% credible interval"], (3, 1, 1.3))
    para("Causes can co-exist, so the probabilities need not add up to 100%.", size=8, color=(80, 80, 80))
    if s.reasons:
        heading("Why the top causes rank here")
        table(s.reasons, None, (1, 3))
    if s.tests:
        heading("Tests that would tell the most (expected information, in bits; most likely result)")
        table(s.tests, None, (1.6, 2))
    pdf.ln(2)
    para(f"{s.version} - {s.day} - research and teaching tool, not a medical device.", size=8, color=(80, 80, 80))
    return bytes(pdf.output())
