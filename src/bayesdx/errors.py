"""Error types raised by bayesdx.

Every error a user can provoke (a broken knowledge file, a bad case, impossible
evidence) derives from :class:`BayesdxError`, carries a message of the form
``where: must be X; got Y; try Z`` and is turned into an exit code by the CLI,
never a traceback.

Examples
--------
>>> err = KnowledgeError([Problem("priors/causes.yaml", "sle.prior.value",
...                               "must be a probability in [0, 1]", "1.5",
...                               "use a share between 0 and 1")])
>>> print(err)
1 problem in the knowledge files:
  priors/causes.yaml: sle.prior.value: must be a probability in [0, 1]; got 1.5; try use a share between 0 and 1

The shared mechanics of every message live here too: :func:`nearest` and
:func:`suggest` (the nearest valid names) and :func:`check_option` (a value
that must be one of a few choices; the CLI takes its choices from the same
constants).

>>> nearest("clozapin", ["loxapine", "clozapine", "haloperidol"])
['clozapine', 'loxapine']
>>> suggest("clozapin", ["clozapine", "haloperidol"])
'a known name - did you mean clozapine?'
>>> check_option("next tests: by", "cots", ("info", "change", "cost"))
Traceback (most recent call last):
    ...
bayesdx.errors.QueryError: next tests: by: must be one of info, change, cost; got 'cots'; try cost
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BayesdxError",
    "UsageError",
    "QueryError",
    "CaseError",
    "ImpossibleEvidenceError",
    "KnowledgeError",
    "Problem",
    "CUTOFF",
    "check_cause",
    "check_option",
    "nearest",
    "suggest",
]

CUTOFF = 0.6
"""Similarity (:class:`difflib.SequenceMatcher` ratio) a name needs to be suggested."""


def nearest(name: str, pool: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` names of ``pool`` similar to ``name``, the nearest first.

    Similarity is :class:`difflib.SequenceMatcher`'s ratio (at least
    :data:`CUTOFF`); equally near names come in alphabetical order.

    >>> nearest("hairy_cel", ["hepatitis_c", "hairy_cell_leukemia", "sle"])
    ['hairy_cell_leukemia']
    """
    name = str(name)
    m = difflib.SequenceMatcher()
    m.set_seq2(name)
    scored = []
    for cand in set(pool):
        m.set_seq1(cand)
        if m.real_quick_ratio() >= CUTOFF and m.quick_ratio() >= CUTOFF:
            r = m.ratio()
            if r >= CUTOFF:
                scored.append((-r, cand))
    return [c for _, c in sorted(scored)[:n]]


def suggest(name: str, pool: Iterable[str], what: str = "name", fallback: str | None = None) -> str:
    """A hint for an unknown name: the nearest names, else ``fallback``, else the (short) list.

    >>> suggest("zzz", ["a", "b"], "word")
    'one of a, b'
    """
    pool = sorted(set(pool))
    m = nearest(name, pool)
    if m:
        return f"a known {what} - did you mean {', '.join(m)}?"
    if fallback is not None:
        return fallback
    if len(pool) <= 15:
        return f"one of {', '.join(pool)}"
    return f"one of {', '.join(pool[:15])}, ..."


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: where it is, what was expected, what was found.

    Parameters
    ----------
    file : str
        The file (or case) the problem is in.
    path : str
        Dotted key path inside the file, empty for the whole file.
    expected : str
        What the value must be ("must be ...").
    got : str or None
        What was found, already formatted.
    hint : str or None
        How to fix it.
    field : tuple of str and int
        The path as data, for programs (case files): ``("cbc", "anc")``,
        ``("medications", 0, "name")``; empty for the whole file.
    related : tuple of tuple
        Other fields the problem involves (a count larger than the WBC also
        involves the WBC), as ``field`` paths.
    """

    file: str
    path: str
    expected: str
    got: str | None = None
    hint: str | None = None
    field: tuple = ()
    related: tuple = ()

    @property
    def message(self) -> str:
        """``must be X; got Y; try Z`` without the file and path."""
        text = self.expected
        if self.got is not None:
            text += f"; got {self.got}"
        if self.hint:
            text += f"; try {self.hint}"
        return text

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class BayesdxError(Exception):
    """Base class of every error bayesdx reports to a user."""

    exit_code = 1


class UsageError(BayesdxError):
    """A command argument or a file to write cannot be used (exit code 2).

    Subclassed per module (``QueryError``, ``RegressError``, ...) so a caller
    can tell where it came from; all carry one :class:`Problem`.
    """

    exit_code = 2

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


class QueryError(UsageError, ValueError):
    """A query argument (a cause, a finding, an option) cannot be used; exit code 2.

    Also a :class:`ValueError`, which is what a wrong argument is in Python.
    """


def check_option(where: str, value, choices: Iterable[str]) -> None:
    """Raise :class:`QueryError` unless ``value`` is one of ``choices`` (kept in their order)."""
    choices = tuple(choices)
    if value in choices:
        return
    near = nearest(str(value), choices)
    raise QueryError(Problem(where, "", f"must be one of {', '.join(choices)}", repr(value),
                             ", ".join(near) if near else None))


def check_cause(engine, cause: str, where: str = "cause") -> int:
    """Index of ``cause`` in ``engine.causes``; a :class:`QueryError` with the nearest ids when unknown.

    >>> from bayesdx.diagnosis import load_model
    >>> try:
    ...     check_cause(load_model().engine, "hairy_cel", "--cause")
    ... except QueryError as err:
    ...     print(err)
    --cause: must be a cause id; got 'hairy_cel'; try a known cause id - did you mean hairy_cell_leukemia?
    """
    if cause in engine.causes:
        return engine.causes.index(cause)
    raise QueryError(Problem(where, "", "must be a cause id", repr(cause),
                             suggest(str(cause), engine.causes, "cause id",
                                     "a cause listed by 'bayesdx nodes --kind cause'")))


class KnowledgeError(BayesdxError):
    """The knowledge files (``model/``, ``priors/``) are invalid.

    Holds *all* problems found, so a researcher can fix them in one pass.
    """

    exit_code = 3

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the knowledge files:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class CaseError(BayesdxError):
    """A case file (or a case dict) cannot be read.

    Holds every problem found in the case so that all can be fixed at once.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem], case_id: str | None = None):
        self.problems = list(problems)
        self.case_id = case_id
        head = f"case {case_id!r}" if case_id else "case"
        n = len(self.problems)
        lines = [f"{head}: {n} problem{'s' if n != 1 else ''}:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ImpossibleEvidenceError(BayesdxError):
    """The evidence has probability zero under the model.

    Parameters
    ----------
    conflict : dict
        A minimal set of ``node -> state`` findings that cannot occur together.
    """

    exit_code = 4

    def __init__(self, conflict: dict[str, str]):
        self.conflict = dict(conflict)
        items = ", ".join(f"{k}={v}" for k, v in self.conflict.items())
        super().__init__(
            f"evidence: must have non-zero probability under the model; got the "
            f"impossible combination {{{items}}}; try removing or correcting one of "
            f"these findings"
        )
