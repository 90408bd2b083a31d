"""One precompiled slot program for every light single query (no plan per pattern).

A single :meth:`~bayesdx.inference.engine.Engine.posterior` on a new evidence
pattern used to compile a plan (cause order, einsum subscripts) and flatten it
into a kernel program: ~7 ms of Python for a query whose kernel run takes
~0.1 ms. Here one structure, built once per network, serves every pattern
with few abnormal findings:

* every context node is *free*: an observed one multiplies its own factor by a
  one-hot vector (``λ``), exactly as :func:`~bayesdx.inference.factors.prepare`
  does for a context node observed in some cases of a batch;
* the steps are those of the plan with every finding that has a context parent
  accumulated (so all of them are steps), stripped of the accumulators, then
  every other cause; the context frontier stays below a few hundred states;
* the ``S`` abnormal findings live in ``S`` slots, as in the slot passes
  (:mod:`bayesdx.inference.slots`), and every step whose item is a parent of
  some finding carries a map for every slot (the identity, skipped by the kernel
  through its flag, unless a finding uses it);
* a baseline finding multiplies each parent's own factor by its baseline effect.

So the program depends on ``S`` only (:data:`LIGHT_SLOTS` programs at most, built
on first use and kept with the engine), and the no-evidence inputs on the tables
only (kept with the tables). A query copies those inputs, applies its evidence
in place and runs :func:`~bayesdx.inference.plan_kernel.run_cases` once. Nothing
is keyed on an evidence pattern.

The arithmetic is the same non-negative algebra in another order, so the numbers
agree with the per-pattern plan to rounding (``tests/inference/test_light.py``:
≤ 1e-12 on 300 random sets of the real network and brute force on the tiny one).

Examples
--------
>>> from bayesdx.knowledge.network import Network
>>> from bayesdx.inference.engine import Engine
>>> eng = Engine(Network.from_knowledge())
>>> ev = eng.validate({"anc": "severe", "exposure_antipsychotic": "clozapine_window"})
>>> probs, logz = light_posterior(eng, ev, eng.net.tables())
>>> bool(abs(probs - eng.posterior({"anc": "severe", "exposure_antipsychotic":
...      "clozapine_window"}).probs).max() < 1e-12)
True
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .budget import NS_PER_OP_COMPILED, OVERHEAD_BYTES, US_PER_STEP, Cost
from .evidence import Pattern
from .factors import _cause_pairs, _labeler, acc_tables
from .plan import compile_plan
from .program import Program
from .slot_program import build_slot_program
from .slots import _colour, _Step

__all__ = ["LIGHT_SLOTS", "LightStructure", "light_cost", "light_posterior", "structure"]

LIGHT_SLOTS = 3
"""A single query runs by the light program when its abnormal findings fit this many
slots. Each slot doubles the program's work (~2.5·10^4 element operations at 0 slots,
2.3·10^5 at 3): at 4 slots a warm per-pattern plan of a work-up with its context
recorded ran about twice as fast (0.9 against 1.8 ms), at 3 about as fast."""

_LOCK = threading.Lock()


class LightStructure:
    """The network's light steps, and one program per slot count (built on first use).

    Attributes
    ----------
    steps : list
        The steps (``slots._Step``): the context plan's, then every other cause.
    pos : dict
        Item -> step index.
    span : dict
        Finding -> ``(first, last)`` step of its parents (findings whose parents
        are all steps).
    """

    def __init__(self, net, cause_index: dict):
        self.net, self.cause_index = net, cause_index
        ctx = set(net.context)
        with_ctx = tuple(f for f in net.findings if any(p in ctx for p in net.parents[f]))
        plan = compile_plan(net, Pattern(frozenset(), frozenset(net.context), (), with_ctx))
        self.plan = plan
        cs = set(plan.free_ctx)
        self.steps = [_Step(st.item, st.kind, st.own_axes, tuple(a for a in st.in_axes if a in cs),
                            tuple(a for a in st.out_axes if a in cs)) for st in plan.steps]
        have = {st.item for st in self.steps}
        self.steps += [_Step(c, "cause", (c,) + plan.deps[c], (), ()) for c in net.causes if c not in have]
        self.pos = {st.item: i for i, st in enumerate(self.steps)}
        self.folded = {x: c for c, xs in plan.folds.items() for x in xs}  # folded context -> its cause
        self.span = {f: (min(ps), max(ps)) for f in net.findings
                     for ps in [[self.pos.get(p, -1) for p in net.parents[f]]] if min(ps) >= 0}
        self.map_steps = sorted({self.pos[p] for f in self.span for p in net.parents[f]})
        isolated = [x for x in net.context if x not in self.pos and x not in self.folded]
        self.ok = (all(len(net.parents[x]) <= 1 for x in net.context)
                   and all(p in self.pos for x in isolated for p in net.parents[x])
                   and not any(st.own[1:] for st in self.steps[len(plan.steps):]))
        self._layouts: dict[int, _Layout] = {}

    def layout(self, S: int) -> _Layout:
        """The program for ``S`` slots and where its inputs go (built once)."""
        with _LOCK:
            hit = self._layouts.get(S)
        if hit is None:
            hit = _Layout(self, S)
            with _LOCK:
                hit = self._layouts.setdefault(S, hit)
        return hit


class _Layout:
    """One slot count's program, the offsets of its inputs in the flat source vector, and
    per (finding, slot) the destinations of the finding's maps."""

    def __init__(self, st: LightStructure, S: int):
        net = st.net
        self.S = S
        shapes = [(1, 1), (1, 1) + (2,) * S, (1, 1) + (2,) * S]
        own_shapes = [_own_shape(net, s) for s in st.steps]
        shapes += [(1, 1) + sh for sh in own_shapes]
        keys, ones_at = [], []
        map_at: dict = {}
        for t in (st.map_steps if S else ()):
            K = net.card(st.steps[t].item)
            ones_at.append(len(shapes))
            shapes.append((1, 1, K))
            for s in range(S):
                keys.append((t, s))
                map_at[(t, s)] = len(shapes)
                shapes += [(1, 1, 2, K, 2), (1, 1, 1)]
        self.prog: Program = build_slot_program(st.steps, shapes, keys, S, st.cause_index)
        self.per = np.array([math.prod(sh) for sh in shapes], dtype=np.int64)
        self.src_off = np.concatenate([[0], np.cumsum(self.per)[:-1]]).astype(np.int64)
        self.zero = np.zeros(len(shapes), dtype=np.int64)
        self.own_off = [int(self.src_off[3 + i]) for i in range(len(st.steps))]
        self.own_shapes = own_shapes
        self.map_off = {k: int(self.src_off[i]) for k, i in map_at.items()}
        self.flag_off = {k: int(self.src_off[i + 1]) for k, i in map_at.items()}
        self.ones = [(int(self.src_off[i]), int(self.per[i])) for i in ones_at]
        self.n = int(self.per.sum())
        ops, largest = _record_ops(self.prog.code)
        self.ops = float(ops)
        self.cost = Cost(largest, self.ops,
                         8 * int(self.prog.size) + OVERHEAD_BYTES,
                         self.ops * NS_PER_OP_COMPILED * 1e-9 + len(st.steps) * US_PER_STEP * 1e-6)
        # per (finding, slot): where its maps go (its parents' order, (2, K, 2) each), the
        # matching picks from its (n, 2, Kmax, 2) block, and its flags
        self.dest = {(f, s): _dest(st, self, f, s) for f in st.span for s in range(S)}


