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
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..case import evidence_to_case, parse_case
from ..errors import CaseError, Problem
from ..knowledge.text import TextError, yaml_load
from .scenario import derive, validate_evidence
from .link import FIELD_PREFIX, params_to_values
from .spec import form_spec
from .values import case_to_values, default_values

__all__ = ["MAX_QUERY_PARAMS", "Opened", "case_yaml", "evidence_to_query", "load_case_text",
           "open_link", "query_to_evidence", "values_from_evidence"]

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


@dataclass(frozen=True)
class Opened:
    """A scenario read from a link's query parameters (:func:`open_link`).

    Attributes
    ----------
    values : dict
        The form's values (every field; unknown where the link says nothing).
    direct : dict
        Evidence that no field of the form holds (``node -> state``).
    warnings : list of str
        What was dropped from the link, and why (plain text quoting the link: escape it,
        :func:`bayesdx.ui.markup.md`, before showing it as Markdown).
    info : str
        One line on what was opened ("" for a link with no scenario).
    """

    values: dict[str, Any]
    direct: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    info: str = ""


def open_link(model, params: Mapping[str, list[str]]) -> Opened:
    """The scenario a link opens: the app's first run of a session, and the server's first paint.

    ``params`` maps each query parameter to its values (all of them, as
    ``st.query_params.get_all`` gives). A link of this app holds the fields as
    typed (``f.<field>=<text>``) plus the evidence no field holds; any other link
    holds evidence only (``node=state``), and the form is filled so that it derives
    exactly that evidence. Every parameter is validated; nothing is evaluated.

    >>> from bayesdx.diagnosis import load_model
    >>> o = open_link(load_model(), {"f.cbc.anc": ["0.1"], "x": ["1"]})
    >>> o.values["cbc.anc"], o.direct, len(o.warnings), o.info
    ('0.1', {}, 1, 'Opened a shared scenario: 1 entries from the link.')
    >>> open_link(load_model(), {}).info
    ''
    """
    spec = form_spec(model.kb)
    fields = {k: v for k, v in params.items() if k.startswith(FIELD_PREFIX)}
    if fields:  # a link of this app: the fields exactly as entered, plus evidence no field holds
        values, messages = params_to_values(fields, spec)
        evidence, more = query_to_evidence({k: v for k, v in params.items() if k not in fields}, model)
        from_form = derive(model, values).evidence
        return Opened(values, {k: v for k, v in evidence.items() if k not in from_form}, [*messages, *more],
                      f"Opened a shared scenario: {len(fields)} entries from the link.")
    if params:
        evidence, messages = query_to_evidence(params, model)
        values, direct = values_from_evidence(model, evidence)
        return Opened(values, direct, messages,
                      f"Opened a shared scenario: {len(evidence)} findings from the link." if evidence else "")
    return Opened(default_values(spec))


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
