"""Sharing a scenario: the URL (``node=state`` query parameters) and case files.

The URL holds the evidence as plain ``node=state`` pairs
(:func:`evidence_to_query`, :func:`query_to_evidence`: validated against the
model, never evaluated); :func:`values_from_evidence` fills the form so that it
derives exactly that evidence. Case files are YAML in the contract format
(``shared/case-format.md``): :func:`case_yaml` writes one, :func:`load_case_text`
reads an uploaded one safely (:func:`bayesdx.knowledge.text.yaml_load`: no objects
built, duplicate keys and deep nesting refused; JSON is YAML too). No Streamlit.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> model = load_model()
>>> query_to_evidence({"anc": "severe", "ancc": "low"}, model)[0]
{'anc': 'severe'}
>>> values, direct = values_from_evidence(model, {"anc": "severe"})
>>> values["cbc.anc"], direct
('severe', {})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from ..case import evidence_to_case, parse_case
from ..errors import CaseError, Problem
from ..knowledge.text import TextError, yaml_load
from .scenario import derive, validate_evidence
from .spec import form_spec
from .values import case_to_values, default_values

__all__ = ["MAX_QUERY_PARAMS", "case_yaml", "evidence_to_query", "load_case_text", "query_to_evidence",
           "values_from_evidence"]

MAX_QUERY_PARAMS = 300
_RESERVED_QUERY = {"embed", "embed_options"}


# --------------------------------------------------------------------------- URL


def evidence_to_query(evidence: Mapping[str, str], kb) -> dict[str, str]:
    """The evidence as URL query parameters ``node=state`` in model order."""
    order = {n: i for i, n in enumerate(kb.nodes)}
    return {k: evidence[k] for k in sorted(evidence, key=lambda n: order.get(n, len(order)))}


def query_to_evidence(params: Mapping[str, Any], model) -> tuple[dict[str, str], list[str]]:
    """Evidence from URL query parameters, validated; returns (evidence, messages about what was dropped)."""
    raw: dict[str, str] = {}
    messages: list[str] = []
    for i, (key, value) in enumerate(params.items()):
        if key in _RESERVED_QUERY:
            continue
        if i >= MAX_QUERY_PARAMS:
            messages.append(f"the link has more than {MAX_QUERY_PARAMS} parameters; the rest were ignored")
            break
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        key, value = str(key)[:80], str(value)[:80]
        raw[key] = value
    good, problems = validate_evidence(model, raw)
    for node, msg in problems:
        messages.append(f"link parameter '{node}': {msg}")
    return good, messages


def values_from_evidence(model, evidence: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Form values and direct evidence that reproduce ``evidence`` exactly.

    Uses :func:`bayesdx.case.evidence_to_case`; whatever the form cannot show
    stays direct. The result always derives back to ``evidence``.
    """
    spec = form_spec(model.kb)
    evidence = dict(evidence)
    try:
        case = evidence_to_case(evidence, model.kb)
    except CaseError:
        return default_values(spec), evidence
    values, direct, _ = case_to_values(case, spec)
    d = derive(model, values, direct)
    if d.evidence != evidence or d.problems:
        return default_values(spec), evidence
    return values, direct


# --------------------------------------------------------------------------- case files


def case_yaml(case: Mapping[str, Any], disclaimer: str) -> str:
    """The case as a YAML case file (contract format) with a header comment."""
    head = ("# bayesdx case file (format: shared/case-format.md), written by the bayesdx app.\n"
            f"# {disclaimer}\n"
            "# Do not put names or other identifying data in case files.\n")
    body = yaml.safe_dump(dict(case), sort_keys=False, allow_unicode=True, default_flow_style=False)
    return head + (body if case else "{}\n")


def load_case_text(text: str, model, name: str = "uploaded file") -> tuple[dict[str, Any], list[str]]:
    """Read an uploaded case file (YAML or JSON, one case); returns (case, notes).

    Raises
    ------
    CaseError
        When the file is not a single readable case (the message names the field and the fix).
    """
    try:
        data = yaml_load(text.removeprefix("\ufeff"))  # JSON is YAML too; never builds objects
    except TextError as exc:
        raise CaseError([exc.problem(name)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CaseError([Problem(name, where, "must be valid YAML or JSON",
                                 getattr(exc, "problem", None) or str(exc).splitlines()[0],
                                 "checking indentation and quoting near that line")]) from None
    if data is None:
        data = {}
    notes: list[str] = []
    if isinstance(data, dict) and "cases" in data:
        items = data["cases"]
        if not isinstance(items, list) or len(items) != 1:
            n = len(items) if isinstance(items, list) else 0
            raise CaseError([Problem(name, "cases", "must hold exactly one case to open in the app",
                                     f"{n} cases", "splitting the batch and opening one case, or "
                                     "scoring the batch with 'bayesdx diagnose FILE'")])
        data = items[0]
    if not isinstance(data, dict):
        raise CaseError([Problem(name, "", "must be a mapping of case fields (age_years, cbc, ...)",
                                 type(data).__name__, "the format in shared/case-format.md")])
    parsed = parse_case(data, model.kb, source=name)
    notes += [f"{i['field']}: {i['reason']}" for i in parsed.ignored]
    return data, notes
