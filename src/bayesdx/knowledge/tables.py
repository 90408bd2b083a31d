"""Numeric tables of the network for ``D`` parameter draws, and their derived caches.

:class:`Tables` is what :meth:`bayesdx.knowledge.network.Network.tables` returns
and what every engine reads: context CPTs, cause CPTs, and each finding's leak
and links (leaky noisy-MAX).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DERIVED_LOCK", "Tables"]


DERIVED_LOCK = threading.Lock()
"""Guards every :meth:`Tables.derived` cache (held for a dictionary operation only)."""


@dataclass
class Tables:
    """Numeric CPTs for ``D`` parameter draws (``D == 1`` for the point estimate).

    Arrays derived from the tables (the engine's stacked link tables) are
    cached with :meth:`derived`, which is safe to call from several threads.
    """

    draws: int
    context_cpt: dict[str, np.ndarray]
    cause_cpt: dict[str, np.ndarray]
    finding_leak: dict[str, np.ndarray]
    finding_links: dict[str, dict[str, np.ndarray]]
    cause_base: dict[str, np.ndarray] = field(default_factory=dict)
    cause_weight: dict[str, np.ndarray] = field(default_factory=dict)
    """Optional likelihood weights ``(D, 2)`` (absent, present) multiplying a cause's
    factor in the engine: weight ``(0, 1)`` conditions on the cause being present.
    Not part of the model; used by analyses such as joint explanations."""
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def link(self, finding: str, parent: str) -> np.ndarray:
        """Effect distributions of ``parent`` on ``finding``: ``(D, parent card, S)``."""
        return self.finding_links[finding][parent]

    def derived(self, key, build):
        """The value ``build()`` derived from these tables, computed once per ``key``.

        A lock (:data:`DERIVED_LOCK`) covers the lookup and the insertion, not
        ``build()``: two threads that miss at once both build (the same arrays)
        and the first stored wins.

        >>> from bayesdx.knowledge.network import Network
        >>> t = Network.from_knowledge().tables()
        >>> t.derived("x", lambda: 1), t.derived("x", lambda: 2)
        (1, 1)
        """
        with DERIVED_LOCK:
            hit = self._derived.get(key)
        if hit is None:
            value = build()
            with DERIVED_LOCK:
                hit = self._derived.setdefault(key, value)
        return hit

    def invalidate(self) -> None:
        """Drop derived caches; call after changing any array in place."""
        with DERIVED_LOCK:
            self._derived.clear()

    def draw_slice(self, start: int, stop: int) -> Tables:
        """Draws ``start:stop`` as tables of their own (views, no copy).

        >>> from bayesdx.knowledge.network import Network
        >>> net = Network.from_knowledge()
        >>> t = net.tables(np.repeat(net.theta0[None], 10, axis=0))
        >>> part = t.draw_slice(2, 6)
        >>> part.draws, part.finding_leak["anc"].shape[0]
        (4, 4)
        """
        def cut(d: dict) -> dict:
            return {k: v[start:stop] for k, v in d.items()}

        n = len(range(*slice(start, stop).indices(self.draws)))
        return Tables(n, cut(self.context_cpt), cut(self.cause_cpt), cut(self.finding_leak),
                      {f: cut(links) for f, links in self.finding_links.items()},
                      cut(self.cause_base), cut(self.cause_weight))
