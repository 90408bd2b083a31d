"""Reading cases: one case (a dict) or a YAML / JSON file holding one case or a batch.

Internal to :mod:`bayesdx.case`, which re-exports :class:`ParsedCase`,
:func:`parse_case`, :class:`CaseReading`, :func:`read_case` and
:func:`read_cases`. :class:`CaseReader` puts the field, section and medication
readers together and reads the ``evidence:`` extension; problems are
collected for the whole case and raised at once as a
:class:`~bayesdx.errors.CaseError`. In a batch file each case is read on its
own, so one bad case does not sink the others.

:func:`read_case` is the *collect* mode (the app's): it never raises for a
bad field; it returns every problem, each with its field path as data
(:attr:`~bayesdx.errors.Problem.field`), and the evidence of the case with
every field that has a problem left out.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import CaseError, Problem
from ..knowledge.load import Knowledge, yaml_load
from .common import CATEGORICAL_NODE, FIELDS, describe, field_path, path_text, suggest
from .fields import FieldsReader
from .medications import MedicationsReader
from .sections import SectionsReader

__all__ = ["MAX_PASSES", "CaseReader", "CaseReading", "ParsedCase", "parse_case", "read_case", "read_cases"]

MAX_PASSES = 8
"""Readings of one case in :func:`read_case` (each leaves out the fields of the last one's problems)."""


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
    >>> from bayesdx.knowledge.load import load_knowledge
    >>> parse_case({}, load_knowledge())
    ParsedCase(id=None, evidence={}, ignored=[], raw={})
    """

    id: str | None
    evidence: dict[str, str]
    ignored: list[dict[str, str]]
    raw: dict


class CaseReader(FieldsReader, SectionsReader, MedicationsReader):
    """Reads one case: every field in order, then the ``evidence:`` extension."""

    def run(self, data: Any):
        if not isinstance(data, dict):
            self.add("", "must be a mapping of case fields", describe(data),
                     f"a mapping with fields such as {', '.join(FIELDS[1:6])}")
            return
        for key in data:
            if key not in FIELDS:
                self.unknown_key((str(key),), key, FIELDS)
        cid = data.get("id")
        if cid is not None and (isinstance(cid, bool) or not isinstance(cid, (str, int))):
            self.add("id", "must be free text (a string)", describe(cid))
        for key in ("note", "description"):
            if data.get(key) is not None and not isinstance(data[key], str):
                self.add(key, "must be free text (a string)", describe(data[key]))
        self.read_age(data.get("age_years"))
        for fname in CATEGORICAL_NODE:
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

    def read_evidence(self, raw: Any):
        data = self.mapping("evidence", raw, "node: state")
        if data is None:
            return
        nodes = self.kb.nodes
        for node, state in data.items():
            path = ("evidence", str(node))
            if node not in nodes:
                self.unknown_key(path, node, nodes, "node")
                continue
            states = self.kb.states(node)
            if not isinstance(state, str) or state not in states:
                self.add(path, f"must be a state of {node} ({', '.join(states)})", describe(state),
                         suggest(str(state), states, "state"))
                continue
            self.set(node, state, path)


def _parse(data: Any, kb: Knowledge, lenient: bool, source: str, prefix: str = "") -> ParsedCase:
    reader = CaseReader(kb, lenient, source, prefix)
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
        The loaded knowledge (:func:`bayesdx.knowledge.load.load_knowledge`).
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
    >>> from bayesdx.knowledge.load import load_knowledge
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
    <case>: medications[0].name: must be a known drug name; got 'clozapin'; try a known name - did you mean clozapine, clopine, clozaril? (or lenient mode, --lenient, to list unknown drugs under ignored)
    >>> parse_case({"medications": [{"name": "clozapin"}]}, kb, lenient=True).ignored[0]["reason"]
    'unknown drug name, not used (lenient mode); did you mean clozapine, clopine, clozaril?'
    """
    return _parse(data, kb, lenient, source)


@dataclass(frozen=True)
class CaseReading:
    """A case read in collect mode (:func:`read_case`).

    Attributes
    ----------
    id : str or None
        The case's ``id`` field.
    evidence : dict of str to str
        ``node -> state`` from every field that could be read.
    ignored : list of dict
        What was accepted but not used (as in :class:`ParsedCase`).
    problems : list of Problem
        Every problem, each with its ``field`` path as data.
    origin : dict of str to tuple
        The field path each evidence node came from.
    """

    id: str | None
    evidence: dict[str, str]
    ignored: list[dict[str, str]]
    problems: list[Problem]
    origin: dict[str, tuple]

    @property
    def ok(self) -> bool:
        """True when every field could be read."""
        return not self.problems


def _sort_key(field: tuple):
    return [(1, x, "") if isinstance(x, int) else (0, 0, str(x)) for x in field]


def _leave_out(case: Any, field: tuple, shifts: dict) -> bool:
    """Remove the field at ``field`` from ``case`` (in place); True if something was removed.

    A problem with a drug's name (or the whole entry) leaves the drug out; one
    with a timing field, that field. A removed list item is noted in
    ``shifts`` (list path -> original indices) so later paths can be mapped back.
    """
    if not field:
        return False
    *head, last = field
    if field[0] == "medications" and len(field) >= 2 and isinstance(field[1], int):
        meds = case.get("medications") if isinstance(case, dict) else None
        if not isinstance(meds, list) or field[1] >= len(meds):
            return False
        item = meds[field[1]]
        if len(field) >= 3 and field[2] != "name" and isinstance(item, dict) and field[2] in item:
            del item[field[2]]
            return True
        head, last = ["medications"], field[1]
    parent = case
    for k in head:
        if isinstance(parent, dict):
            parent = next((v for key, v in parent.items() if str(key) == k), None)
        elif isinstance(parent, list) and isinstance(k, int) and k < len(parent):
            parent = parent[k]
        else:
            return False
    if isinstance(parent, dict):
        key = next((key for key in parent if str(key) == str(last)), _NONE)
        if key is _NONE:
            return False
        del parent[key]
        return True
    if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent.pop(last)
        shifts.setdefault(tuple(head), list(range(len(parent) + 1))).pop(last)
        return True
    return False


_NONE = object()


def _back(field: tuple, shifts: dict) -> tuple:
    """``field`` with the list indices of a shortened case mapped back to the case as given."""
    out = list(field)
    for k, x in enumerate(field):
        index = shifts.get(tuple(field[:k]))
        if isinstance(x, int) and index is not None and x < len(index):
            out[k] = index[x]
    return tuple(out)


def _original(p: Problem, shifts: dict) -> Problem:
    """``p`` with its paths mapped back to the case as given."""
    if not shifts:
        return p
    field = _back(p.field, shifts)
    return replace(p, path=path_text(field) if field else p.path, field=field,
                   related=tuple(_back(r, shifts) for r in p.related))


def read_case(data: Any, kb: Knowledge, *, lenient: bool = False, source: str = "<case>") -> CaseReading:
    """Read one case in collect mode: every problem, and the evidence of the fields without one.

    The case is read as :func:`parse_case` reads it; the fields with a
    problem (and the fields each problem involves) are then left out and the
    rest is read again, until nothing more is wrong. Problems of every pass
    are returned (paths refer to the case as given).

    Examples
    --------
    >>> from bayesdx.knowledge.load import load_knowledge
    >>> r = read_case({"cbc": {"anc": "1,2", "plt": 30}, "medications": ["clozapin", "omeprazole"]},
    ...               load_knowledge())
    >>> r.evidence["plt"], "anc" in r.evidence
    ('very_low', False)
    >>> [p.field for p in r.problems]
    [('cbc', 'anc'), ('medications', 0, 'name')]
    """
    work = copy.deepcopy(data)
    shifts: dict = {}
    problems: list[Problem] = []
    seen: set = set()
    for _ in range(MAX_PASSES):
        reader = CaseReader(kb, lenient, source)
        reader.run(work)
        for p in reader.problems:
            p = _original(p, shifts)
            if (p.path, p.expected, p.got) not in seen:
                seen.add((p.path, p.expected, p.got))
                problems.append(p)
        targets = {f for p in reader.problems for f in (p.field, *p.related)}
        removed = [_leave_out(work, f, shifts) for f in sorted(targets, key=_sort_key, reverse=True)]
        if not any(removed):
            break
    cid = data.get("id") if isinstance(data, dict) else None
    cid = None if cid is None or isinstance(cid, (bool, dict, list)) else str(cid)
    return CaseReading(cid, reader.evidence, reader.ignored, problems,
                       {n: _back(field_path(o), shifts) for n, o in reader.origin.items()})


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
        return yaml_load(text)
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
    >>> from bayesdx.knowledge.load import load_knowledge
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
            raise CaseError([Problem(str(p), "cases", "must be a list of cases", describe(items),
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

