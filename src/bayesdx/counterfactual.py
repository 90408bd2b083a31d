"""Is the cause *why* the findings are abnormal? Exact counterfactual scores.

In the structural reading of the noisy-MAX network every link is an
independent mechanism and the leak is one more mechanism: finding ``f`` shows
``Y_f = max_i Y_i`` over the effects ``Y_i`` of its parents' mechanisms and
the leak's. For every cause ``D`` and evidence ``e`` (abnormal findings ``f``
observed at grade ``s_f >= 1``):

``disablement``
    expected number of abnormal findings that would be *less abnormal* (for a
    two-state finding: normal) under ``do(D = absent)``, the noise of every
    mechanism held fixed: ``sum_f P(Y_D = s_f, max_{i != D} Y_i < s_f | e)``.
``sufficiency``
    expected number of abnormal findings ``D`` would still produce at their
    observed grade if every other mechanism, the leak included, were switched
    off: ``sum_f P(Y_D = s_f | e)``.
``p_needed``
    probability that ``D`` is present *and* needed: at least one abnormal
    finding would be less abnormal without it.

Each is exact: the joint of the evidence with a per-finding event such as
"``D``'s mechanism reaches ``s_f`` and every other stays below" is again a
noisy-MAX-shaped product, obtained by rewriting that finding's effect
distributions; every rewrite is one *draw* of a batched table set, so all
scores of all causes come from ONE call of the exact engine. The derivation
and the assumption that fixes the counterfactual of graded findings (Díez's
max-of-mechanisms form with a comonotone noise coupling) are in
``docs/counterfactual.md``.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> m = load_model()
>>> cf = counterfactual(m.engine, {"anc": "severe",
...                                "exposure_antipsychotic": "clozapine_window"})
>>> cf.ranked("sufficiency")[0][0]
'drug_antipsychotic'
>>> 0 <= cf.of("drug_antipsychotic")["p_needed"] <= cf.of("drug_antipsychotic")["posterior"]
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import ImpossibleEvidenceError, Problem
from .knowledge.network import Tables
from .voi import QueryError

__all__ = ["RANKINGS", "CounterfactualScores", "counterfactual", "counterfactual_batch"]

#: ranking name -> attribute of :class:`CounterfactualScores` (highest first)
RANKINGS = {"posterior": "posterior", "sufficiency": "sufficiency",
            "disablement": "disablement", "needed": "p_needed"}


@dataclass(frozen=True)
class CounterfactualScores:
    """Posterior and counterfactual scores of every cause for one evidence set.

    Arrays are per cause (model order); ``by_finding_*`` are ``(causes,
    abnormal findings)``: the per-finding terms whose sums are
    ``disablement`` and ``sufficiency``.
    """

    causes: tuple[str, ...]
    posterior: np.ndarray
    disablement: np.ndarray
    sufficiency: np.ndarray
    p_needed: np.ndarray
    abnormal: tuple[str, ...] = ()
    by_finding_disablement: np.ndarray = field(default=None, repr=False)
    by_finding_sufficiency: np.ndarray = field(default=None, repr=False)
    log_evidence: float = 0.0

    def of(self, cause: str) -> dict[str, float]:
        """All scores of one cause."""
        i = self.causes.index(cause)
        return {a: float(getattr(self, a)[i]) for a in RANKINGS.values()}

    def ranked(self, by: str = "posterior") -> list[tuple[str, float]]:
        """``(cause, score)`` highest first; ties broken by posterior, then model order."""
        vals = getattr(self, _key(by))
        order = np.lexsort((np.arange(len(vals)), -self.posterior, -vals))
        return [(self.causes[i], float(vals[i])) for i in order]


def _key(by: str) -> str:
    if by not in RANKINGS:
        raise QueryError(Problem("rank by", "", f"must be one of {', '.join(RANKINGS)}",
                                 repr(by), "posterior"))
    return RANKINGS[by]


def _rows(arr: np.ndarray, s: int, how: str) -> np.ndarray:
    """Rewrite effect pmfs ``(..., S)`` at observed grade ``s``.

    ``eq``: only "= s" kept; ``lt``: "< s" kept, as mass on the baseline;
    ``le``: "<= s" kept, but none of it counted as reaching ``s``.
    """
    cdf = np.cumsum(arr, axis=-1)
    out = np.zeros_like(arr)
    if how == "eq":
        out[..., s] = arr[..., s]
    elif how == "lt":
        out[..., 0] = cdf[..., s - 1]
    else:
        out[..., 0] = cdf[..., s]
    return out


def _plan_mods(net, abnormal: Mapping[str, int], T: Tables, possible: set[str]):
    """Modifications: ``(kind, cause, finding)``; kind ``base``, ``dis``, ``suf``, ``need``.

    Exact pruning: a cause impossible given the evidence (``possible``), or one
    whose link cannot reach the observed grade in any draw, has zero terms and
    gets no rewrite.
    """
    mods = [("base", None, None)]
    needed = set()
    for f, s in abnormal.items():
        for p in net.parents[f]:
            if p in possible and (T.link(f, p)[:, 1, s] > 0).any():
                mods += [("dis", p, f), ("suf", p, f)]
                needed.add(p)
    mods += [("need", c, None) for c in sorted(needed, key=net.causes.index)]
    return mods


def _mod_tables(net, T: Tables, abnormal: Mapping[str, int], mods) -> Tables:
    """``T.draws * len(mods)`` draws, index ``d * M + m``: draw ``d`` under modification ``m``."""
    D0, M = T.draws, len(mods)

    def rep(a: np.ndarray, copy: bool = False) -> np.ndarray:
        if D0 == 1 and not copy:
            return np.broadcast_to(a, (M,) + a.shape[1:])
        return np.repeat(a, M, axis=0)

    leaks = {f: rep(a, f in abnormal) for f, a in T.finding_leak.items()}
    links = {f: {p: rep(a, f in abnormal) for p, a in d.items()} for f, d in T.finding_links.items()}
    for m, (kind, cause, target) in enumerate(mods):
        if kind == "base":
            continue
        for f, s in abnormal.items():
            if kind in ("dis", "suf") and f != target:
                continue
            if kind == "need" and cause not in links[f]:
                continue
            mech = [(None, leaks[f])] + list(links[f].items())
            for p, arr in mech:
                view = arr.reshape((D0, M) + arr.shape[1:])[:, m]
                if p == cause:
                    view[...] = _rows(view, s, "le" if kind == "need" else "eq")
                elif kind == "dis":
                    view[...] = _rows(view, s, "lt")
    return Tables(D0 * M, {k: rep(a) for k, a in T.context_cpt.items()},
                  {k: rep(a) for k, a in T.cause_cpt.items()}, leaks, links,
                  {k: rep(a) for k, a in T.cause_base.items()},
                  {k: rep(a) for k, a in T.cause_weight.items()})


def _scores(engine, evidence: Mapping[str, str], T: Tables):
    """Arrays ``(D0, ...)`` of every score for one evidence set under tables ``T``."""
    net = engine.net
    idx = engine.validate(evidence)
    abnormal = {f: k for f, k in idx.items() if f in net.kb.findings and k > 0}
    first = engine.posterior_batch([dict(evidence)], T, method="pattern").probs[:, 0]
    possible = {c for i, c in enumerate(engine.causes) if not (first[:, i] == 0).all()}
    mods = _plan_mods(net, abnormal, T, possible)
    bp = engine.posterior_batch([dict(evidence)], _mod_tables(net, T, abnormal, mods),
                                method="pattern")
    D0, M, C = T.draws, len(mods), len(engine.causes)
    lz = bp.log_evidence[:, 0].reshape(D0, M)
    probs = bp.probs[:, 0].reshape(D0, M, C)
    lz0 = lz[:, :1]
    with np.errstate(invalid="ignore", over="ignore"):
        rel = np.where(np.isfinite(lz), np.exp(lz - lz0), 0.0)  # P(e, event) / P(e)
    ci = {c: i for i, c in enumerate(engine.causes)}
    fi = {f: j for j, f in enumerate(abnormal)}
    dis_f = np.zeros((D0, C, len(abnormal)))
    suf_f = np.zeros((D0, C, len(abnormal)))
    post = probs[:, 0]
    needed = np.zeros((D0, C))
    for m, (kind, c, f) in enumerate(mods):
        if kind == "dis":
            dis_f[:, ci[c], fi[f]] = rel[:, m]
        elif kind == "suf":
            suf_f[:, ci[c], fi[f]] = rel[:, m]
        elif kind == "need":
            rest = np.where(rel[:, m] > 0, rel[:, m] * np.nan_to_num(probs[:, m, ci[c]]), 0.0)
            needed[:, ci[c]] = np.clip(post[:, ci[c]] - rest, 0.0, 1.0)
    return post, dis_f, suf_f, needed, tuple(abnormal), lz0[:, 0]


def counterfactual(engine, evidence: Mapping[str, str], tables: Tables | None = None
                   ) -> CounterfactualScores:
    """Exact counterfactual scores of every cause (point estimate, or draw 0 of ``tables``).

    Raises
    ------
    CaseError
        For unknown nodes or states.
    ImpossibleEvidenceError
        When the evidence has probability zero.
    """
    T = tables or engine.net.tables()
    post, dis_f, suf_f, need, abnormal, lz = _scores(engine, evidence, T)
    if not np.isfinite(lz[0]):
        raise ImpossibleEvidenceError(engine.conflict(evidence, tables))
    return CounterfactualScores(engine.causes, post[0], dis_f[0].sum(-1), suf_f[0].sum(-1),
                                need[0], abnormal, dis_f[0], suf_f[0], float(lz[0]))


def counterfactual_batch(engine, evidences: Sequence[Mapping[str, str]],
                         tables: Tables | None = None) -> dict[str, np.ndarray]:
    """Scores for many evidence sets and parameter draws: arrays ``(D, B, C)``.

    Keys ``posterior``, ``disablement``, ``sufficiency``, ``p_needed`` and
    ``log_evidence`` ``(D, B)``; an impossible case gets NaN rows and
    ``-inf``, as in :meth:`~bayesdx.inference.engine.Engine.posterior_batch`.
    Each case is one batched engine call over (draws x modifications).
    """
    T = tables or engine.net.tables()
    D, B, C = T.draws, len(evidences), len(engine.causes)
    out = {k: np.full((D, B, C), np.nan) for k in RANKINGS.values()}
    out["log_evidence"] = np.full((D, B), -np.inf)
    for b, ev in enumerate(evidences):
        post, dis_f, suf_f, need, _, lz = _scores(engine, ev, T)
        ok = np.isfinite(lz)
        out["posterior"][ok, b] = post[ok]
        out["disablement"][ok, b] = dis_f.sum(-1)[ok]
        out["sufficiency"][ok, b] = suf_f.sum(-1)[ok]
        out["p_needed"][ok, b] = need[ok]
        out["log_evidence"][:, b] = lz
    return out
