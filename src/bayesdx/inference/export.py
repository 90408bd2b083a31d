"""The network as ordinary full tables: a pgmpy model, BIF and XMLBIF files.

A noisy-MAX finding with few parents becomes one full table. One with many
parents (the blood-count findings have dozens) would need billions of
entries, so it is decomposed *exactly* into a chain of auxiliary nodes
``<finding>__c01``, ``<finding>__c02``, …: each holds the maximum of the leak
and the effects of the parents seen so far, and the finding itself is the
last link. Every auxiliary node has two parents, so every table stays small,
and the same evidence on the real nodes gives the same posteriors in pgmpy,
pyAgrum, GeNIe or SamIam.

Examples
--------
>>> from bayesdx.knowledge.network import Network
>>> model = to_pgmpy(Network.from_knowledge())
>>> model.check_model()
True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import check_option
from ..knowledge.network import Network, Tables

__all__ = ["FORMATS", "MAX_DIRECT_PARENTS", "finding_table", "to_pgmpy", "write_network"]

FORMATS = ("bif", "xmlbif")
"""File formats of :func:`write_network` (``bayesdx export --format``)."""

MAX_DIRECT_PARENTS = 4


def _max_cdf(dist: np.ndarray) -> np.ndarray:
    return np.cumsum(dist, axis=-1)


def finding_table(net: Network, tables: Tables, finding: str) -> np.ndarray:
    """Full CPT of a finding, shape ``(*parent cards, S)`` (point estimate).

    ``P(F <= s | parents) = P(leak <= s) * prod_i P(effect_i <= s | parent_i)``.
    """
    parents = net.parents[finding]
    cdf = _max_cdf(tables.finding_leak[finding][0])
    shape = tuple(net.card(p) for p in parents)
    total = np.broadcast_to(cdf, shape + cdf.shape).copy()
    for i, p in enumerate(parents):
        pc = _max_cdf(tables.link(finding, p)[0])  # (K, S)
        view = [1] * len(parents) + [cdf.shape[-1]]
        view[i] = pc.shape[0]
        total = total * pc.reshape(view)
    pmf = np.diff(total, axis=-1, prepend=0.0)
    return np.clip(pmf, 0.0, 1.0)


def _cpd(variable, card, table_last_is_var: np.ndarray, evidence, evidence_card, state_names):
    """TabularCPD from an array shaped ``(*evidence cards, card)``."""
    from pgmpy.factors.discrete import TabularCPD

    values = np.asarray(table_last_is_var, dtype=float).reshape(-1, card).T
    return TabularCPD(variable, card, values, evidence=list(evidence) or None,
                      evidence_card=list(evidence_card) or None, state_names=state_names)


def to_pgmpy(net: Network, tables: Tables | None = None, *, findings=None):
    """A pgmpy ``DiscreteBayesianNetwork`` with full tables.

    Parameters
    ----------
    net : Network
    tables : Tables, optional
        Defaults to the point estimate.
    findings : iterable of str, optional
        Include only these findings (all by default); leaving out findings that
        are not observed is exact (they are barren) and keeps pgmpy fast.
    """
    from pgmpy.models import DiscreteBayesianNetwork

    T = tables or net.tables()
    keep = list(net.findings) if findings is None else [f for f in net.findings if f in set(findings)]
    model = DiscreteBayesianNetwork()
    model.add_nodes_from([*net.context, *net.causes])
    cpds = []
    names = {n: list(net.states[n]) for n in net.states}
    for x in net.context:
        par = net.parents[x]
        cpt = T.context_cpt[x][0]
        for p in par:
            model.add_edge(p, x)
        cpds.append(_cpd(x, net.card(x), cpt, par, [net.card(p) for p in par],
                         {x: names[x], **{p: names[p] for p in par}}))
    for c in net.causes:
        par = net.parents[c]
        for p in par:
            model.add_edge(p, c)
        p1 = T.cause_cpt[c][0]
        tab = np.stack([1 - p1, p1], axis=-1)
        cpds.append(_cpd(c, 2, tab, par, [net.card(p) for p in par],
                         {c: names[c], **{p: names[p] for p in par}}))
    for f in keep:
        par = list(net.parents[f])
        S = net.card(f)
        if len(par) <= MAX_DIRECT_PARENTS:
            model.add_node(f)
            for p in par:
                model.add_edge(p, f)
            cpds.append(_cpd(f, S, finding_table(net, T, f), par, [net.card(p) for p in par],
                             {f: names[f], **{p: names[p] for p in par}}))
            continue
        # one global parent order for every chain keeps the triangulated graph narrow
        rank = {n: i for i, n in enumerate([*net.context, *net.causes])}
        par = sorted(par, key=rank.__getitem__)
        leak_cdf = _max_cdf(T.finding_leak[f][0])
        prev = None
        for i, p in enumerate(par):
            node = f if i == len(par) - 1 else f"{f}__c{i + 1:02d}"
            model.add_node(node)
            eff_cdf = _max_cdf(T.link(f, p)[0])  # (K, S)
            sn = {node: names[f], p: names[p]}
            if prev is None:
                cdf = leak_cdf[None, :] * eff_cdf  # (K, S)
                pmf = np.diff(cdf, axis=-1, prepend=0.0)
                model.add_edge(p, node)
                cpds.append(_cpd(node, S, pmf, [p], [net.card(p)], sn))
            else:
                # P(max(s_prev, Z) = s): cdf_s = [s_prev <= s] * P(Z <= s)
                ind = (np.arange(S)[:, None] <= np.arange(S)[None, :]).astype(float)  # (s_prev, s)
                cdf = ind[:, None, :] * eff_cdf[None, :, :]  # (s_prev, K, S)
                pmf = np.diff(cdf, axis=-1, prepend=0.0)
                model.add_edge(prev, node)
                model.add_edge(p, node)
                sn[prev] = names[f]
                cpds.append(_cpd(node, S, pmf, [prev, p], [S, net.card(p)], sn))
            prev = node
    model.add_cpds(*cpds)
    return model


def write_network(net: Network, path: str | Path, fmt: str = "bif") -> Path:
    """Write the network (current priors) as BIF or XMLBIF; return the path.

    Raises
    ------
    QueryError
        For a format other than those of :data:`FORMATS`.
    """
    from pgmpy.readwrite import BIFWriter, XMLBIFWriter

    check_option("export: format", fmt, FORMATS)
    path = Path(path)
    model = to_pgmpy(net)
    writer = BIFWriter if fmt == "bif" else XMLBIFWriter
    writer(model).write(str(path))
    return path
