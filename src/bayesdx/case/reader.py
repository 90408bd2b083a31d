"""Reading cases: one case (a dict) or a YAML / JSON file holding one case or a batch.

Internal to :mod:`bayesdx.case`, which re-exports :class:`ParsedCase`,
:func:`parse_case` and :func:`read_cases`. :class:`CaseReader` puts the field, section and medication
readers together and reads the ``evidence:`` extension; problems are
collected for the whole case and raised at once as a
:class:`~bayesdx.errors.CaseError`. In a batch file each case is read on its
own, so one bad case does not sink the others.

:func:`bayesdx.case.collect.read_case` is the *collect* mode built on
:class:`CaseReader`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..errors import CaseError, Problem
from ..knowledge.load import Knowledge
from ..knowledge.text import TextError, json_load, read_text, yaml_load
from .common import CATEGORICAL_NODE, FIELDS, LABEL_KEYS, describe, suggest
from .fields import FieldsReader
from .medications import MedicationsReader
from .baseline import BaselineReader
from .units import Reading
from .sections import SectionsReader

__all__ = ["CaseReader", "CaseStream", "ParsedCase", "iter_cases", "parse_case", "read_cases"]


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
    label : dict or None
        The ``diagnosis:`` label, ``{"present": [...], "absent": [...]}`` (cause
        ids, checked against the model), or None when the case has none.
        Scoring ignores it; learning and evaluation read it.

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
    label: dict[str, list[str]] | None = field(default=None, repr=False)


class CaseReader(FieldsReader, SectionsReader, MedicationsReader, BaselineReader):
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
            if sname in self.m.sections:
                self.read_terms(sname, data.get(sname), self.m.sections[sname])
            elif data.get(sname) is not None:  # a model without this section (tests' tiny one)
                self.add(sname, "must not be given: the model's case mapping has no such section",
                         describe(data[sname]), "the evidence: extension")
        self.read_marrow(data.get("marrow"))
        if "medications" in data:
            self.read_medications(data["medications"])
        why = self.read_fall()
        if why is not None and isinstance(self.before_weeks, Reading):
            self.ignore("baseline_cbc.weeks_ago", why)
        self.read_evidence(data.get("evidence"))
        self.read_label(data.get("diagnosis"))
        self.drop_inert()

    def read_label(self, raw: Any):
        """The ``diagnosis:`` label: lists (or one id) of causes present / absent."""
        self.label = None
        data = self.mapping("diagnosis", raw, "present: [cause ids], absent: [cause ids]")
        if data is None:
            return
        causes = self.kb.causes
        out: dict[str, list[str]] = {"present": [], "absent": []}
        seen: dict[str, str] = {}
        for key, value in data.items():
            path = f"diagnosis.{key}"
            if key not in LABEL_KEYS:
                self.unknown_key(path, key, LABEL_KEYS, "diagnosis field")
                continue
            items = [value] if isinstance(value, str) else [] if value is None else value
            if not isinstance(items, list):
                self.add(path, "must be a list of cause ids", describe(value),
                         f"{path}: [{next(iter(causes))}]")
                continue
            for i, cause in enumerate(items):
                ipath = f"{path}[{i}]"
                if not isinstance(cause, str) or cause not in causes:
                    self.add(ipath, "must be a cause id of the model", describe(cause),
                             suggest(str(cause), causes, "cause id"))
                elif cause in seen and seen[cause] != key:
                    self.add(ipath, "must not be both present and absent (a contradiction)",
                             repr(cause), f"removing it from diagnosis.{seen[cause]} or {path}")
                elif cause not in seen:
                    seen[cause] = key
                    out[key].append(cause)
        self.label = out

    def drop_inert(self):
        """Move observed root context nodes that can change nothing to ``ignored``.

        A root context node (no parents) whose every child is a context node already
        observed (``hyperthyroidism`` when the medication list fixes antithyroid
        exposure) is cut off from every cause: say so instead of using it silently.
        """
        kb = self.kb
        children = kb.children
        for node in list(self.evidence):
            spec = kb.context.get(node)
            kids = children.get(node, [])
            if spec is None or spec.parents or not kids:
                continue
            if all(k in kb.context and k in self.evidence for k in kids):
                origin = self.origin.pop(node)
                del self.evidence[node]
                known = ", ".join(f"{k} (from {self.origin[k]})" for k in kids)
                self.ignore(origin, f"changes nothing here: what it implies is already known: {known}")

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


def _parse(data: Any, kb: Knowledge, lenient: bool, source: str, prefix: str = "", *,
           copy_raw: bool = True) -> ParsedCase:
    reader = CaseReader(kb, lenient, source, prefix)
    reader.run(data)
    cid = data.get("id") if isinstance(data, dict) else None
    cid = None if cid is None or isinstance(cid, (bool, dict, list)) else str(cid)
    if reader.problems:
        raise CaseError(reader.problems, cid)
    return ParsedCase(id=cid, evidence=reader.evidence, ignored=reader.ignored,
                      raw=copy.deepcopy(data) if copy_raw else data, label=getattr(reader, "label", None))


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


def _load_file(p: Path) -> Any:
    try:
        text = read_text(p)
        if p.suffix.lower() == ".json":
            return json_load(text)
        return yaml_load(text)
    except OSError as exc:
        raise CaseError([Problem(str(p), "", "must be a readable case file", str(exc),
                                 "checking the path")]) from None
    except TextError as exc:
        raise CaseError([exc.problem(str(p))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CaseError([Problem(str(p), where, "must be valid YAML",
                                 getattr(exc, "problem", None) or str(exc),
                                 "checking indentation and quoting near that line")]) from None


class CaseStream:
    """The cases of a file, parsed one at a time as they are iterated (:func:`iter_cases`)."""

    def __init__(self, items: list, prefix: str | None, kb: Knowledge, lenient: bool, source: str):
        self._items, self._prefix = items, prefix
        self._kb, self._lenient, self._source = kb, lenient, source

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[ParsedCase | CaseError]:
        for i, item in enumerate(self._items):
            pre = "" if self._prefix is None else f"{self._prefix}[{i}]."
            try:
                yield _parse(item, self._kb, self._lenient, self._source, pre)
            except CaseError as exc:
                yield exc


def iter_cases(path: str | Path, kb: Knowledge, *, lenient: bool = False) -> CaseStream:
    """The cases of a YAML or JSON file (one case, or a list under ``cases:``), read one by one.

    The file is loaded at once (a syntax error is raised here); each case is
    parsed only when the stream reaches it, so a batch of 10,000 cases can be
    scored and written as it is read.

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
    CaseStream
        ``len()`` is the number of cases; iterating yields a ParsedCase or a
        :class:`~bayesdx.errors.CaseError` per case, in file order.

    Raises
    ------
    CaseError
        If the file itself cannot be read or parsed, ``cases:`` is not a list, or
        the batch is empty.

    Examples
    --------
    >>> import tempfile, os
    >>> from bayesdx.knowledge.load import load_knowledge
    >>> text = "cases:\\n  - {id: a, sex: female}\\n  - {id: b, sex: femal}\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "batch.yaml")
    ...     _ = open(f, "w").write(text)
    ...     out = list(iter_cases(f, load_knowledge()))
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
    if prefix is not None and not items:
        raise CaseError([Problem(str(p), prefix or "", "must hold at least one case", "an empty list",
                                 "cases:\n  - {id: a, ...} (an empty case {} gives the prior)")])
    return CaseStream(items, prefix, kb, lenient, str(p))


def read_cases(path: str | Path, kb: Knowledge, *, lenient: bool = False) -> list[ParsedCase | CaseError]:
    """Read a YAML or JSON case file: one case, or a list under ``cases:``.

    The list of :func:`iter_cases` (see there).

    Returns
    -------
    list of ParsedCase or CaseError
        One entry per case, in file order; a case that cannot be read is its
        :class:`~bayesdx.errors.CaseError` (problem paths start with
        ``cases[i].``), so one bad case does not sink the others.
    """
    return list(iter_cases(path, kb, lenient=lenient))

