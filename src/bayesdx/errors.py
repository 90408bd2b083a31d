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
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BayesdxError",
    "UsageError",
    "CaseError",
    "ImpossibleEvidenceError",
    "KnowledgeError",
    "Problem",
]


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
    """

    file: str
    path: str
    expected: str
    got: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        text = f"{where}: {self.expected}"
        if self.got is not None:
            text += f"; got {self.got}"
        if self.hint:
            text += f"; try {self.hint}"
        return text


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