def _dest(st: LightStructure, lay: _Layout, f: str, s: int):
    net = st.net
    ps = net.parents[f]
    kmax = max(net.card(p) for p in ps)
    dst, sel, flags = [], [], []
    for i, p in enumerate(ps):
        t = st.pos[p]
        K = net.card(p)
        a, k, c = np.meshgrid(np.arange(2), np.arange(K), np.arange(2), indexing="ij")
        dst.append(lay.map_off[(t, s)] + (a * K * 2 + k * 2 + c).ravel())
        sel.append((((i * 2 + a) * kmax + k) * 2 + c).ravel())
        flags.append(lay.flag_off[(t, s)])
    return np.concatenate(dst), np.concatenate(sel), np.array(flags)


def _map_blocks(st: LightStructure, T) -> dict:
    """Per (finding, abnormal state): its parents' maps ``(n, 2, Kmax, 2)``, flat, with the
    initial vector folded into its first step's and the final one into its last step's
    (as :func:`bayesdx.inference.slots._slot_maps` does); every finding and state at
    once, kept with the tables."""

    def build():
        net = st.net
        out = {}
        for f, (lo_t, hi_t) in st.span.items():
            pos = [st.pos[p] for p in net.parents[f]]
            lo, hi = pos.index(lo_t), pos.index(hi_t)
            for k in range(1, net.card(f)):
                stacked: dict = {}
                init, final, _ = acc_tables(net, [f], {}, T, [{f: k}], stacked)[f]
                block = stacked[f][0, 0].copy()
                m = block[lo]
                block[lo] = np.stack([np.einsum("a,akc->kc", init[0, 0], m), np.zeros(m.shape[1:])])
                m = block[hi]
                block[hi] = np.stack([np.einsum("akc,c->ak", m, final[0, 0]), np.zeros(m.shape[:2])],
                                     axis=-1)
                out[(f, k)] = block.ravel()
        return out

    return T.derived(("light_maps",), build)


