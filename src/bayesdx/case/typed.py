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

__all__ = ["Typed", "normalise_number", "read_typed"]

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
