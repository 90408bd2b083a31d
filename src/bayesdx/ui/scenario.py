"""The scenario: form values <-> case file <-> evidence, the URL, A/B comparison.

A scenario is kept in two parts (no Streamlit here, everything is testable):

* **values** - what the clinician typed, one entry per field id of
  :class:`~bayesdx.ui.spec.FormSpec` (numbers as typed with their unit,
  term states, drug names and times);
* **direct** - ``node -> state`` evidence that has no field in the form
  (from a shared link or the ``evidence:`` key of a case file, e.g. an age
  group without an age).

:func:`values_to_case` writes the values as a case in the contract format
(``shared/case-format.md``); :func:`derive` turns it into network evidence
with :func:`bayesdx.case.parse_case` - a field that cannot be read is
reported (where, what was expected, how to fix it) and left out, so the rest
of the evidence still counts. The URL holds the evidence as plain
``node=state`` pairs (:func:`evidence_to_query`, :func:`query_to_evidence`,
validated against the model, never evaluated).

Examples
--------
>>> from bayesdx.diagnose import load_model
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

from ..case import evidence_to_case, parse_case
from ..errors import CaseError, ImpossibleEvidenceError, Problem
from .spec import FormSpec, NumericInput, TermInput, drug_text, form_spec, state_text

__all__ = [
    "UNKNOWN",
    "Derived",
    "case_to_values",
    "case_yaml",
    "compare",
    "conflict_text",
    "default_values",
    "derive",
    "evidence_diff",
    "evidence_to_query",
    "load_case_text",
    "med_keys",
    "pct",
    "query_to_evidence",
    "values_from_evidence",
    "values_to_case",
]

UNKNOWN = "unknown"
MAX_QUERY_PARAMS = 300
_NUM = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_CENSORED = re.compile(r"^(?:<=|>=|<|>|≤|≥)\s*(?:\d+\.?\d*|\.\d+)$")
_MED_FIELDS = (("weeks", "weeks"), ("stopped", "stopped_weeks_ago"), ("days", "days_since_last_dose"))
_RESERVED_QUERY = {"embed", "embed_options"}


# --------------------------------------------------------------------------- values


def med_keys(name: str) -> dict[str, str]:
    """Value keys of one drug's times: ``weeks``, ``stopped`` (weeks ago), ``days`` (since last dose)."""
    return {short: f"med.{name}.{short}" for short, _ in _MED_FIELDS}


def default_values(spec: FormSpec) -> dict[str, Any]:
    """An empty form: every field unknown."""
    values: dict[str, Any] = {"id": "", "note": "", "age_years": "", "sex": UNKNOWN,
                              "ancestry": UNKNOWN, "duration": UNKNOWN,
                              "marrow.cellularity": UNKNOWN, "meds": [], "meds.none": False}
    for fid, nin in spec.numeric.items():
        values[fid] = ""
        values[f"{fid}@unit"] = nin.unit
    for fid in spec.terms:
        values[fid] = UNKNOWN
    return values


def _text(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x).strip()


def _number(text: str) -> int | float:
    """A typed number as int when it is written as one (``9`` -> 9, ``9.0`` -> 9.0)."""
    x = float(text)
    return int(x) if x.is_integer() and re.fullmatch(r"[-+]?\d+", text) else x


def _encode_number(text: Any, unit: str | None, nin: NumericInput | None) -> Any:
    """A typed value (and the unit chosen beside it) as a case-file value."""
    text = _text(text)
    if not text:
        return None
    default = nin.unit if nin is not None else None
    unit = unit or default
    if _NUM.match(text):
        return _number(text) if unit == default or unit is None else f"{text} {unit}"
    if _CENSORED.match(text) and unit and unit != default:
        return f"{text} {unit}"
    return text


def _encode_time(text: Any) -> Any:
    text = _text(text)
    if not text:
        return None
    return _number(text) if _NUM.match(text) else text