def _record_ops(code) -> tuple[int, int]:
    """Element operations of a program's contraction records, and its largest output
    (for its :class:`~bayesdx.inference.budget.Cost`)."""
    ops, largest, pc, n = 0, 1, 0, len(code)
    while pc < n:
        op = int(code[pc])
        if op == 0:
            nd = int(code[pc + 5])
            ops += math.prod(int(x) for x in code[pc + 6:pc + 6 + nd])
            largest = max(largest, int(code[pc + 4]))
            pc += 6 + 4 * nd
        else:
            pc += {1: 5, 2: 4, 3: 9}[op]
    return ops, largest


def _own_shape(net, step) -> tuple[int, ...]:
    return tuple(net.card(a) for a in step.own)


def structure(engine) -> LightStructure:
    """The engine's light structure (built on first use, kept)."""
    hit = engine.__dict__.get("_light")
    if hit is None:
        hit = LightStructure(engine.net, engine._cause_index)
        with _LOCK:
            hit = engine.__dict__.setdefault("_light", hit)
    return hit


def _slots_of(st: LightStructure, idx: dict):
    """The query's abnormal findings with their slots, and the slot count (None: no light path)."""
    findings = st.net.kb.findings
    spans = []
    for f, k in idx.items():
        if f in findings:
            sp = st.span.get(f)
            if sp is None:  # a parent that is no step: the plan path
                return None, None
            if k > 0:
                spans.append((sp[0], sp[1], f))
    spans.sort()
    slot_of, S = _colour(spans)
    return [(f, s) for (_, _, f), s in zip(spans, slot_of)], S


def light_cost(engine, idx: dict, draws: int = 1) -> Cost | None:
    """Cost of :func:`light_posterior` for validated evidence ``idx``; None when the light
    path does not apply (too many slots, or a finding it cannot place)."""
    st = structure(engine)
    if not st.ok or draws != 1:
        return None
    held, S = _slots_of(st, idx)
    if held is None or S > LIGHT_SLOTS:
        return None
    return st.layout(S).cost


def _base_inputs(st: LightStructure, lay: _Layout, T) -> np.ndarray:
    """The program's inputs with no evidence, flat (kept with the tables per slot count)."""

    def build():
        src = np.zeros(lay.n)
        src[0] = 1.0
        src[int(lay.src_off[1])] = 1.0  # the first frontier: every slot empty
        src[int(lay.src_off[2]):int(lay.src_off[3])] = 1.0
        for step, off, sh in zip(st.steps, lay.own_off, lay.own_shapes):
            n = math.prod(sh)
            src[off:off + n] = _own(st, step, T, {}).ravel()
        for off, n in lay.ones:
            src[off:off + n] = 1.0
        for (t, s), off in lay.map_off.items():
            K = st.net.card(st.steps[t].item)
            m = np.zeros((2, K, 2))
            m[0, :, 0] = m[1, :, 1] = 1.0
            src[off:off + 4 * K] = m.ravel()
        src.setflags(write=False)
        return src

    return T.derived(("light_inputs", lay.S), build)


