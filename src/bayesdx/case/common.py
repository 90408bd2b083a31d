"""Shared pieces of the case reader: words, hints, the problem list, numbers.

Internal to :mod:`bayesdx.case` (its public API is re-exported there).
:class:`ReaderBase` holds the state of reading one case - the problems found,
the evidence and where each node came from, what was ignored - and reads a
number with its unit (:mod:`bayesdx.case.units`) against a field's plausible range.
The field, section and medication readers build on it.

Examples
--------
>>> word("  Co-Trimoxazole ")
'co_trimoxazole'
>>> suggest("clozapin", ["clozapine", "haloperidol"])
'a known name - did you mean clozapine?'
>>> describe([1, 2]), describe("x"), fmt(0.50)
('a list', "'x'", '0.5')
>>> describe(10 ** 100)
'1000000000000000000000000000000000000000... (101 characters)'

"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ..errors import Problem, nearest, suggest
from ..knowledge.load import Knowledge
from ..knowledge.schema import NumericField
from .units import Reading, UnitError, convert, read_value

__all__ = ["CATEGORICAL_NODE", "FIELDS", "LABEL_KEYS", "TIME_UNITS", "ReaderBase", "describe", "field_path",
           "fmt", "nearest", "path_text", "suggest", "word"]

#: top-level fields of a case (the contract, plus the documented extensions)
FIELDS = (
    "id", "age_years", "sex", "ancestry", "duration", "cbc", "baseline_cbc", "smear",
    "medications", "history", "tests", "vitamins", "marrow", "evidence", "note", "description",
    "diagnosis",
)
#: fields of the ``diagnosis:`` label (the contract's label for learning and evaluation)
LABEL_KEYS = ("present", "absent")
#: categorical case field -> its node
CATEGORICAL_NODE = {"sex": "sex", "ancestry": "ancestry", "duration": "course"}
#: units of the time fields (their example is written as a duration)
TIME_UNITS = ("week", "day", "month", "year")

_WORD_SEP = re.compile(r"[\s\-/+]+")
_INDEX = re.compile(r"\[(\d+)\]")


def field_path(path: str | tuple) -> tuple:
    """A path as written in messages, as data: ``"medications[0].name"`` -> ``("medications", 0, "name")``.

    Only for paths the reader writes itself; a path holding a key from the
    case (which may contain a dot) is built as a tuple from the start.

    >>> field_path("marrow.findings[1]"), field_path(("cbc", "a.b"))
    (('marrow', 'findings', 1), ('cbc', 'a.b'))
    """
    if isinstance(path, tuple):
        return path
    out: list = []
    for part in path.split(".") if path else ():
        head = part.split("[", 1)[0]
        if head or "[" not in part:
            out.append(head)
        out += [int(i) for i in _INDEX.findall(part[len(head):])]
    return tuple(out)


def path_text(path: str | tuple) -> str:
    """A field path as written in messages (the inverse of :func:`field_path`).

    >>> path_text(("medications", 0, "name")), path_text("cbc.anc")
    ('medications[0].name', 'cbc.anc')
    """
    if isinstance(path, str):
        return path
    text = ""
    for x in path:
        text += f"[{x}]" if isinstance(x, int) else (f".{x}" if text else str(x))
    return text


def word(x: str) -> str:
    """Normalise a word: lower case, spaces/hyphens/slashes/'+' to '_'.

    >>> word(" Post-infectious / viral ")
    'post_infectious_viral'
    """
    return _word(x) if type(x) is str else _WORD_SEP.sub("_", x.strip().lower()).strip("_")


@lru_cache(maxsize=8192)
def _word(x: str) -> str:  # a cohort reads the same few hundred words again and again
    return _WORD_SEP.sub("_", x.strip().lower()).strip("_")


def fmt(x: float) -> str:
    """A number as written in messages (``%g``)."""
    return f"{x:g}"


def describe(raw: Any) -> str:
    """What was given, for a message: ``repr``, or the type of a mapping or list."""
    if isinstance(raw, (dict, list)):
        return f"a {type(raw).__name__}"
    try:
        text = repr(raw)
    except ValueError:  # an integer of more than 4,300 digits
        return "a very large integer"
    if len(text) > 60:  # a 400-digit number or a pasted paragraph: show its start
        text = f"{text[:40]}... ({len(text)} characters)"
    return text


class ReaderBase:
    """The state of reading one case; collects problems, evidence and ignored fields."""

    def __init__(self, kb: Knowledge, lenient: bool, source: str, prefix: str = ""):
        self.kb = kb
        self.m = kb.mapping
        self.lenient = lenient
        self.source = source
        self.prefix = prefix
        self.problems: list[Problem] = []
        self.evidence: dict[str, str] = {}
        self.origin: dict[str, str | tuple] = {}
        self.ignored: list[dict[str, str]] = []
        self.age_group: str | None = None
        self.age_years: float | None = None
        self.sex: str | None = None

    # ---------------------------------------------------------------- plumbing
    def add(self, path: str | tuple, expected: str, got: str | None = None, hint: str | None = None,
            related: tuple = ()):
        """Record a problem at ``path`` (a path string, or a tuple when it holds a key of the case)."""
        text = path_text(path)
        where = f"{self.prefix}{text}" if text else self.prefix.removesuffix(".")  # no stray dot
        self.problems.append(Problem(self.source, where, expected, got, hint,
                                     field_path(path), tuple(related)))

    def ignore(self, field: str | tuple, reason: str):
        self.ignored.append({"field": path_text(field), "reason": reason})

    def set(self, node: str, state: str, path: str):
        if node in self.evidence:
            if self.evidence[node] != state:
                self.add(path, f"must agree with {path_text(self.origin[node])} ({node}={self.evidence[node]})",
                         f"{node}={state}", "removing one of the two")
            return
        self.evidence[node] = state
        self.origin[node] = path

    def mapping(self, path: str | tuple, raw: Any, what: str) -> dict | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.add(path, f"must be a mapping ({what})", describe(raw))
            return None
        return raw

    def unknown_key(self, path: str | tuple, key: Any, allowed, what: str = "field"):
        self.add(path, f"must be a known {what}", repr(key), suggest(str(key), allowed, what))

    # ---------------------------------------------------------------- numbers
    def example(self, name: str, nf: NumericField) -> str:
        if nf.unit in TIME_UNITS:
            return f'{name}: 12 or {name}: "3 months"'
        value = None
        for tgt in nf.nodes:
            for _, upper in tgt.bands.default:
                if upper is not None:
                    value = upper
                    break
            if value is not None:
                break
        if value is None:
            lo, hi = nf.plausible
            value = round((lo + hi) / 4) or 1
        text = f"{name}: {fmt(value)}"
        for other in nf.also_units:
            try:
                other_value = float(f"{convert(value, nf.unit, other, molar_mass=nf.molar_mass):.3g}")
                text += f' or {name}: "{fmt(other_value)} {other}"'
                break
            except UnitError:
                continue
        return text

    def expected(self, nf: NumericField) -> str:
        units = ", ".join([nf.unit, *nf.also_units])
        text = f'must be a number in {nf.unit} or a string "value unit" (units: {units})'
        if nf.categorical:
            text += f", or one of {', '.join(nf.categorical)}"
        return text

    def reading(self, path: str, raw: Any, nf: NumericField,
                example: str | None = None) -> Reading | dict | None:
        """A Reading, a word's assignment (dict node -> state), or None (problem)."""
        name = path.rsplit(".", 1)[-1]
        if isinstance(raw, str) and nf.categorical and word(raw) in nf.categorical:
            return dict(nf.categorical[word(raw)])
        try:
            r = read_value(raw, nf.unit, molar_mass=nf.molar_mass)
        except UnitError as exc:
            got = describe(raw)
            if exc.kind in ("dimension", "unit", "notation"):
                got += f" ({exc.detail})"
            elif exc.kind == "nonfinite":
                got += " (not a finite number)"
            elif isinstance(raw, str) and "," in raw:
                got += " (write the decimal point as '.', without thousands separators)"
            self.add(path, self.expected(nf), got, example or self.example(name, nf))
            return None
        lo, hi = nf.plausible
        if not lo <= r.value <= hi:
            shown = describe(raw)
            if isinstance(raw, str):
                shown += f" (= {fmt(r.value)} {nf.unit})"
            self.add(path, f"must be a plausible value, {fmt(lo)} to {fmt(hi)} {nf.unit}", shown,
                     f"checking the value and its unit, e.g. {example or self.example(name, nf)}")
            return None
        return r

    def check_time_vs_age(self, path: str, weeks: float):
        if self.age_years is None:
            return
        age_weeks = convert(self.age_years, "year", "week")
        if weeks > age_weeks + 1:
            self.add(path, f"must not be longer ago than the patient's age ({fmt(self.age_years)} years)",
                     f"{fmt(weeks)} weeks", "checking the value and its unit")
