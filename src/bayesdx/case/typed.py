"""A number as a person types it into a form: decimal commas, units, the converted value.

The case-file contract wants a decimal point and a unit the field knows; a
form should accept what people type and show what it understood:

* :func:`normalise_number` turns a decimal comma (``"0,2"``) into a point,
  but leaves ``"1,500"`` alone (a thousands separator or a decimal? the
  reader then asks);
* :func:`read_typed` reads a typed value with the unit chosen beside it and
  returns the value in the field's own unit, the text to show for it
  (``"= 129 pg/mL"``) and, for an implausible number, the units in which the
  same number would be plausible (Hb ``89`` in g/dL: offer g/L).

Examples
--------
>>> from bayesdx.knowledge import load_knowledge
>>> kb = load_knowledge()
>>> normalise_number("0,2"), normalise_number("1,500"), normalise_number("<0,5 /uL")
('0.2', '1,500', '<0.5 /uL')
>>> t = read_typed(kb, "cbc", "hb", "89", "g/dL")
>>> t.value, t.alternatives
(None, ('g/L',))
>>> read_typed(kb, "vitamins", "b12", "95 pmol/L", "pg/mL").shown
'= 129 pg/mL'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .units import UnitError, read_value

__all__ = ["CBC_NAMES", "Pasted", "Typed", "normalise_number", "parse_cbc_text", "read_typed"]

_COMMA = re.compile(r"^(\s*[<>]=?\s*)?(\d+),(\d{1,2}|\d{4,})(?!\d)")


def normalise_number(text: str) -> str:
    """``"0,2"`` -> ``"0.2"`` (a decimal comma); a comma before exactly three digits is left as typed."""
    return _COMMA.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}.{m.group(3)}", str(text), count=1)


@dataclass(frozen=True)
class Typed:
    """What a typed value means for the field.

    ``value`` is in the field's unit (``None`` when it cannot be read or is
    implausible), ``shown`` the converted value to show beside it (empty when
    nothing was converted), ``alternatives`` the units in which the number
    would be plausible when it is not in the chosen one.
    """

    text: str
    value: float | None
    unit: str
    shown: str = ""
    alternatives: tuple[str, ...] = ()


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def read_typed(kb, section: str, key: str, text: str, unit: str | None = None) -> Typed:
    """Read ``text`` typed into field ``section.key`` with ``unit`` chosen beside it."""
    nf = getattr(kb.mapping, section)[key]
    text = normalise_number(str(text or "").strip())
    chosen = unit or nf.unit
    bare = re.fullmatch(r"[<>]?=?\s*[0-9.]+", text) is not None
    try:
        r = read_value(f"{text} {chosen}" if bare else text, nf.unit, molar_mass=nf.molar_mass)
    except UnitError:
        return Typed(text, None, nf.unit)
    lo, hi = nf.plausible
    typed_unit = chosen if bare else text.split(None, 1)[-1] if " " in text else nf.unit
    shown = f"= {_fmt(r.value)} {nf.unit}" if typed_unit.replace(" ", "") != nf.unit.replace(" ", "") else ""
    if lo <= r.value <= hi:
        return Typed(text, r.value, nf.unit, shown)
    alts = []
    if bare:
        for u in [nf.unit, *nf.also_units]:
            if u == chosen:
                continue
            try:
                v = read_value(f"{text} {u}", nf.unit, molar_mass=nf.molar_mass).value
            except UnitError:
                continue
            if lo <= v <= hi:
                alts.append(u)
    return Typed(text, None, nf.unit, shown, tuple(alts))


# --------------------------------------------------------------------------- a pasted blood count

#: Names laboratories print for the fields of ``cbc:`` (lower case, without dots).
CBC_NAMES = {
    "wbc": "wbc", "white cells": "wbc", "leukocytes": "wbc", "leucocytes": "wbc", "wcc": "wbc",
    "anc": "anc", "neut": "anc", "neutrophils": "anc", "neutrophil": "anc", "neu": "anc", "gran": "anc",
    "alc": "alc", "lymph": "alc", "lymphocytes": "alc", "lymphocyte": "alc", "lym": "alc",
    "amc": "amc", "mono": "amc", "monocytes": "amc", "monocyte": "amc", "mon": "amc",
    "hb": "hb", "hgb": "hb", "haemoglobin": "hb", "hemoglobin": "hb",
    "plt": "plt", "platelets": "plt", "platelet": "plt", "plts": "plt",
    "mcv": "mcv", "retic": "retic", "reticulocytes": "retic", "ret": "retic",
    "eos": "eos", "eosinophils": "eos", "eosinophil": "eos",
}

_ITEM = re.compile(r"^\s*([A-Za-z][A-Za-z .#%]*?)\s*[:=]?\s*([<>]?=?\s*\d[\d.,]*)\s*([^\s,;]*(?:\s*/\s*\S+)?)?\s*$")


@dataclass(frozen=True)
class Pasted:
    """A blood count as understood from pasted text, before it is applied."""

    values: tuple[tuple[str, str], ...]  # cbc field -> "value unit" (as the case reader reads it)
    bands: tuple[tuple[str, str], ...]  # cbc field -> "node = state" the model would use
    problems: tuple[str, ...]  # what could not be read, in words


def parse_cbc_text(kb, text: str) -> Pasted:
    """Read a blood count as a laboratory prints it (``"WBC 2.4, ANC 0.2, Hb 12.1 g/dL"``).

    Items are separated by commas (not between digits), semicolons or new
    lines; each is a name, a number and optionally a unit (default: the
    field's unit). Every value is checked by the case reader
    (:func:`bayesdx.case.parse_case`), whose bands are returned too.

    >>> from bayesdx.knowledge import load_knowledge
    >>> p = parse_cbc_text(load_knowledge(), "WBC 2.4, ANC 0,2; Hb 121 g/L\\nPLT: 240 x10^9/L, foo 3")
    >>> p.values
    (('wbc', '2.4'), ('anc', '0.2'), ('hb', '121 g/L'), ('plt', '240 10^9/L'))
    >>> p.problems
    ("'foo 3': not a blood-count name (WBC, ANC, ALC, monocytes, Hb, PLT, MCV, retic, eos)",)
    """
    from ..errors import CaseError
    from .reader import parse_case

    values: dict[str, str] = {}
    problems: list[str] = []
    for raw in re.split(r"[;\n]|,(?!\d)", text or ""):
        item = raw.strip()
        if not item:
            continue
        m = _ITEM.match(item)
        name = re.sub(r"[.#%]", "", m.group(1)).strip().lower() if m else ""
        key = CBC_NAMES.get(name)
        if not m or key is None:
            problems.append(f"'{item[:40]}': not a blood-count name (WBC, ANC, ALC, monocytes, Hb, PLT, MCV, "
                            "retic, eos)" if m else f"'{item[:40]}': expected a name and a number")
            continue
        unit = (m.group(3) or "").strip().replace("x10", "10").replace("×10", "10")
        values[key] = normalise_number(m.group(2).replace(" ", "")) + (f" {unit}" if unit else "")
    bands: list[tuple[str, str]] = []
    good = dict(values)
    for _ in range(len(values) + 1):
        case = {"cbc": {k: (float(v) if re.fullmatch(r"[0-9.]+", v) else v) for k, v in good.items()}}
        try:
            parsed = parse_case(case, kb)
        except CaseError as exc:
            for p in exc.problems:
                key = p.path.split(".")[-1]
                if key in good:
                    problems.append(f"{key.upper()} {good.pop(key)}: {p.expected}"
                                    + (f"; got {p.got}" if p.got is not None else ""))
            continue
        bands = [(k, f"{n} = {s}") for k in good for n, s in parsed.evidence.items()
                 if n == k or n.startswith(k)]
        break
    return Pasted(tuple(good.items()), tuple(bands), tuple(problems))
