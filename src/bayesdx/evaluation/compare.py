"""Compare two versions of the knowledge on the validation vignettes.

The researcher's loop: edit a number in ``priors/``, run ``bayesdx compare
--against HEAD``, read what moved, decide. Each side is

* a **folder** holding ``priors/`` and optionally ``model/`` (without
  ``model/`` the current one is used: both are copied into a temporary root), or
* a **git revision** (``HEAD``, ``HEAD~2``, a tag, a commit): its ``model/`` and
  ``priors/`` are extracted with ``git archive`` into a temporary folder.

:func:`compare_roots` scores both on the same vignettes and returns a
:class:`Comparison`: the numbers that differ, the accuracy figures of both
sides, the vignettes whose top cause changed and every vignette's movers,
largest first.

Examples
--------
>>> from bayesdx.knowledge.load import default_root
>>> cmp = compare_roots(default_root(), default_root(), vignettes=None, limit_cases=2)
>>> cmp.moved, cmp.params
([], ())
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import BayesdxError, Problem, UsageError
from .vignettes import Score

__all__ = ["CaseChange", "CompareError", "Comparison", "ParamChange", "SetChange",
           "compare_roots", "knowledge_side"]

MOVED = 1e-6  # smallest change of a posterior reported as a move


class CompareError(UsageError):
    """A side of the comparison cannot be resolved."""


@dataclass(frozen=True)
class ParamChange:
    """One number that differs (None: only on the other side)."""

    path: str
    old: float | None
    new: float | None


@dataclass(frozen=True)
class CaseChange:
    """How one vignette changed: its top cause, the rank of its expected cause, its movers."""

    case: str
    expected: str
    old_top: tuple[str, float] | None
    new_top: tuple[str, float] | None
    old_rank: int | None
    new_rank: int | None
    movers: tuple[tuple[str, float, float], ...]  # (cause, old, new), largest change first
    old_top3: tuple[str, ...] = ()
    new_top3: tuple[str, ...] = ()

    @property
    def largest(self) -> float:
        """Largest absolute change of a posterior (0 when none moved)."""
        return max((abs(n - o) for _, o, n in self.movers), default=0.0)

    @property
    def top_changed(self) -> bool:
        """The first-ranked cause differs."""
        return (self.old_top and self.old_top[0]) != (self.new_top and self.new_top[0])


@dataclass(frozen=True)
class SetChange:
    """Headline figures of a further validation set on both sides.

    ``flipped`` lists the probes whose verdict changed, as ``(id, passed now)``.
    """

    name: str
    old: dict
    new: dict
    flipped: tuple[tuple[str, bool], ...] = ()

    def format(self) -> list[str]:
        """Lines of the per-set section."""
        out = [f"{self.name}:"]
        for k in self.old:
            a, b = self.old[k], self.new[k]
            f = ".0f" if k == "passed" else ".4f"
            out.append(f"  {k:<8}{a:9{f}}{b:9{f}}{b - a:+9{f}}")
        out += [f"    {pid}: {'now passes' if ok else 'now FAILS'}" for pid, ok in self.flipped]
        return out


@dataclass(frozen=True)
class Comparison:
    """Everything ``bayesdx compare`` prints."""

    old_label: str
    new_label: str
    old: Score
    new: Score
    params: tuple[ParamChange, ...]
    cases: tuple[CaseChange, ...]
    sets: tuple[SetChange, ...] = ()

    @property
    def moved(self) -> list[CaseChange]:
        """Vignettes with at least one posterior moved, largest first."""
        return [c for c in self.cases if c.movers or c.top_changed]

    def format(self, limit: int | None = 15, causes: int = 3) -> str:
        """Readable report: numbers, accuracy, top-cause changes, largest movers."""
        out = [f"compare: OLD = {self.old_label}", f"         NEW = {self.new_label}"]
        out.append(f"numbers changed: {len(self.params)}")
        for p in self.params[:limit] if limit else self.params:
            old = "-" if p.old is None else f"{p.old:g}"
            new = "-" if p.new is None else f"{p.new:g}"
            out.append(f"  {p.path}: {old} -> {new}")
        if limit and len(self.params) > limit:
            out.append(f"  ... {len(self.params) - limit} more (use --all)")
        out.append(f"{'accuracy':<10}{'OLD':>9}{'NEW':>9}{'change':>9}")
        for name in ("top1", "top3", "mrr", "brier", "log_loss"):
            a, b = getattr(self.old, name), getattr(self.new, name)
            out.append(f"  {name:<8}{a:9.4f}{b:9.4f}{b - a:+9.4f}")
        for sc in self.sets:
            out += sc.format()
        flips = [c for c in self.cases if c.top_changed]
        out.append(f"top cause changed: {len(flips)}")
        for c in flips:
            out.append(f"  {c.case}: {_top(c.old_top)} -> {_top(c.new_top)} "
                       f"(expected {c.expected}: rank {c.old_rank or '-'} -> {c.new_rank or '-'})")
        moved = self.moved
        out.append(f"vignettes moved: {len(moved)} of {len(self.cases)} (largest first)")
        for c in moved[:limit] if limit else moved:
            rank = (f"rank {c.old_rank or '-'} -> {c.new_rank or '-'}" if c.old_rank != c.new_rank
                    else f"rank {c.new_rank or '-'}")
            out.append(f"  {c.case} (expected {c.expected}, {rank}; largest {c.largest:.4f})")
            if c.old_top3 != c.new_top3:
                out.append(f"      top 3: {', '.join(c.old_top3)} -> {', '.join(c.new_top3)}")
            for cause, o, n in c.movers[:causes]:
                out.append(f"      {cause:<28}{o:9.4f} -> {n:.4f}  ({n - o:+.4f})")
        if limit and len(moved) > limit:
            out.append(f"  ... {len(moved) - limit} more (use --all)")
        return "\n".join(out)


def _top(t: tuple[str, float] | None) -> str:
    return "error" if t is None else f"{t[0]} {t[1]:.3f}"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except OSError as exc:
        raise CompareError(Problem("compare", "git", "must be installed to compare revisions",
                                   str(exc), "compare two folders instead")) from None


@contextmanager
def knowledge_side(spec: str, current: Path) -> Iterator[tuple[Path, str]]:
    """Yield ``(root, label)`` for a folder or a git revision; temporary files are removed after.

    ``current`` is the root whose ``model/`` completes a folder that holds only
    ``priors/``, and whose git repository resolves revisions.
    """
    current = Path(current).resolve()
    path = Path(spec)
    with tempfile.TemporaryDirectory(prefix="bayesdx-compare-") as tmp:
        if path.is_dir():
            if not (path / "priors").is_dir():
                raise CompareError(Problem("compare", spec, "must be a folder holding priors/ "
                                           "or a git revision", "a folder without priors/",
                                           "point at the folder that contains priors/"))
            if (path / "model").is_dir():
                yield path.resolve(), f"folder {path}"
                return
            root = Path(tmp) / "root"
            shutil.copytree(path / "priors", root / "priors")
            shutil.copytree(current / "model", root / "model")
            yield root, f"folder {path} (priors) with the current model/"
            return
        top = _git(current, "rev-parse", "--show-toplevel")
        rev = _git(current, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
        if top.returncode or rev.returncode:
            raise CompareError(Problem("compare", spec, "must be a folder holding priors/ or a "
                                       "git revision", "neither", "HEAD, HEAD~1, a tag, or a path"))
        sha = rev.stdout.decode().strip()
        try:
            prefix = current.relative_to(Path(top.stdout.decode().strip()).resolve()).as_posix()
        except ValueError:
            raise CompareError(Problem("compare", str(current), "must be inside the git checkout "
                                       "that holds the revision", spec, "run from the checkout")
                               ) from None
        prefix = "" if prefix == "." else prefix + "/"
        arc = _git(current, "archive", "--format=tar", sha, "--", f"{prefix}model",
                   f"{prefix}priors")
        if arc.returncode:
            raise CompareError(Problem("compare", spec, "must be a revision holding model/ and "
                                       "priors/", arc.stderr.decode().strip().splitlines()[-1]
                                       if arc.stderr else "nothing", "a later revision"))
        with tarfile.open(fileobj=io.BytesIO(arc.stdout)) as tf:
            tf.extractall(tmp, filter="data")
        yield Path(tmp) / prefix, f"git {spec} ({sha[:10]})"


def _params(model) -> dict[str, float]:
    return {p.path: p.value for p in model.net.params}


def _case_change(ro, rn) -> CaseChange:
    po, pn = ro.posteriors, rn.posteriors
    movers = [(c, po[c], pn[c]) for c in po.keys() & pn.keys() if abs(pn[c] - po[c]) > MOVED]
    movers.sort(key=lambda m: (-abs(m[2] - m[1]), m[0]))
    top = (lambda r: (r.ranking[0], r.probs[0]) if r.ranking else None)
    return CaseChange(ro.vignette.id, ro.vignette.cause, top(ro), top(rn), ro.rank, rn.rank,
                      tuple(movers), ro.ranking[:3], rn.ranking[:3])


def compare_roots(old_root: str | Path, new_root: str | Path, vignettes: str | Path | None = None,
                  *, old_label: str | None = None, new_label: str | None = None,
                  limit_cases: int | None = None, progress: bool = False) -> Comparison:
    """Score the vignettes with the knowledge under both roots and compare.

    ``limit_cases`` (tests and doctests) scores only the first vignettes.

    Raises
    ------
    KnowledgeError
        When either side's knowledge is invalid (the message names its files).
    """
    from ..diagnosis import load_model
    from .vignettes import load_vignettes, score_vignettes

    vs = load_vignettes(vignettes)[:limit_cases]
    mo, mn = load_model(old_root), load_model(new_root)
    so = score_vignettes(vs, mo, progress=progress)
    sn = score_vignettes(vs, mn, progress=progress)
    po, pn = _params(mo), _params(mn)
    params = tuple(ParamChange(k, po.get(k), pn.get(k)) for k in sorted(po.keys() | pn.keys())
                   if po.get(k) != pn.get(k))
    cases = sorted((_case_change(a, b) for a, b in zip(so.results, sn.results)),
                   key=lambda c: (-c.largest, not c.top_changed, c.case))
    sets = _other_sets(mo, mn) if limit_cases is None else ()
    return Comparison(old_label or str(old_root), new_label or str(new_root), so, sn, params,
                      tuple(cases), sets)


def _other_sets(mo, mn) -> tuple[SetChange, ...]:
    """The published cases and the probes of the working tree, on both sides."""
    from .probe_score import score_probes
    from .probes import load_probes
    from .suite import set_folder
    from .vignettes import load_vignettes, score_vignettes

    out: list[SetChange] = []
    vs: list = []
    pub = set_folder("published")
    if pub.is_dir() and any(pub.glob("*.yaml")):
        try:
            vs = load_vignettes(pub, published=True)
        except BayesdxError as exc:   # shown, not fatal: validate --set published lists them
            vs = []
            out.append(SetChange(f"published (not compared: {str(exc).splitlines()[0]}; see "
                                 "bayesdx validate --set published)", {}, {}))
    if pub.is_dir() and vs:
        a, b = score_vignettes(vs, mo), score_vignettes(vs, mn)
        keys = ("top1", "top3", "mrr", "brier", "log_loss")
        out.append(SetChange("published", {k: getattr(a, k) for k in keys},
                             {k: getattr(b, k) for k in keys}))
    folder = set_folder("probes")
    if folder.is_dir() and any(folder.glob("*.yaml")):
        ps = load_probes(folder)
        a, b = score_probes(ps, mo), score_probes(ps, mn)
        flipped = tuple((ra.probe.id, rb.passed) for ra, rb in zip(a.results, b.results)
                        if ra.passed != rb.passed)
        out.append(SetChange("probes", {"passed": float(a.passed)}, {"passed": float(b.passed)},
                             flipped))
    return tuple(out)
