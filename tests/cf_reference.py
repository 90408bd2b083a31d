"""The first exact implementations of the counterfactual scores and of the k-best
joint explanations, kept as test oracles.

It rewrites one table draw per (cause, abnormal finding) pair for
disablement and another for sufficiency, plus one per cause for "not
needed" (see git history of ``src/bayesdx/counterfactual.py`` before the
product-form variants). Slow but independent of the product-form algebra:
``tests/test_counterfactual_oracle.py`` compares the library against it on
every validation case. ``reference_explanations`` is the first best-first
search of ``bayesdx.explanations`` (every child's bound computed exactly, one
engine call per expansion).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

import numpy as np

from bayesdx.errors import Problem
from bayesdx.explanations import JointExplanation, JointExplanations, _log_joint, only_cause
from bayesdx.knowledge.network import Tables
from bayesdx.voi import QueryError


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


def reference_scores(engine, evidence: Mapping[str, str], T: Tables):
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


def reference_explanations(engine, evidence: Mapping[str, str], k: int = 5, *,
                       tables: Tables | None = None, max_expansions: int = 400
                       ) -> JointExplanations:
    """The first k-best search: every child's bound computed exactly, one call per expansion.

    Raises
    ------
    QueryError
        ``k`` below 1.
    ImpossibleEvidenceError
        The evidence has probability zero.
    """
    if k < 1:
        raise QueryError(Problem("explanations: k", "", "must be at least 1", repr(k), "5"))
    T = tables or engine.net.tables()
    causes = engine.causes
    post = engine.posterior(evidence, tables)
    only, none = only_cause(engine, evidence, tables)
    order = [causes[i] for i in np.argsort(-post.probs, kind="stable")]
    C = len(order)
    lz_e = post.log_evidence
    # heap entries: (-log bound, tie, present tuple (search order), j, leaf)
    heap: list = [(-lz_e, 0, (), 0, False)]
    tie = 1
    found: list[JointExplanation] = []
    expansions = 0
    while heap and len(found) < k:
        neg, _, present, j, leaf = heapq.heappop(heap)
        if leaf:
            ids = tuple(c for c in causes if c in present)
            found.append(JointExplanation(ids, float(np.exp(-neg - lz_e))))
            continue
        if expansions >= max_expansions:
            break
        expansions += 1
        base = {c: 1 for c in present} | {c: 0 for c in order[:j] if c not in present}
        kids = [(present + (order[r],), r + 1, False) for r in range(j, C)]
        kids.append((present, C, True))
        rows = []
        for pres, jj, is_leaf in kids:
            row = dict(base)
            upto = C if is_leaf else jj
            for c in order[j:upto]:
                row[c] = 1 if c in pres else 0
            rows.append(row)
        lz = _log_joint(engine, evidence, T, rows)
        for (pres, jj, is_leaf), v in zip(kids, lz):
            if np.isfinite(v):
                heapq.heappush(heap, (-float(v), tie, pres, jj, is_leaf or jj == C))
                tie += 1
    return JointExplanations(tuple(found), only, none, dict(evidence), expansions,
                             len(found) >= k or not heap)
