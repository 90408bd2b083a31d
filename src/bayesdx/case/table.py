"""Cases as table rows (CSV, Parquet): one row a patient, the fields flattened with dots.

The contract (``shared/case-format.md``) says a case in a table is one row
whose columns are its fields flattened with dots (``cbc.anc``, ``tests.hiv``,
``vitamins.b12``), with the label's lists semicolon-separated in
``diagnosis.present`` / ``diagnosis.absent``. This module is the whole of that
mapping, both ways; ``docs/cohort-format.md`` documents it. A row is turned
into a case **dict** (:func:`row_to_case`) and read by the one case reader
(:func:`~bayesdx.case.parse_case`); nothing is validated twice.

Columns
-------
Nested fields
    ``cbc.<field>``, ``baseline_cbc.<field>``, ``vitamins.<field>``,
    ``marrow.cellularity``, ``evidence.<node>``: a dotted name is a path into
    the case (``cbc.anc`` -> ``{"cbc": {"anc": ...}}``).
Term sections
    ``smear``, ``history``, ``tests``, ``marrow.findings``: either one list
    column (the terms present, ``;``-separated in CSV or a Parquet list) or one
    column per term, ``smear.<term>`` / ``history.<term>`` /
    ``tests.<test>`` / ``marrow.findings.<term>`` holding ``present | absent``
    (``positive | negative``). Both forms of one section in one row is an error.
Medications
    ``medications``: the names, ``;``-separated (CSV) or a Parquet list of
    names or of structs ``{name, weeks, stopped_weeks_ago,
    days_since_last_dose, dose}``; the word ``none`` (or an empty Parquet list)
    says *no drugs*. ``med.<name>.<key>`` columns (``med.clozapine.weeks``,
    ``med.methotrexate.stopped_weeks_ago``, ...) give a drug with its timing;
    ``med.<name>`` alone holds ``yes | no`` (also ``true | false | 1 | 0``).
    As in the contract a row that names a drug has a complete list; a row
    that names none leaves the drugs unknown (write ``none`` to say *no drugs*).
Labels
    ``diagnosis.present``, ``diagnosis.absent``: cause ids, ``;``-separated.
Cells
    An empty cell (null, NaN, blank) is *unknown*: the field is left out. A
    number in the ``id`` column is read as text (``7.0`` -> ``"7"``).

Examples
--------
>>> case, _ = row_to_case({"id": "p1", "cbc.anc": 0.4, "tests.hiv": "negative",
...                        "smear": "normal", "med.clozapine.weeks": 9, "vitamins.b12": None,
...                        "diagnosis.present": "drug_antipsychotic"})
>>> case
{'id': 'p1', 'cbc': {'anc': 0.4}, 'tests': {'hiv': 'negative'}, 'smear': ['normal'], 'diagnosis': {'present': ['drug_antipsychotic']}, 'medications': [{'name': 'clozapine', 'weeks': 9}]}
>>> case_to_row(case)
{'id': 'p1', 'cbc.anc': 0.4, 'tests.hiv': 'negative', 'smear': 'normal', 'diagnosis.present': 'drug_antipsychotic', 'med.clozapine.weeks': 9}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import CaseError, Problem
from ..knowledge.load import Knowledge
from .common import describe, word
from .medications import MED_KEYS
from .reader import ParsedCase, _parse

__all__ = ["LIST_COLUMNS", "LIST_SEP", "MED_PREFIX", "NO_DRUGS", "case_to_row", "is_missing",
           "parse_row", "row_to_case"]

#: separator of the items of a list held in one text cell
LIST_SEP = ";"
#: columns that hold a list (``;``-separated text, or a Parquet list)
LIST_COLUMNS = ("smear", "history", "tests", "marrow.findings", "medications",
                "diagnosis.present", "diagnosis.absent")
#: prefix of the one-column-per-drug form
MED_PREFIX = "med."
#: the word for *no drugs* in the ``medications`` column
NO_DRUGS = "none"
_MED_FIELDS = tuple(k for k in MED_KEYS if k != "name")
_YES = {"yes", "y", "true", "1", "taken", "x"}
_NO = {"no", "n", "false", "0", "not_taken"}


def is_missing(value: Any) -> bool:
    """True for an empty cell: None, NaN, pandas' NA / NaT, blank text.

    >>> is_missing(float("nan")), is_missing("  "), is_missing(0), is_missing([])
    (True, True, False, False)
    """
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    return False


def _plain(value: Any) -> Any:
    """A cell as plain Python: numpy scalars to numbers, arrays to lists, structs to dicts."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy scalar or array
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):
        return [_plain(v) for v in value if not is_missing(v)]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if not is_missing(v)}
    return value


