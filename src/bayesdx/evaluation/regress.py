"""Golden posteriors: pin every vignette's posteriors, detect unintended changes.

``validation/golden/posteriors.json`` holds, for every validation vignette,
the posterior of every cause rounded to 1e-6, with the bayesdx version, the
hash of ``model/`` and ``priors/`` (:func:`~bayesdx.knowledge.load.knowledge_hash`),
the method and the date. ``bayesdx regress`` recomputes them and prints every
posterior that moved by more than the tolerance (largest first), plus new or
removed vignettes and causes; ``bayesdx regress --update`` rewrites the pins
after a deliberate change. The file is written with sorted keys and rounded
numbers, so it does not depend on dict order or floating-point noise.

Examples
--------
>>> old = {"posteriors": {"v1": {"a": 0.5, "b": 0.1}}}
>>> new = {"posteriors": {"v1": {"a": 0.52, "b": 0.1}, "v2": {"a": 0.3}}}
>>> d = diff_pins(old, new, tol=1e-6)
>>> d.ok, [(c.case, c.cause, round(c.delta, 2)) for c in d.changes], d.added_cases
(False, [('v1', 'a', 0.02)], ('v2',))
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Problem, UsageError

__all__ = ["DECIMALS", "METHOD", "Change", "RegressDiff", "RegressError", "compute_pins",
           "diff_pins", "golden_path", "read_pins", "write_pins"]

METHOD = "exact engine, point estimate of priors"
DECIMALS = 6


class RegressError(UsageError):
    """The golden file is missing or cannot be read."""


@dataclass(frozen=True)
class Change:
    """One posterior that moved (``old`` or ``new`` is None for an added/removed cause)."""

    case: str
    cause: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float:
        """``new - old`` (a missing side counts as 0)."""
        return (self.new or 0.0) - (self.old or 0.0)


@dataclass(frozen=True)
class RegressDiff:
    """Differences between the pinned and the current posteriors."""

    tol: float
    n_pinned: int
    changes: tuple[Change, ...]
    added_cases: tuple[str, ...]
    removed_cases: tuple[str, ...]
    added_causes: tuple[str, ...]
    removed_causes: tuple[str, ...]
    errors: tuple[tuple[str, str | None, str | None], ...]
    old_meta: dict
    new_meta: dict

    @property
    def ok(self) -> bool:
        """True when nothing moved beyond the tolerance and nothing was added or removed."""
        return not (self.changes or self.added_cases or self.removed_cases
                    or self.added_causes or self.removed_causes or self.errors)

    def format(self, limit: int | None = 40) -> str:
        """A readable diff: largest changes first, then added/removed vignettes and causes."""
        o, n = self.old_meta, self.new_meta

        def meta(m: dict) -> str:
            return (f"bayesdx {m.get('bayesdx', '?')}, knowledge "
                    f"{str(m.get('knowledge_hash', '?'))[:12]}, {m.get('date', '?')}")

        lines = [f"pinned: {meta(o)}", f"now:    {meta(n)}"]
        if self.ok:
            lines.append(f"regress OK: {self.n_pinned} posteriors within {self.tol:g} of the pins")
            if o.get("knowledge_hash") != n.get("knowledge_hash"):
                lines.append("note: the knowledge changed without moving any pinned posterior; "
                             "'bayesdx regress --update' refreshes the hash")
            return "\n".join(lines)
        cases = {c.case for c in self.changes}
        lines.append(f"regress FAILED: {len(self.changes)} posteriors moved by more than "
                     f"{self.tol:g} in {len(cases)} vignettes (of {self.n_pinned} pinned)")
        if self.changes:
            if o.get("knowledge_hash") == n.get("knowledge_hash"):
                lines.append("the knowledge files are unchanged: the engine or the case parser "
                             "changed the posteriors")
            wc = max(len(c.case) for c in self.changes)
            wz = max(len(c.cause) for c in self.changes)
            lines.append(f"  {'case':<{wc}}  {'cause':<{wz}}  {'old':>9}  {'new':>9}  "
                         f"{'change':>10}")
            shown = self.changes if limit is None else self.changes[:limit]
            for c in shown:
                old = "-" if c.old is None else f"{c.old:.6f}"
                new = "-" if c.new is None else f"{c.new:.6f}"
                lines.append(f"  {c.case:<{wc}}  {c.cause:<{wz}}  {old:>9}  {new:>9}  "
                             f"{c.delta:>+10.6f}")
            if len(shown) < len(self.changes):
                lines.append(f"  ... {len(self.changes) - len(shown)} more (use --all)")
        for title, items in (("new vignettes (not pinned)", self.added_cases),
                             ("removed vignettes (pinned, now missing)", self.removed_cases),
                             ("new causes", self.added_causes),
                             ("removed causes", self.removed_causes)):
            if items:
                lines.append(f"{title}: {', '.join(items)}")
        for case, old_err, new_err in self.errors:
            lines.append(f"{case}: error pinned {old_err!r}, now {new_err!r}")
        lines.append("if these changes are intended, pin them: bayesdx regress --update")
        return "\n".join(lines)


def golden_path(vignettes: str | Path | None = None) -> Path:
    """``validation/golden/posteriors.json`` next to the vignette folder."""
    from .vignettes import vignette_dir

    return Path(vignettes or vignette_dir()).parent / "golden" / "posteriors.json"


def compute_pins(model, vignette_list, *, progress: bool = False) -> dict[str, Any]:
    """The golden document for ``model`` on ``vignette_list`` (rounded, sorted)."""
    from .vignettes import score_vignettes

    score = score_vignettes(vignette_list, model, progress=progress)
    posts = {r.vignette.id: {c: round(p, DECIMALS) for c, p in sorted(r.posteriors.items())}
             for r in score.results if not r.error}
    errors = {r.vignette.id: r.error.splitlines()[0] for r in score.results if r.error}
    return {"bayesdx": __version__, "knowledge_hash": model.kb.digest, "method": METHOD,
            "date": _dt.date.today().isoformat(), "decimals": DECIMALS,
            "posteriors": dict(sorted(posts.items())), "errors": dict(sorted(errors.items()))}


def write_pins(doc: dict[str, Any], path: str | Path) -> Path:
    """Write the golden document (sorted keys, one number per line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_pins(path: str | Path) -> dict[str, Any]:
    """Read a golden document.

    Raises
    ------
    RegressError
        When the file is missing or is not a golden document.
    """
    path = Path(path)
    if not path.is_file():
        raise RegressError(Problem(str(path), "", "must be a golden posteriors file",
                                   "no such file", "create it with 'bayesdx regress --update'"))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RegressError(Problem(str(path), "", "must be valid JSON", str(exc),
                                   "restore it from git or rewrite it with --update")) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("posteriors"), dict):
        raise RegressError(Problem(str(path), "posteriors", "must be a mapping of vignette "
                                   "-> cause -> posterior", type(doc).__name__,
                                   "rewrite it with 'bayesdx regress --update'"))
    return doc


