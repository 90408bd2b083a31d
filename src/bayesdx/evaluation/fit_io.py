"""Read a labelled cohort for :mod:`bayesdx.evaluation.fit`; write the fitted ``priors/``.

A cohort is a case file (YAML/JSON, one case or a list under ``cases:``) or a
table (CSV/Parquet in the flattened form of docs/cohort-format.md); each case
may carry the contract's ``diagnosis: {present: [...], absent: [...]}`` label
(``diagnosis.present`` / ``diagnosis.absent`` columns in a table).

:func:`write_fitted` copies ``model/`` and ``priors/`` to a new root and
rewrites each fitted number in place (comments and order kept), cause priors,
link/leak numbers, relative risks and context-table entries alike, whether written as a block or inline: value =
the MAP, range = the 90 % credible range, source kept, and a note saying it
was updated from the cohort (n = the cases that inform it: all cases for a
prior, those that observe the finding for a link or leak, those that observe the
context node for a context entry, those that observe every context parent of the
cause for a relative risk).

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
from ..knowledge.text import yaml_load
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


def _up(x: float, top: float = 1.0) -> float:
    if x <= 0:
        return 0.0
    q = 10 ** (math.floor(math.log10(x)) - 2)
    return min(top, math.ceil(x / q) * q)


def _flow(entry: dict) -> str:
    src = entry["source"]
    src = src[0] if len(src) == 1 else "[" + ", ".join(src) + "]"
    lo, hi = entry["range"]
    return (f"{{value: {_num(entry['value'])}, range: [{_num(lo)}, {_num(hi)}], source: {src}, "
            f"note: {json.dumps(entry['note'])}}}")


def _flow_any(x) -> str:
    """YAML flow text of parsed YAML (numbers exact, strings JSON-quoted); new entries as text."""
    if isinstance(x, _New):
        return x.text
    if isinstance(x, dict):
        return "{" + ", ".join(f"{_flow_any(k)}: {_flow_any(v)}" for k, v in x.items()) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(_flow_any(v) for v in x) + "]"
    if isinstance(x, bool) or x is None:
        return json.dumps(x)
    if isinstance(x, (int, float)):
        return repr(x)
    bare = re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", x) and x.lower() not in _RESERVED
    return x if bare else json.dumps(x)


_RESERVED = {"yes", "no", "y", "n", "on", "off", "true", "false", "null"}


@dataclasses.dataclass(frozen=True)
class _New:
    text: str


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    t = line.strip()
    return bool(t) and not t.startswith("#")


def _locate(lines: list[str], keys: list[str]):
    """``(line, keys left)``: the line holding the flow mapping that has the number at ``keys``."""
    start, end, child = 0, len(lines), 0
    for depth, key in enumerate(keys):
        k = re.escape(key)  # a key may be quoted ('null', "yes": words YAML would read)
        pat = re.compile(rf"^ {{{child}}}(?:{k}|'{k}'|\"{k}\"):(\s|$)")
        found = next((i for i in range(start, end) if pat.match(lines[i])), None)
        if found is None:
            return None
        rest = lines[found].split(":", 1)[1].strip()
        if rest.startswith("{"):
            return found, keys[depth + 1:]
        block = [j for j in range(found + 1, end) if _content(lines[j])]
        stop = next((j for j in block if _indent(lines[j]) <= child), end)
        inner = [j for j in block if j < stop]
        if not inner:
            return None
        start, end, child = found + 1, stop, _indent(lines[inner[0]])
    return None


def _set(tree: dict, keys: list[str], text: str) -> bool:
    """Put the new entry at ``keys`` (a two-state number may stand without its state key)."""
    parent, key, node = None, None, tree
    for i, k in enumerate(keys):
        if isinstance(node, dict) and "value" in node and i == len(keys) - 1 and parent is not None:
            parent[key] = _New(text)  # the two-state shortcut: the entry stands for its state
            return True
        if not isinstance(node, dict) or k not in node:
            return False
        parent, key, node = node, k, node[k]
    if isinstance(node, dict) and "value" in node:
        parent[key] = _New(text)
        return True
    return False


def _rewrite(files: dict[Path, list[str]], path: str, text: str) -> bool:
    """Rewrite the number at parameter ``path`` in whichever priors file holds it."""
    keys = path.split(".")
    for lines in files.values():
        hit = _locate(lines, keys)
        if hit is None:
            continue
        i, left = hit
        head, rest = lines[i].split(":", 1)
        flow, tail = rest.strip(), ""
        close = flow.rfind("}")
        flow, tail = flow[:close + 1], flow[close + 1:].rstrip()
        if not left:
            lines[i] = f"{head}: {text}{tail}\n"
            return True
        tree = yaml_load(flow)
        if not isinstance(tree, dict) or any(not isinstance(k, str) for k in tree):
            continue
        if "value" in tree and len(left) == 1:
            lines[i] = f"{head}: {text}{tail}\n"
            return True
        if _set(tree, left, text):
            lines[i] = f"{head}: {_flow_any(tree)}{tail}\n"
            return True
    return False


def write_fitted(root: Path, out: str | Path, net: Network, fit: FitResult) -> list[str]:
    """Copy ``root``'s model/ and priors/ to ``out`` with the fitted numbers; return their paths."""
    out = Path(out)
    if (out / "priors").exists():
        raise FitError(Problem("fit", f"-o {out}", "must be a new folder (or one without priors/)",
                               "it already holds priors/", "another folder name"))
    shutil.copytree(root / "priors", out / "priors")
    shutil.copytree(root / "model", out / "model")
    files = {f: f.read_text().splitlines(keepends=True)
             for f in sorted((out / "priors").glob("*.yaml"))}
    changed = []
    for x in fit.numbers:
        if x.n == 0 or _num(x.new) == _num(x.old):
            continue
        p = net.params[net.param_index(x.path)]
        value = float(_num(x.new))
        top = math.inf if p.kind == "rr" else 1.0  # a relative risk is not a probability
        lo, hi = min(_down(x.low), value), max(_up(x.high, top), value)
        note = (f"{p.note}; " if p.note else "") + (
            f"updated from cohort: n={x.n}, fitted {_num(x.new)}, 90% credible "
            f"{_num(x.low)}-{_num(x.high)} (was {_num(x.old)}, range {_num(x.old_low)}-"
            f"{_num(x.old_high)})")
        text = _flow({"value": value, "range": [lo, hi], "source": list(p.sources), "note": note})
        if not _rewrite(files, x.path, text):
            raise FitError(Problem(str(out / "priors"), x.path, "must be found as a "
                                   "'key: {value: ...}' entry in a priors file",
                                   "not found in that layout", "write the number on one line"))
        changed.append(x.path)
    for f, lines in files.items():
        f.write_text("".join(lines))
    return changed


def fit_cohort(model, cohort: str | Path, out: str | Path, *, holdout: float = 0.2, seed: int = 0,
               max_iter: int = 50, lenient: bool = False, links: bool = True,
               context: bool = True, rr: bool = True) -> tuple[FitResult, list[str]]:
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
                     engine=model.engine, links=links, context=context, rr=rr)
    fit = dataclasses.replace(fit, failures=tuple(failures) + fit.failures)
    changed = write_fitted(Path(model.net.kb.root), out, model.net, fit)
    (out / "fit-report.txt").write_text(fit.format() + "\n")
    return fit, changed