def _own(st: LightStructure, step, T, lam: dict) -> np.ndarray:
    """A step's own factor (D = 1), with the one-hot ``lam`` of observed folded context
    (without :attr:`~bayesdx.knowledge.tables.Tables.cause_weight`: applied per query)."""
    net = st.net
    x = step.item
    if step.kind == "ctx":
        cpt = T.context_cpt[x][0]  # ([card_parent,] card)
        return np.ascontiguousarray(cpt.T) if cpt.ndim == 2 else cpt
    lab = _labeler(x)
    args = [_cause_pairs(net, T)[x][0], [lab(x)] + [lab(p) for p in net.parents[x]]]
    for f in st.plan.folds.get(x, ()):
        par = net.parents[f]
        args += [T.context_cpt[f][0], [lab(p) for p in par] + [lab(f)]]
        if f in lam:
            args += [lam[f], [lab(f)]]
    return np.einsum(*args, [lab(a) for a in step.own], optimize=False)


def light_posterior(engine, idx: dict, T):
    """Posterior ``(C,)`` and log-evidence of validated evidence ``idx`` by the light
    program (tables of one draw). Call :func:`light_cost` first: it says whether the
    light path applies."""
    from .plan_kernel import run_cases

    st = structure(engine)
    net = st.net
    held, S = _slots_of(st, idx)
    lay = st.layout(S)
    src = _base_inputs(st, lay, T).copy()
    logz = 0.0

    def own(item):
        i = st.pos[item]
        off = lay.own_off[i]
        sh = lay.own_shapes[i]
        return src[off:off + math.prod(sh)].reshape(sh[0], -1)

    ctx, findings = net.kb.context, net.kb.findings
    folded: dict = {}
    for x, v in idx.items():
        if x not in ctx:
            continue
        if x in st.pos:
            keep = own(x)[v].copy()
            own(x)[:] = 0.0
            own(x)[v] = keep
        elif x in st.folded:
            hot = np.zeros(net.card(x))
            hot[v] = 1.0
            folded.setdefault(st.folded[x], {})[x] = hot
        else:  # isolated context: P(x = v | parent) on the parent, or a constant
            cpt = T.context_cpt[x][0]
            par = net.parents[x]
            if par:
                own(par[0])[:] *= cpt[:, v][:, None]
            else:
                logz += math.log(cpt[v]) if cpt[v] > 0 else -math.inf
    for c, lam in folded.items():
        i = st.pos[c]
        src[lay.own_off[i]:lay.own_off[i] + math.prod(lay.own_shapes[i])] = _own(st, st.steps[i], T, lam).ravel()
    for c, w in T.cause_weight.items():  # a likelihood on a cause (conditioning), per query
        own(c)[:] *= w[0][:, None]
    for f, k in idx.items():
        if k == 0 and f in findings:
            leak = T.finding_leak[f][0, 0]
            logz += math.log(leak) if leak > 0 else -math.inf
            for p in net.parents[f]:
                own(p)[:] *= T.link(f, p)[0, :, 0][:, None]
    blocks = _map_blocks(st, T)
    for f, s in held:
        dst, sel, flags = lay.dest[(f, s)]
        src[dst] = blocks[(f, idx[f])][sel]
        src[flags] = 1.0
    probs = np.empty((1, len(engine.causes)))
    lz = np.zeros(1)
    prog = lay.prog
    run_cases(prog.code, prog.size, src, lay.src_off, prog.in_offsets, lay.per, lay.zero, lay.zero,
              1, 1, probs, lz, 0, 1)
    return probs[0], logz + float(lz[0])
