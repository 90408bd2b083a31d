"""The scenario's evidence: form values -> network evidence, and the A/B comparison.

:func:`derive` writes the form values as a case
(:func:`~bayesdx.ui.values.values_to_case`) and reads it once with the case
reader's collect mode (:func:`bayesdx.case.read_case`) - a field that cannot
be read is reported (where, what was expected, how to fix it) and left out,
so the rest of the evidence still counts. Direct evidence (from a link or a case file's
``evidence:`` key) is validated against the model and added for the nodes no
field sets. The A/B :func:`compare` of the result panels lives here too (percentages
and state words: :mod:`bayesdx.words`). No Streamlit.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> from bayesdx.ui.values import default_values
>>> model = load_model()
>>> spec = form_spec(model.kb)
>>> values = default_values(spec)
>>> values["cbc.anc"] = "0.2"
>>> values["meds"] = ["clozapine"]; values["med.clozapine.weeks"] = "9"
>>> d = derive(model, values)
>>> d.evidence["anc"], d.evidence["exposure_antipsychotic"]
('severe', 'clozapine_window')
>>> values["cbc.anc"] = "abc"
>>> derive(model, values).field_errors["cbc.anc"][0][:40]
'must be a number in 10^9/L or a string "'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..case import read_case
from ..case.common import path_text
from ..errors import CaseError, ImpossibleEvidenceError
from ..words import pct, state_text
from .spec import form_spec
from .values import MED_SHORT, values_to_case

__all__ = [
    "Derived",
    "compare",
    "conflict_text",
    "derive",
    "evidence_diff",
    "validate_evidence",
]


# --------------------------------------------------------------------------- derive


@dataclass
class Derived:
    """The evidence derived from a scenario, with everything the form shows beside the fields."""

    case: dict[str, Any]
    evidence: dict[str, str]
    ignored: list[dict[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    overridden: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every field could be read."""
        return not self.problems


def _field_id(field: tuple, case: Mapping[str, Any]) -> str:
    """The form field id of a problem's field path (:attr:`bayesdx.errors.Problem.field`)."""
    if field[:1] == ("medications",):
        if len(field) >= 3 and isinstance(field[1], int):
            meds = case.get("medications") or []
            item = meds[field[1]] if field[1] < len(meds) else None
            name = item.get("name") if isinstance(item, dict) else None
            short = MED_SHORT.get(field[2])
            if name and short:
                return f"med.{name}.{short}"
        return "meds"
    if field[:2] == ("marrow", "findings"):
        return ".".join(["marrow_findings", *map(str, field[2:3])])
    return path_text(field)


def derive(model, values: Mapping[str, Any], direct: Mapping[str, str] | None = None) -> Derived:
    """Evidence for the scenario; unreadable fields are reported and left out.

    The case is read once, in the reader's collect mode
    (:func:`bayesdx.case.read_case`). ``direct`` evidence is used for nodes
    that no field sets (a field wins; the node is then listed under
    ``overridden``).
    """
    spec = form_spec(model.kb)
    case = values_to_case(values, spec)
    out = Derived(case=values_to_case(values, spec, direct), evidence={})
    reading = read_case(case, model.kb)
    for p in reading.problems:
        fid = _field_id(p.field, case)
        msg = p.message
        out.problems.append((fid, p.path, msg))
        group = p.field[0] if p.field else ""
        if group not in ("cbc", "baseline_cbc"):
            out.field_errors.setdefault(fid, []).append(msg)
        elif len(p.field) == 1:  # the differential as a whole does not fit the WBC
            out.field_errors.setdefault(f"{group}.wbc", []).append(msg)
            for key in ("anc", "alc", "amc", "eos"):
                out.field_errors.setdefault(f"{group}.{key}", []).append(
                    "does not fit the WBC (see the WBC above)")
        else:
            out.field_errors.setdefault(fid, []).append(msg)
            if (group, "wbc") in p.related:  # a count larger than the WBC: shown at the WBC too
                out.field_errors.setdefault(f"{group}.wbc", []).append(
                    f"the {str(p.field[-1]).upper()} is larger than the WBC (see below)")
    evidence = dict(reading.evidence)
    out.ignored = list(reading.ignored)
    if direct:
        extra = {k: v for k, v in direct.items() if k not in evidence}
        out.overridden = {k: v for k, v in direct.items() if k in evidence}
        good, problems = validate_evidence(model, extra)
        for node, msg in problems:
            out.problems.append((f"evidence.{node}", f"evidence.{node}", msg))
            out.field_errors.setdefault(f"evidence.{node}", []).append(msg)
        evidence.update(good)
    out.evidence = evidence
    return out


def validate_evidence(model, evidence: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Split evidence into the valid part and (node, message) problems (engine names)."""
    try:
        model.engine.validate(evidence)
        return dict(evidence), []
    except CaseError as exc:
        bad = {p.path for p in exc.problems}
        return ({k: v for k, v in evidence.items() if k not in bad},
                [(p.path, p.message) for p in exc.problems])


# --------------------------------------------------------------------------- results


def compare(a: Mapping[str, float], b: Mapping[str, float]) -> list[dict[str, float | str]]:
    """Per cause: A, B and the change B - A, by B descending."""
    rows = [{"id": c, "a": float(a[c]), "b": float(b[c]), "delta": float(b[c] - a[c])} for c in b]
    return sorted(rows, key=lambda r: -r["b"])


def evidence_diff(a: Mapping[str, str], b: Mapping[str, str], kb) -> list[tuple[str, str | None, str | None]]:
    """(node, state in A, state in B) for every node whose state differs, in model order."""
    order = {n: i for i, n in enumerate(kb.nodes)}
    nodes = sorted({*a, *b}, key=lambda n: order.get(n, len(order)))
    return [(n, a.get(n), b.get(n)) for n in nodes if a.get(n) != b.get(n)]


def conflict_text(err: ImpossibleEvidenceError, labels: Mapping[str, str]) -> str:
    """The conflicting findings of impossible evidence, by label."""
    return "; ".join(f"{labels.get(n, n)} = {state_text(s)}" for n, s in err.conflict.items())