def values_to_case(values: Mapping[str, Any], spec: FormSpec,
                   direct: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The form values as a case dict in the contract format (``evidence:`` for ``direct``)."""
    case: dict[str, Any] = {}
    for key in ("id", "note"):
        if _text(values.get(key)):
            case[key] = _text(values.get(key))
    age = _encode_time(values.get("age_years"))
    if age is not None:
        case["age_years"] = age
    for key in ("sex", "ancestry", "duration"):
        v = values.get(key)
        if v and v != UNKNOWN:
            case[key] = v
    for section in ("cbc", "baseline_cbc", "vitamins"):
        out = {}
        for nin in spec.section_numeric(section):
            v = _encode_number(values.get(nin.fid), values.get(f"{nin.fid}@unit"), nin)
            if v is not None:
                out[nin.key] = v
        if out:
            case[section] = out
    for sname in ("smear", "history", "tests"):
        out = {t.term: values[t.fid] for t in spec.section_terms(sname)
               if values.get(t.fid) in t.words}
        if out:
            case[sname] = out
    marrow: dict[str, Any] = {}
    cell = values.get("marrow.cellularity")
    if cell and cell != UNKNOWN:
        marrow["cellularity"] = cell
    found = {t.term: values[t.fid] for t in spec.section_terms("marrow_findings")
             if values.get(t.fid) in t.words}
    if found:
        marrow["findings"] = found
    if marrow:
        case["marrow"] = marrow
    meds = list(values.get("meds") or [])
    if meds:
        out_meds = []
        for name in meds:
            item: dict[str, Any] = {"name": name}
            for short, key in _MED_FIELDS:
                t = _encode_time(values.get(f"med.{name}.{short}"))
                if t is not None:
                    item[key] = t
            out_meds.append(item)
        case["medications"] = out_meds
    elif values.get("meds.none"):
        case["medications"] = []
    if direct:
        case["evidence"] = dict(direct)
    return case


# --------------------------------------------------------------------------- case -> values


def _word(x: Any) -> str:
    return re.sub(r"[\s\-/+]+", "_", str(x).strip().lower()).strip("_")


def _split_value(raw: Any, nin: NumericInput) -> tuple[str, str]:
    """A case value as (text, unit) for the form."""
    if isinstance(raw, bool):
        return str(raw), nin.unit
    if isinstance(raw, (int, float)):
        return _text(float(raw)), nin.unit
    text = _text(raw)
    m = re.match(r"^\s*((?:<=|>=|<|>)?\s*[-+]?(?:\d+\.?\d*|\.\d+))\s*(\S.*)$", text)
    if m and m.group(2).strip() in nin.units:
        return m.group(1).replace(" ", ""), m.group(2).strip()
    return text, nin.unit


def _resolve_drug(name: str, spec: FormSpec) -> str | None:
    parts = _word(name).split("_")
    while parts:
        w = "_".join(parts)
        if w in spec.drugs:
            return w
        parts.pop()
    return None


def _terms_from_case(raw: Any, terms: list[TermInput], has_normal: bool,
                     values: dict[str, Any], notes: list[str], where: str) -> None:
    by_term = {t.term: t for t in terms}
    if raw is None:
        return
    if isinstance(raw, str):
        raw = [raw]
    explicit: dict[str, str] = {}
    normal = False
    if isinstance(raw, list):
        for item in raw:
            w = _word(item)
            if has_normal and w == "normal":
                normal = True
            elif w in by_term:
                explicit[w] = by_term[w].words[0]
            else:
                notes.append(f"{where}: '{item}' is not a known term; left out")
    elif isinstance(raw, dict):
        for key, value in raw.items():
            w = _word(key)
            if value is None:
                continue
            v = _word(value)
            if has_normal and w == "normal":
                normal = normal or v in ("present", "positive")
                continue
            t = by_term.get(w)
            if t is None or v not in t.words:
                notes.append(f"{where}.{key}: '{value}' is not understood; left out")
                continue
            explicit[w] = v
    for t in terms:
        if t.term in explicit:
            values[t.fid] = explicit[t.term]
        elif normal:
            values[t.fid] = t.words[1]


def case_to_values(case: Mapping[str, Any], spec: FormSpec) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """A case dict (contract format) as form values, direct evidence and notes.

    The case should already have passed :func:`bayesdx.case.parse_case`; what
    the form cannot show is listed in the notes.
    """
    values = default_values(spec)
    notes: list[str] = []
    direct = {str(k): str(v) for k, v in (case.get("evidence") or {}).items()}
    for key in ("id", "note"):
        if case.get(key) is not None:
            values[key] = _text(case[key])
    if case.get("age_years") is not None:
        values["age_years"] = _text(case["age_years"])
    for key in ("sex", "ancestry", "duration"):
        v = case.get(key)
        if v is not None:
            w = _word(v)
            if w in spec.categorical.get(key, ()):
                values[key] = w
    for section in ("cbc", "baseline_cbc", "vitamins"):
        for key, raw in (case.get(section) or {}).items():
            fid = f"{section}.{key}"
            nin = spec.numeric.get(fid)
            if nin is None:
                if raw is not None:
                    notes.append(f"{fid} = {raw}: not used by the model; left out")
                continue
            if raw is None:
                continue
            values[fid], values[f"{fid}@unit"] = _split_value(raw, nin)
    for sname in ("smear", "history", "tests"):
        _terms_from_case(case.get(sname), spec.section_terms(sname), spec.has_normal.get(sname, False),
                         values, notes, sname)
    marrow = case.get("marrow") or {}
    if isinstance(marrow, dict):
        cell = marrow.get("cellularity")
        if cell is not None and _word(cell) in spec.cellularity:
            values["marrow.cellularity"] = _word(cell)
        _terms_from_case(marrow.get("findings"), spec.section_terms("marrow_findings"),
                         spec.has_normal.get("marrow_findings", False), values, notes,
                         "marrow.findings")
    meds = case.get("medications")
    if isinstance(meds, list):
        names: list[str] = []
        for item in meds:
            if isinstance(item, str):
                item = {"name": item}
            if isinstance(item, dict) and "name" not in item and len(item) == 1:
                (k, v), = item.items()
                if v is None or isinstance(v, dict):
                    item = {"name": k, **(v or {})}
            if not isinstance(item, dict):
                continue
            name = _resolve_drug(str(item.get("name", "")), spec)
            if name is None:
                notes.append(f"medication '{item.get('name')}' is not in the drug list; left out")
                continue
            if name in names:
                continue
            names.append(name)
            for short, key in _MED_FIELDS:
                values[f"med.{name}.{short}"] = _text(item.get(key))
            if item.get("dose") is not None:
                notes.append(f"{drug_text(name)}: the dose is not modelled; left out")
        values["meds"] = names
        values["meds.none"] = not names and not meds
    return values, direct, notes


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
        good, problems = _validate(model, extra)
        for node, msg in problems:
            out.problems.append((f"evidence.{node}", f"evidence.{node}", msg))
            out.field_errors.setdefault(f"evidence.{node}", []).append(msg)
        evidence.update(good)
    out.evidence = evidence
    return out


def _validate(model, evidence: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Split evidence into the valid part and (node, message) problems (engine names)."""
    try:
        model.engine.validate(evidence)
        return dict(evidence), []
    except CaseError as exc:
        bad = {p.path for p in exc.problems}
        return ({k: v for k, v in evidence.items() if k not in bad},
                [(p.path, _problem_text(p)) for p in exc.problems])


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
    good, problems = _validate(model, raw)
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
        data = yaml.safe_load(text)  # JSON is YAML too; safe_load never builds objects
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
