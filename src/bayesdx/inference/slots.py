"""Exact batched inference for many cases with *different* evidence patterns.

:mod:`bayesdx.inference.pattern` compiles one plan per evidence pattern; a cohort in
which every patient has a different set of abnormal findings would compile
thousands. Here every case of a chunk shares one sequence of steps (the
context plan of its group plus every cause that drives an abnormal finding)
and each case's accumulators live in numbered *slots*: slot ``s`` of case
``b`` holds one abnormal finding from its first to its last parent step, and
then the next one (interval colouring). Per step and slot, each case gets its
own 2×K×2 map (open, transition, close, or identity), so one array
operation serves every case at once. The arithmetic is the same non-negative accumulator
algebra as the per-pattern engine; the tests check both against each other
and against pgmpy.

Cases are grouped by which coupling context nodes (those shared by several
causes or findings) they leave unobserved, sorted by slot count and cut into
chunks that bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .factors import Prepared, acc_tables, ctx_factor, prepare
from .pattern import rescale
from .plan import Pattern
from .slot_program import run_slots_compiled
from ..knowledge.network import Tables

__all__ = ["CHUNK_ELEMENTS", "run_slots"]

CHUNK_ELEMENTS = 1 << 22
"""Upper bound on the numbers a chunk keeps for its backward pass (32 MB of float64)."""


@dataclass
class _Step:
    item: str
    kind: str
    own: tuple[str, ...]
    ctx_in: tuple[str, ...]
    ctx_out: tuple[str, ...]


def run_slots(engine, idxs: list[dict[str, int]], T: Tables) -> tuple[np.ndarray, np.ndarray]:
    """Posterior probs ``(D, B, C)`` and log-evidence ``(D, B)`` for validated cases."""
    net = engine.net
    D, B, C = T.draws, len(idxs), len(engine.causes)
    probs = np.full((D, B, C), np.nan)
    logz = np.full((D, B), -np.inf)
    coupling = _coupling(net)
    groups: dict = {}
    for i, e in enumerate(idxs):
        groups.setdefault(frozenset(x for x in coupling if x not in e), []).append(i)
    for members in groups.values():
        cases = [idxs[i] for i in members]
        free = frozenset(x for x in net.context if any(x not in e for e in cases))
        _run_group(engine, cases, members, T, free, probs, logz)
    bad = ~np.isfinite(logz)
    probs[bad] = np.nan
    logz[bad] = -np.inf
    return probs, logz


def _coupling(net) -> set[str]:
    """Context nodes that, left unobserved, put an axis in the frontier.

    The others (one cause child, no finding child, only such context children)
    are summed into their cause, case by case, at no cost to the frontier;
    cases that differ only in those share a group.
    """
    memo: dict[str, bool] = {}

    def coupling(x: str) -> bool:
        if x not in memo:
            ch = net.children[x]
            ctx = [c for c in ch if c in net.kb.context]
            memo[x] = len(ch) >= 2 or any(c in net.kb.findings for c in ch) or any(map(coupling, ctx))
        return memo[x]

    return {x for x in net.context if coupling(x)}


def _abnormal(net, e: dict[str, int]) -> list[str]:
    """The case's abnormal findings, in model order."""
    findings, pos = net.kb.findings, net.position
    return sorted((f for f, v in e.items() if v > 0 and f in findings), key=pos.__getitem__)


