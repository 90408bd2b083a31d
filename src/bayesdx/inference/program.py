"""A plan flattened into one program for the compiled kernel.

:func:`run_frontier_compiled` computes exactly what
:func:`bayesdx.inference.pattern.run_frontier` computes (the numpy reference,
kept), but the forward and backward passes of every step, the accumulator
transitions and the rescales run in one call of
:func:`bayesdx.inference.plan_kernel.run_program` instead of hundreds of small
einsums from Python.

The program (op codes, strides, offsets into one flat workspace) depends on
the plan, the batch shape ``(draws, cases)`` and the shapes of the
evidence-reduced factors; it is built once and cached on the plan under that
key (building is deterministic, so two threads that build it at once store
the same program). Each call only gathers the factors (contiguous, a
broadcast batch axis kept at length 1), copies them into a fresh workspace
and runs the kernel; nothing is shared between calls but the read-only
program, so concurrent queries are safe.

Temporaries rotate through three scratch slots; what the backward pass needs
(every step's ``Y`` and the accumulator transitions) stays in the persistent
part, so the workspace holds about what the numpy path keeps alive.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .factors import Prepared, acc_tables, ctx_factor
from ..knowledge.network import Network, Tables
from .plan import Plan

__all__ = ["LANES_ON", "PARALLEL_OPS", "PROGRAMS_KEPT", "THREADS", "Program", "build_program", "compact", "gather",
           "run_arrays", "run_frontier_compiled", "threads_for"]

_LOCK = threading.Lock()  # guards each plan's program cache (insertion and eviction only)
PROGRAMS_KEPT = 8
"""Programs kept per plan (one per batch shape: single case, interval chunks, ...)."""

THREADS = min(2, os.cpu_count() or 1)
"""Threads that share the draws of one heavy query (the kernel releases the GIL). Two:
the development machine has two cores, and a query should leave the app responsive."""

LANES_ON = True
"""Run many (draw, case) pairs of one program side by side
(:func:`~bayesdx.inference.plan_kernel.run_cases_lanes`); ``False`` runs them one at a time."""

PARALLEL_OPS = 2e7
"""A query's draws are split between :data:`THREADS` threads from this many element
operations (about 0.1 s of one core) up."""

_MODES_EINSUM = {  # tmat(f, item, mode) as contractions of (init, t, final); labels a, k, c
    "open": (("init", (0,)), ("t", (0, 1, 2)), (1, 2)),
    "close": (("t", (0, 1, 2)), ("final", (2,)), (0, 1)),
}


@dataclass(frozen=True)
class Program:
    """A flattened plan: ``code`` for the kernel and where each input goes."""

    code: np.ndarray
    in_offsets: np.ndarray  # start of every input in the workspace (gather order)
    n_inputs: int           # numbers the inputs take (they come first)
    size: int               # workspace numbers
    slot_maps: bool = False  # has slot-map records (record 3)


def gather(net: Network, plan: Plan, T: Tables, idxs, prep: Prepared):
    """The factors the program reads, in a fixed order, as contiguous arrays.

    Order: the constant 1, every step's own factor, then per accumulated
    finding its transitions (all parents in one array), initial and final
    vectors. A batch axis of length 1 in the data (a factor the same for every
    draw or case) is kept at length 1 rather than broadcast.
    """
    stacked: dict = {}
    acc_tab = acc_tables(net, plan.acc, prep.fixed_idx, T, idxs, stacked)
    arrays = [np.ones((1, 1))]  # 0: the constant 1 (for sums and the first frontier)
    for st in plan.steps:
        arrays.append(prep.cause_factor[st.item] if st.kind == "cause" else
                      ctx_factor(net, st.item, T, plan, prep)[0])
    for f in plan.acc:
        init, final, _ = acc_tab[f]
        arrays += [stacked[f], init, final]
    return compact(arrays)


def compact(arrays):
    """Contiguous arrays, a broadcast draw or case axis kept at length 1."""
    out = []
    for a in arrays:
        if a.shape[0] > 1 and a.strides[0] == 0:
            a = a[:1]
        if a.shape[1] > 1 and a.strides[1] == 0:
            a = a[:, :1]
        out.append(a if a.flags.c_contiguous else np.ascontiguousarray(a))
    return out


def _prod(shape) -> int:
    """Product of a shape's lengths, as a Python int (``math.prod``: no numpy call per record)."""
    return math.prod(int(n) for n in shape)


