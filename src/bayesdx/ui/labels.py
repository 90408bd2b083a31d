"""Readable names for what the panels show: nodes, findings, causes and the numbers of ``priors/``.

Presentation only (no Streamlit, no numbers). A number of the knowledge files
is addressed by its path (``causes.sle.prior``,
``findings.anc.links.drug_antipsychotic.severe``, see
:class:`bayesdx.knowledge.network.ParamInfo`); :func:`param_text` says in words what it
is, :func:`reference_text` where it comes from.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> m = load_model()
>>> param_text(m, "causes.drug_antipsychotic.prior")
'Prior of Drug: Antipsychotic'
>>> param_text(m, "findings.anc.links.drug_antipsychotic.severe")
'How often Drug: Antipsychotic gives neutrophil count: severe'
>>> param_text(m, "context.exposure_antipsychotic.prior.clozapine_window")
'Population share: antipsychotic exposure = clozapine, in risk window'
>>> finding_label(m, "test_duffy_null"), finding_label(m, "smear_auer_rods")
('Duffy-null red-cell phenotype (Fy(a-b-))', 'Auer rods on the smear')
>>> reference_text(m, ("R22", "E"))[:40]
'R22: Alvir et al., Clozapine-induced agr'
>>> short_reference(m, ("R22", "E"))
'Alvir et al. 1993; estimate'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..words import short_label, state_text

__all__ = ["cause_label", "finding_label", "node_label", "param_text", "reference_text", "short_reference"]


def node_label(model, node: str) -> str:
    """A node's clinical label from the knowledge files (``model/``; every node has one)."""
    return model.net.labels.get(node, node)


def finding_label(model, node: str) -> str:
    """A finding's clinical label (``Duffy-null red-cell phenotype (Fy(a-b-))``), as everywhere else."""
    return node_label(model, node)


def cause_label(model, cause: str) -> str:
    """A cause's label without the parenthesis (``Drug: Antipsychotic``), for tight spaces."""
    return short_label(node_label(model, cause)) or cause


def _lower(text: str) -> str:
    """Lower-case the first letter unless the first word is an abbreviation (``HIV``)."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() else text[:1].lower() + text[1:]


def _node(model, node: str) -> str:
    return cause_label(model, node) if node in model.net.causes else finding_label(model, node)


def param_text(model, path: str) -> str:
    """What the number at ``path`` is, in words (the path itself when its shape is unknown)."""
    p = path.split(".")
    net = model.net
    try:
        if p[0] == "causes" and p[2] == "prior" and len(p) == 3:
            return f"Prior of {cause_label(model, p[1])}"
        if p[0] == "causes" and p[2] == "base" and len(p) == 3:
            return f"Base probability of {cause_label(model, p[1])} (every relative risk 1)"
        if p[0] == "causes" and p[2] == "rr" and len(p) == 5:
            return (f"Relative risk of {cause_label(model, p[1])} if "
                    f"{_lower(_node(model, p[3]))} = {state_text(p[4])}")
        if p[0] == "context" and p[2] == "prior" and len(p) == 4:
            return f"Population share: {_lower(node_label(model, p[1]))} = {state_text(p[3])}"
        if p[0] == "context" and p[2] == "given" and len(p) == 5:
            parent = net.parents[p[1]][0]
            return (f"Share with {_lower(node_label(model, p[1]))}: {state_text(p[4])} when "
                    f"{_lower(node_label(model, parent))} is {state_text(p[3])}")
        if p[0] == "findings" and p[2] == "leak" and len(p) == 4:
            return f"How often {_lower(finding_label(model, p[1]))}: {state_text(p[3])} occurs with no modelled cause"
        if p[0] == "findings" and p[2] == "links" and len(p) == 5:
            return f"How often {cause_label(model, p[3])} gives {_lower(finding_label(model, p[1]))}: {state_text(p[4])}"
        if p[0] == "findings" and p[2] == "links" and len(p) == 6:
            return (f"How often {_lower(finding_label(model, p[1]))}: {state_text(p[5])} when "
                    f"{_lower(_node(model, p[3]))} is {state_text(p[4])}")
    except (IndexError, KeyError):
        pass
    return path


def reference_text(model, sources: Sequence[str]) -> str:
    """The citations of the reference ids (``priors/references.yaml``), one per id."""
    refs = model.kb.references
    out = []
    for s in sources:
        if s == "E":
            out.append("E: estimate (expert judgement)")
        elif s in refs:
            out.append(f"{s}: {refs[s].citation}")
        else:
            out.append(s)
    return "; ".join(out)


def short_reference(model, sources: Sequence[str]) -> str:
    """Short citations (first author and year) of reference ids, for a chart line; ``E``: estimate."""
    refs = model.kb.references
    out = []
    for s in sources:
        if s == "E":
            out.append("estimate")
        elif s in refs:
            cite = refs[s].citation
            year = re.search(r"\b(19|20)\d\d\b", cite)
            out.append(cite.split(",")[0].split(":")[0].strip() + (f" {year.group(0)}" if year else ""))
        else:
            out.append(s)
    return "; ".join(dict.fromkeys(out)) or "none"