def diff_pins(old: dict[str, Any], new: dict[str, Any], tol: float = 1e-6) -> RegressDiff:
    """Compare two golden documents; posteriors differing by more than ``tol`` are changes."""
    po, pn = old.get("posteriors", {}), new.get("posteriors", {})
    eo, en = old.get("errors", {}) or {}, new.get("errors", {}) or {}
    causes_o = {c for v in po.values() for c in v}
    causes_n = {c for v in pn.values() for c in v}
    changes = []
    for case in sorted(set(po) & set(pn)):
        a, b = po[case], pn[case]
        for cause in sorted(set(a) | set(b)):
            x, y = a.get(cause), b.get(cause)
            if x is None and cause not in causes_o or y is None and cause not in causes_n:
                continue  # a cause added or removed everywhere: reported once below
            if x is None or y is None or abs(y - x) > tol + 1e-12:
                changes.append(Change(case, cause, x, y))
    changes.sort(key=lambda c: (-abs(c.delta), c.case, c.cause))
    cases_o, cases_n = set(po) | set(eo), set(pn) | set(en)
    errors = tuple((c, eo.get(c), en.get(c)) for c in sorted(cases_o & cases_n)
                   if eo.get(c) != en.get(c))
    meta = ("bayesdx", "knowledge_hash", "date", "method")
    return RegressDiff(
        tol=tol, n_pinned=sum(len(v) for v in po.values()), changes=tuple(changes),
        added_cases=tuple(sorted(cases_n - cases_o)),
        removed_cases=tuple(sorted(cases_o - cases_n)),
        added_causes=tuple(sorted(causes_n - causes_o)),
        removed_causes=tuple(sorted(causes_o - causes_n)), errors=errors,
        old_meta={k: old.get(k) for k in meta}, new_meta={k: new.get(k) for k in meta})
