"""Per-set sections of the validation report (``bayesdx validate --report DIR``).

:func:`write_validation_report` writes what :func:`~bayesdx.evaluation.report.write_report`
writes for the own vignettes (summary.md, cases.csv, report.json, calibration.png),
then adds a section per further set: the published case reports (figures, misses,
``published.csv``) and the clinical behaviour suite (passed/failed, every failed
expectation, ``probes.csv``). ``report.json`` gains a ``sets`` object holding
each set. :func:`validation_dict` is the same data for ``validate --json``.

Examples
--------
>>> import tempfile
>>> from bayesdx.evaluation.suite import run_validation
>>> v = run_validation(sets=("probes",))
>>> with tempfile.TemporaryDirectory() as d:
...     rep = write_validation_report(v, d)
...     sorted(p.name for p in rep.files)
['probes.csv', 'report.json', 'summary.md']
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Problem
from .report import ReportError, _case_row, _figures, write_report
from .suite import Validation

__all__ = ["SetsReport", "validation_dict", "write_validation_report"]


@dataclass(frozen=True)
class SetsReport:
    """Files written; ``plot`` is None without vignettes or without matplotlib."""

    folder: Path
    summary: Path
    json: Path
    files: tuple[Path, ...]
    plot: Path | None


def _published_rows(score) -> list[dict[str, Any]]:
    rows = []
    for r in score.results:
        row = _case_row(r)
        row["citation"] = r.vignette.citation or ""
        row["url"] = r.vignette.url or ""
        row["not_expressed"] = " | ".join(r.vignette.not_expressed)
        rows.append(row)
    return rows


def validation_dict(v: Validation, model=None) -> dict[str, Any]:
    """Every set that ran: figures, per-case rows (vignette sets) and probe results."""
    from ..knowledge.load import knowledge_hash

    out: dict[str, Any] = {"bayesdx": __version__,
                           "knowledge_hash": model.kb.digest if model else knowledge_hash(),
                           "date": _dt.date.today().isoformat(), "sets": {}}
    if v.vignettes is not None:
        out["sets"]["vignettes"] = _figures(v.vignettes) | {
            "cases": [_case_row(r) for r in v.vignettes.results]}
    if v.published is not None:
        out["sets"]["published"] = _figures(v.published) | {
            "cases": _published_rows(v.published)}
    if v.probes is not None:
        p = v.probes
        out["sets"]["probes"] = {"n": p.n, "passed": p.passed, "failed": p.failed,
                                 "unknown_causes": p.unknown_causes(),
                                 "probes": [r.to_dict() for r in p.results]}
    return out


def _md_published(s) -> list[str]:
    n = s.n
    lines = ["", "## Published case reports", "",
             f"{n} case reports (`validation/published`), scored like the vignettes.", "",
             "| measure | value |", "|---|---|",
             f"| top-1 accuracy | {s.top1:.3f} ({sum(r.top1 for r in s.results)}/{n}) |",
             f"| top-3 accuracy | {s.top3:.3f} ({sum(r.top3 for r in s.results)}/{n}) |",
             f"| mean reciprocal rank | {s.mrr:.3f} |",
             f"| Brier score | {s.brier:.4f} |", f"| log loss | {s.log_loss:.4f} |", ""]
    misses = s.misses
    lines += [f"### Misses ({len(misses)})", ""]
    if not misses:
        return lines + ["None: every reported diagnosis ranked first."]
    lines += ["| case | reported | rank | top three |", "|---|---|---|---|"]
    for r in misses:
        top = (r.error.splitlines()[0] if r.error else ", ".join(
            f"{c} {p:.2f}" for c, p in zip(r.ranking[:3], r.probs[:3])))
        lines.append(f"| {r.vignette.id} | {r.vignette.cause} | {r.rank or '-'} | {top} |")
    return lines


def _md_probes(p, name) -> list[str]:
    lines = ["", "## Clinical behaviour suite", "",
             f"{p.n} probes (`validation/probes`): **{p.passed} passed, {p.failed} failed**.", ""]
    if p.unknown_causes():
        lines += ["Cause ids named by probes that the model does not have: "
                  + ", ".join(f"`{c}`" for c in p.unknown_causes()) + ".", ""]
    for r in p.failures:
        lines.append(f"- **{r.probe.id}**: {r.probe.title}")
        if r.error:
            lines.append(f"  - could not run: {r.error.splitlines()[0]}")
        for c in r.failures:
            lines.append(f"  - {c.expectation.describe(name)}: {c.detail}")
    lines += ["", "| probe | covers | result |", "|---|---|---|"]
    for r in p.results:
        lines.append(f"| {r.probe.id} | {', '.join(r.probe.covers)} | "
                     f"{'pass' if r.passed else 'FAIL'} |")
    return lines


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["id"])
        w.writeheader()
        w.writerows(rows)


def write_validation_report(v: Validation, folder: str | Path, model=None,
                            bins: int = 10) -> SetsReport:
    """Write the report of every set that ran into ``folder``.

    Raises
    ------
    ReportError
        When ``folder`` cannot be created or written.
    """
    folder = Path(folder)
    labels = getattr(getattr(model, "net", None), "labels", {}) if model else {}

    def name(c: str) -> str:
        return labels.get(c, c)

    files: list[Path] = []
    plot = None
    if v.vignettes is not None:
        rep = write_report(v.vignettes, folder, model, bins)
        files += list(rep.files)
        plot = rep.plot
    try:
        folder.mkdir(parents=True, exist_ok=True)
        summary, js = folder / "summary.md", folder / "report.json"
        data = json.loads(js.read_text(encoding="utf-8")) if v.vignettes is not None else {}
        data["sets"] = validation_dict(v, model)["sets"]
        text = summary.read_text(encoding="utf-8") if v.vignettes is not None else (
            f"# Validation report\n\nbayesdx {__version__} · "
            f"{_dt.date.today().isoformat()}\n")
        if v.published is not None:
            text += "\n".join(_md_published(v.published)) + "\n"
            _write_csv(folder / "published.csv", _published_rows(v.published))
            files.append(folder / "published.csv")
        if v.probes is not None:
            text += "\n".join(_md_probes(v.probes, name)) + "\n"
            _write_csv(folder / "probes.csv", [
                {"id": r.probe.id, "covers": " ".join(r.probe.covers),
                 "passed": int(r.passed), "error": r.error or "",
                 "failed": " | ".join(f"{c.expectation.describe()}: {c.detail}"
                                      for c in r.failures)} for r in v.probes.results])
            files.append(folder / "probes.csv")
        summary.write_text(text, encoding="utf-8")
        js.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ReportError(Problem(str(folder), "", "must be a writable folder",
                                  f"{type(exc).__name__}: {exc.strerror or exc}",
                                  "choose another --report folder")) from None
    files += [p for p in (summary, js) if p not in files]
    return SetsReport(folder, summary, js, tuple(files), plot)
