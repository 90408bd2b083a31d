"""Reading laboratory values with units, with pint.

A case value is a bare number (in the field's default unit) or a string
``"value unit"`` such as ``"111 pmol/L"``, ``"1100 /uL"`` or ``"129 g/L"``.
:func:`read_value` parses it, converts it to the default unit with pint and
returns a :class:`Reading`. No conversion factor is written by hand: pint does
every conversion, and a molar unit is turned into a mass unit with the molar
mass given in ``model/case_mapping.yaml``. The conversions a case almost always
needs (the units ``model/case_mapping.yaml`` offers for each field, and the
plain time units day, week, month and year) use pint's own numbers, written
into :mod:`bayesdx.case.unit_table` by pint and applied in pint's order (the
same result bit for bit; the tests check every entry against pint), so that
reading a case needs neither pint's import nor its unit registry (about 0.5 s
of start-up); any other unit goes through pint.

Laboratory notation that pint does not read is rewritten first (only the
notation, never a factor): ``x10^9/L`` and ``×10⁹/L`` become ``10^9/L``,
``/mm3`` and ``cells/uL`` become ``1/mm^3`` and ``1/uL``, ``K/uL`` becomes
``10^3/uL``, ``G/L`` (giga per litre, French usage) becomes ``10^9/L``,
``mcg`` becomes ``ug``; ``wk``, ``mo`` and ``y`` are weeks, months, years.

A value may be censored, as laboratories report it: ``"<50 pg/mL"`` or
``">2000"``; the :attr:`Reading.op` is then ``"<"``, ``"<="``, ``">"`` or
``">="``.

Examples
--------
>>> read_value("111 pmol/L", "pg/mL", molar_mass="1355.37 g/mol").value
150.446
>>> read_value("1100 /uL", "10^9/L").value
1.1
>>> read_value("129 g/L", "g/dL").value
12.9
>>> read_value(3.2, "10^9/L")
Reading(value=3.2, op=None)
>>> read_value("<50", "pg/mL")
Reading(value=50.0, op='<')
>>> read_value("150 kg", "pg/mL")
Traceback (most recent call last):
...
bayesdx.case.units.UnitError: '150 kg' has the wrong dimension ([mass]) for pg/mL ([mass] / [length] ** 3)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .unit_table import FACTORS

__all__ = ["Reading", "UnitError", "convert", "parse_unit", "read_value", "registry"]

SIGNIFICANT_DIGITS = 6
"""Converted values are rounded to this many significant digits, so that
``1500 /uL`` is exactly 1.5 (not 1.4999999) at a band boundary."""


class UnitError(ValueError):
    """A value that cannot be read or converted.

    Attributes
    ----------
    kind : str
        ``"syntax"`` (not a number with a unit), ``"notation"`` (``0x10``,
        ``010``, ``1:30``: not a plain decimal number), ``"unit"`` (unknown unit),
        ``"dimension"`` (a unit of the wrong kind) or ``"nonfinite"``
        (NaN or infinity).
    detail : str
        A short explanation for error messages.
    """

    def __init__(self, message: str, kind: str, detail: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.detail = detail or message


@dataclass(frozen=True)
class Reading:
    """A value converted to the default unit.

    Attributes
    ----------
    value : float
        The value in the default unit.
    op : str or None
        ``None`` for a measured value; ``"<"``, ``"<="``, ``">"`` or ``">="``
        for a censored one (``"<50"``: below 50).
    """

    value: float
    op: str | None = None


@lru_cache(maxsize=1)
def registry():
    """The shared pint unit registry (created on first use).

    >>> registry().Quantity(1, "week").to("day").magnitude
    7
    """
    import pint

    return pint.UnitRegistry()


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")

# notation rewrites: (pattern, replacement), applied in order, whole-unit text
_NOTATION: list[tuple[str, str]] = [
    (r"[µμ]", "u"),
    (r"\bmcg\b", "ug"),
    (r"\bmcmol\b", "umol"),
    (r"^(?:x|×|\*)\s*", ""),                      # x10^9/L -> 10^9/L
    (r"^10\s*(?:\^|\*\*)?\s*([0-9]+)\s*", r"10^\1 "),  # 10⁹/L (after superscripts) -> 10^9/L
    (r"^10[eE]([0-9]+)", r"10^\1"),               # 10E9/L -> 10^9/L
    (r"^(?:cells?|cell_count)\s*/", "/"),         # cells/uL -> /uL
    (r"^(?:k|K|thou|thousand)\s*/", "10^3/"),     # K/uL -> 10^3/uL
    (r"^G\s*/\s*L$", "10^9/L"),                   # G/L (giga per litre) -> 10^9/L
    (r"/\s*(?:cumm|cmm|mm3|mm\^3|mm\*\*3)$", "/mm^3"),
    (r"^/", "1/"),                                # /uL -> 1/uL
    (r"^(?:wk|wks|weeks?)$", "week"),
    (r"^(?:mo|mos|mon|months?)$", "month"),
    (r"^(?:y|yr|yrs|years?)$", "year"),
    (r"^(?:d|days?)$", "day"),
]

_NUMBER = re.compile(
    r"^\s*(?P<op><=|>=|<|>|≤|≥)?\s*(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>.*?)\s*$"
)


_NOT_DECIMAL = re.compile(
    r"^[-+]?(?:0[xob][0-9a-f_]*|0[0-9_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[0-9]+_[0-9_]*(?:\.[0-9_]*)?)(?:\s|$)", re.IGNORECASE)


@lru_cache(maxsize=256)
def _normalise_unit(text: str) -> str:
    text = text.strip().translate(_SUPERSCRIPTS)
    for pattern, repl in _NOTATION:
        text = re.sub(pattern, repl, text).strip()
    return text


@lru_cache(maxsize=256)
def parse_unit(text: str):
    """Parse a unit (in laboratory notation) into a pint quantity of magnitude 1.

    Parameters
    ----------
    text : str
        A unit such as ``"10^9/L"``, ``"/uL"``, ``"pmol/L"``.

    Returns
    -------
    pint.Quantity
        The unit as a quantity (``10^9/L`` is ``1e9 / liter``).

    Raises
    ------
    UnitError
        If pint does not know the unit.

    Examples
    --------
    >>> str(parse_unit("x10^9/L").dimensionality)
    '1 / [length] ** 3'
    >>> parse_unit("bogons/L")
    Traceback (most recent call last):
    ...
    bayesdx.case.units.UnitError: unknown unit 'bogons/L'
    """
    ureg = registry()
    norm = _normalise_unit(text)
    try:
        q = ureg.parse_expression(norm)
    except Exception as exc:  # pint raises several error types
        raise UnitError(f"unknown unit {text!r}", "unit", f"unknown unit {text.strip()!r}") from exc
    if not isinstance(q, ureg.Quantity):  # a bare number such as "10"
        q = ureg.Quantity(q, "dimensionless")
    if not math.isfinite(float(q.magnitude)) or q.magnitude == 0:
        raise UnitError(f"unknown unit {text!r}", "unit")
    return q


def _round(x: float) -> float:
    if x == 0:
        return 0.0
    return float(f"{x:.{SIGNIFICANT_DIGITS}g}")


def convert(value: float, unit: str, target: str, *, molar_mass: str | None = None) -> float:
    """Convert ``value unit`` to ``target`` (rounded to 6 significant digits).

    Parameters
    ----------
    value : float
        The magnitude.
    unit, target : str
        Units in laboratory notation.
    molar_mass : str, optional
        E.g. ``"63.546 g/mol"``: lets amount-of-substance concentrations
        (umol/L) convert to mass concentrations (ug/dL) and back.

    Raises
    ------
    UnitError
        Unknown unit, or a unit of another dimension.

    Examples
    --------
    >>> convert(12, "umol/L", "ug/dL", molar_mass="63.546 g/mol")
    76.2552
    >>> convert(200, "pg/mL", "pmol/L", molar_mass="1355.37 g/mol")
    147.561
    >>> convert(34, "year", "week")  # plain time units: pint's factor, without pint
    1774.07
    """
    known = FACTORS.get((_normalise_unit(unit), _normalise_unit(target),
                         _normalise_unit(molar_mass) if molar_mass else ""))
    if known is not None:  # pint's own numbers, in pint's order (see unit_table)
        a, op, m, b, factor = known
        out = value * a
        out = out * m if op == "*" else out / m if op == "/" else out
        out = out / b * factor
        if not math.isfinite(out):
            raise UnitError(f"{value} {unit} is not a finite value", "nonfinite")
        return _round(out)
    q = value * parse_unit(unit)
    ref = parse_unit(target)
    candidates = [q]
    if molar_mass:
        mm = parse_unit(molar_mass)
        candidates += [q * mm, q / mm]
    for cand in candidates:
        if cand.dimensionality == ref.dimensionality:
            out = float((cand / ref).to("dimensionless").magnitude)
            if not math.isfinite(out):
                raise UnitError(f"{value} {unit} is not a finite value", "nonfinite")
            return _round(out)
    raise UnitError(
        f"{f'{value:g} {unit}'.strip()!r} has the wrong dimension ({q.dimensionality}) for "
        f"{target} ({ref.dimensionality})",
        "dimension",
        f"{unit.strip()} is {_dimension_name(q)}, not {_dimension_name(ref)} like {target}",
    )


_DIMENSION_NAMES = {
    "1 / [length] ** 3": "a count per volume",
    "[mass] / [length] ** 3": "a mass concentration",
    "[substance] / [length] ** 3": "a molar concentration",
    "[length] ** 3": "a volume",
    "[mass]": "a mass",
    "[time]": "a time",
    "[length]": "a length",
    "dimensionless": "a pure number (such as a percentage)",
}


def _dimension_name(q) -> str:
    dim = str(q.dimensionality)
    return _DIMENSION_NAMES.get(dim, f"a unit of {dim}")


def read_value(raw: object, unit: str, *, molar_mass: str | None = None) -> Reading:
    """Read a case value (number or ``"value unit"`` string) in ``unit``.

    Parameters
    ----------
    raw : int, float or str
        A bare number (already in ``unit``) or a string ``"value unit"``,
        optionally censored (``"<50 pg/mL"``).
    unit : str
        The default unit of the field.
    molar_mass : str, optional
        Molar mass for molar units, e.g. ``"441.4 g/mol"``.

    Returns
    -------
    Reading

    Raises
    ------
    UnitError
        Not a number, unknown unit, wrong dimension, or not finite.

    Examples
    --------
    >>> read_value("2.1 ng/mL", "ng/mL")
    Reading(value=2.1, op=None)
    >>> read_value("4.76 nmol/L", "ng/mL", molar_mass="441.4 g/mol").value
    2.10106
    >>> read_value("3 months", "week").value
    13.0446
    >>> read_value(float("nan"), "g/dL")
    Traceback (most recent call last):
    ...
    bayesdx.case.units.UnitError: nan is not a finite number
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise UnitError(f"{raw!r} is not a number", "syntax")
    if isinstance(raw, (int, float)):
        try:
            value = float(raw)
        except OverflowError:  # an integer of hundreds of digits
            raise UnitError("an integer too large to be a measurement", "nonfinite") from None
        if not math.isfinite(value):
            raise UnitError(f"{raw} is not a finite number", "nonfinite")
        return Reading(value)
    text = raw.strip()
    if _NOT_DECIMAL.match(text):
        raise UnitError(f"{raw!r} is not a plain decimal number", "notation",
                        "not a plain decimal number: YAML 1.1 would read it as hexadecimal, octal, "
                        "binary or base 60; write the value in decimal")
    if "," in text:
        raise UnitError(f"{raw!r} contains a comma", "syntax")
    m = _NUMBER.match(text)
    if not m:
        low = text.lower()
        if low in {"nan", "inf", "+inf", "-inf", "infinity"} or low.startswith(("nan ", "inf ")):
            raise UnitError(f"{raw!r} is not a finite number", "nonfinite")
        raise UnitError(f"{raw!r} is not a number with a unit", "syntax")
    number = float(m.group("num"))
    if not math.isfinite(number):
        raise UnitError(f"{raw!r} is not a finite number", "nonfinite")
    op = {"≤": "<=", "≥": ">="}.get(m.group("op") or "", m.group("op"))
    unit_text = m.group("unit")
    if not unit_text:
        return Reading(number, op)
    return Reading(convert(number, unit_text, unit, molar_mass=molar_mass), op)
