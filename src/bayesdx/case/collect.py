"""The reader's collect mode: every problem of a case, and the evidence of the rest.

Internal to :mod:`bayesdx.case`, which re-exports :class:`CaseReading` and
:func:`read_case`. :func:`~bayesdx.case.parse_case` raises every problem of a
case at once; :func:`read_case` (the app's way of reading its form) never
raises for a bad field: it returns every problem, each with its field path as
data (:attr:`bayesdx.errors.Problem.field`, e.g. ``("medications", 0,
"name")``), and the evidence of the case with every field that has a problem
(and every field a problem involves, :attr:`~bayesdx.errors.Problem.related`)
left out. The case is read by the same :class:`~bayesdx.case.reader.CaseReader`;
nothing here reads a field itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Problem
from ..knowledge.load import Knowledge
from .common import field_path, path_text
from .reader import CaseReader

__all__ = ["MAX_PASSES", "CaseReading", "read_case"]

MAX_PASSES = 8
"""Readings of one case in :func:`read_case` (each leaves out the fields of the last one's problems)."""


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