def _split(value: Any) -> Any:
    """A list column's cell: text split at ``;`` (blank items dropped); lists as they are."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(LIST_SEP) if item.strip()]
    return value


def row_to_case(row: Mapping[str, Any]) -> tuple[dict, list[Problem]]:
    """Turn one table row (column -> cell) into a case dict of the contract.

    Parameters
    ----------
    row : mapping
        Column name -> cell value (numbers, text, Parquet lists / structs, or
        empty cells, which are left out).

    Returns
    -------
    case : dict
        The case, for :func:`~bayesdx.case.parse_case`.
    problems : list of Problem
        What cannot be put into a case (both forms of a section in one row, a
        ``med.<name>`` cell that is not yes / no); ``file`` is empty and
        ``path`` is the column. The case is still returned so that the reader
        can report its own problems too.

    Examples
    --------
    >>> row_to_case({"smear": "normal", "smear.blasts": "absent"})[1][0].expected
    'must be given either as the list column smear or as smear.<term> columns, not both'
    >>> row_to_case({"medications": "none"})[0]
    {'medications': []}
    >>> row_to_case({"med.TMP-SMX": "yes", "med.omeprazole": "no"})[0]
    {'medications': [{'name': 'TMP-SMX'}]}
    """
    case: dict[str, Any] = {}
    problems: list[Problem] = []
    meds: dict[str, dict[str, Any]] = {}
    med_list: list | None = None
    for column, raw in row.items():
        column = str(column)
        if is_missing(raw):
            continue
        value = _plain(raw)
        if column.startswith(MED_PREFIX):
            _med_column(column, value, meds, problems)
            continue
        if column == "id" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)  # 7.0 -> "7"
        if column in LIST_COLUMNS:
            value = _split(value)
        if column == "medications":
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) \
                    and word(value[0]) == NO_DRUGS:
                value = []
            med_list = value
            continue
        _put(case, column, value, problems)
    if med_list is not None or meds:
        case["medications"] = _merge_meds(med_list, meds, problems)
    return case, problems


def _put(case: dict, column: str, value: Any, problems: list[Problem]) -> None:
    parts = column.split(".")
    node = case
    for i, key in enumerate(parts[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            head = ".".join(parts[:i + 1])
            problems.append(Problem("", column, f"must be given either as the list column {head} "
                                    f"or as {head}.<term> columns, not both", None,
                                    f"leaving one of {head} and {column} empty"))
            return
        node = child
    if isinstance(node.get(parts[-1]), dict):
        problems.append(Problem("", column, f"must be given either as the list column {column} or "
                                f"as {column}.<term> columns, not both", None,
                                f"leaving {column} or the {column}.<term> columns empty"))
        return
    node[parts[-1]] = value


def _med_column(column: str, value: Any, meds: dict, problems: list[Problem]) -> None:
    rest = column[len(MED_PREFIX):]
    name, _, key = rest.rpartition(".")
    if key not in _MED_FIELDS:
        name, key = rest, ""
    if not name:
        problems.append(Problem("", column, "must be med.<drug name> or med.<drug name>.<field> "
                                f"(fields {', '.join(_MED_FIELDS)})", repr(column),
                                "med.clozapine.weeks"))
        return
    if key:
        meds.setdefault(name, {"name": name})[key] = value
        return
    flag = word(str(value)) if isinstance(value, (str, bool, int, float)) else None
    if flag in _YES:
        meds.setdefault(name, {"name": name})
    elif flag not in _NO:
        problems.append(Problem("", column, "must be yes or no (the drug is taken or not)",
                                describe(value), f"{column}: yes, or a timing column such as "
                                f"{column}.weeks"))


def _merge_meds(med_list: Any, meds: dict[str, dict], problems: list[Problem]) -> Any:
    if med_list is None:
        return list(meds.values())
    if not isinstance(med_list, list):
        return med_list  # the reader reports it
    if med_list == [] and meds:
        problems.append(Problem("", "medications", f"must not be '{NO_DRUGS}' when a med.<name> "
                                "column names a drug (a contradiction)",
                                ", ".join(sorted(meds)), "leaving medications empty"))
        return list(meds.values())
    out = list(med_list)
    by_name = {word(m): i for i, m in enumerate(out) if isinstance(m, str)}
    for name, entry in meds.items():
        i = by_name.get(word(name))
        if i is not None:
            out[i] = {**entry, "name": out[i]}
        else:
            out.append(entry)
    return out


def case_to_row(case: Mapping[str, Any], *, lists: bool = False) -> dict[str, Any]:
    """Flatten a case dict into one table row (the inverse of :func:`row_to_case`).

    Nested mappings become dotted columns; term lists and label lists become
    ``;``-separated text (or Python lists with ``lists=True``, for a Parquet
    list column); each drug becomes ``med.<name>.<field>`` columns, or
    ``med.<name>: yes`` without timing; ``medications: []`` becomes
    ``medications: none``.

    Raises
    ------
    ValueError
        If a drug is listed twice or a list item is not text (such a case
        cannot be one row of this form; keep it as a case file).

    Examples
    --------
    >>> case_to_row({"marrow": {"cellularity": "hypocellular", "findings": ["dysplasia"]},
    ...              "medications": ["omeprazole", {"name": "rituximab", "stopped_weeks_ago": 20}]})
    {'marrow.cellularity': 'hypocellular', 'marrow.findings': 'dysplasia', 'med.omeprazole': 'yes', 'med.rituximab.stopped_weeks_ago': 20}
    """
    row: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if prefix == "medications":
            _flatten_meds(value, row)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            if not all(isinstance(v, str) and LIST_SEP not in v for v in value):
                raise ValueError(f"{prefix}: a table cell holds a list of terms without "
                                 f"'{LIST_SEP}'; got {value!r}")
            row[prefix] = list(value) if lists else LIST_SEP.join(value)
        elif value is not None:
            row[prefix] = value

    walk("", case)
    return row


def _flatten_meds(meds: Any, row: dict[str, Any]) -> None:
    if meds is None:
        return
    if meds == []:
        row["medications"] = NO_DRUGS
        return
    seen: set[str] = set()
    for m in meds:
        if isinstance(m, str):
            name, entry = m, {}
        elif isinstance(m, Mapping) and "name" in m:
            name, entry = m["name"], {k: v for k, v in m.items() if k != "name"}
        elif isinstance(m, Mapping) and len(m) == 1:  # the "- clozapine: {weeks: 9}" form
            name, entry = next(iter(m.items()))
            entry = dict(entry or {})
        else:
            name, entry = None, {}
        if not isinstance(name, str) or word(name) in seen:
            raise ValueError(f"medications: each drug must be named once to be one row; got {m!r}")
        seen.add(word(name))
        if not entry:
            row[f"{MED_PREFIX}{name}"] = "yes"
        for k, v in entry.items():
            row[f"{MED_PREFIX}{name}.{k}"] = v


def parse_row(row: Mapping[str, Any], kb: Knowledge, *, lenient: bool = False,
              source: str = "<row>") -> ParsedCase:
    """Read one table row with the case reader; problems name the row's columns.

    Parameters
    ----------
    row : mapping
        Column -> cell.
    kb : Knowledge
        The loaded knowledge.
    lenient : bool
        As in :func:`~bayesdx.case.parse_case`.
    source : str
        Where the row is (``"cohort.csv row 5"``), the ``file`` of each problem.

    Raises
    ------
    CaseError
        Every problem of the row at once: those of the table form and those of
        the case reader. A drug from ``med.<name>`` columns is reported by its
        column (``med.clozapin``), not by its place in the list.

    Examples
    --------
    >>> from bayesdx.knowledge.load import load_knowledge
    >>> kb = load_knowledge()
    >>> parse_row({"cbc.anc": 0.4, "tests.hiv": "negative"}, kb).evidence
    {'anc': 'severe', 'test_hiv': 'negative'}
    >>> try:
    ...     parse_row({"med.clozapin.weeks": 9, "cbc.anc": "low-ish"}, kb, source="row 3")
    ... except CaseError as err:
    ...     print("\\n".join(p.file + ": " + p.path for p in err.problems))
    row 3: cbc.anc
    row 3: med.clozapin
    """
    case, problems = row_to_case(row)
    problems = [Problem(source, p.path, p.expected, p.got, p.hint) for p in problems]
    try:
        parsed = _parse(case, kb, lenient, source, copy_raw=False)  # (the case is the row's own)
    except CaseError as exc:
        names = _med_columns(case.get("medications"), row)
        problems += [_rename(p, names) for p in exc.problems]
        raise CaseError(problems, exc.case_id) from None
    if problems:
        raise CaseError(problems, parsed.id)
    return parsed


def _med_columns(meds: Any, row: Mapping[str, Any]) -> dict[int, str]:
    """Index in the medications list -> its ``med.<name>`` column prefix, for messages."""
    out: dict[int, str] = {}
    if isinstance(meds, list):
        for i, m in enumerate(meds):
            if isinstance(m, dict) and isinstance(m.get("name"), str):
                prefix = f"{MED_PREFIX}{m['name']}"
                if any(str(c) == prefix or str(c).startswith(prefix + ".") for c in row):
                    out[i] = prefix
    return out


def _rename(p: Problem, names: dict[int, str]) -> Problem:
    for i, prefix in names.items():
        head = f"medications[{i}]"
        if p.path == head or p.path == f"{head}.name":
            return Problem(p.file, prefix, p.expected, p.got, p.hint)
        if p.path.startswith(head + "."):
            return Problem(p.file, prefix + p.path[len(head):], p.expected, p.got, p.hint)
    return p
