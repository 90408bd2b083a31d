"""Run the clinical behaviour suite (:mod:`.probes`) on a model.

Each expectation becomes a :class:`Check` that either holds or fails with a
readable reason carrying the actual numbers ("Alcohol-related marrow
suppression at most 0.02: got 0.36 (rank 1)"). A cause id the model does not
have fails its expectation with a message naming the id; a case the reader
rejects fails the whole probe with the reader's message. Neither stops the run.

Examples
--------
>>> from bayesdx.evaluation.probes import load_probes
>>> s = score_probes(load_probes()[:2])
>>> s.n, s.passed + s.failed
(2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import BayesdxError
from .probes import Expectation, Probe

__all__ = ["Check", "ProbeResult", "ProbeScore", "Ranking", "check_expectation",
           "score_probes"]


@dataclass(frozen=True)
class Ranking:
    """The causes of one case, best first, with their posteriors.

    >>> r = Ranking(("a", "b"), (0.7, 0.2))
    >>> r.rank("b"), r.p("b"), r.rank("z")
    (2, 0.2, None)
    """

    causes: tuple[str, ...]
    probs: tuple[float, ...]

    def rank(self, cause: str) -> int | None:
        """1-based rank, None for an unknown id."""
        return self.causes.index(cause) + 1 if cause in self.causes else None

    def p(self, cause: str) -> float | None:
        """Posterior, None for an unknown id."""
        r = self.rank(cause)
        return None if r is None else self.probs[r - 1]

    def best(self, causes: tuple[str, ...]) -> tuple[str, int, float]:
        """The best-ranked of ``causes`` (all known): id, rank, posterior."""
        c = min(causes, key=lambda x: self.rank(x) or 10**9)
        return c, self.rank(c) or 0, self.p(c) or 0.0

    def top(self, k: int, name) -> str:
        """The first ``k`` causes as readable text."""
        return ", ".join(f"{name(c)} {p:.3f}" for c, p in zip(self.causes[:k], self.probs[:k]))


@dataclass(frozen=True)
class Check:
    """One expectation's outcome; ``detail`` gives the numbers behind it."""

    expectation: Expectation
    passed: bool
    detail: str
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeResult:
    """A probe's checks; ``error`` when a case could not be read (then it fails)."""

    probe: Probe
    checks: tuple[Check, ...] = ()
    error: str | None = None
    rankings: dict[str, Ranking] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: id, passed, error, every check and each case's top five."""
        return {"id": self.probe.id, "title": self.probe.title, "covers": list(self.probe.covers),
                "passed": self.passed, "error": self.error,
                "checks": [{"expectation": c.expectation.describe(), "passed": c.passed,
                            "detail": c.detail} for c in self.checks],
                "top": {k: [[c, round(p, 6)] for c, p in zip(r.causes[:5], r.probs[:5])]
                        for k, r in self.rankings.items()}}


@dataclass(frozen=True)
class ProbeScore:
    """Outcome of the whole suite."""

    results: tuple[ProbeResult, ...] = ()

    @property
    def n(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return self.n - self.passed

    @property
    def failures(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.passed]

    def unknown_causes(self) -> list[str]:
        """Cause ids named by probes that the model does not have (sorted)."""
        return sorted({u for r in self.results for c in r.checks for u in c.unknown})

    def format(self, name=None) -> str:
        """Text for the terminal: the count, then each failed probe and expectation."""
        lines = [f"probes: {self.n}  passed: {self.passed}  failed: {self.failed}"]
        for r in self.failures:
            lines.append(f"  FAIL {r.probe.id}: {r.probe.title}")
            if r.error:
                lines += [f"    could not run: {ln}" for ln in r.error.splitlines()[:4]]
            for c in r.failures:
                lines.append(f"    - {c.expectation.describe(name)}: {c.detail}")
        return "\n".join(lines)


def check_expectation(e: Expectation, rankings: dict[str, Ranking], name=None) -> Check:
    """Check one expectation against the rankings of case ``a`` (and ``b``).

    >>> r = {"a": Ranking(("x", "y", "z"), (0.6, 0.3, 0.1))}
    >>> check_expectation(Expectation(("y",), "first", True), r).detail
    'rank 2, 0.300; first is x 0.600'
    >>> check_expectation(Expectation(("q",), "at_most", 0.1), r).detail
    "unknown cause id 'q': the model has no such cause"
    """
    name = name or (lambda c: c)
    own = rankings[e.case]
    named = list(e.causes) + ([str(e.value)] if e.kind == "above" else [])
    unknown = [c for c in named if own.rank(c) is None]
    if unknown:
        return Check(e, False, "unknown cause id " + ", ".join(repr(c) for c in unknown)
                     + ": the model has no such cause", tuple(unknown))
    c, rank, p = own.best(e.causes)
    who = f"{name(c)} " if len(e.causes) > 1 else ""
    got = f"{who}rank {rank}, {p:.3f}"
    lead = f"first is {name(own.causes[0])} {own.probs[0]:.3f}"
    k = e.kind
    if k == "first":
        return Check(e, rank == 1, got if rank == 1 else f"{got}; {lead}")
    if k == "not_first":
        return Check(e, rank != 1, got)
    if k in ("in_top", "not_in_top"):
        inside = rank <= e.value
        ok = inside if k == "in_top" else not inside
        return Check(e, ok, f"{got}; top {e.value}: {own.top(e.value, name)}")
    if k == "at_least":
        return Check(e, p >= e.value, got)
    if k == "at_most":
        return Check(e, p <= e.value, got)
    if k == "above":
        other = str(e.value)
        po, ro = own.p(other), own.rank(other)
        return Check(e, p > po, f"{got}; {name(other)} rank {ro}, {po:.3f}")
    # higher_in: the best-ranked member's posterior in each case (same ids in both)
    pa = max(rankings["a"].p(x) or 0.0 for x in e.causes)
    pb = max(rankings["b"].p(x) or 0.0 for x in e.causes)
    ok = pa > pb if e.value == "a" else pb > pa
    ra, rb = rankings["a"].best(e.causes)[1], rankings["b"].best(e.causes)[1]
    return Check(e, ok, f"case a {pa:.3f} (rank {ra}), case b {pb:.3f} (rank {rb})")


def _ranking(case: dict, model, source: str) -> Ranking:
    from ..case import parse_case

    pc = parse_case(case, model.kb, source=source)
    ranked = model.engine.posterior(pc.evidence).ranked()
    return Ranking(tuple(c for c, _ in ranked), tuple(p for _, p in ranked))


def score_probes(probes: list[Probe], model=None, *, progress: bool = False) -> ProbeScore:
    """Run every probe on ``model`` (default: the repository's) and check its expectations."""
    from ..diagnosis import load_model
    from ..progress import progress_bar

    model = model or load_model()
    labels = getattr(model.net, "labels", {})

    def name(c: str) -> str:
        return labels.get(c, c)

    out = []
    for pr in (progress_bar(probes, label="probes") if progress else probes):
        try:
            rankings = {"a": _ranking(pr.case, model, pr.path)}
            if pr.case_b is not None:
                rankings["b"] = _ranking(pr.case_b, model, pr.path + " (case_b)")
        except BayesdxError as exc:
            out.append(ProbeResult(pr, (), str(exc)))
            continue
        checks = tuple(check_expectation(e, rankings, name) for e in pr.expect)
        out.append(ProbeResult(pr, checks, None, rankings))
    return ProbeScore(tuple(out))
