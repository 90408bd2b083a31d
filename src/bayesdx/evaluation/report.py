"""Validation report: summary.md, cases.csv, report.json and a reliability plot.

:func:`write_report` turns a :class:`~bayesdx.evaluation.vignettes.Score` into the files
a reviewer reads (``bayesdx validate --report DIR``):

``summary.md``
    the headline figures (top-1, top-3, mean reciprocal rank, Brier score, log
    loss, calibration error), the figures per cause family, the misses with
    their top three, the reliability table and the plot;
``cases.csv``
    one row per vignette;
``report.json``
    everything above, machine-readable;
``calibration.png``
    the reliability diagram (needs matplotlib, a ``dev`` extra; without it the
    other files are still written and the summary says why the plot is missing).


Examples
--------
>>> import tempfile
>>> from bayesdx.evaluation.vignettes import load_vignettes, score_vignettes
>>> score = score_vignettes(load_vignettes()[:3])
>>> with tempfile.TemporaryDirectory() as d:
...     rep = write_report(score, d)
...     [p.name for p in rep.files][:3]
['summary.md', 'cases.csv', 'report.json']
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Problem, UsageError
from .vignettes import SCORE_DEFINITION, Calibration, Score

__all__ = ["Report", "ReportError", "plot_reliability", "report_dict",
           "write_report"]


class ReportError(UsageError):
    """The report folder cannot be written."""


@dataclass(frozen=True)
class Report:
    """Paths of the files written; ``plot`` is None when matplotlib is missing."""

    folder: Path
    summary: Path
    cases: Path
    json: Path
    plot: Path | None

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file written."""
        return tuple(p for p in (self.summary, self.cases, self.json, self.plot) if p)


def _num(x: float | None, nd: int = 6):
    return None if x is None or math.isnan(x) else round(float(x), nd)


def _case_row(r) -> dict[str, Any]:
    v = r.vignette
    row: dict[str, Any] = {
        "id": v.id, "expected": v.cause, "family": r.family or "",
        "equivalent": " ".join(v.equivalent),
        "also": " ".join(v.also), "rank": r.rank or "", "top1": int(r.top1), "top3": int(r.top3),
        "reciprocal_rank": _num(1.0 / r.rank) if r.rank else 0.0,
        "also_in_top3": int(r.also_ok) if v.also else "",
        "brier": _num(r.brier), "log_loss": _num(r.log_loss),
        "p_expected": _num(r.posteriors.get(v.cause)),
    }
    for k in range(3):
        row[f"top{k + 1}_cause"] = r.ranking[k] if len(r.ranking) > k else ""
        row[f"top{k + 1}_p"] = _num(r.probs[k]) if len(r.probs) > k else ""
    row["error"] = r.error or ""
    return row


def _figures(s: Score) -> dict[str, Any]:
    return {"n": s.n, "top1": _num(s.top1), "top3": _num(s.top3), "mrr": _num(s.mrr),
            "brier": _num(s.brier), "log_loss": _num(s.log_loss), "errors": len(s.errors)}


def report_dict(score: Score, model=None, bins: int = 10) -> dict[str, Any]:
    """Everything in the report as plain JSON-ready data."""
    from ..knowledge.load import knowledge_hash

    digest = model.kb.digest if model is not None else knowledge_hash()
    return {
        "bayesdx": __version__, "knowledge_hash": digest,
        "date": _dt.date.today().isoformat(), "definition": SCORE_DEFINITION,
        "summary": _figures(score) | {"ece": _num(score.calibration(bins).ece)},
        "families": {k: _figures(v) for k, v in score.by_family().items()},
        "calibration": score.calibration(bins).to_dict(),
        "cases": [_case_row(r) for r in score.results],
    }


