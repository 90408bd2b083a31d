"""Read a case file (``shared/case-format.md``) into evidence on the network.

A case is one patient's evidence written the way a clinician or a data export
writes it. :func:`parse_case` turns it into ``node -> state`` evidence using
``model/case_mapping.yaml`` (bands, units, terms) and ``model/drugs.yaml``
(drug classes and timing windows); :func:`read_cases` reads a YAML or JSON
file holding one case or a batch under ``cases:``; :func:`evidence_to_case`
goes back from evidence to a case dict (export from the app).

Every field and term of the contract is accepted; anything else is a
:class:`~bayesdx.errors.CaseError` that lists **all** problems of the case,
each with the field path, what is accepted and the nearest valid names
(``medications[0].name: must be a known drug name; got 'clozapin'; try a known
name - did you mean clozapine?``). No traceback, no NaN, no infinity.

Rules
-----
Absent versus unknown
    A field or term that is not mentioned (or is ``null``) is unknown: it is
    not in the evidence. ``absent`` / ``negative`` is evidence. ``normal`` in
    ``smear`` or ``marrow.findings`` sets every abnormal term of that section
    absent; an explicit ``present`` term beside ``normal`` is an error.
    ``normal: absent`` (in mapping form) says only that something is abnormal;
    it is listed under ``ignored``.
Term sections
    ``smear``, ``history``, ``tests`` and ``marrow.findings`` take a list of
    what is present (positive), or a mapping ``term: present | absent``
    (``positive | negative`` for tests). A single term may be written as a
    string (``smear: normal``).
Numbers and units
    A bare number is in the field's default unit; a string ``"value unit"``
    is converted with pint (:mod:`bayesdx.units`): ``"111 pmol/L"`` (B12),
    ``"4.8 nmol/L"`` (folate), ``"12 umol/L"`` (copper), ``"129 g/L"`` (Hb),
    ``"1100 /uL"`` (counts). A value of the wrong dimension or outside the
    plausible range of ``model/case_mapping.yaml`` is an error naming the
    field, the accepted units and an example. Bands: a value below a band's
    upper bound (and at or above the previous one) takes that band's state;
    an age-group table wins over a sex table, which wins over the default
    (used when age or sex is not given).
WBC
    When ``cbc.anc`` or ``cbc.alc`` is given, ``cbc.wbc`` is not used (it is
    listed under ``ignored``); otherwise it sets the ``wbc`` node.
Baseline counts
    ``baseline_cbc.anc`` sets ``baseline_anc``; the other fields (the same as
    ``cbc``) and ``weeks_ago`` are checked and listed under ``ignored``.
Medications: the list is complete
    **A** ``medications:`` **list, when the key is present, is taken as the
    complete list of the patient's drugs**: every exposure class with no
    listed drug becomes ``none``, so ``medications: []`` means *no drugs*.
    Leave the key out (or ``null``) when the drugs are not known. In lenient
    mode a list holding unknown names is not taken as complete (the unknown
    drug could belong to any class): classes without a listed drug then stay
    unknown.
Medications: timing
    Each drug maps to a class and tier (``model/drugs.yaml``); its class's
    exposure node gets ``<tier>_<timing>``:

    * ``weeks`` (weeks since start) against the class window ``[a, b]``:
      below ``a`` -> ``early``, ``a`` to ``b`` -> ``window``, above ``b`` ->
      ``late``; no timing -> ``unknown``.
    * ``stopped_weeks_ago`` above the class's ``stopped_effect_weeks`` ->
      ``stopped``; at or below it the drug is treated as current: its timing
      comes from ``weeks`` when given, otherwise ``window`` (a drug is
      usually stopped because of the low count, i.e. inside its window).
    * Chemotherapy's clock is ``days_since_last_dose`` (the window is in
      days, nadir ~5-21 days): early / window / late, and ``stopped`` when
      the last dose is longer ago than ``stopped_effect_weeks``.
      ``stopped_weeks_ago`` works as a last-dose time; ``weeks`` since start
      alone gives ``on_unknown``.
    * For the other classes ``days_since_last_dose`` longer ago than the
      stopped-effect period means ``stopped``; otherwise it is listed under
      ``ignored`` (their clock is weeks since start).
    * Several drugs of one class: the state listed first in the class's
      ``precedence`` wins (higher tier, then window > unknown > early >
      late > stopped).
    * Drugs of class ``none`` (propranolol, metformin, ...) are accepted and
      listed under ``ignored`` with the reason.

Extensions (beyond the contract)
--------------------------------
* ``evidence:`` - a mapping ``node: state`` set directly on the network,
  validated against the model (an unknown node or state is an error with
  suggestions) and merged after the fields; a state that contradicts one
  derived from a field is an error. :func:`evidence_to_case` uses it for
  whatever has no natural field (e.g. ``age_group``, exposure states).
* Words instead of numbers: ``cbc``, ``baseline_cbc.anc`` and ``vitamins``
  accept the node states as words (``anc: moderate``, ``b12: low``,
  ``mcv: high``, ``amc: high`` for monocytosis); ``mma`` also accepts a number
  in umol/L (elevated from 0.4).
* Censored values ``"<50 pg/mL"``, ``">2000"``: used when the whole range
  falls in one band, otherwise an error asking for the measured value.
* Times with units: ``age_years: "9 months"``, ``weeks: "3 months"``.
* Medications may be written as plain names (``- clozapine``) or as
  ``- clozapine: {weeks: 9}``; names are matched case-insensitively with
  spaces, hyphens, slashes and ``+`` read as ``_`` (``TMP-SMX``,
  ``Co-trimoxazole``), brand names and spellings come from the aliases of
  ``model/drugs.yaml``, and salt or formulation words (``sodium``,
  ``mofetil``, ``XR``, ``100mg``) are dropped if needed. A medication may
  carry a ``dose`` (not modelled; listed under ``ignored``).
* Words are case-insensitive (``Positive``); ``note`` and ``description``
  are free-text fields; a batch file may also be a bare list of cases.

Examples
--------
>>> from bayesdx.knowledge import load_knowledge
>>> kb = load_knowledge()
>>> case = parse_case({"age_years": 34, "cbc": {"anc": "800 /uL"},
...                    "medications": [{"name": "clozapine", "weeks": 9}]}, kb)
>>> case.evidence["anc"], case.evidence["exposure_antipsychotic"]
('moderate', 'clozapine_window')
>>> case.evidence["exposure_antithyroid"]   # the list is complete
'none'
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import CaseError, Problem
from .knowledge import Knowledge
from .schema import BandSpec, DrugClassSpec, NumericField, TermSection
from .units import Reading, UnitError, convert, read_value

__all__ = ["ParsedCase", "evidence_to_case", "parse_case", "read_cases"]

#: top-level fields of a case (the contract, plus the documented extensions)
FIELDS = (
    "id", "age_years", "sex", "ancestry", "duration", "cbc", "baseline_cbc", "smear",
    "medications", "history", "tests", "vitamins", "marrow", "evidence", "note", "description",
)
_CATEGORICAL_NODE = {"sex": "sex", "ancestry": "ancestry", "duration": "course"}
_MED_KEYS = ("name", "weeks", "stopped_weeks_ago", "days_since_last_dose", "dose")
_MARROW_KEYS = ("cellularity", "findings")
_SECTION_FIELD = {"smear": "smear", "history": "history", "tests": "tests",
                  "marrow_findings": "marrow.findings"}

_TIME_UNITS = ("week", "day", "month", "year")
_AGE = NumericField(unit="year", also_units=["month", "week", "day"], plausible=(0, 120))
_WEEKS = NumericField(unit="week", also_units=["day", "month", "year"], plausible=(0, 5200))
_DAYS = NumericField(unit="day", also_units=["week"], plausible=(0, 36500))

# dropped from the end of an unknown drug name (salts, formulations, strengths)
_DRUG_SUFFIXES = {
    "sodium", "potassium", "calcium", "magnesium", "hydrochloride", "hcl", "hydrobromide",
    "fumarate", "besylate", "besilate", "maleate", "mesylate", "mesilate", "succinate",
    "tartrate", "citrate", "sulfate", "sulphate", "phosphate", "acetate", "dihydrate",
    "monohydrate", "mofetil", "decanoate", "palmitate", "enanthate", "xr", "xl", "sr", "er",
    "cr", "la", "ir", "dr", "ec", "tablet", "tablets", "tabs", "oral", "iv", "im", "sc", "po",
    "injection", "infusion", "depot", "mg", "mcg", "ug", "g", "ml", "iu",
}
_STRENGTH = re.compile(r"^\d+(?:\.\d+)?(?:mg|g|mcg|ug|ml|iu|units?)?$")

_WORD_SEP = re.compile(r"[\s\-/+]+")


@dataclass(frozen=True)
class ParsedCase:
    """A case turned into evidence.

    Attributes
    ----------
    id : str or None
        The case's ``id`` field.
    evidence : dict of str to str
        ``node -> state`` for every observed node, in field order.
    ignored : list of dict
        What was accepted but not used, each ``{"field": ..., "reason": ...}``.
    raw : dict
        The case as given (a deep copy).

    Examples
    --------
    >>> from bayesdx.knowledge import load_knowledge
    >>> parse_case({}, load_knowledge())
    ParsedCase(id=None, evidence={}, ignored=[], raw={})
    """

    id: str | None
    evidence: dict[str, str]
    ignored: list[dict[str, str]]
    raw: dict


# --------------------------------------------------------------------------- helpers


def _word(x: str) -> str:
    """Normalise a word: lower case, spaces/hyphens/slashes/'+' to '_'."""
    return _WORD_SEP.sub("_", x.strip().lower()).strip("_")


def _near(name: str, pool) -> list[str]:
    return difflib.get_close_matches(str(name), sorted(set(pool)), n=3, cutoff=0.6)


def _suggest(name: str, pool, what: str = "name") -> str:
    """A hint: the nearest names, or the whole (short) list."""
    m = _near(name, pool)
    if m:
        return f"a known {what} - did you mean {', '.join(m)}?"
    pool = sorted(set(pool))
    if len(pool) <= 15:
        return f"one of {', '.join(pool)}"
    return f"one of {', '.join(pool[:15])}, ..."


def _fmt(x: float) -> str:
    return f"{x:g}"


def _describe(raw: Any) -> str:
    if isinstance(raw, (dict, list)):
        return f"a {type(raw).__name__}"
    return repr(raw)


_LOOKUPS: dict[int, tuple[Any, tuple[dict[str, str], dict[str, str]]]] = {}


def _drug_lookup(kb: Knowledge) -> tuple[dict[str, str], dict[str, str]]:
    """Normalised drug names and aliases of ``kb`` (cached per knowledge object)."""
    hit = _LOOKUPS.get(id(kb))
    if hit is None or hit[0] is not kb:
        drugs = {_word(k): k for k in kb.drugs.drugs}
        aliases = {_word(k): v for k, v in kb.drugs.aliases.items()}
        hit = (kb, (drugs, aliases))
        _LOOKUPS.clear()
        _LOOKUPS[id(kb)] = hit
    return hit[1]


class _Reader:
    """Reads one case; collects problems, evidence and ignored fields."""

    def __init__(self, kb: Knowledge, lenient: bool, source: str, prefix: str = ""):
        self.kb = kb
        self.m = kb.mapping
        self.lenient = lenient
        self.source = source
        self.prefix = prefix
        self.problems: list[Problem] = []
        self.evidence: dict[str, str] = {}
        self.origin: dict[str, str] = {}
        self.ignored: list[dict[str, str]] = []
        self.age_group: str | None = None
        self.age_years: float | None = None
        self.sex: str | None = None

    # ---------------------------------------------------------------- plumbing
    def add(self, path: str, expected: str, got: str | None = None, hint: str | None = None):
        self.problems.append(Problem(self.source, f"{self.prefix}{path}", expected, got, hint))

    def ignore(self, field: str, reason: str):
        self.ignored.append({"field": field, "reason": reason})

    def set(self, node: str, state: str, path: str):
        if node in self.evidence:
            if self.evidence[node] != state:
                self.add(path, f"must agree with {self.origin[node]} ({node}={self.evidence[node]})",
                         f"{node}={state}", "removing one of the two")
            return
        self.evidence[node] = state
        self.origin[node] = path

    def mapping(self, path: str, raw: Any, what: str) -> dict | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.add(path, f"must be a mapping ({what})", _describe(raw))
            return None
        return raw

    def unknown_key(self, path: str, key: Any, allowed, what: str = "field"):
        self.add(path, f"must be a known {what}", repr(key), _suggest(str(key), allowed, what))

    # ---------------------------------------------------------------- numbers
    def example(self, name: str, nf: NumericField) -> str:
        if nf.unit in _TIME_UNITS:
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
        text = f"{name}: {_fmt(value)}"
        for other in nf.also_units:
            try:
                other_value = float(f"{convert(value, nf.unit, other, molar_mass=nf.molar_mass):.3g}")
                text += f' or {name}: "{_fmt(other_value)} {other}"'
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
        if isinstance(raw, str) and nf.categorical and _word(raw) in nf.categorical:
            return dict(nf.categorical[_word(raw)])
        try:
            r = read_value(raw, nf.unit, molar_mass=nf.molar_mass)
        except UnitError as exc:
            got = _describe(raw)
            if exc.kind in ("dimension", "unit"):
                got += f" ({exc.detail})"
            elif exc.kind == "nonfinite":
                got += " (not a finite number)"
            elif isinstance(raw, str) and "," in raw:
                got += " (write the decimal point as '.', without thousands separators)"
            self.add(path, self.expected(nf), got, example or self.example(name, nf))
            return None
        lo, hi = nf.plausible
        if not lo <= r.value <= hi:
            shown = _describe(raw)
            if isinstance(raw, str):
                shown += f" (= {_fmt(r.value)} {nf.unit})"
            self.add(path, f"must be a plausible value, {_fmt(lo)} to {_fmt(hi)} {nf.unit}", shown,
                     f"checking the value and its unit, e.g. {example or self.example(name, nf)}")
            return None
        return r

    def table(self, bands: BandSpec) -> list[tuple[str, float | None]]:
        if self.age_group is not None and self.age_group in bands.by_age_group:
            return bands.by_age_group[self.age_group]
        if self.sex is not None and self.sex in bands.by_sex:
            return bands.by_sex[self.sex]
        return bands.default

    def band(self, path: str, table, r: Reading, plausible, unit: str) -> str | None:
        """The state of a reading in a band table (None: ambiguous, reported)."""
        lo, hi = plausible
        v = r.value
        if r.op is None:
            a = b = v
        elif r.op == "<":
            a, b = lo, math.nextafter(v, -math.inf)
        elif r.op == "<=":
            a, b = lo, v
        elif r.op == ">":
            a, b = math.nextafter(v, math.inf), hi
        else:
            a, b = v, hi
        if a > b:
            self.add(path, f"must leave a plausible range ({_fmt(lo)} to {_fmt(hi)} {unit})",
                     f"{r.op}{_fmt(v)}", "giving the measured value")
            return None
        states: list[str] = []
        lower = -math.inf
        for state, upper in table:
            up = math.inf if upper is None else upper
            if lower <= b and a < up and state not in states:
                states.append(state)
            lower = up
        if len(states) == 1:
            return states[0]
        self.add(path, "must fall in a single band to be used",
                 f"{r.op}{_fmt(v)} {unit} (could be {' or '.join(states)})", "giving the measured value")
        return None

    def numeric(self, path: str, raw: Any, nf: NumericField) -> Reading | dict | None:
        """Read a numeric field and set its nodes; returns what was read."""
        r = self.reading(path, raw, nf)
        if r is None:
            return None
        if isinstance(r, dict):
            for node, state in r.items():
                self.set(node, state, path)
            return r
        for tgt in nf.nodes:
            state = self.band(path, self.table(tgt.bands), r, nf.plausible, nf.unit)
            if state is not None:
                self.set(tgt.node, state, path)
        return r

    # ---------------------------------------------------------------- fields
    def run(self, data: Any):
        if not isinstance(data, dict):
            self.add("", "must be a mapping of case fields", _describe(data),
                     f"a mapping with fields such as {', '.join(FIELDS[1:6])}")
            return
        for key in data:
            if key not in FIELDS:
                self.unknown_key(str(key), key, FIELDS)
        cid = data.get("id")
        if cid is not None and (isinstance(cid, bool) or not isinstance(cid, (str, int))):
            self.add("id", "must be free text (a string)", _describe(cid))
        for key in ("note", "description"):
            if data.get(key) is not None and not isinstance(data[key], str):
                self.add(key, "must be free text (a string)", _describe(data[key]))
        self.read_age(data.get("age_years"))
        for fname in _CATEGORICAL_NODE:
            self.read_categorical(fname, data.get(fname))
        self.read_cbc(data.get("cbc"))
        self.read_baseline(data.get("baseline_cbc"))
        self.read_vitamins(data.get("vitamins"))
        for sname in ("smear", "history", "tests"):
            self.read_terms(sname, data.get(sname), self.m.sections[sname])
        self.read_marrow(data.get("marrow"))
        if "medications" in data:
            self.read_medications(data["medications"])
        self.read_evidence(data.get("evidence"))

    def read_age(self, raw: Any):
        if raw is None:
            return
        r = self.reading("age_years", raw, _AGE, 'age_years: 34 or age_years: "9 months"')
        if not isinstance(r, Reading):
            return
        table = [(g, up) for g, up in self.m.age.items()]
        group = self.band("age_years", table, r, _AGE.plausible, "years")
        if group is not None:
            self.age_group = group
            self.age_years = r.value if r.op is None else None
            self.set("age_group", group, "age_years")

    def read_categorical(self, fname: str, raw: Any):
        if raw is None:
            return
        words = self.m.categorical.get(fname, {})
        if not isinstance(raw, str) or _word(raw) not in words:
            self.add(fname, f"must be one of {', '.join(words)}", _describe(raw),
                     _suggest(str(raw), words, "word") if isinstance(raw, str) else None)
            return
        state = words[_word(raw)]
        if state is None:
            return  # 'unknown': not observed
        if fname == "sex":
            self.sex = state
        self.set(_CATEGORICAL_NODE[fname], state, fname)

    def read_group(self, group: str, raw: Any, specs: dict[str, NumericField]) -> dict[str, Any]:
        """Check the keys of a numeric group; return key -> raw value (non-null)."""
        data = self.mapping(group, raw, f"field: value, fields {', '.join(specs)}")
        if data is None:
            return {}
        out = {}
        for key, value in data.items():
            if key not in specs:
                self.unknown_key(f"{group}.{key}", key, specs, f"{group} field")
            elif value is not None:
                out[key] = value
        return out

    def check_differential(self, group: str, readings: dict[str, Any]):
        def num(k):
            r = readings.get(k)
            return r.value if isinstance(r, Reading) and r.op is None else None

        wbc = num("wbc")
        if wbc is None:
            return
        parts = {k: num(k) for k in ("anc", "alc", "amc", "eos")}
        bad = False
        for k, v in parts.items():
            if v is not None and v > wbc * 1.05 + 0.05:
                bad = True
                self.add(f"{group}.{k}", f"must not exceed the WBC ({_fmt(wbc)} x10^9/L)",
                         _fmt(v), "checking both values and their units (counts in 10^9/L)")
        given = [v for v in parts.values() if v is not None]
        total = sum(given)
        if not bad and len(given) >= 2 and total > wbc * 1.1 + 0.1:
            self.add(group, "must have a differential (anc + alc + amc + eos) no larger than the WBC",
                     f"{_fmt(total)} > {_fmt(wbc)} x10^9/L", "checking the values and their units")

    def read_cbc(self, raw: Any):
        specs = self.m.cbc
        values = self.read_group("cbc", raw, specs)
        use_wbc = "anc" not in values and "alc" not in values
        readings: dict[str, Any] = {}
        for key, value in values.items():
            path = f"cbc.{key}"
            if key == "wbc" and not use_wbc:
                readings[key] = self.reading(path, value, specs[key])
                if readings[key] is not None:
                    self.ignore(path, "not used when ANC or ALC is given (the differential is more specific)")
                continue
            readings[key] = self.numeric(path, value, specs[key])
        self.check_differential("cbc", readings)

    def read_baseline(self, raw: Any):
        specs = self.m.baseline_cbc
        values = self.read_group("baseline_cbc", raw, specs)
        readings: dict[str, Any] = {}
        for key, value in values.items():
            path = f"baseline_cbc.{key}"
            nf = specs[key]
            if nf.nodes or nf.categorical:
                readings[key] = self.numeric(path, value, nf)
                continue
            readings[key] = self.reading(path, value, nf)
            if readings[key] is None:
                continue
            if nf.unit in _TIME_UNITS:
                self.ignore(path, "the timing of the baseline count is not modelled")
            else:
                used = [f"baseline_cbc.{k}" for k, s in specs.items() if s.nodes]
                self.ignore(path, f"not modelled: only {', '.join(used) or 'none'} of the baseline count is used")
        if readings.get("weeks_ago") is not None and isinstance(readings["weeks_ago"], Reading):
            self.check_time_vs_age("baseline_cbc.weeks_ago", readings["weeks_ago"].value)
        self.check_differential("baseline_cbc", readings)

    def read_vitamins(self, raw: Any):
        specs = self.m.vitamins
        for key, value in self.read_group("vitamins", raw, specs).items():
            self.numeric(f"vitamins.{key}", value, specs[key])

    # ---------------------------------------------------------------- terms
    def term_state(self, node: str, active: bool) -> str:
        states = self.kb.states(node)
        return states[1] if active else states[0]

    def read_terms(self, sname: str, raw: Any, sec: TermSection):
        path = _SECTION_FIELD[sname]
        if raw is None:
            return
        if isinstance(raw, str):
            raw = [raw]
        vocab = [*sec.terms, *(["normal"] if sec.has_normal else [])]
        words = ", ".join(sec.values)
        explicit: dict[str, tuple[str, str]] = {}
        normal_path: str | None = None
        if isinstance(raw, list):
            for i, item in enumerate(raw):
                ipath = f"{path}[{i}]"
                if not isinstance(item, str):
                    self.add(ipath, f"must be a term ({path} lists what is present)", _describe(item))
                    continue
                term = _word(item)
                if sec.has_normal and term == "normal":
                    normal_path = ipath
                elif term in sec.terms:
                    explicit[term] = (self.term_state(sec.terms[term], True), ipath)
                else:
                    self.unknown_key(ipath, item, vocab, f"{path} term")
        elif isinstance(raw, dict):
            for key, value in raw.items():
                kpath = f"{path}.{key}"
                term = _word(str(key))
                if term not in sec.terms and not (sec.has_normal and term == "normal"):
                    self.unknown_key(kpath, key, vocab, f"{path} term")
                    continue
                if value is None:
                    continue  # unknown
                if not isinstance(value, str) or _word(value) not in sec.values:
                    hint = f"one of {words}"
                    if isinstance(value, bool):
                        hint += " (YAML reads yes/no/true/false as booleans)"
                    self.add(kpath, f"must be one of {words}", _describe(value), hint)
                    continue
                state = sec.values[_word(value)]
                if term == "normal":
                    node0 = next(iter(sec.terms.values()))
                    if state == self.kb.states(node0)[0]:
                        self.ignore(kpath, "says only that something is abnormal; name the abnormal terms")
                    else:
                        normal_path = kpath
                    continue
                explicit[term] = (state, kpath)
        else:
            self.add(path, f"must be a list of terms or a mapping term: {' | '.join(sec.values)}",
                     _describe(raw), f"{path}: [{next(iter(sec.terms))}]")
            return
        if normal_path is not None:
            for term, (state, tpath) in explicit.items():
                if state != self.kb.states(sec.terms[term])[0]:
                    self.add(tpath, f"must not be {state} when {path} is normal (a contradiction)",
                             f"{term} and normal", f"removing 'normal' or {term}")
        for term, (state, tpath) in explicit.items():
            self.set(sec.terms[term], state, tpath)
        if normal_path is not None:
            for term, node in sec.terms.items():
                if term not in explicit:
                    self.set(node, self.term_state(node, False), normal_path)

    def read_marrow(self, raw: Any):
        data = self.mapping("marrow", raw, "cellularity and findings")
        if data is None:
            return
        for key in data:
            if key not in _MARROW_KEYS:
                self.unknown_key(f"marrow.{key}", key, _MARROW_KEYS, "marrow field")
        cell = data.get("cellularity")
        if cell is not None:
            options = self.m.marrow_cellularity
            if not isinstance(cell, str) or _word(cell) not in options:
                self.add("marrow.cellularity", f"must be one of {', '.join(options)}", _describe(cell),
                         _suggest(str(cell), options, "word") if isinstance(cell, str) else None)
            else:
                for node, state in options[_word(cell)].items():
                    self.set(node, state, "marrow.cellularity")
        self.read_terms("marrow_findings", data.get("findings"), self.m.sections["marrow_findings"])

    # ---------------------------------------------------------------- medications
    def resolve_drug(self, name: str) -> str | None:
        """The generic name in model/drugs.yaml for a name as written, or None."""
        drugs, aliases = _drug_lookup(self.kb)
        parts = _word(name).split("_")
        while parts:
            w = "_".join(parts)
            if w in drugs:
                return drugs[w]
            if w in aliases:
                return aliases[w]
            if len(parts) > 1 and (parts[-1] in _DRUG_SUFFIXES or _STRENGTH.match(parts[-1])):
                parts.pop()
                continue
            return None
        return None

    def check_time_vs_age(self, path: str, weeks: float):
        if self.age_years is None:
            return
        age_weeks = convert(self.age_years, "year", "week")
        if weeks > age_weeks + 1:
            self.add(path, f"must not be longer ago than the patient's age ({_fmt(self.age_years)} years)",
                     f"{_fmt(weeks)} weeks", "checking the value and its unit")

    def timing(self, value: float, window: tuple[float, float]) -> str:
        lo, hi = window
        if value < lo:
            return "early"
        return "window" if value <= hi else "late"

    def exposure(self, ipath: str, name: str, cls: DrugClassSpec, tier: str,
                 t: dict[str, float]) -> str:
        """The exposure state of one drug from its timing fields (in weeks / days)."""
        weeks = t.get("weeks")
        stopped = t.get("stopped_weeks_ago")
        days = t.get("days_since_last_dose")
        effect = cls.stopped_effect_weeks
        if weeks is not None and stopped is not None and stopped > weeks:
            self.add(f"{ipath}.stopped_weeks_ago", "must not exceed weeks (since the start of the drug)",
                     f"stopped {_fmt(stopped)} weeks ago, started {_fmt(weeks)} weeks ago",
                     "checking both values")
        if cls.timing == "days_since_last_dose":
            if days is not None and stopped is not None and convert(days, "day", "week") + 1 < stopped:
                self.add(f"{ipath}.days_since_last_dose",
                         "must not be more recent than the stop (stopped_weeks_ago)",
                         f"last dose {_fmt(days)} days ago, stopped {_fmt(stopped)} weeks ago",
                         "checking both values")
            if days is None and stopped is not None:
                days = convert(stopped, "week", "day")
            if days is None:
                if weeks is not None:
                    self.ignore(f"{ipath}.weeks", f"{name}: the clock of this class is days_since_last_dose; "
                                "weeks since start is not used (timing unknown)")
                return f"{tier}_unknown"
            if days > convert(effect, "week", "day"):
                return "stopped"
            return f"{tier}_{self.timing(days, cls.window)}"
        # clock: weeks since start
        if days is not None:
            if convert(days, "day", "week") > effect:
                return "stopped"
            self.ignore(f"{ipath}.days_since_last_dose",
                        f"{name}: within the period its effect outlasts the last dose; treated as current "
                        "(the clock of this class is weeks since start)")
        if stopped is not None:
            if stopped > effect:
                return "stopped"
            if weeks is None:
                return f"{tier}_window"
        if weeks is None:
            return f"{tier}_unknown"
        return f"{tier}_{self.timing(weeks, cls.window)}"

    def read_medications(self, raw: Any):
        if raw is None:
            return  # unknown
        if not isinstance(raw, list):
            self.add("medications", "must be a list of drugs (complete: [] means none)", _describe(raw),
                     "medications: [{name: clozapine, weeks: 9}]")
            return
        d = self.kb.drugs
        seen: dict[str, str] = {}
        per_class: dict[str, list[tuple[str, str]]] = {}
        unknown_names = False
        lookup_pool = [*d.drugs, *d.aliases]
        for i, item in enumerate(raw):
            ipath = f"medications[{i}]"
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict):
                self.add(ipath, "must be a drug name or a mapping {name: ..., weeks: ...}", _describe(item))
                continue
            if "name" not in item and len(item) == 1:
                (key, value), = item.items()
                if key not in _MED_KEYS and (value is None or isinstance(value, dict)):
                    item = {"name": key, **(value or {})}
            for key in item:
                if key not in _MED_KEYS:
                    self.unknown_key(f"{ipath}.{key}", key, _MED_KEYS, "medication field")
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                self.add(f"{ipath}.name", "must be a drug name (generic, e.g. clozapine)", _describe(name))
                continue
            canon = self.resolve_drug(name)
            label = _word(name)
            if canon is None:
                hint = _suggest(label, lookup_pool, "name")
                if self.lenient:
                    unknown_names = True
                    near = _near(label, lookup_pool)
                    reason = "unknown drug name, not used (lenient mode)"
                    if near:
                        reason += f"; did you mean {', '.join(near)}?"
                    self.ignore(f"medications.{label}", reason)
                else:
                    self.add(f"{ipath}.name", "must be a known drug name", repr(name),
                             f"{hint} (or lenient mode, --lenient, to list unknown drugs under ignored)")
                continue
            if canon in seen:
                self.add(f"{ipath}.name", f"must list each drug once (also {seen[canon]})", repr(name),
                         "merging the two entries")
                continue
            seen[canon] = ipath
            times: dict[str, float] = {}
            for key, spec in (("weeks", _WEEKS), ("stopped_weeks_ago", _WEEKS),
                              ("days_since_last_dose", _DAYS)):
                if item.get(key) is None:
                    continue
                r = self.reading(f"{ipath}.{key}", item[key], spec,
                                 f'{key}: 9 or {key}: "2 months"' if spec is _WEEKS
                                 else f'{key}: 11 or {key}: "2 weeks"')
                if isinstance(r, Reading):
                    if r.op is not None:
                        self.add(f"{ipath}.{key}", "must be a number (not a censored value)",
                                 _describe(item[key]))
                        continue
                    times[key] = r.value
                    wk = r.value if spec is _WEEKS else convert(r.value, "day", "week")
                    self.check_time_vs_age(f"{ipath}.{key}", wk)
            spec = d.drugs[canon]
            shown = canon if canon == label else f"{label} ({canon})"
            if item.get("dose") is not None:
                self.ignore(f"medications.{label}.dose", "the dose is not modelled")
            if spec.cls == "none":
                self.ignore(f"medications.{label}", f"{shown}: {spec.note or 'no marrow effect modelled'}")
                continue
            cls = d.classes[spec.cls]
            state = self.exposure(ipath, shown, cls, spec.tier, times)
            per_class.setdefault(spec.cls, []).append((state, ipath))
        for cname, cls in d.classes.items():
            entries = per_class.get(cname)
            if entries:
                rank = {s: i for i, s in enumerate(cls.precedence)}
                state, ipath = min(entries, key=lambda e: rank.get(e[0], len(rank)))
                self.set(cls.node, state, ipath if len(entries) == 1 else "medications")
            elif not unknown_names:
                self.set(cls.node, "none", "medications")
        if unknown_names:
            self.ignore("medications", "not taken as complete because it holds unknown names: exposure "
                        "classes without a listed drug are left unknown")

    # ---------------------------------------------------------------- extension
    def read_evidence(self, raw: Any):
        data = self.mapping("evidence", raw, "node: state")
        if data is None:
            return
        nodes = self.kb.nodes
        for node, state in data.items():
            path = f"evidence.{node}"
            if node not in nodes:
                self.unknown_key(path, node, nodes, "node")
                continue
            states = self.kb.states(node)
            if not isinstance(state, str) or state not in states:
                self.add(path, f"must be a state of {node} ({', '.join(states)})", _describe(state),
                         _suggest(str(state), states, "state"))
                continue
            self.set(node, state, path)


# --------------------------------------------------------------------------- API


def _parse(data: Any, kb: Knowledge, lenient: bool, source: str, prefix: str = "") -> ParsedCase:
    reader = _Reader(kb, lenient, source, prefix)
    reader.run(data)
    cid = data.get("id") if isinstance(data, dict) else None
    cid = None if cid is None or isinstance(cid, (bool, dict, list)) else str(cid)
    if reader.problems:
        raise CaseError(reader.problems, cid)
    return ParsedCase(id=cid, evidence=reader.evidence, ignored=reader.ignored,
                      raw=copy.deepcopy(data))


def parse_case(data: dict, kb: Knowledge, *, lenient: bool = False, source: str = "<case>") -> ParsedCase:
    """Turn one case (a dict in the case-file format) into evidence.

    Parameters
    ----------
    data : dict
        The case, as read from YAML or JSON.
    kb : Knowledge
        The loaded knowledge (:func:`bayesdx.knowledge.load_knowledge`).
    lenient : bool, default False
        List unknown drug names under ``ignored`` instead of failing (the
        ``--lenient`` switch).
    source : str, default "<case>"
        Where the case comes from, used in error messages.

    Returns
    -------
    ParsedCase

    Raises
    ------
    CaseError
        Listing every problem of the case (field path, what is accepted, the
        nearest valid names).

    Examples
    --------
    >>> from bayesdx.knowledge import load_knowledge
    >>> kb = load_knowledge()
    >>> c = parse_case({"id": "x", "vitamins": {"b12": "111 pmol/L"},
    ...                 "smear": {"hypersegmented_neutrophils": "present"},
    ...                 "medications": [{"name": "metformin"}]}, kb)
    >>> c.evidence["b12_level"], c.evidence["smear_hypersegmented_neutrophils"]
    ('low', 'present')
    >>> c.ignored
    [{'field': 'medications.metformin', 'reason': 'metformin: no marrow effect modelled'}]
    >>> try:
    ...     parse_case({"medications": [{"name": "clozapin"}]}, kb)
    ... except CaseError as err:
    ...     print(err.problems[0])
    <case>: medications[0].name: must be a known drug name; got 'clozapin'; try a known name - did you mean clozapine, clopine, loxapine? (or lenient mode, --lenient, to list unknown drugs under ignored)
    >>> parse_case({"medications": [{"name": "clozapin"}]}, kb, lenient=True).ignored[0]["reason"]
    'unknown drug name, not used (lenient mode); did you mean clozapine, clopine, loxapine?'
    """
    return _parse(data, kb, lenient, source)


def _load_file(p: Path) -> Any:
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError([Problem(str(p), "", "must be a readable case file", str(exc),
                                 "checking the path")]) from None
    if p.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CaseError([Problem(str(p), f"line {exc.lineno}, column {exc.colno}",
                                     "must be valid JSON", exc.msg,
                                     "checking brackets, commas and quotes near that line")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CaseError([Problem(str(p), where, "must be valid YAML",
                                 getattr(exc, "problem", None) or str(exc),
                                 "checking indentation and quoting near that line")]) from None


def read_cases(path: str | Path, kb: Knowledge, *, lenient: bool = False) -> list[ParsedCase | CaseError]:
    """Read a YAML or JSON case file: one case, or a list under ``cases:``.

    Parameters
    ----------
    path : str or Path
        The file (``.json`` is read as JSON, anything else as YAML).
    kb : Knowledge
        The loaded knowledge.
    lenient : bool, default False
        As in :func:`parse_case`.

    Returns
    -------
    list of ParsedCase or CaseError
        One entry per case, in file order; a case that cannot be read is its
        :class:`~bayesdx.errors.CaseError` (problem paths start with
        ``cases[i].``), so one bad case does not sink the others.

    Raises
    ------
    CaseError
        If the file itself cannot be read or parsed, or ``cases:`` is not a list.

    Examples
    --------
    >>> import tempfile, os
    >>> from bayesdx.knowledge import load_knowledge
    >>> text = "cases:\\n  - {id: a, sex: female}\\n  - {id: b, sex: femal}\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "batch.yaml")
    ...     _ = open(f, "w").write(text)
    ...     out = read_cases(f, load_knowledge())
    >>> out[0].evidence
    {'sex': 'female'}
    >>> print(out[1].problems[0].path)
    cases[1].sex
    """
    p = Path(path)
    data = _load_file(p)
    if data is None:
        data = {}
    if isinstance(data, dict) and "cases" in data:
        extra = [k for k in data if k != "cases"]
        if extra:
            raise CaseError([Problem(str(p), str(extra[0]), "must not be beside 'cases:' in a batch file",
                                     repr(extra[0]), "moving it into one of the cases")])
        items = data["cases"]
        if not isinstance(items, list):
            raise CaseError([Problem(str(p), "cases", "must be a list of cases", _describe(items),
                                     "cases:\n  - {id: a, ...}")])
        prefix = "cases"
    elif isinstance(data, list):
        items, prefix = data, ""
    else:
        items, prefix = [data], None
    out: list[ParsedCase | CaseError] = []
    for i, item in enumerate(items):
        pre = "" if prefix is None else f"{prefix}[{i}]."
        try:
            out.append(_parse(item, kb, lenient, str(p), pre))
        except CaseError as exc:
            out.append(exc)
    return out


def evidence_to_case(evidence: dict[str, str], kb: Knowledge) -> dict:
    """Write evidence as a case dict (the inverse of :func:`parse_case`).

    Natural fields are used where a node has one (sex, ancestry, duration,
    history, tests, smear, marrow; CBC and vitamin bands as words such as
    ``anc: moderate``; ``medications: []`` when every exposure is ``none``);
    everything else (``age_group``, exposure states, causes, a band without
    its companion node) goes under the ``evidence:`` extension. Parsing the
    result gives back exactly ``evidence``.

    Parameters
    ----------
    evidence : dict of str to str
        ``node -> state``.
    kb : Knowledge
        The loaded knowledge.

    Returns
    -------
    dict
        A case in the case-file format.

    Raises
    ------
    CaseError
        If a node or state is unknown (with suggestions).

    Examples
    --------
    >>> from bayesdx.knowledge import load_knowledge
    >>> kb = load_knowledge()
    >>> ev = {"sex": "male", "age_group": "older", "anc": "severe",
    ...       "test_hiv": "negative", "marrow_hypocellular": "present",
    ...       "marrow_hypercellular": "absent"}
    >>> case = evidence_to_case(ev, kb)
    >>> case
    {'sex': 'male', 'cbc': {'anc': 'severe'}, 'tests': {'hiv': 'negative'}, 'marrow': {'cellularity': 'hypocellular'}, 'evidence': {'age_group': 'older'}}
    >>> parse_case(case, kb).evidence == ev
    True
    """
    problems: list[Problem] = []
    if not isinstance(evidence, dict):
        raise CaseError([Problem("<evidence>", "", "must be a mapping node: state", _describe(evidence))])
    for node, state in evidence.items():
        if node not in kb.nodes:
            problems.append(Problem("<evidence>", str(node), "must be a node of the model", repr(node),
                                    _suggest(str(node), kb.nodes, "node")))
        elif state not in kb.states(node):
            states = kb.states(node)
            problems.append(Problem("<evidence>", str(node), f"must be a state of {node} ({', '.join(states)})",
                                    _describe(state), _suggest(str(state), states, "state")))
    if problems:
        raise CaseError(problems)
    m = kb.mapping
    rest = dict(evidence)
    case: dict[str, Any] = {}

    def take(assign: dict[str, str]) -> bool:
        if assign and all(rest.get(n) == s for n, s in assign.items()):
            for n in assign:
                del rest[n]
            return True
        return False

    for fname, node in _CATEGORICAL_NODE.items():
        if node in rest:
            words = [w for w, s in m.categorical.get(fname, {}).items() if s == rest[node]]
            if words:
                case[fname] = rest[node] if rest[node] in words else words[0]
                del rest[node]

    def words_group(specs: dict[str, NumericField], skip=()) -> dict[str, str]:
        out: dict[str, str] = {}
        for fname, nf in specs.items():
            if fname in skip:
                continue
            for word, assign in sorted(nf.categorical.items(), key=lambda kv: -len(kv[1])):
                if take(dict(assign)):
                    out[fname] = word
                    break
        return out

    cbc = words_group(m.cbc, skip=("wbc",))
    if "wbc" in m.cbc and "anc" not in cbc and "alc" not in cbc:
        cbc.update(words_group({"wbc": m.cbc["wbc"]}))
    cbc = {k: cbc[k] for k in m.cbc if k in cbc}
    baseline = words_group(m.baseline_cbc)
    vitamins = words_group(m.vitamins)
    sections: dict[str, dict[str, str]] = {}
    for sname, sec in m.sections.items():
        out: dict[str, str] = {}
        for term, node in sec.terms.items():
            if node in rest:
                words = [w for w, s in sec.values.items() if s == rest[node]]
                if words:
                    out[term] = rest[node] if rest[node] in words else words[0]
                    del rest[node]
        if out:
            sections[sname] = out
    marrow: dict[str, Any] = {}
    for word, assign in m.marrow_cellularity.items():
        if take(dict(assign)):
            marrow["cellularity"] = word
            break
    if "marrow_findings" in sections:
        marrow["findings"] = sections.pop("marrow_findings")
    exposure_nodes = list(dict.fromkeys(c.node for c in kb.drugs.classes.values()))
    medications = None
    if exposure_nodes and all(rest.get(n) == "none" for n in exposure_nodes):
        medications = []
        for n in exposure_nodes:
            del rest[n]

    for key, value in (("cbc", cbc), ("baseline_cbc", baseline), ("smear", sections.get("smear")),
                       ("medications", medications), ("history", sections.get("history")),
                       ("tests", sections.get("tests")), ("vitamins", vitamins), ("marrow", marrow)):
        if value or (key == "medications" and value is not None):
            case[key] = value
    if rest:
        case["evidence"] = rest
    return case
