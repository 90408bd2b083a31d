"""The clinical behaviour suite: probe cases and their qualitative expectations.

A probe (``validation/probes/bNNN-*.yaml``, format in ``validation/probes/README.md``)
is a case in the contract format plus a list of expectations a haematologist
insists on: "not first", "at most p", "ranks above". Two-case probes add
``case_b`` (and a one-line ``compare``) and compare the same cause across the
two cases (``higher_in: a``).

:func:`load_probes` reads and checks every probe file, reporting all problems
at once (file and key); :func:`score_probes` runs them on a model. A probe that
names a cause id the model lacks fails with a message naming that id; it never
stops the run.

Examples
--------
>>> ps = load_probes()
>>> len(ps) >= 45
True
>>> e = Expectation(("alcohol",), "at_most", 0.02)
>>> e.describe()
'alcohol at most 0.02'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import CaseError, Problem

__all__ = ["KINDS", "Expectation", "Probe", "load_probes", "probe_dir", "read_probe"]

#: Expectation kinds and what their value must be.
KINDS = {
    "first": "true", "not_first": "true", "in_top": "a whole number >= 1",
    "not_in_top": "a whole number >= 1", "at_least": "a probability in [0, 1]",
    "at_most": "a probability in [0, 1]", "above": "a cause id",
    "higher_in": "'a' or 'b' (needs case_b)",
}
_TOP_KEYS = {"id", "title", "rationale", "covers", "case", "case_b", "compare", "expect"}
_REQUIRED = ("id", "title", "rationale", "case", "expect")


@dataclass(frozen=True)
class Expectation:
    """One expectation: ``causes`` (one id, or any-of several), a kind, its value, the case."""

    causes: tuple[str, ...]
    kind: str
    value: Any
    case: str = "a"

    @property
    def cause_text(self) -> str:
        """The cause as written (``a`` or ``any of a, b``)."""
        return self.causes[0] if len(self.causes) == 1 else "any of " + ", ".join(self.causes)

    def describe(self, name=None) -> str:
        """Readable statement; ``name`` maps an id to a readable label.

        >>> Expectation(("sle",), "above", "duffy_null_neutropenia", "b").describe()
        'sle ranks above duffy_null_neutropenia (case b)'
        """
        name = name or (lambda c: c)
        who = (name(self.causes[0]) if len(self.causes) == 1
               else "any of " + ", ".join(name(c) for c in self.causes))
        text = {
            "first": f"{who} ranks first",
            "not_first": f"{who} does not rank first",
            "in_top": f"{who} is in the top {self.value}",
            "not_in_top": f"{who} is not in the top {self.value}",
            "at_least": f"{who} at least {self.value:g}" if isinstance(self.value, float)
            else f"{who} at least {self.value}",
            "at_most": f"{who} at most {self.value:g}" if isinstance(self.value, float)
            else f"{who} at most {self.value}",
            "above": f"{who} ranks above {name(str(self.value))}",
            "higher_in": f"{who} is higher in case {self.value} than in case "
                         f"{'b' if self.value == 'a' else 'a'}",
        }[self.kind]
        return text + (" (case b)" if self.case == "b" and self.kind != "higher_in" else "")


@dataclass(frozen=True)
class Probe:
    """One probe file."""

    id: str
    title: str
    rationale: str
    covers: tuple[str, ...]
    case: dict
    expect: tuple[Expectation, ...]
    path: str
    case_b: dict | None = None
    compare: str | None = None

    @property
    def causes(self) -> tuple[str, ...]:
        """Every cause id the probe names (expectations and ``above`` targets)."""
        out: dict[str, None] = {}
        for e in self.expect:
            out.update(dict.fromkeys(e.causes))
            if e.kind == "above":
                out[str(e.value)] = None
        return tuple(out)


def probe_dir() -> Path:
    """The repository's ``validation/probes`` folder."""
    from ..knowledge.load import default_root

    return default_root() / "validation" / "probes"


def _describe(x: Any) -> str:
    return repr(x) if not isinstance(x, (dict, list)) else f"a {type(x).__name__}"


