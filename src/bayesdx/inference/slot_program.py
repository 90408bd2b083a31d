"""The slot pass (:mod:`bayesdx.inference.slots`) run by the compiled kernel.

:func:`run_slots_compiled` computes what the numpy slot pass
(``slots._forward_backward``, the reference, kept) computes, but flattens the
chunk's forward and backward passes into one program for
:func:`bayesdx.inference.plan_kernel.run_cases`, as
:mod:`bayesdx.inference.program` does for a per-pattern plan. The program is
built for one case and one draw and run for every (draw, case) pair of the
chunk on one small workspace.

The ``S`` slots of a chunk are ``S`` binary axes of the frontier (the numpy
pass keeps them as one axis of ``2**S``; the bit order is the same). A slot's
map at a step, ``m[a, k, c]`` (accumulator before, the step item's state,
accumulator after), acts on that slot's axis: forward
``y'[.., c, ..] = sum_a y[.., a, ..] m[a, k, c]``, backward
``g'[.., a, ..] = sum_c m[a, k, c] g[.., c, ..]``. Every case of a chunk has the
same steps and the same (step, slot) pairs with a map (the identity where a case's slot holds
nothing then), so the program's inputs have the same shapes for all its cases:
the initial frontier, every step's own factor and every map with a per-case
flag. A map is applied in place by the kernel's slot record, and skipped for a
case whose map there is the identity (so a case pays for its own findings, not
for the chunk's union of them).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from .program import _Builder, compact

__all__ = ["SLOT_PROGRAMS_KEPT", "build_slot_program", "run_slots_compiled"]

SLOT_PROGRAMS_KEPT = 64
"""Slot programs kept per engine (least recently used dropped). A program depends on the
chunk's steps, slot count and which (step, slot) pairs carry a map, so chunks of a
cohort scored in pieces often share one."""

_LOCK = threading.Lock()  # guards the engines' slot-program caches (lookups and insertions)

def slot_inputs(owns, maps, S: int):
    """The program's inputs, in its order, and the ``(step, slot)`` keys of the maps.

    Order: the constant 1, the initial frontier (``S`` axes of 2, all mass on "no
    slot holds anything yet"), ones over the ``S`` axes (the last backward
    message), every step's own factor, then per step with maps a vector of ones
    over its item and, per map in the order the numpy pass applies them, the map
    ``(D, B, 2, K, 2)`` and a flag ``(D, B, 1)``: 0 where the map is the identity
    (that case's slot holds nothing at that step), so the kernel skips it.
    """
    first = np.zeros((1, 1) + (2,) * S)
    first.reshape(-1)[0] = 1.0
    arrays = [np.ones((1, 1)), first, np.ones((1, 1) + (2,) * S), *owns]
    keys = []
    for t, (own, mp) in enumerate(zip(owns, maps)):
        if mp:
            arrays.append(np.ones((1, 1, own.shape[2])))
        for s, m in mp.items():
            m = m.m if hasattr(m, "m") else m
            ident = np.zeros(m.shape[2:])
            ident[0, :, 0] = ident[1, :, 1] = 1.0
            keys.append((t, s))
            arrays += [m, (m != ident).any(axis=(2, 3, 4))[..., None].astype(float)]
    return arrays, keys


def build_slot_program(steps, shapes, map_keys, S: int, cause_index: dict):
    """Flatten a chunk's slot pass for inputs of ``shapes`` (:func:`slot_inputs`' order)."""
    bd = _Builder(1, 1, shapes)
    inputs = iter(bd.inputs)
    one, frontier, beta = next(inputs), next(inputs), next(inputs)
    owns = [next(inputs) for _ in steps]
    maps: list[list] = [[] for _ in steps]
    ones = [None] * len(steps)
    for t, s in map_keys:
        if not maps[t]:
            ones[t] = next(inputs)
        maps[t].append((s, next(inputs), next(inputs)))
    bits = tuple(("#", s) for s in range(S))

    def y_axes_of(st):
        return (st.item,) + tuple(dict.fromkeys(st.ctx_in + st.own[1:])) + bits

    ys = []
    for st, own, mp in zip(steps, owns, maps):
        y_axes = y_axes_of(st)
        y = bd.contract(frontier, st.ctx_in + bits, own, st.own, y_axes, persist=True)
        for s, m, flag in mp:
            bd.slot_map(y, m, flag, S, s, False)
        ys.append(y)
        frontier = bd.contract(y, y_axes, one, (), st.ctx_out + bits)
        bd.rescale(frontier, True)
    total = bd.contract(frontier, steps[-1].ctx_out + bits, one, (), ())
    bd.rescale(total, True)
    for st, own, mp, y, ones_k in zip(reversed(steps), reversed(owns), reversed(maps),
                                      reversed(ys), reversed(ones)):
        out = st.ctx_out + bits
        live = {beta.region} if isinstance(beta.region, int) else set()
        if st.kind == "cause":
            m = bd.contract(y, y_axes_of(st), beta, out, (st.item,), avoid=live)
            bd.marginal(m, cause_index[st.item])
        if mp:
            g_axes = (st.item,) + tuple(a for a in st.ctx_out if a != st.item) + bits
            g = bd.contract(beta, out, ones_k, (st.item,), g_axes)
            for s, m, flag in reversed(mp):
                bd.slot_map(g, m, flag, S, s, True)
        else:
            g, g_axes = beta, out
        beta = bd.contract(g, g_axes, own, st.own, st.ctx_in + bits)
        bd.rescale(beta, False)
    return bd.finish()


def run_slots_compiled(engine, steps, owns, maps, S, D, B, probs, logz) -> None:
    """``slots._forward_backward`` by the compiled kernel (same contract: fills ``probs``
    of the steps' causes and adds to ``logz`` in place)."""
    from .program import run_arrays

    arrays, keys = slot_inputs(owns, maps, S)
    arrays = compact(arrays)
    shapes = [(1, 1) + a.shape[2:] for a in arrays]
    key = (tuple((st.item, st.kind, st.own, st.ctx_in, st.ctx_out) for st in steps),
           tuple(shapes), tuple(keys), S)
    with _LOCK:
        cache = engine.__dict__.setdefault("_slot_programs", OrderedDict())
        prog = cache.get(key)
        if prog is not None:
            cache.move_to_end(key)
    if prog is None:  # building is deterministic: two threads that build it store the same
        prog = build_slot_program(steps, shapes, keys, S, engine._cause_index)
        with _LOCK:
            prog = cache.setdefault(key, prog)
            while len(cache) > SLOT_PROGRAMS_KEPT:
                cache.popitem(last=False)
    ops = sum(math.prod(s) for s in shapes) * 2 ** S  # a rough size, for threads only
    run_arrays(prog, arrays, shapes, probs, logz, float(ops))