def _run_group(engine, cases, members, T, free, probs, logz) -> None:
    net = engine.net
    fixed = frozenset(x for x in net.context if x not in free)
    # an abnormal finding whose parents are all observed is a constant factor per case:
    # it needs no slot (and has no span); its likelihood goes straight into logz
    every = [_abnormal(net, e) for e in cases]
    is_const = {f: all(p in fixed for p in net.parents[f]) for a in every for f in a}
    abn = [[f for f in a if not is_const[f]] for a in every]
    const = [[f for f in a if is_const[f]] for a in every]
    abn_any = {f for a in abn for f in a}
    baseline = {f for e in cases for f, v in e.items() if v == 0}  # observed at baseline somewhere
    unary = tuple(f for f in net.findings if f in baseline)
    ctx_acc = tuple(f for f in net.findings if f in abn_any
                    and any(p in free for p in net.parents[f]))
    plan = engine.plan(Pattern(fixed, free, unary, ctx_acc))
    ctxset = set(plan.free_ctx)
    base = [_Step(st.item, st.kind, st.own_axes,
                  tuple(a for a in st.in_axes if a in ctxset),
                  tuple(a for a in st.out_axes if a in ctxset)) for st in plan.steps]
    base_pos = {st.item: i for i, st in enumerate(base)}
    # numbers kept per case and slot state: every step's message (item x open context)
    per_state = sum(_size(net, set(st.ctx_in) | set(st.own)) for st in base) + 2 * len(net.causes)
    # slot count per case with the base order (extras appended in model order)
    extra_all = [c for c in net.causes if c not in base_pos
                 and any(c in net.parents[f] for f in abn_any)]
    pos_all = dict(base_pos, **{c: len(base) + i for i, c in enumerate(extra_all)})
    span_of = {f: _span(net, f, pos_all, fixed) for f in abn_any}
    spans = [sorted(map(span_of.__getitem__, a)) for a in abn]
    nslots = np.array([_colour(s)[1] for s in spans])
    for n in np.unique(nslots):
        same = np.flatnonzero(nslots == n)
        per = max(1, CHUNK_ELEMENTS // (per_state * 2 ** int(n)))
        for start in range(0, len(same), per):
            chunk = [int(i) for i in same[start:start + per]]
            p, lz = _run_chunk(engine, plan, base, [cases[i] for i in chunk],
                               [abn[i] for i in chunk], fixed, T, [const[i] for i in chunk])
            rows = [members[i] for i in chunk]
            probs[:, rows] = p
            logz[:, rows] = lz


def _size(net, names) -> int:
    s = 1
    for n in names:
        s *= net.card(n)
    return s


def _colour(spans) -> tuple[list[int], int]:
    """Greedy interval colouring (optimal for intervals sorted by start)."""
    ends: list[int] = []
    slot_of = []
    for lo, hi, _ in spans:
        for s, end in enumerate(ends):
            if end < lo:
                ends[s] = hi
                slot_of.append(s)
                break
        else:
            ends.append(hi)
            slot_of.append(len(ends) - 1)
    return slot_of, len(ends)


def _run_chunk(engine, plan, base, cases, abn, fixed, T, const=None):
    net = engine.net
    D, B = T.draws, len(cases)
    prep: Prepared = prepare(net, plan, cases, T)
    logz = prep.logz
    if const and any(const):
        _add_constants(net, cases, const, prep, T, logz)
    probs = np.full((D, B, len(engine.causes)), np.nan)
    abn_any = {f for a in abn for f in a}
    base_items = {st.item for st in base}
    extra = [c for c in net.causes if c not in base_items
             and any(c in net.parents[f] for f in abn_any)]
    steps = base + [_Step(c, "cause", (c,), (), ()) for c in extra]
    step_items = {st.item for st in steps}
    prep.sum_out([c for c in net.causes if c not in step_items], engine._cause_index, probs)
    if not steps:
        return probs, logz
    pos = {st.item: i for i, st in enumerate(steps)}
    span_of = {f: _span(net, f, pos, fixed) for f in abn_any}
    colours = [_colour(sorted(map(span_of.__getitem__, a))) for a in abn]
    S = max([c[1] for c in colours] or [0])

    def acc(f: str, holders: np.ndarray):  # a finding's tables for the cases that hold it
        fx = {x: v[holders] for x, v in prep.fixed_idx.items()}
        return acc_tables(net, [f], fx, T, [cases[b] for b in holders])[f]

    maps = _slot_maps(net, steps, pos, abn, colours, acc, fixed, D, B, span_of)
    owns = [prep.cause_factor[st.item] if st.kind == "cause" else
            ctx_factor(net, st.item, T, plan, prep)[0] for st in steps]
    if engine._use_kernel(D * B, True):
        run_slots_compiled(engine, steps, owns, maps, S, D, B, probs, logz)
    else:
        _forward_backward(engine, steps, owns, maps, S, D, B, probs, logz)
    return probs, logz


def _add_constants(net, cases, const, prep, T, logz) -> None:
    """Add to ``logz`` the log-likelihood of abnormal findings with only observed parents."""
    for f in sorted({f for a in const for f in a}):
        init, final, _ = acc_tables(net, [f], prep.fixed_idx, T, cases)[f]
        like = (init * final).sum(-1)  # (D, B): P(finding = observed | observed parents)
        mine = np.array([f in a for a in const])
        with np.errstate(divide="ignore"):
            logz += np.where(mine[None, :], np.log(like), 0.0)


def _slot_maps(net, steps, pos, abn, colours, acc, fixed, D, B, span_of) -> list[dict[int, _Map]]:
    """Per step, the slots whose map is not the identity in every case: slot -> map.

    A finding's span is the same in every case of the chunk (positions are
    per chunk); only the slot that holds it differs, so each finding's maps
    are built once for all its cases and scattered into their slots.
    ``acc(f, cases)`` gives the finding's ``(init, final, trans)`` for those cases
    only (:func:`~bayesdx.inference.factors.acc_tables`; most findings are abnormal
    in few of a chunk's cases); ``span_of`` each finding's span (:func:`_span`).
    """
    holders: dict[str, tuple[list[int], list[int]]] = {}
    for b, (a, (slot_of, _)) in enumerate(zip(abn, colours)):
        for f, s in zip(sorted(a, key=span_of.__getitem__), slot_of):
            holders.setdefault(f, ([], []))[0].append(b)
            holders[f][1].append(s)
    maps: list[dict[int, np.ndarray]] = [{} for _ in steps]
    for f, (bs, ss) in holders.items():
        bs_a, ss_a = np.array(bs), np.array(ss)
        # the finding's cases by slot (most findings sit in one slot in every case)
        by_slot = [(int(s), bs_a[sel], sel) for s in np.unique(ss_a) for sel in [ss_a == s]]
        if len(by_slot) == 1:
            by_slot = [(by_slot[0][0], bs_a, slice(None))]
        init, final, trans = acc(f, bs_a)  # rows: the cases of bs_a, in that order
        lo, hi = span_of[f][:2]
        for t in sorted(pos[p] for p in net.parents[f] if p not in fixed):
            item = steps[t].item
            m = trans[item]  # (D, n, 2, K, 2)
            if t == lo:
                m = np.stack([np.einsum("dna,dnakc->dnkc", init, m),
                              np.zeros(m.shape[:2] + m.shape[3:])], axis=2)
            if t == hi:
                m = np.stack([np.einsum("dnakc,nc->dnak", m, final[0]),
                              np.zeros(m.shape[:4])], axis=-1)
            for s, cases, sel in by_slot:
                if s not in maps[t]:
                    K = net.card(item)
                    ident = np.zeros((D, B, 2, K, 2))
                    ident[:, :, 0, :, 0] = ident[:, :, 1, :, 1] = 1.0
                    maps[t][s] = ident
                maps[t][s][:, cases] = m[:, sel]
    return [{s: _Map(m) for s, m in mt.items()} for mt in maps]


def _span(net, f: str, pos: dict, fixed) -> tuple[int, int, str]:
    ps = [pos[p] for p in net.parents[f] if p not in fixed]
    return (min(ps), max(ps), f)


def _ein(x, x_axes, y, y_axes, out_axes) -> np.ndarray:
    """Einsum over named axes (after the leading draw and case axes); ``y=None``: one operand."""
    names: dict = {}

    def lab(axes):
        return [Ellipsis] + [names.setdefault(n, len(names)) for n in axes]

    ops = (x, lab(x_axes)) if y is None else (x, lab(x_axes), y, lab(y_axes))
    return np.ascontiguousarray(np.einsum(*ops, lab(out_axes)))


class _Map:
    """One slot's per-case 2xKx2 map at one step, with the structure the update can skip."""

    __slots__ = ("k0", "m", "z01", "z10")

    def __init__(self, m: np.ndarray):
        self.m = m
        # state 0 of a cause has no effect: its transition is the identity in every case
        self.k0 = int(bool((m[:, :, 0, 0, 0] == 1).all() and (m[:, :, 1, 0, 1] == 1).all()
                           and not m[:, :, 0, 0, 1].any() and not m[:, :, 1, 0, 0].any()))
        self.z01 = not m[:, :, 0, self.k0:, 1].any()
        self.z10 = not m[:, :, 1, self.k0:, 0].any()


def _apply(arr: np.ndarray, mp: _Map, s: int, S: int, transpose: bool) -> None:
    """Apply one slot's map to ``arr`` (D, B, K, ..., 2**S) in place; slot ``s`` is bit ``S-1-s``.

    Forward: ``out[a'] = sum_a arr[a] m[a, k, a']``; backward (``transpose``):
    ``out[a] = sum_a' m[a, k, a'] arr[a']``.
    """
    D, B, K = arr.shape[:3]
    k0 = mp.k0
    v = arr.reshape(D, B, K, -1, 2 ** s, 2, 2 ** (S - 1 - s))[:, :, k0:]
    x0, x1 = v[:, :, :, :, :, 0], v[:, :, :, :, :, 1]

    def w(a, c):
        return mp.m[:, :, a, k0:, c].reshape(D, B, K - k0, 1, 1, 1)

    # forward: x0' = x0 w00 + x1 w10, x1' = x0 w01 + x1 w11 (backward: swap w01 and w10)
    w01, w10 = (w(1, 0), w(0, 1)) if transpose else (w(0, 1), w(1, 0))
    z01, z10 = (mp.z10, mp.z01) if transpose else (mp.z01, mp.z10)
    t = None if z01 else x0 * w01
    x0 *= w(0, 0)
    if not z10:
        x0 += x1 * w10
    x1 *= w(1, 1)
    if t is not None:
        x1 += t


def _forward_backward(engine, steps, owns, maps, S, D, B, probs, logz) -> None:
    SL = ("slots",)

    def y_axes_of(st):
        return [st.item] + [a for a in dict.fromkeys(list(st.ctx_in) + list(st.own[1:]))] + [SL]

    frontier = np.zeros((D, B, 2 ** S))
    frontier[:, :, 0] = 1.0
    ys = []
    for st, own, mp in zip(steps, owns, maps):
        y_axes = y_axes_of(st)
        y = _ein(frontier, list(st.ctx_in) + [SL], own, st.own, y_axes)
        for s, m in mp.items():
            _apply(y, m, s, S, False)
        ys.append(y)
        frontier, sc = rescale(_ein(y, y_axes, None, (), list(st.ctx_out) + [SL]), D, B)
        with np.errstate(divide="ignore"):
            logz += np.log(sc)
    with np.errstate(divide="ignore"):
        logz += np.log(frontier.reshape(D, B, -1).sum(-1))
    beta = np.ones((D, B, 2 ** S))
    for st, own, mp, y in zip(reversed(steps), reversed(owns), reversed(maps), reversed(ys)):
        out = list(st.ctx_out) + [SL]
        if st.kind == "cause":
            m = _ein(y, y_axes_of(st), beta, out, [st.item])
            with np.errstate(invalid="ignore", divide="ignore"):
                probs[:, :, engine._cause_index[st.item]] = m[..., 1] / m.sum(-1)
        if mp:
            g_axes = [st.item] + [a for a in st.ctx_out if a != st.item] + [SL]
            g = _ein(beta, out, np.ones((D, B, own.shape[2])), [st.item], g_axes)
            for s, m in reversed(list(mp.items())):
                _apply(g, m, s, S, True)
        else:
            g, g_axes = beta, out
        beta, _ = rescale(_ein(g, g_axes, own, st.own, list(st.ctx_in) + [SL]), D, B)
