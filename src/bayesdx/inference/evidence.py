"""Evidence patterns: what a plan is compiled for, and the key of the engine's plan cache.

A *pattern* says which context nodes are observed in every case of a batch
(fixed), which are not (free), which findings are observed at baseline in
every case (unary factors) and which need an accumulator. The engine groups
cases by pattern, compiles one plan per pattern
(:func:`bayesdx.inference.plan.compile_plan`) and caches it under the pattern;
the slot passes ask for their group's plan the same way. It is the one
definition of that key.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..knowledge.network import Network

__all__ = ["Pattern"]


@dataclass(frozen=True)
class Pattern:
    """An evidence pattern: what a plan is compiled for, and its cache key.

    Attributes
    ----------
    fixed_ctx : frozenset of str
        Context nodes observed in every case.
    free_ctx : frozenset of str
        The other context nodes (summed over).
    unary : tuple of str
        Findings at baseline (one factor per parent), model order.
    acc : tuple of str
        Findings that need an accumulator (abnormal in some case), model order.

    Examples
    --------
    >>> from bayesdx.knowledge.network import Network
    >>> net = Network.from_knowledge()
    >>> p = Pattern.of(net, [{"anc": 2, "hb": 0, "sex": 1}])
    >>> p.unary, p.acc, "sex" in p.fixed_ctx
    (('hb',), ('anc',), True)
    """

    fixed_ctx: frozenset
    free_ctx: frozenset
    unary: tuple[str, ...]
    acc: tuple[str, ...]

    @classmethod
    def of(cls, net: Network, idxs) -> Pattern:
        """The pattern shared by validated evidence sets (``node -> state index``).

        A context node is fixed when every case observes it; a finding is
        unary when every case observes it at baseline; a finding observed
        otherwise in any case needs an accumulator.
        """
        if len(idxs) == 1:  # one case (the common call): only its own nodes, in model order
            (e,) = idxs
            pos = net.position
            ctx = net.kb.context
            fixed = frozenset(n for n in e if n in ctx)
            causes = net.kb.causes  # a label on a cause (posterior_batch labels=) is no finding
            found = sorted((pos[n], n) for n in e if n not in ctx and n not in causes)
            return cls(fixed, frozenset(n for n in net.context if n not in fixed),
                       tuple(n for _, n in found if e[n] == 0), tuple(n for _, n in found if e[n] != 0))
        sets = [set(e) for e in idxs]
        observed_all = set.intersection(*sets) if sets else set()
        observed_any = set().union(*sets)
        unary, acc = [], []
        for f in net.findings:
            if f not in observed_any:
                continue
            if f in observed_all and all(e[f] == 0 for e in idxs):
                unary.append(f)
            else:
                acc.append(f)
        return cls(frozenset(n for n in net.context if n in observed_all),
                   frozenset(n for n in net.context if n not in observed_all),
                   tuple(unary), tuple(acc))
