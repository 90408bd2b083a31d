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

Each is exact. Given the parents, a finding's likelihood jointly with
"``D``'s mechanism reaches ``s_f``" is ``P(Y_D = s_f | present) / P(Y_D <= s_f |
present)`` times the fully factorised ``prod_i P(Y_i <= s_f | x_i)``, and
jointly with "... and every other stays below" it is ``P(Y_D = s_f | present)
/ P(Y_D < s_f | present)`` times ``prod_i P(Y_i < s_f | x_i)``. So two rewrites
of each abnormal finding (every mechanism's "<= s" resp. "< s" mass put at
grade ``s``) give the sufficiency and disablement terms of ALL its parents
from the rewritten model's posterior and evidence. ``p_needed`` is the
disablement term for a cause with one abnormal finding it can reach, comes
from the prior odds when the cause's parents are observed, and otherwise
from one rewrite of that cause. A pair whose link surely reaches the grade
(``P(Y_D < s_f | present) = 0``) falls back to its own exact rewrite. Every
rewrite is one *draw* of a batched table set, so all scores of all causes
come from ONE call of the exact engine. The derivation and the assumption
that fixes the counterfactual of graded findings (Díez's max-of-mechanisms
form with a comonotone noise coupling) are in ``docs/counterfactual.md``.

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


#: a pair's disablement term comes from the "< s" product variant only while
#: ``P(Y_D = s | present) / P(Y_D < s | present)`` stays below this (else the
#: pair gets its own exact rewrite): the division then costs at most ~1e4 ulp.
RATIO_MAX = 1e4


def _rows(arr: np.ndarray, s: int, how: str) -> np.ndarray:
    """Rewrite effect pmfs ``(..., S)`` of a finding observed at grade ``s``.

    ``eq``: only "= s" kept; ``lt``: "< s" kept, as mass on the baseline;
    ``le``: "<= s" kept, but none of it counted as reaching ``s``;
    ``cdf_s`` / ``cdf_s1``: all of ``P(<= s)`` / ``P(<= s-1)`` put AT grade ``s``, so
    that the finding's likelihood at ``s`` becomes the product of these over
    its mechanisms.
    """
    cdf = np.cumsum(arr, axis=-1)
    out = np.zeros_like(arr)
    if how == "eq":
        out[..., s] = arr[..., s]
    elif how == "lt":
        out[..., 0] = cdf[..., s - 1]
    elif how == "le":
        out[..., 0] = cdf[..., s]
    elif how == "cdf_s":
        out[..., s] = cdf[..., s]
    else:
        out[..., s] = cdf[..., s - 1]
    return out


def _reach(net, abnormal: Mapping[str, int], T: Tables):
    """Per abnormal finding, its cause parents whose link can reach the observed grade
    (in some draw), and which of them need the per-pair disablement rewrite.

    A pair falls back when ``P(Y_D < s | present)`` is 0 (or tiny next to
    ``P(Y_D = s | present)``) in some draw, or when the cause's *absent* row
    is not the baseline (the product form assumes absent causes give grade 0).
    """
    reach, fallback = {}, set()
    for f, s in abnormal.items():
        reach[f] = []
        for p in net.parents[f]:
            if p not in net.causes:
                continue
            link = T.link(f, p)
            eq, below = link[:, 1, s], np.cumsum(link[:, 1], axis=-1)[:, s - 1]
            if not (eq > 0).any():
                continue
            reach[f].append(p)
            if (link[:, 0, 1:] != 0).any() or (eq > RATIO_MAX * below).any():
                fallback.add((p, f))
    return reach, fallback


def _odds_route(net, idx: Mapping[str, int], T: Tables, c: str):
    """``(K, odds)`` per draw when ``p_needed`` of ``c`` needs no variant, else None.

    When the prior of ``c`` is the same for every state of its unobserved
    parents (e.g. all observed), ``P(e, c present, not needed) =
    K * odds * P(e, c absent)``: ``K`` is the product of ``P(Y_c <= s_g | present)``
    over the observed findings ``g`` with parent ``c``, ``odds`` the prior odds
    of ``c`` at the observed parents (docs/counterfactual.md). Not used when
    ``K * odds`` is large (``1 - posterior`` would lose digits), when a
    child's absent row is not the baseline, or under a likelihood weight on ``c``.
    """
    if c in T.cause_weight:
        return None
    p1 = T.cause_cpt[c][(slice(None),) + tuple(idx.get(p, slice(None)) for p in net.parents[c])]
    p1 = p1.reshape(T.draws, -1)
    if not (p1 == p1[:, :1]).all():  # the prior depends on an unobserved parent
        return None
    p1 = p1[:, 0]
    K = np.ones(T.draws)
    for g, s in idx.items():
        if g in T.finding_links and c in T.finding_links[g]:
            link = T.link(g, c)
            if (link[:, 0, 1:] != 0).any():
                return None
            K = K * np.cumsum(link[:, 1], axis=-1)[:, s]
    with np.errstate(divide="ignore"):
        odds = np.where(p1 < 1, p1 / np.where(p1 < 1, 1 - p1, 1.0), np.inf)
    if not (K * odds <= RATIO_MAX).all():
        return None
    return K, odds