@dataclass
class _Reader:
    path: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, key: str, expected: str, got: Any = None, hint: str | None = None) -> None:
        self.problems.append(Problem(self.path, key, expected,
                                     None if got is None else _describe(got), hint))

    def expectation(self, i: int, raw: Any, has_b: bool) -> Expectation | None:
        key = f"expect[{i}]"
        if not isinstance(raw, dict):
            self.add(key, "must be a mapping like {cause: alcohol, not_first: true}", raw)
            return None
        unknown = set(raw) - set(KINDS) - {"cause", "in"}
        if unknown:
            self.add(f"{key}.{sorted(unknown)[0]}", "must be a known key: cause, in, "
                     + ", ".join(KINDS), sorted(unknown)[0], "check the spelling")
            return None
        cause = raw.get("cause")
        if isinstance(cause, str) and cause:
            causes = (cause,)
        elif isinstance(cause, list) and cause and all(isinstance(c, str) and c for c in cause):
            causes = tuple(cause)
        else:
            self.add(f"{key}.cause", "must be a cause id or a non-empty list of ids", cause,
                     "cause: copper_deficiency")
            return None
        kinds = [k for k in KINDS if k in raw]
        if len(kinds) != 1:
            self.add(key, "must have exactly one of " + ", ".join(KINDS),
                     ", ".join(kinds) or "none", "one expectation per list item")
            return None
        kind = kinds[0]
        value = self._value(f"{key}.{kind}", kind, raw[kind], has_b)
        which = raw.get("in", "a")
        if which not in ("a", "b") or (which == "b" and not has_b):
            self.add(f"{key}.in", "must be 'a' or 'b' ('b' only with case_b)", which)
            return None
        if kind == "higher_in" and "in" in raw:
            self.add(f"{key}.in", "must not be given with higher_in (it compares both cases)",
                     which)
            return None
        return None if value is None else Expectation(causes, kind, value, which)

    def _value(self, key: str, kind: str, v: Any, has_b: bool) -> Any:
        ok: Any = None
        if kind in ("first", "not_first"):
            ok = True if v is True else None
        elif kind in ("in_top", "not_in_top"):
            ok = v if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else None
        elif kind in ("at_least", "at_most"):
            ok = (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                  and 0 <= v <= 1 else None)
        elif kind == "above":
            ok = v if isinstance(v, str) and v else None
        elif kind == "higher_in":
            ok = v if v in ("a", "b") and has_b else None
        if ok is None:
            self.add(key, f"must be {KINDS[kind]}", v)
        return ok


def read_probe(path: str | Path) -> tuple[Probe | None, list[Problem]]:
    """Read one probe file: the probe (None when unusable) and its problems."""
    path = Path(path)
    r = _Reader(str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        r.add("", "must be valid YAML", str(exc).splitlines()[0])
        return None, r.problems
    except OSError as exc:
        r.add("", "must be a readable file", exc.strerror or str(exc))
        return None, r.problems
    if not isinstance(data, dict):
        r.add("", "must be a mapping with id, title, rationale, case and expect", data)
        return None, r.problems
    for k in sorted(set(data) - _TOP_KEYS):
        r.add(k, "must be a known key: " + ", ".join(sorted(_TOP_KEYS)), k, "check the spelling")
    for k in _REQUIRED:
        if data.get(k) in (None, "", [], {}):
            r.add(k, "must be given", None, "see validation/probes/README.md")
    for k in ("id", "title", "rationale", "compare"):
        if k in data and data[k] is not None and not isinstance(data[k], str):
            r.add(k, "must be text", data[k])
    if data.get("id") and isinstance(data["id"], str) and data["id"] != path.stem:
        r.add("id", f"must equal the file name without .yaml ({path.stem!r})", data["id"])
    for k in ("case", "case_b"):
        if k in data and not isinstance(data[k], dict):
            r.add(k, "must be a case mapping (shared/case-format.md)", data[k])
    has_b = isinstance(data.get("case_b"), dict)
    if has_b and not data.get("compare"):
        r.add("compare", "must say in one line what differs between case and case_b")
    if "compare" in data and not has_b:
        r.add("case_b", "must be given when compare is", None)
    covers = data.get("covers", [])
    if not isinstance(covers, list) or not all(isinstance(c, str) for c in covers):
        r.add("covers", "must be a list of strings like [\"10.1\"]", covers)
        covers = []
    raw = data.get("expect")
    exps: list[Expectation] = []
    if raw is not None and not isinstance(raw, list):
        r.add("expect", "must be a list of expectations", raw)
    elif raw:
        for i, e in enumerate(raw):
            x = r.expectation(i, e, has_b)
            if x is not None:
                exps.append(x)
    if r.problems:
        return None, r.problems
    return Probe(data["id"], data["title"], data["rationale"].strip(), tuple(covers),
                 data["case"], tuple(exps), str(path), data.get("case_b"),
                 data.get("compare")), []


def load_probes(folder: str | Path | None = None) -> list[Probe]:
    """Read every ``*.yaml`` probe in ``folder`` (default ``validation/probes``).

    Raises
    ------
    CaseError
        Listing every problem of every malformed probe (file and key), all at once.
    """
    folder = Path(folder) if folder else probe_dir()
    out, problems = [], []
    for path in sorted(folder.glob("*.yaml")):
        p, probs = read_probe(path)
        problems += probs
        if p is not None:
            out.append(p)
    if problems:
        raise CaseError(problems, case_id="probes")
    return out
