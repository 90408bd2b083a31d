"""From evidence back to a case dict (the inverse of :func:`~bayesdx.case.parse_case`).

Internal to :mod:`bayesdx.case`, which re-exports :func:`evidence_to_case`.
Used by the app to save what is on screen as a case file: natural fields where
a node has one, the ``evidence:`` extension for the rest.
"""

from __future__ import annotations

from typing import Any

from ..errors import CaseError, Problem
from ..knowledge.load import Knowledge
from ..knowledge.schema import NumericField
from .common import CATEGORICAL_NODE, describe, suggest

__all__ = ["evidence_to_case"]


def evidence_to_case(evidence: dict[str, str], kb: Knowledge) -> dict:
    """Write evidence as a case dict (the inverse of :func:`parse_case`).

    Natural fields are used where a node has one (sex, ancestry, duration,
    history, tests, smear, marrow; CBC and vitamin bands as words such as
    ``anc: moderate``; ``medications: []`` when every exposure is ``none``);
    everything else (``age_group``, exposure states, causes, a band without
    its companion node) goes under the ``evidence:`` extension. Parsing the
    result gives back exactly ``evidence``.

    Parameters
    ----------
    evidence : dict of str to str
        ``node -> state``.
    kb : Knowledge
        The loaded knowledge.

    Returns
    -------
    dict
        A case in the case-file format.

    Raises
    ------
    CaseError
        If a node or state is unknown (with suggestions).

    Examples
    --------
    >>> from bayesdx.case import parse_case
    >>> from bayesdx.knowledge.load import load_knowledge
    >>> kb = load_knowledge()
    >>> ev = {"sex": "male", "age_group": "older", "anc": "severe",
    ...       "test_hiv": "negative", "marrow_hypocellular": "present",
    ...       "marrow_hypercellular": "absent"}
    >>> case = evidence_to_case(ev, kb)
    >>> case
    {'sex': 'male', 'cbc': {'anc': 'severe'}, 'tests': {'hiv': 'negative'}, 'marrow': {'cellularity': 'hypocellular'}, 'evidence': {'age_group': 'older'}}
    >>> parse_case(case, kb).evidence == ev
    True
    """
    problems: list[Problem] = []
    if not isinstance(evidence, dict):
        raise CaseError([Problem("<evidence>", "", "must be a mapping node: state", describe(evidence))])
    for node, state in evidence.items():
        if node not in kb.nodes:
            problems.append(Problem("<evidence>", str(node), "must be a node of the model", repr(node),
                                    suggest(str(node), kb.nodes, "node")))
        elif state not in kb.states(node):
            states = kb.states(node)
            problems.append(Problem("<evidence>", str(node), f"must be a state of {node} ({', '.join(states)})",
                                    describe(state), suggest(str(state), states, "state")))
    if problems:
        raise CaseError(problems)
    m = kb.mapping
    rest = dict(evidence)
    case: dict[str, Any] = {}

    def take(assign: dict[str, str]) -> bool:
        if assign and all(rest.get(n) == s for n, s in assign.items()):
            for n in assign:
                del rest[n]
            return True
        return False

    for fname, node in CATEGORICAL_NODE.items():
        if node in rest:
            words = [w for w, s in m.categorical.get(fname, {}).items() if s == rest[node]]
            if words:
                case[fname] = rest[node] if rest[node] in words else words[0]
                del rest[node]

    def words_group(specs: dict[str, NumericField], skip=()) -> dict[str, str]:
        out: dict[str, str] = {}
        for fname, nf in specs.items():
            if fname in skip:
                continue
            for word, assign in sorted(nf.categorical.items(), key=lambda kv: -len(kv[1])):
                if take(dict(assign)):
                    out[fname] = word
                    break
        return out

    cbc = words_group(m.cbc, skip=("wbc",))
    if "wbc" in m.cbc and "anc" not in cbc and "alc" not in cbc:
        cbc.update(words_group({"wbc": m.cbc["wbc"]}))
    cbc = {k: cbc[k] for k in m.cbc if k in cbc}
    baseline = words_group(m.baseline_cbc)
    vitamins = words_group(m.vitamins)
    sections: dict[str, dict[str, str]] = {}
    for sname, sec in m.sections.items():
        out: dict[str, str] = {}
        for term, node in sec.terms.items():
            if node in rest:
                words = [w for w, s in sec.values.items() if s == rest[node]]
                if words:
                    out[term] = rest[node] if rest[node] in words else words[0]
                    del rest[node]
        if out:
            sections[sname] = out
    marrow: dict[str, Any] = {}
    for word, assign in m.marrow_cellularity.items():
        if take(dict(assign)):
            marrow["cellularity"] = word
            break
    if "marrow_findings" in sections:
        marrow["findings"] = sections.pop("marrow_findings")
    exposure_nodes = list(dict.fromkeys(c.node for c in kb.drugs.classes.values()))
    medications = None
    if exposure_nodes and all(rest.get(n) == "none" for n in exposure_nodes):
        medications = []
        for n in exposure_nodes:
            del rest[n]

    for key, value in (("cbc", cbc), ("baseline_cbc", baseline), ("smear", sections.get("smear")),
                       ("medications", medications), ("history", sections.get("history")),
                       ("tests", sections.get("tests")), ("vitamins", vitamins), ("marrow", marrow)):
        if value or (key == "medications" and value is not None):
            case[key] = value
    if rest:
        case["evidence"] = rest
    return case