def plot_reliability(cal: Calibration, path: str | Path, title: str) -> Path | None:
    """Write a reliability diagram (PNG); return None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    full = [b for b in cal.bins if b.n]
    fig, (ax, hx) = plt.subplots(2, 1, figsize=(5.5, 6.5), height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    ax.plot([b.predicted for b in full], [b.observed for b in full], "o-", color="#1f5aa6",
            label=f"model (ECE {cal.ece:.3f})")
    for b in full:
        ax.annotate(f"n={b.n}", (b.predicted, b.observed), textcoords="offset points",
                    xytext=(4, -10), fontsize=7, color="#444")
    ax.set(xlim=(0, 1), ylim=(0, 1), ylabel="observed frequency", title=title)
    ax.legend(loc="upper left", fontsize=8)
    hx.bar([(b.lo + b.hi) / 2 for b in cal.bins], [max(b.n, 0) for b in cal.bins],
           width=0.9 / len(cal.bins), color="#9bb7d4")
    hx.set_yscale("log")
    hx.set(xlabel="predicted probability", ylabel="forecasts")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def _md_summary(d: dict[str, Any], plot: Path | None) -> str:
    s, cal = d["summary"], d["calibration"]
    n = s["n"]
    hits1 = round(s["top1"] * n)
    hits3 = round(s["top3"] * n)
    lines = [
        "# Validation report", "",
        f"bayesdx {d['bayesdx']} · knowledge `{d['knowledge_hash'][:12]}` · {d['date']} · "
        f"{n} vignettes" + (f" ({s['errors']} could not be scored)" if s["errors"] else ""), "",
        "| measure | value |", "|---|---|",
        f"| top-1 accuracy | {s['top1']:.3f} ({hits1}/{n}) |",
        f"| top-3 accuracy | {s['top3']:.3f} ({hits3}/{n}) |",
        f"| mean reciprocal rank | {s['mrr']:.3f} |",
        f"| Brier score (lower is better) | {s['brier']:.4f} |",
        f"| log loss (lower is better) | {s['log_loss']:.4f} |",
        (f"| expected calibration error, {len(cal['bins'])} bins over {cal['n']} forecasts | "
         f"{s['ece']:.4f} |"), "",
        f"*Definition.* {d['definition']}", "",
        "## By cause family (of the expected cause)", "",
        "| family | n | top-1 | top-3 | MRR | Brier | log loss |", "|---|---|---|---|---|---|---|",
    ]
    for fam, f in d["families"].items():
        lines.append(f"| {fam} | {f['n']} | {f['top1']:.3f} | {f['top3']:.3f} | {f['mrr']:.3f} "
                     f"| {f['brier']:.4f} | {f['log_loss']:.4f} |")
    misses = [c for c in d["cases"] if not c["top1"]]
    lines += ["", f"## Misses ({len(misses)})", ""]
    if misses:
        lines += ["| vignette | expected | rank | top three |", "|---|---|---|---|"]
        for c in misses:
            top = (c["error"].splitlines()[0] if c["error"] else ", ".join(
                f"{c[f'top{k}_cause']} {c[f'top{k}_p']:.2f}" for k in (1, 2, 3)
                if c[f"top{k}_cause"]))
            lines.append(f"| {c['id']} | {c['expected']} | {c['rank'] or '-'} | {top} |")
    else:
        lines.append("None: every expected cause ranked first.")
    lines += ["", "## Calibration (every vignette × cause forecast)", ""]
    lines.append(f"![reliability diagram]({plot.name})" if plot else
                 "No plot: matplotlib is not installed; try `pip install -e '.[dev]'`.")
    lines += ["", "| bin | n | mean predicted | observed |", "|---|---|---|---|"]
    for b in cal["bins"]:
        pm = "-" if b["predicted"] is None else f"{b['predicted']:.3f}"
        om = "-" if b["observed"] is None else f"{b['observed']:.3f}"
        lines.append(f"| {b['lo']:.1f}–{b['hi']:.1f} | {b['n']} | {pm} | {om} |")
    lines += ["", "Per vignette: `cases.csv`; everything: `report.json`.", ""]
    return "\n".join(lines)


def write_report(score: Score, folder: str | Path, model=None, bins: int = 10) -> Report:
    """Write summary.md, cases.csv, report.json and calibration.png into ``folder``.

    Raises
    ------
    ReportError
        When ``folder`` cannot be created or written.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        d = report_dict(score, model, bins)
        cal = score.calibration(bins)
        plot = (plot_reliability(cal, folder / "calibration.png",
                                 f"Vignettes: reliability ({cal.n} forecasts)")
                if cal.n else None)
        (folder / "report.json").write_text(json.dumps(d, indent=1) + "\n", encoding="utf-8")
        with open(folder / "cases.csv", "w", newline="", encoding="utf-8") as fh:
            rows = d["cases"]
            w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["id"])
            w.writeheader()
            w.writerows(rows)
        (folder / "summary.md").write_text(_md_summary(d, plot), encoding="utf-8")
    except OSError as exc:
        raise ReportError(Problem(str(folder), "", "must be a writable folder",
                                  f"{type(exc).__name__}: {exc.strerror or exc}",
                                  "choose another --report folder")) from None
    return Report(folder, folder / "summary.md", folder / "cases.csv", folder / "report.json",
                  plot)
