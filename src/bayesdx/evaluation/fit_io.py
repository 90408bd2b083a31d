"""Read a labelled cohort for :mod:`bayesdx.evaluation.fit`; write the fitted ``priors/``.

A cohort is a case file (YAML/JSON, one case or a list under ``cases:``) or a
table (CSV/Parquet in the flattened form of docs/cohort-format.md); each case
may carry the contract's ``diagnosis: {present: [...], absent: [...]}`` label
(``diagnosis.present`` / ``diagnosis.absent`` columns in a table).

:func:`write_fitted` copies ``model/`` and ``priors/`` to a new root and
rewrites each fitted number in place (comments and order kept): value = the
MAP, range = the 90 % credible range, source kept, and a note saying it was
updated from the cohort.

Examples
--------
>>> _flow({"value": 0.1, "range": [0.05, 0.2], "source": ["R1", "E"], "note": 'a "b"'})
'{value: 0.1, range: [0.05, 0.2], source: [R1, E], note: "a \\\\"b\\\\""}'
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
from pathlib import Path

from ..case.reader import read_cases
from ..case.table import parse_row
from ..errors import CaseError, Problem, UsageError
from ..knowledge.load import Knowledge
from ..knowledge.network import Network
from .fit import CaseFailure, FitResult, LabelledCase, fit_priors

__all__ = ["FitError", "fit_cohort", "read_cohort", "write_fitted"]


class FitError(UsageError):
    """The cohort or the output folder cannot be used."""


def _labelled(parsed) -> LabelledCase:
    label = parsed.label or {}
    return LabelledCase(parsed.id, dict(parsed.evidence), tuple(label.get("present", ())),
                        tuple(label.get("absent", ())))


def read_cohort(path: str | Path, kb: Knowledge, *, lenient: bool = False
                ) -> tuple[list[LabelledCase], list[CaseFailure]]:
    """The readable cases of a cohort file, and a failure for each unreadable one."""
    p = Path(path)
    if not p.is_file():
        raise FitError(Problem("fit", str(p), "must be a case file (YAML/JSON) or a cohort table "
                               "(CSV/Parquet)", "no such file", "a path to an existing file"))
    cases: list[LabelledCase] = []
    failures: list[CaseFailure] = []
    if p.suffix.lower() in (".csv", ".parquet"):
        from ..scoring.files import iter_chunks

        for chunk in iter_chunks(p, text=("id", "diagnosis.present", "diagnosis.absent")):
            for i, row in zip(chunk.index, chunk.to_dict("records")):
                where = f"{p.name} row {i + 2 if p.suffix.lower() == '.csv' else i}"
                try:
                    cases.append(_labelled(parse_row(row, kb, lenient=lenient, source=where)))
                except CaseError as exc:
                    failures.append(CaseFailure(where, "; ".join(map(str, exc.problems))))
        return cases, failures
    for i, item in enumerate(read_cases(p, kb, lenient=lenient)):
        if isinstance(item, CaseError):
            failures.append(CaseFailure(f"{p.name} case {i}", "; ".join(map(str, item.problems))))
        else:
            cases.append(_labelled(item))
    return cases, failures


def _num(x: float) -> str:
    return f"{x:.4g}"


def _down(x: float) -> float:
    if x <= 0:
        return 0.0
    q = 10 ** (math.floor(math.log10(x)) - 2)
    return math.floor(x / q) * q


def _up(x: float) -> float:
    if x <= 0:
        return 0.0
    q = 10 ** (math.floor(math.log10(x)) - 2)
    return min(1.0, math.ceil(x / q) * q)


def _flow(entry: dict) -> str:
    src = entry["source"]
    src = src[0] if len(src) == 1 else "[" + ", ".join(src) + "]"
    lo, hi = entry["range"]
    return (f"{{value: {_num(entry['value'])}, range: [{_num(lo)}, {_num(hi)}], source: {src}, "
            f"note: {json.dumps(entry['note'])}}}")


def write_fitted(root: Path, out: str | Path, net: Network, fit: FitResult) -> list[str]:
    """Copy ``root``'s model/ and priors/ to ``out`` with the fitted numbers; return their paths."""
    out = Path(out)
    if (out / "priors").exists():
        raise FitError(Problem("fit", f"-o {out}", "must be a new folder (or one without priors/)",
                               "it already holds priors/", "another folder name"))
    shutil.copytree(root / "priors", out / "priors")
    shutil.copytree(root / "model", out / "model")
    path = out / "priors" / "causes.yaml"
    lines = path.read_text().splitlines(keepends=True)
    changed = []
    for x in fit.numbers:
        if x.n == 0 or _num(x.new) == _num(x.old):
            continue
        cause = x.path.split(".")[1]
        p = net.params[net.param_index(x.path)]
        value = float(_num(x.new))
        lo, hi = min(_down(x.low), value), max(_up(x.high), value)
        note = (f"{p.note}; " if p.note else "") + (
            f"updated from cohort: n={x.n}, fitted {_num(x.new)}, 90% credible "
            f"{_num(x.low)}-{_num(x.high)} (was {_num(x.old)}, range {_num(x.old_low)}-"
            f"{_num(x.old_high)})")
        text = _flow({"value": value, "range": [lo, hi], "source": list(p.sources), "note": note})
        head = re.compile(rf"^  {re.escape(cause)}:\s*(#.*)?$")
        start = next(i for i, line in enumerate(lines) if head.match(line))
        for i in range(start + 1, len(lines)):
            if re.match(r"^  \S", lines[i]):
                raise FitError(Problem(str(path), x.path, "must be a one-line 'prior: {...}' entry",
                                       "another layout", "write the prior on one line"))
            if re.match(r"^    prior:\s*\{", lines[i]):
                lines[i] = f"    prior: {text}\n"
                break
        changed.append(x.path)
    path.write_text("".join(lines))
    return changed


def fit_cohort(model, cohort: str | Path, out: str | Path, *, holdout: float = 0.2, seed: int = 0,
               max_iter: int = 50, lenient: bool = False) -> tuple[FitResult, list[str]]:
    """``bayesdx fit``: read ``cohort``, fit, write ``out`` (model/, priors/, fit-report.txt)."""
    if not 0 <= holdout < 1:
        raise FitError(Problem("fit", "--holdout", "must be a share in [0, 1)", str(holdout),
                               "--holdout 0.2"))
    out = Path(out)
    if (out / "priors").exists():  # before the work, not after
        raise FitError(Problem("fit", f"-o {out}", "must be a new folder (or one without priors/)",
                               "it already holds priors/", "another folder name"))
    cases, failures = read_cohort(cohort, model.net.kb, lenient=lenient)
    fit = fit_priors(model.net, cases, holdout=holdout, seed=seed, max_iter=max_iter,
                     engine=model.engine)
    fit = dataclasses.replace(fit, failures=tuple(failures) + fit.failures)
    changed = write_fitted(Path(model.net.kb.root), out, model.net, fit)
    (out / "fit-report.txt").write_text(fit.format() + "\n")
    return fit, changed
