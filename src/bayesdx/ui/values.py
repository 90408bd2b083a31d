"""Form values <-> case file: what the clinician typed, as a case in the contract format.

A scenario is kept in two parts (no Streamlit here, everything is testable):

* **values** - what the clinician typed, one entry per field id of
  :class:`~bayesdx.ui.spec.FormSpec` (numbers as typed with their unit,
  term states, drug names and times);
* **direct** - ``node -> state`` evidence that has no field in the form
  (from a shared link or the ``evidence:`` key of a case file, e.g. an age
  group without an age).

:func:`values_to_case` writes the values as a case in the contract format
(``shared/case-format.md``); :func:`case_to_values` reads a case back into
the form. Turning the case into network evidence is
:func:`bayesdx.ui.scenario.derive`.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> from bayesdx.ui.spec import form_spec
>>> spec = form_spec(load_model().kb)
>>> values = default_values(spec)
>>> values["cbc.anc"] = "900"; values["cbc.anc@unit"] = "/uL"
>>> values["meds"] = ["clozapine"]; values["med.clozapine.weeks"] = "9"
>>> values_to_case(values, spec)
{'cbc': {'anc': '900 /uL'}, 'medications': [{'name': 'clozapine', 'weeks': 9}]}
>>> case_to_values({"cbc": {"anc": "900 /uL"}}, spec)[0]["cbc.anc@unit"]
'/uL'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..case import read_case
from ..case.common import field_path, word
from ..case.medications import match_drug, medication_item
from ..case.sections import SECTION_FIELD
from .spec import FormSpec, NumericInput, drug_text

__all__ = ["MED_SHORT", "UNKNOWN", "case_to_values", "default_values", "med_keys", "values_to_case"]

UNKNOWN = "unknown"
_NUM = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_CENSORED = re.compile(r"^(?:<=|>=|<|>|≤|≥)\s*(?:\d+\.?\d*|\.\d+)$")
_MED_FIELDS = (("weeks", "weeks"), ("stopped", "stopped_weeks_ago"), ("days", "days_since_last_dose"))
#: a medication's field in a case -> its short name in the form's field ids (``med.<drug>.<short>``)
MED_SHORT = {key: short for short, key in _MED_FIELDS}


# --------------------------------------------------------------------------- values


def med_keys(name: str) -> dict[str, str]:
    """Value keys of one drug's times: ``weeks``, ``stopped`` (weeks ago), ``days`` (since last dose)."""
    return {short: f"med.{name}.{short}" for short, _ in _MED_FIELDS}


def default_values(spec: FormSpec) -> dict[str, Any]:
    """An empty form: every field unknown."""
    values: dict[str, Any] = {"id": "", "note": "", "age_years": "", "sex": UNKNOWN,
                              "ancestry": UNKNOWN, "duration": UNKNOWN,
                              "marrow.cellularity": UNKNOWN, "marrow.blasts_percent": "",
                              "meds": [], "meds.none": False}
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
    blasts = _encode_time(values.get("marrow.blasts_percent"))  # a number (or text the reader names)
    if blasts is not None:
        marrow["blasts_percent"] = blasts
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


def _form_drug(name: Any, spec: FormSpec) -> str | None:
    """The medication-list entry for a drug name as written (the case reader's matching)."""
    hit = match_drug(spec.kb, str(name))
    if hit is None:
        return None
    return next((n for n in hit if n in spec.drugs), None)


def case_to_values(case: Mapping[str, Any], spec: FormSpec) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """A case dict (contract format) as form values, direct evidence and notes.

    The case is read once by the case reader (:func:`bayesdx.case.read_case`):
    the terms take the states it reads from their sections (lists, mappings,
    ``normal``), drug names are matched as the reader matches them. The case
    should already have passed :func:`bayesdx.case.parse_case`; any problem,
    and what the form cannot show, is listed in the notes.
    """
    values = default_values(spec)
    reading = read_case(case, spec.kb)
    notes = [f"{p.path}: {p.message}; left out" for p in reading.problems]
    direct = {str(k): str(v) for k, v in (case.get("evidence") or {}).items()}
    for key in ("id", "note"):
        if case.get(key) is not None:
            values[key] = _text(case[key])
    if case.get("age_years") is not None:
        values["age_years"] = _text(case["age_years"])
    for key in ("sex", "ancestry", "duration"):
        v = case.get(key)
        if v is not None:
            w = word(str(v))
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
    for t in spec.terms.values():
        state = reading.evidence.get(t.node)
        section = field_path(SECTION_FIELD[t.section])
        if state is not None and reading.origin[t.node][:len(section)] == section:
            values[t.fid] = t.words[0] if state == spec.kb.states(t.node)[1] else t.words[1]
    marrow = case.get("marrow") or {}
    if isinstance(marrow, dict):
        cell = marrow.get("cellularity")
        if cell is not None and word(str(cell)) in spec.cellularity:
            values["marrow.cellularity"] = word(str(cell))
        if marrow.get("blasts_percent") is not None:
            values["marrow.blasts_percent"] = _text(marrow["blasts_percent"])
    meds = case.get("medications")
    if isinstance(meds, list):
        names: list[str] = []
        for item in map(medication_item, meds):
            if not isinstance(item, dict):
                continue
            name = _form_drug(item.get("name", ""), spec)
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
