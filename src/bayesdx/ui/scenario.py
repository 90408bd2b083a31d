"""The scenario's evidence: form values -> network evidence, and the A/B comparison.

:func:`derive` writes the form values as a case
(:func:`~bayesdx.ui.values.values_to_case`) and turns it into network evidence
with :func:`bayesdx.case.parse_case` - a field that cannot be read is
reported (where, what was expected, how to fix it) and left out, so the rest
of the evidence still counts. Direct evidence (from a link or a case file's
``evidence:`` key) is validated against the model and added for the nodes no
field sets. The small text helpers of the result panels (:func:`pct`, A/B
:func:`compare`) live here too. No Streamlit.

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

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..case import parse_case
from ..errors import CaseError, ImpossibleEvidenceError, Problem
from .spec import form_spec, state_text
from .values import values_to_case

__all__ = [
    "Derived",
    "compare",
    "conflict_text",
    "derive",
    "evidence_diff",
    "pct",
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


def _field_of(path: str, case: Mapping[str, Any]) -> str:
    """The form field id of a problem path of :func:`parse_case`."""
    m = re.match(r"^medications\[(\d+)\](?:\.(\w+))?", path)
    if m:
        meds = case.get("medications") or []
        i = int(m.group(1))
        name = meds[i].get("name") if i < len(meds) and isinstance(meds[i], dict) else None
        sub = {"weeks": "weeks", "stopped_weeks_ago": "stopped", "days_since_last_dose": "days"}.get(
            m.group(2) or "")
        if name and sub:
            return f"med.{name}.{sub}"
        return "meds"
    if path.startswith("marrow.findings."):
        return "marrow_findings." + path.split(".", 2)[2]
    if path.startswith("marrow.findings"):
        return "marrow_findings"
    return path


def _drop(case: dict[str, Any], path: str, expected: str) -> bool:
    """Remove the case field that ``path`` names; True if something was removed."""
    if path.startswith("evidence."):
        ev = case.get("evidence") or {}
        return ev.pop(path.split(".", 1)[1], None) is not None
    m = re.match(r"^medications\[(\d+)\](?:\.(\w+))?", path)
    if m:
        meds = case.get("medications") or []
        i = int(m.group(1))
        if i >= len(meds):
            return False
        if m.group(2) and m.group(2) != "name" and isinstance(meds[i], dict) and m.group(2) in meds[i]:
            del meds[i][m.group(2)]
            if m.group(2) == "days_since_last_dose":
                meds[i].pop("stopped_weeks_ago", None)
            return True
        meds.pop(i)
        return True
    parts = path.split(".")
    if parts[0] in ("cbc", "baseline_cbc"):
        group = case.get(parts[0]) or {}
        if len(parts) == 1:  # the differential as a whole contradicts the WBC
            removed = [k for k in ("wbc", "anc", "alc", "amc", "eos") if group.pop(k, None) is not None]
            return bool(removed)
        hit = group.pop(parts[1], None) is not None
        if "WBC" in expected:
            hit = group.pop("wbc", None) is not None or hit
        return hit
    if parts[0] == "marrow" and len(parts) > 1:
        marrow = case.get("marrow") or {}
        if parts[1] == "findings" and len(parts) > 2:
            return (marrow.get("findings") or {}).pop(parts[2], None) is not None
        return marrow.pop(parts[1].split("[")[0], None) is not None
    if len(parts) > 1 and isinstance(case.get(parts[0]), dict):
        return case[parts[0]].pop(parts[1], None) is not None
    key = parts[0].split("[")[0]
    return case.pop(key, None) is not None


def _problem_text(p: Problem) -> str:
    text = p.expected
    if p.got is not None:
        text += f"; got {p.got}"
    if p.hint:
        text += f"; try {p.hint}"
    return text


def derive(model, values: Mapping[str, Any], direct: Mapping[str, str] | None = None) -> Derived:
    """Evidence for the scenario; unreadable fields are reported and left out.

    ``direct`` evidence is used for nodes that no field sets (a field wins;
    the node is then listed under ``overridden``).
    """
    spec = form_spec(model.kb)
    case = values_to_case(values, spec)
    shown = values_to_case(values, spec, direct)
    out = Derived(case=shown, evidence={})
    work = yaml.safe_load(yaml.safe_dump(case))  # a deep copy we may cut
    parsed = None
    for _ in range(50):
        try:
            parsed = parse_case(work, model.kb)
            break
        except CaseError as exc:
            progress = False
            for p in exc.problems:
                fid = _field_of(p.path, work)
                msg = _problem_text(p)
                out.problems.append((fid, p.path, msg))
                if fid not in ("cbc", "baseline_cbc"):
                    out.field_errors.setdefault(fid, []).append(msg)
                group = fid.split(".")[0]
                if group in ("cbc", "baseline_cbc") and (fid == group or "WBC" in p.expected):
                    # a contradiction with the WBC: shown at the WBC and at the counts involved
                    if fid == group:
                        out.field_errors.setdefault(f"{group}.wbc", []).append(msg)
                        for key in ("anc", "alc", "amc", "eos"):
                            out.field_errors.setdefault(f"{group}.{key}", []).append(
                                "does not fit the WBC (see the WBC above)")
                    else:
                        out.field_errors.setdefault(f"{group}.wbc", []).append(
                            f"the {fid.split('.')[-1].upper()} is larger than the WBC (see below)")
                progress = _drop(work, p.path, p.expected) or progress
            if not progress:
                break
    if parsed is None:
        parsed = parse_case({}, model.kb)
    evidence = dict(parsed.evidence)
    out.ignored = list(parsed.ignored)
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
                [(p.path, _problem_text(p)) for p in exc.problems])


# --------------------------------------------------------------------------- results


def pct(p: float) -> str:
    """A probability as a short percentage.

    >>> pct(0.9431), pct(0.0432), pct(0.00421), pct(0.00001)
    ('94%', '4.3%', '0.42%', '<0.01%')
    """
    if not math.isfinite(p):
        return "-"
    x = 100 * p
    if x >= 99.5 and x < 100:
        return f"{x:.1f}%"
    if x >= 10:
        return f"{x:.0f}%"
    if x >= 1:
        return f"{x:.1f}%"
    if x >= 0.01:
        return f"{x:.2f}%"
    return "<0.01%" if x > 0 else "0%"


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