def _plan_mods(net, abnormal: Mapping[str, int], reach, fallback, odds):
    """Modifications ``(kind, cause, finding)``, kinds ``base``, ``cdf_s``, ``cdf_s1``,
    ``dis`` (fallback pair), ``need`` (a cause with two or more reachable abnormal
    findings and no ``odds`` route)."""
    mods = [("base", None, None)]
    for f in abnormal:
        if reach[f]:
            mods += [("cdf_s", None, f), ("cdf_s1", None, f)]
    mods += [("dis", p, f) for p, f in sorted(fallback, key=lambda pf: (
        list(abnormal).index(pf[1]), net.causes.index(pf[0])))]
    mods += [("need", c, None) for c in net.causes if c in odds and odds[c] is None]
    return mods


def _kids(abnormal, reach) -> dict[str, int]:
    """Number of reachable abnormal findings per cause."""
    out: dict[str, int] = {}
    for f in abnormal:
        for p in reach[f]:
            out[p] = out.get(p, 0) + 1
    return out


def _mod_tables(net, T: Tables, abnormal: Mapping[str, int], mods) -> Tables:
    """``T.draws * len(mods)`` draws, index ``d * M + m``: draw ``d`` under modification ``m``."""
    D0, M = T.draws, len(mods)
    touched = {f for _, _, f in mods if f is not None} | (
        set(abnormal) if any(k == "need" for k, _, _ in mods) else set())

    def rep(a: np.ndarray, copy: bool = False) -> np.ndarray:
        if D0 == 1 and not copy:
            return np.broadcast_to(a, (M,) + a.shape[1:])
        return np.repeat(a, M, axis=0)

    leaks = {f: rep(a, f in touched) for f, a in T.finding_leak.items()}
    links = {f: {p: rep(a, f in touched) for p, a in d.items()}
             for f, d in T.finding_links.items()}
    for m, (kind, cause, target) in enumerate(mods):
        if kind == "base":
            continue
        for f, s in abnormal.items():
            if kind != "need" and f != target:
                continue
            if kind == "need" and cause not in links[f]:
                continue
            for p, arr in [(None, leaks[f])] + list(links[f].items()):
                view = arr.reshape((D0, M) + arr.shape[1:])[:, m]
                if kind in ("cdf_s", "cdf_s1"):
                    view[...] = _rows(view, s, kind)
                elif p == cause:
                    view[...] = _rows(view, s, "le" if kind == "need" else "eq")
                elif kind == "dis":
                    view[...] = _rows(view, s, "lt")
    return Tables(D0 * M, {k: rep(a) for k, a in T.context_cpt.items()},
                  {k: rep(a) for k, a in T.cause_cpt.items()}, leaks, links,
                  {k: rep(a) for k, a in T.cause_base.items()},
                  {k: rep(a) for k, a in T.cause_weight.items()})


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, 0 where ``den`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def _scores(engine, evidence: Mapping[str, str], T: Tables):
    """Arrays ``(D0, ...)`` of every score for one evidence set under tables ``T``."""
    net = engine.net
    idx = engine.validate(evidence)
    abnormal = {f: k for f, k in idx.items() if f in net.kb.findings and k > 0}
    reach, fallback = _reach(net, abnormal, T)
    odds = {c: _odds_route(net, idx, T, c) for c, n in _kids(abnormal, reach).items() if n >= 2}
    mods = _plan_mods(net, abnormal, reach, fallback, odds)
    bp = engine.posterior_batch([dict(evidence)], _mod_tables(net, T, abnormal, mods),
                                method="pattern")
    D0, M, C = T.draws, len(mods), len(engine.causes)
    lz = bp.log_evidence[:, 0].reshape(D0, M)
    probs = bp.probs[:, 0].reshape(D0, M, C)
    lz0 = lz[:, :1]
    with np.errstate(invalid="ignore", over="ignore"):
        rel = np.where(np.isfinite(lz), np.exp(lz - lz0), 0.0)  # P(e~ of variant) / P(e)
    # P(e~ of variant m, cause c present) / P(e)
    joint = np.where(rel[:, :, None] > 0, rel[:, :, None] * np.nan_to_num(probs), 0.0)
    post = probs[:, 0]
    at = {mod: m for m, mod in enumerate(mods)}
    ci = {c: i for i, c in enumerate(engine.causes)}
    dis_f = np.zeros((D0, C, len(abnormal)))
    suf_f = np.zeros((D0, C, len(abnormal)))
    for j, (f, s) in enumerate(abnormal.items()):
        for p in reach[f]:
            i = ci[p]
            pmf = T.link(f, p)[:, 1]
            cdf = np.cumsum(pmf, axis=-1)
            suf_f[:, i, j] = _ratio(pmf[:, s], cdf[:, s]) * joint[:, at["cdf_s", None, f], i]
            if (p, f) in fallback:
                dis_f[:, i, j] = rel[:, at["dis", p, f]]
            else:
                dis_f[:, i, j] = _ratio(pmf[:, s], cdf[:, s - 1]) * joint[:, at["cdf_s1", None, f], i]
    possible = post > 0  # every term is at most P(cause present | e)
    dis_f *= possible[..., None]
    suf_f *= possible[..., None]
    needed = np.zeros((D0, C))
    for c in engine.causes:
        i = ci[c]
        if c in odds:  # P(e, c present, not needed) / P(e)
            if odds[c] is None:
                rest = joint[:, at["need", c, None], i]
            else:
                K, w = odds[c]
                rest = K * w * (1.0 - post[:, i])
            needed[:, i] = np.where(possible[:, i], np.clip(post[:, i] - rest, 0.0, 1.0), 0.0)
        else:  # at most one reachable abnormal finding: needed = its disablement event
            needed[:, i] = dis_f[:, i].sum(-1)
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
