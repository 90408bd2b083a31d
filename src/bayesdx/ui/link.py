"""A shared link that restores the form exactly as the person filled it in.

Besides the evidence (``node=state``, readable by anyone), the address bar
holds every field the person changed as plain ``f.<field>=<text>`` query
parameters (``f.cbc.anc=0.1``, ``f.meds=clozapine``,
``f.med.clozapine.weeks=9``, ``f.age_years=34``). Opening the link puts
those texts back into the same widgets; the case reader then reads them
exactly as if they had been typed. Every parameter is checked against the
form (known field, allowed option, short plain text); nothing is ever
evaluated or unpickled. No Streamlit.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> from bayesdx.ui.spec import form_spec
>>> from bayesdx.ui.values import default_values
>>> spec = form_spec(load_model().kb)
>>> v = default_values(spec)
>>> v.update({"cbc.anc": "0.1", "meds": ["clozapine"], "med.clozapine.weeks": "9", "sex": "male"})
>>> q = values_to_params(v, spec)
>>> q
{'f.sex': 'male', 'f.meds': 'clozapine', 'f.cbc.anc': '0.1', 'f.med.clozapine.weeks': '9'}
>>> back, problems = params_to_values({**q, "f.sex": "robot", "f.x": "1"}, spec)
>>> back["cbc.anc"], back["meds"], back["med.clozapine.weeks"], back["sex"], len(problems)
('0.1', ['clozapine'], '9', 'unknown', 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .spec import FormSpec
from .values import UNKNOWN, default_values, med_keys

__all__ = ["FIELD_PREFIX", "MAX_TEXT", "params_to_values", "values_to_params"]

FIELD_PREFIX = "f."
MAX_TEXT = 40
"""Longest text accepted for one field from a link."""


def _options(fid: str, spec: FormSpec) -> tuple[str, ...] | None:
    """The allowed values of a choice field (None: free text)."""
    if fid.endswith("@unit") and fid[:-5] in spec.numeric:
        return tuple(spec.numeric[fid[:-5]].units)
    if fid in spec.terms:
        t = spec.terms[fid]
        return (t.words[0], t.words[1], UNKNOWN)
    if fid in ("sex", "ancestry", "duration"):
        return (UNKNOWN, *spec.categorical.get(fid, ()))
    if fid == "marrow.cellularity":
        return (UNKNOWN, *spec.cellularity)
    return None


def values_to_params(values: Mapping[str, Any], spec: FormSpec) -> dict[str, str]:
    """The fields that differ from a blank form, as ``f.<field>`` query parameters."""
    blank = default_values(spec)
    out: dict[str, str] = {}
    meds = [m for m in values.get("meds") or [] if m in spec.drugs]
    for fid, value in values.items():
        if fid == "meds":
            if meds:
                out[FIELD_PREFIX + fid] = ",".join(meds)
        elif fid == "meds.none":
            if value:
                out[FIELD_PREFIX + fid] = "1"
        elif fid.startswith("med."):
            continue
        elif fid in blank and value not in (None, "") and value != blank[fid]:
            out[FIELD_PREFIX + fid] = str(value)
    for name in meds:
        for key in med_keys(name).values():
            if str(values.get(key) or "").strip():
                out[FIELD_PREFIX + key] = str(values[key])
    return out


def params_to_values(params: Mapping[str, Any], spec: FormSpec) -> tuple[dict[str, Any], list[str]]:
    """Form values from ``f.`` query parameters; (values, problems in words). Bad ones are left out."""
    values = default_values(spec)
    problems: list[str] = []
    fields = {}
    for key, value in params.items():
        if not str(key).startswith(FIELD_PREFIX):
            continue
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        fields[str(key)[len(FIELD_PREFIX):][:80]] = str(value)
    meds = []
    for name in (fields.pop("meds", "") or "").split(","):
        name = name.strip()
        if name in spec.drugs and name not in meds:
            meds.append(name)
        elif name:
            problems.append(f"the link names a drug the list does not know ('{name[:MAX_TEXT]}'); left out")
    values["meds"] = meds
    values["meds.none"] = fields.pop("meds.none", "") == "1" and not meds
    allowed_meds = {k for m in meds for k in med_keys(m).values()}
    for fid, text in fields.items():
        if fid not in values and fid not in allowed_meds:
            problems.append(f"the link has a field the form does not know ('{fid[:MAX_TEXT]}'); left out")
            continue
        options = _options(fid, spec)
        if (options is not None and text not in options) or len(text) > MAX_TEXT:
            problems.append(f"the link's value for '{fid}' is not one the form offers; left out")
            continue
        values[fid] = text
    return values, problems
