"""Cases scored in bulk without a plan (the direct path).

A cohort of distinct patients compiles a plan per evidence pattern, or shares
slot passes in one cause order; both spend most of their time in Python per
case (orders, subscripts, maps). Here a case needs nothing but the tables and
its own evidence:

* the tables are laid out once per table set as padded arrays
  (:func:`layout`, kept with the tables);
* the evidence of the whole batch becomes one integer matrix
  (:func:`evidence_matrix`);
* one call of :func:`~bayesdx.inference.direct_kernel.run_direct` works out
  how each unrecorded context node enters, orders each case's causes, places
  its accumulators and frontier nodes and runs its forward and backward passes
  (see that module).

Cases it does not take (more than :data:`MAX_SLOTS` frontier bits open at
once, and two rare shapes listed there) come back marked, and the engine runs
them as before. The arithmetic is the same non-negative algebra as the plans;
``tests/inference/test_direct.py`` checks it against them, the numpy path,
brute force on the tiny network and pgmpy.

Examples
--------
>>> from bayesdx.knowledge.network import Network
>>> from bayesdx.inference.engine import Engine
>>> eng = Engine(Network.from_knowledge())
>>> ctx = {x: eng.net.states[x][0] for x in eng.net.context}  # every context node recorded
>>> evs = [{**ctx, "anc": "severe"}, {"anc": "severe"}]  # the second records no context
>>> probs, logz, done = run_direct(eng, [eng.validate(e) for e in evs], eng.net.tables())
>>> done.tolist()
[True, True]
>>> ref = eng.posterior_batch(evs, method="pattern").probs[0]
>>> bool(abs(probs[0] - ref).max() < 1e-12)
True
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..knowledge.network import Network, Tables

__all__ = ["MAX_SLOTS", "MAX_STORED", "Layout", "check_cache", "evidence_matrix", "layout", "run_direct"]

MAX_SLOTS = 20
"""A case runs here when at most this many frontier bits (accumulators, and the states
of frontier context nodes) are open at once in its greedy order (its frontier vectors
hold ``2**bits`` numbers: 8 MB each at 20) ..."""

MAX_STORED = 1 << 22
"""... and its forward pass stores at most this many numbers (32 MB: each step's input
over its open bits). Heavier cases run by their own plan, whose memory the engine's
budget bounds. (On 2,000 registry-style patients, history unrecorded: 9.4 s CPU at 2^19,
6.2 s at 2^22 and at 2^23; the 106 work-ups 0.10-0.14 s either way.)"""


@dataclass(frozen=True)
class Layout:
    """The tables as the kernel reads them (padded arrays; see :func:`layout`)."""

    usable: bool
    nX: int
    nF: int
    columns: dict
    arrays: tuple
    finding_arrays: tuple


def _ctx_arrays(net: Network, T: Tables, ctx: list[str]):
    D = T.draws
    pc = max([net.card(net.parents[x][0]) for x in ctx if net.parents[x]] + [1])
    kc = max(net.card(x) for x in ctx)
    xi = {x: i for i, x in enumerate(ctx)}
    par = np.array([xi[net.parents[x][0]] if net.parents[x] else -1 for x in ctx], np.int64)
    tab = np.zeros((D, len(ctx), pc, kc))
    for i, x in enumerate(ctx):
        cpt = T.context_cpt[x]
        if net.parents[x]:
            tab[:, i, :cpt.shape[1], :cpt.shape[2]] = cpt
        else:
            tab[:, i, 0, :cpt.shape[1]] = cpt
    return par, tab


def _children(net: Network, ctx: list[str], xi: dict, fi: dict):
    """Per context node: its card, its number of cause children, its finding children and
    its context children (padded index arrays)."""
    kids = [net.children[x] for x in ctx]
    fs = [[fi[k] for k in ch if k in fi] for ch in kids]
    ks = [[xi[k] for k in ch if k in xi] for ch in kids]

    def pad(rows):
        out = np.zeros((len(rows), max([len(r) for r in rows] + [1])), np.int64)
        for i, r in enumerate(rows):
            out[i, :len(r)] = r
        return np.array([len(r) for r in rows], np.int64), out

    n_causes = np.array([sum(1 for k in ch if k in net.kb.causes) for ch in kids], np.int64)
    card = np.array([net.card(x) for x in ctx], np.int64)
    return (card, n_causes, *pad(fs), *pad(ks))


def _cause_arrays(net: Network, T: Tables, xi: dict, causes: list[str]):
    D, C = T.draws, len(causes)
    npar = max(len(net.parents[c]) for c in causes)
    flat = max(int(np.prod([net.card(p) for p in net.parents[c]])) for c in causes)
    n = np.zeros(C, np.int64)
    par = np.zeros((C, max(npar, 1)), np.int64)
    stride = np.zeros((C, max(npar, 1)), np.int64)
    tab = np.zeros((D, C, flat))
    for i, c in enumerate(causes):
        ps = net.parents[c]
        cards = [net.card(p) for p in ps]
        n[i] = len(ps)
        for j, p in enumerate(ps):
            par[i, j] = xi[p]
            stride[i, j] = int(np.prod(cards[j + 1:]))
        tab[:, i, :int(np.prod(cards))] = T.cause_cpt[c].reshape(D, -1)
    return n, par, stride, tab


def _cause_weights(T: Tables, causes) -> np.ndarray:
    """``T.cause_weight`` as ``(D, C, 2)`` (read per call: analyses set it on copies of
    tables whose derived cache they keep)."""
    w = np.ones((T.draws, len(causes), 2))
    for i, c in enumerate(causes):
        if c in T.cause_weight:
            w[:, i] = T.cause_weight[c]
    return w


def _finding_arrays(net: Network, T: Tables, xi: dict, ci: dict, findings: list[str]):
    D, F = T.draws, len(findings)
    pm = max(len(net.parents[f]) for f in findings)
    kp = max(net.card(p) for f in findings for p in net.parents[f])
    kf = max(net.card(f) for f in findings)
    n = np.zeros(F, np.int64)
    kind = np.zeros((F, pm), np.int64)
    idx = np.zeros((F, pm), np.int64)
    pmf = np.zeros((D, F, pm, kp, kf))
    leak = np.zeros((D, F, kf))
    usable = True
    for i, f in enumerate(findings):
        ps = net.parents[f]
        n[i] = len(ps)
        lk = T.finding_leak[f]
        leak[:, i, :lk.shape[1]] = lk
        for j, p in enumerate(ps):
            e = T.link(f, p)
            pmf[:, i, j, :e.shape[1], :e.shape[2]] = e
            if p in ci:
                kind[i, j], idx[i, j] = 1, ci[p]
                usable &= bool((e[:, 0, 0] == 1.0).all())  # an absent cause has no effect
            else:
                idx[i, j] = xi[p]
    return usable, n, kind, idx, pmf, np.cumsum(pmf, axis=-1), leak, np.cumsum(leak, axis=-1)


def layout(net: Network, T: Tables) -> Layout:
    """The kernel's view of ``T`` (built once per tables, kept in their derived cache).

    ``usable`` is False when some cause, absent, has an effect on a finding (the
    kernel's maps assume it has none); the engine then never takes this path.
    """

    def build():
        ctx, causes, findings = list(net.context), list(net.causes), list(net.findings)
        xi = {x: i for i, x in enumerate(ctx)}
        ci = {c: i for i, c in enumerate(causes)}
        cpar, ctab = _ctx_arrays(net, T, ctx)
        kids = _children(net, ctx, xi, {f: i for i, f in enumerate(findings)})
        usable, *farr = _finding_arrays(net, T, xi, ci, findings)
        usable &= all(xi[p] < xi[x] for x in ctx for p in net.parents[x])  # parents open first
        usable &= max(net.card(x) for x in ctx) <= 16  # (a frontier node's states: 4 bits)
        usable &= max(len(net.parents[c]) for c in causes) <= 4  # (a cause's table: 16 bits)
        cols = {n: j for j, n in enumerate(ctx + findings + causes)}
        arrays = (cpar, ctab, *kids, *_cause_arrays(net, T, xi, causes))
        return Layout(usable, len(ctx), len(findings), cols, arrays, tuple(farr))

    return T.derived(("direct_layout",), build)


def evidence_matrix(columns: dict, idxs: list[dict[str, int]]) -> np.ndarray:
    """Validated evidence (``node -> state index``) as an ``(N, nodes)`` int matrix
    (``-1``: not observed), columns as in ``columns``."""
    E = np.full((len(idxs), len(columns)), -1, np.int64)
    lens = np.fromiter(map(len, idxs), np.int64, len(idxs))
    rows = np.repeat(np.arange(len(idxs)), lens)
    cols = np.fromiter((columns[k] for e in idxs for k in e), np.int64, int(lens.sum()))
    vals = np.fromiter((v for e in idxs for v in e.values()), np.int64, int(lens.sum()))
    E[rows, cols] = vals
    return E


_KERNEL_FILES = ("direct_kernel.py", "direct_passes.py", "direct_ops.py", "direct_inputs.py")
_CHECKED = threading.Event()
_CHECK_LOCK = threading.Lock()


def check_cache(folder: Path, digest: str) -> bool:
    """Drop the cached ``direct_*`` functions in ``folder`` unless they were built from
    sources of this ``digest`` (stored beside them); True when something was dropped.
    An unwritable folder is left as it is (numba then compiles without caching)."""
    stamp = folder / "bayesdx-direct-kernel.sha256"
    try:
        if stamp.is_file() and stamp.read_text() == digest:
            return False
        for old in folder.glob("direct_*.nb[ic]"):
            old.unlink(missing_ok=True)
        stamp.write_text(digest)
    except OSError:
        return False
    return True


def _kernel():
    """The compiled kernel, its on-disk cache checked against its sources first.

    numba's cache notices a change in a function's own file only, not in the files of
    the functions it calls (a documented limitation), and the kernel spans four files:
    when their digest differs from the one stored beside the cache, every cached
    ``direct_*`` function is dropped and compiled again (once per process; a missing
    or unwritable cache folder just means no cache)."""
    from . import direct_kernel

    if not _CHECKED.is_set():
        with _CHECK_LOCK:
            if not _CHECKED.is_set():
                here = Path(__file__).parent
                digest = hashlib.sha256(b"".join((here / f).read_bytes() for f in _KERNEL_FILES)).hexdigest()
                folder = getattr(getattr(direct_kernel.run_direct, "_cache", None), "_cache_path", None)
                if folder is not None:  # (None: numba's internals moved; then no check)
                    check_cache(Path(folder), digest)
                _CHECKED.set()
    return direct_kernel


def run_direct(engine, idxs: list[dict[str, int]], T: Tables, max_slots: int | None = None):
    """Posteriors ``(D, B, C)``, log-evidence ``(D, B)`` and which cases were handled ``(B,)``.

    Rows of cases not handled (``False``) are NaN / ``-inf``; impossible cases are
    handled (NaN / ``-inf``, as every batch method gives them).
    """
    k = _kernel()  # numba: loaded on first use
    lay = layout(engine.net, T)
    D, B, C = T.draws, len(idxs), len(engine.causes)
    probs = np.full((D, B, C), np.nan)
    logz = np.full((D, B), -np.inf)
    if not lay.usable or not B:
        return probs, logz, np.zeros(B, bool)
    E = evidence_matrix(lay.columns, idxs)
    status = np.empty(B, np.int8)
    k.run_direct(E, lay.nX, lay.nF, *lay.arrays, _cause_weights(T, engine.causes), *lay.finding_arrays,
                 MAX_SLOTS if max_slots is None else max_slots, MAX_STORED, probs, logz, status)
    return probs, logz, status != k.PASS
