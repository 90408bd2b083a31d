"""Checks of ``model/alerts.yaml`` against the network and of its thresholds in ``priors/``.

The alerts themselves (which "do not miss" line or consistency warning a
scenario raises) are computed by :mod:`bayesdx.alerts`; this module only
makes sure that every name they use exists, so that a typo in the knowledge
files is an error at load time, never a silently missing safety line.

Examples
--------
>>> from bayesdx.knowledge import load_knowledge
>>> kb = load_knowledge()
>>> alert_problems(kb, "model/alerts.yaml")
[]
>>> sorted(kb.alerts.do_not_miss)[:2]
['acute_leukemia', 'aplastic_anemia']
"""

from __future__ import annotations

from ..errors import Problem

__all__ = ["alert_problems"]


def _states(kb, where: str, node: str, states: list[str], problems: list[Problem], rel: str) -> None:
    known = set(kb.context) | set(kb.causes) | set(kb.findings)
    if node not in known:
        problems.append(Problem(rel, f"{where}.{node}", "must name a node of the model", node,
                                "a finding or context node of model/*.yaml"))
        return
    bad = [s for s in states if s not in kb.states(node)]
    if bad or not states:
        problems.append(Problem(rel, f"{where}.{node}", f"must list states of {node}: {kb.states(node)}",
                                ", ".join(bad) or "none"))


def alert_problems(kb, rel: str) -> list[Problem]:
    """Every problem of the alerts: unknown causes, nodes, states, thresholds or sources."""
    problems: list[Problem] = []
    for name, item in kb.alerts.do_not_miss.items():
        where = f"alerts.do_not_miss.{name}"
        for c in item.causes:
            if c not in kb.causes:
                problems.append(Problem(rel, f"{where}.causes", "must name causes of the model", c,
                                        "an id of model/causes.yaml"))
        for node, states in item.when.items():
            _states(kb, f"{where}.when", node, states, problems, rel)
        if item.threshold not in kb.alert_thresholds:
            problems.append(Problem(rel, f"{where}.threshold", "must be a key of 'alerts:' in priors/",
                                    item.threshold, f"add alerts.{item.threshold} to priors/alerts.yaml"))
    for name, item in kb.alerts.consistency.items():
        for node, states in item.all.items():
            _states(kb, f"alerts.consistency.{name}.all", node, states, problems, rel)
    for key, p in kb.alert_thresholds.items():
        where = f"alerts.{key}"
        if not (0 < p.value < 1 and p.range[0] <= p.value <= p.range[1]):
            problems.append(Problem("priors/", where, "must be a probability inside its range",
                                    f"{p.value} (range {p.range[0]} to {p.range[1]})"))
        for s in p.source_list:
            if s != "E" and s not in kb.references:
                problems.append(Problem("priors/", f"{where}.source", "must cite priors/references.yaml or E", s))
    return problems