class _Ref:
    """An array in the workspace: region, offset in it, shape, strides (C order if None)."""

    __slots__ = ("region", "rel", "shape", "strides")

    def __init__(self, region, rel, shape, strides=None):
        self.region, self.rel, self.shape = region, rel, tuple(shape)
        if strides is None:
            strides, acc = [], 1
            for n in reversed(self.shape):
                strides.insert(0, acc)
                acc *= n
        self.strides = tuple([0 if n == 1 else s for n, s in zip(self.shape, strides)])

    def parent_block(self, i: int, K: int) -> _Ref:
        """``t[:, :, i, :, :K, :]`` of a stacked transition array ``(D, B, n, 2, Kmax, 2)``."""
        s = self.strides
        D, B, n, _, kmax, _ = self.shape
        full = (B * n * 4 * kmax, n * 4 * kmax, 4 * kmax, 2 * kmax, 2, 1)
        return _Ref(self.region, self.rel + i * full[2], (D, B, 2, K, 2),
                    (s[0], s[1], full[3], full[4], full[5]))


class _Builder:
    """Emits records; temporaries go to rotating scratch slots, resolved at the end."""

    def __init__(self, D: int, B: int, shapes):
        self.D, self.B = D, B
        self.records: list[list] = []
        self.inputs = []
        off = 0
        for s in shapes:
            self.inputs.append(_Ref("in", off, s))
            off += _prod(s)
        self.n_inputs = off
        self.persist = 0
        self.slot_size = [0, 0, 0]

    def out(self, shape, persist: bool, avoid=()):
        size = _prod(shape)
        if persist:
            ref = _Ref("persist", self.persist, shape)
            self.persist += size
            return ref
        slot = next(s for s in range(3) if s not in avoid)
        self.slot_size[slot] = max(self.slot_size[slot], size)
        return _Ref(slot, 0, shape)

    def contract(self, a: _Ref, la, b: _Ref, lb, lo, *, persist=False, avoid=()):
        """``C[..., lo] = sum A[..., la] B[..., lb]`` (leading axes: draws, cases)."""
        dim = {}
        for ref, labels in ((a, la), (b, lb)):
            for lab, n in zip(labels, ref.shape[2:]):
                dim[lab] = n
        shape = (self.D, self.B) + tuple(dim[lab] for lab in lo)
        busy = {r.region for r in (a, b) if isinstance(r.region, int)} | set(avoid)
        c = self.out(shape, persist, busy)
        canon: dict = {}  # labels renamed 0, 1, ... by first use: the memo sees the structure
        la, lb, lo = ([canon.setdefault(x, len(canon)) for x in ls] for ls in (la, lb, lo))
        dims, ss = _best_loops((a.shape, a.strides, tuple(la)), (b.shape, b.strides, tuple(lb)),
                               (c.shape, c.strides, tuple(lo)))
        self.records.append(["C", a, b, c, _prod(shape), dims, *ss])
        return c

    def rescale(self, ref: _Ref, add_log: bool):
        n = self.D * self.B
        self.records.append(["R", ref, n, _prod(ref.shape) // n, int(add_log)])

    def slot_map(self, y: _Ref, m: _Ref, flag: _Ref, S: int, s: int, transpose: bool):
        """Apply a slot's ``(2, K, 2)`` map ``m`` to ``y`` (``(K, R, 2**S)``, C order) in
        place over slot ``s`` (the axis of stride ``2**(S-1-s)``), when ``flag`` is not 0."""
        K = y.shape[2]
        R = _prod(y.shape[3:]) >> S
        self.records.append(["S", y, m, flag, K, R, S, s, int(transpose)])

    def marginal(self, ref: _Ref, cause: int):
        self.records.append(["M", ref, self.D * self.B, cause])

    def finish(self) -> Program:
        base = {"in": 0, "persist": self.n_inputs}
        top = self.n_inputs + self.persist
        for s in range(3):
            base[s] = top
            top += self.slot_size[s]

        def at(ref):
            return base[ref.region] + ref.rel

        code: list[int] = []
        for r in self.records:
            if r[0] == "C":
                _, a, b, c, size_c, dims, sa, sb, sc = r
                code += [0, at(a), at(b), at(c), size_c, len(dims), *dims, *sa, *sb, *sc]
            elif r[0] == "S":
                code += [3, at(r[1]), at(r[2]), at(r[3]), *r[4:]]
            elif r[0] == "R":
                code += [1, at(r[1]), r[2], r[3], r[4]]
            else:
                code += [2, at(r[1]), r[2], r[3]]
        offsets = np.array([at(r) for r in self.inputs], dtype=np.int64)
        return Program(np.array(code, dtype=np.int64), offsets, self.n_inputs, max(top, 1),
                       any(r[0] == "S" for r in self.records))


@functools.lru_cache(maxsize=8192)
def _best_loops(a, b, c):
    """The cheapest loop nest for ``C = A B`` (each ``(shape, strides, labels)``); memoised,
    since a plan repeats the same contraction shapes many times."""
    dim = {}
    for shape, _, labels in (a, b):
        dim.update(zip(labels, shape[2:]))
    lo = c[2]
    size = {"d": c[0][0], "b": c[0][1], **dim}
    summed = [lab for lab in dim if lab not in lo]
    labels = ["d", "b"] + list(lo) + summed
    shapes = {"a": a[1:], "b": b[1:], "c": c[1:]}
    best = None
    for order in _orders(labels, summed, size):
        cand = _loops(order, size, shapes)
        if best is None or cand[0] < best[0]:
            best = cand
    return best[1], best[2]


def _orders(labels, summed, size):
    """Candidate loop orders (outermost first): output order with the sums inside or
    outside, and each label longer than 2 (or a batch axis) moved innermost."""
    out = [lab for lab in labels if lab not in summed]
    yield labels
    yield ["d", "b"] + summed + out[2:]
    for lab in labels:
        if size[lab] > 2 or lab in ("d", "b"):
            yield [x for x in labels if x != lab] + [lab]


def _loops(order, size, shapes):
    """Strides of A, B, C over ``order``, unit loops dropped, neighbours that are one
    run in every operand merged; scored by a rough cost model (lower is better):
    a nanosecond per element, plus a cache miss for each operand whose inner stride
    leaves the cache line, plus the outer loop's overhead per inner run."""
    ss = []
    for strides, labels in shapes.values():
        st = dict(zip(["d", "b"] + list(labels), strides))
        ss.append([st.get(lab, 0) for lab in order])
    dims = [size[lab] for lab in order]
    keep = [i for i, n in enumerate(dims) if n > 1] or [len(dims) - 1]
    dims = [dims[i] for i in keep]
    ss = [[s[i] for i in keep] for s in ss]
    i = len(dims) - 2
    while i >= 0:
        if all(s[i] == s[i + 1] * dims[i + 1] for s in ss):
            dims[i] *= dims[i + 1]
            del dims[i + 1]
            for s in ss:
                del s[i]  # the merged loop keeps the inner stride
        i -= 1
    total = 1
    for n in dims:
        total *= n
    miss = sum(min(abs(s[-1]), 8) / 8 for s in ss) * (dims[-1] > 1)
    return total * (1.0 + 2.0 * miss) + 6.0 * total / dims[-1], dims, ss


def build_program(net: Network, plan: Plan, shapes, D: int, B: int, cause_index: dict) -> Program:
    """Flatten ``plan`` for inputs of ``shapes`` (the :func:`gather` order)."""
    parent_pos = {(f, p): (i, net.card(p)) for f in plan.acc for i, p in enumerate(net.parents[f])}
    bd = _Builder(D, B, shapes)
    inputs = iter(bd.inputs)
    one = next(inputs)
    owns = [next(inputs) for _ in plan.steps]
    acc = {f: (next(inputs), next(inputs), next(inputs)) for f in plan.acc}
    tmats = []
    for st in plan.steps:  # the transitions each step applies, in the numpy path's modes
        modes = {f: mode for _, f, mode, *_ in st.prog["fwd"][1:]}
        tm = {}
        for f, _ in st.trans:
            whole, init, final = acc[f]
            t = whole.parent_block(*parent_pos[(f, st.item)])
            mode = modes[f]
            if mode == "mid":
                tm[f] = t
            elif mode == "oc":
                tmp = bd.contract(init, (0,), t, (0, 1, 2), (1, 2))
                tm[f] = bd.contract(tmp, (1, 2), final, (2,), (1,), persist=True)
            else:
                (n1, l1), (n2, l2), lo = _MODES_EINSUM[mode]
                ops = {"init": init, "t": t, "final": final}
                tm[f] = bd.contract(ops[n1], l1, ops[n2], l2, lo, persist=True)
        tmats.append(tm)
    ys = []
    frontier = one
    for st, own, tm in zip(plan.steps, owns, tmats):  # forward
        fwd = st.prog["fwd"]
        _, la, lb, lo = fwd[0]
        last = len(fwd) == 1
        y = bd.contract(frontier, la, own, lb, lo, persist=last)
        for j, (_, f, mode, la, lb, lo) in enumerate(fwd[1:]):
            y = bd.contract(y, la, tm[f], lb, lo, persist=(j == len(fwd) - 2))
        ys.append(y)
        la, lo = st.prog["sum"]
        frontier = bd.contract(y, la, one, (), lo)
        bd.rescale(frontier, True)
    beta = one
    for st, own, tm, y in zip(reversed(plan.steps), reversed(owns), reversed(tmats), reversed(ys)):
        live = {beta.region} if isinstance(beta.region, int) else set()
        if st.kind == "cause":
            la, lb, lo = st.prog["marg"]
            m = bd.contract(y, la, beta, lb, lo, avoid=live)
            bd.marginal(m, cause_index[st.item])
        g = beta
        for f, mode, la, lb, lo in st.prog["back"][:-1]:
            g = bd.contract(g, la, tm[f], lb, lo)
        _, la, lb, lo = st.prog["back"][-1]
        beta = bd.contract(g, la, own, lb, lo)
        bd.rescale(beta, False)
    return bd.finish()


def run_frontier_compiled(net: Network, plan: Plan, T: Tables, idxs, prep: Prepared,
                          cause_index: dict, probs: np.ndarray, logz: np.ndarray) -> None:
    """:func:`~bayesdx.inference.pattern.run_frontier` by the compiled kernel (same contract).

    The program is built for one case and one draw; the kernel runs it for every
    (draw, case) pair in turn on one small workspace (it stays in cache, where
    the numpy path's arrays for all draws at once can take gigabytes).
    """
    arrays = gather(net, plan, T, idxs, prep)
    shapes = [(1, 1) + a.shape[2:] for a in arrays]
    key = tuple(shapes)
    with _LOCK:
        cache = plan.__dict__.setdefault("_programs", {})
        prog = cache.get(key)
    if prog is None:
        built = build_program(net, plan, shapes, 1, 1, cause_index)
        with _LOCK:
            prog = cache.setdefault(key, built)
            while len(cache) > PROGRAMS_KEPT:
                cache.pop(next(iter(cache)))
    run_arrays(prog, arrays, shapes, probs, logz, float(plan.cost))


def run_arrays(prog: Program, arrays, shapes, probs: np.ndarray, logz: np.ndarray,
               ops: float = 0.0) -> None:
    """Run a one-case program for every (draw, case) pair of ``logz`` (``(D, B)``).

    ``arrays`` are its inputs, contiguous, ``(D or 1, B or 1, ...)``; ``shapes`` the
    one-case shapes the program was built for. Fills ``probs`` (``(D, B, C)``) and
    adds to ``logz`` in place. ``ops``: element operations of one run, to decide
    whether the draws are split between threads (:func:`threads_for`); the
    numbers are the same either way, bit for bit.
    """
    from .plan_kernel import LANES, run_cases, run_cases_lanes

    D, B = logz.shape
    per = np.array([math.prod(s) for s in shapes], dtype=np.int64)
    sizes = np.array([a.size for a in arrays], dtype=np.int64)
    src_off = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    sd = np.array([a.shape[1] * p if a.shape[0] > 1 else 0 for a, p in zip(arrays, per)],
                  dtype=np.int64)
    sb = np.array([p if a.shape[1] > 1 else 0 for a, p in zip(arrays, per)], dtype=np.int64)
    src = np.concatenate([a.reshape(-1) for a in arrays])
    flat_p = probs.reshape(D * B, probs.shape[-1])
    flat_z = np.ascontiguousarray(logz).reshape(D * B)
    args = (prog.code, prog.size, src, src_off, prog.in_offsets, per, sd, sb, D, B, flat_p, flat_z)
    # pairs side by side (SIMD across draws and cases) when there are enough of them;
    # the numbers are the same bit for bit either way
    run = run_cases_lanes if (LANES_ON and D * B >= LANES) else run_cases
    n = threads_for(D, B * ops) if ops else 1
    if n <= 1:  # (the draw range given explicitly: numba's dispatch of omitted
        run(*args, 0, D)  # arguments takes its slow path, ~0.3 ms a call)
    else:  # disjoint draw ranges; every (draw, case) is computed the same way in any thread
        cuts = [D * i // n for i in range(n + 1)]
        with ThreadPoolExecutor(n) as pool:
            for f in [pool.submit(run, *args, cuts[i], cuts[i + 1]) for i in range(n)]:
                f.result()
    logz[...] = flat_z.reshape(D, B)


def threads_for(draws: int, ops_per_draw: float) -> int:
    """Threads for ``draws`` runs of ``ops_per_draw`` element operations each: one, unless
    the work reaches :data:`PARALLEL_OPS`; then :data:`THREADS` (at most one per draw)."""
    if THREADS <= 1 or draws < 2 or draws * ops_per_draw < PARALLEL_OPS:
        return 1
    return min(THREADS, draws)
