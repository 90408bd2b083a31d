"""Load and validate the knowledge files (``model/`` and ``priors/``).

:func:`load_knowledge` reads every YAML file of both folders with the schemas
of :mod:`bayesdx.schema`, then checks what spans files: unknown node or state
names, missing parents, cycles, causes without findings, numbers outside
[0, 1], ranges that do not contain their value, sources that are not in the
reference list. It reports **all** problems at once in one
:class:`~bayesdx.errors.KnowledgeError`.

Examples
--------
>>> kb = load_knowledge()
>>> "duffy_null_neutropenia" in kb.causes
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import KnowledgeError, Problem
from .schema import (
    CauseCPT,
    CauseSpec,
    ContextPrior,
    ContextSpec,
    DrugsSpec,
    FindingCPT,
    FindingSpec,
    MappingSpec,
    ModelFile,
    Param,
    PriorsFile,
    Reference,
)

__all__ = ["Knowledge", "default_root", "knowledge_hash", "load_knowledge"]

SUM_TOLERANCE = 0.011


def default_root() -> Path:
    """The folder holding ``model/`` and ``priors/``.

    The ``BAYESDX_ROOT`` environment variable wins; otherwise the repository
    checkout this package was installed from.
    """
    import os

    env = os.environ.get("BAYESDX_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "model").is_dir() and (parent / "priors").is_dir():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class Knowledge:
    """Everything the knowledge files say, validated.

    Attributes
    ----------
    root : Path
        Folder holding ``model/`` and ``priors/``.
    reference_population : str
        Who the priors describe.
    context, causes, findings : dict
        Structure of every node, in file order.
    context_priors, cause_cpts, finding_cpts : dict
        The numbers of every node.
    references : dict
        Reference id -> :class:`~bayesdx.schema.Reference`.
    mapping : MappingSpec
        How case fields become evidence.
    drugs : DrugsSpec
        Drug names and exposure classes.
    digest : str
        SHA-256 of all knowledge files (for golden posteriors).
    """

    root: Path
    reference_population: str
    context: dict[str, ContextSpec]
    causes: dict[str, CauseSpec]
    findings: dict[str, FindingSpec]
    context_priors: dict[str, ContextPrior]
    cause_cpts: dict[str, CauseCPT]
    finding_cpts: dict[str, FindingCPT]
    references: dict[str, Reference]
    mapping: MappingSpec
    drugs: DrugsSpec
    digest: str = field(default="")

    def states(self, node: str) -> list[str]:
        """States of any node; causes are ``["absent", "present"]``."""
        if node in self.causes:
            return ["absent", "present"]
        if node in self.context:
            return list(self.context[node].states)
        return list(self.findings[node].states)

    @property
    def nodes(self) -> list[str]:
        """All node names: context, causes, findings."""
        return [*self.context, *self.causes, *self.findings]


# --------------------------------------------------------------------------- reading


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.yaml") if p.is_file())


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, rel: str, problems: list[Problem]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(Problem(rel, "", "must be a readable file", str(exc)))
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(
            Problem(rel, where, "must be valid YAML", getattr(exc, "problem", str(exc)),
                    "check indentation and quoting near that line")
        )
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(rel, "", "must be a mapping at the top level",
                                type(data).__name__))
        return None
    return data


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """Field names allowed where an unknown key was found (best effort)."""
    import typing

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            if info is None:
                return None
            current = info.annotation
        else:
            args = [a for a in typing.get_args(current) if a is not type(None)]
            # dict[str, X] / list[X] / X | None: descend into the value type
            nxt = None
            for a in args:
                if isinstance(a, type) and issubclass(a, BaseModel):
                    nxt = a
                    break
                sub = [s for s in typing.get_args(a) if isinstance(s, type) and issubclass(s, BaseModel)]
                if sub:
                    nxt = sub[0]
                    break
            if nxt is None and args:
                nxt = args[-1]
            if isinstance(nxt, type) and issubclass(nxt, BaseModel) and part in nxt.model_fields:
                current = nxt.model_fields[part].annotation
            else:
                current = nxt
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        args = [a for a in typing.get_args(current) if a is not type(None)]
        if not args:
            return None
        current = args[-1]
    return sorted(current.model_fields)


def _pydantic_problems(exc: ValidationError, rel: str, schema: type[BaseModel]) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = ".".join(str(p) for p in loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(schema, loc)
            hint = f"one of {', '.join(allowed)}" if allowed else "check the spelling"
            out.append(Problem(rel, path, "must not be here (unknown key)", repr(loc[-1]), hint))
        elif kind == "missing":
            out.append(Problem(rel, path, "is required but missing", None,
                               "add it (see docs/knowledge-format.md)"))
        else:
            got = err.get("input")
            got_s = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
            out.append(Problem(rel, path, f"must be valid: {err['msg'].lower()}", got_s))
    return out


def _parse(path: Path, root: Path, schema: type[BaseModel], problems: list[Problem]):
    rel = _rel(path, root)
    data = _read_yaml(path, rel, problems)
    if data is None:
        return None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, rel, schema))
        return None


def knowledge_hash(root: Path | None = None) -> str:
    """SHA-256 over the bytes of every file in ``model/`` and ``priors/``.

    >>> len(knowledge_hash())
    64
    """
    root = Path(root) if root else default_root()
    h = hashlib.sha256()
    for folder in ("model", "priors"):
        for p in _files(root / folder):
            h.update(_rel(p, root).encode())
            h.update(b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


# --------------------------------------------------------------------------- loading


def load_knowledge(root: str | Path | None = None) -> Knowledge:
    """Load, validate and return the knowledge in ``root/model`` and ``root/priors``.

    Parameters
    ----------
    root : str or Path, optional
        Folder holding ``model/`` and ``priors/``; defaults to
        :func:`default_root`.

    Raises
    ------
    KnowledgeError
        Listing every problem found, each with its file and key path.
    """
    root = Path(root) if root is not None else default_root()
    return _load_cached(root.resolve(), knowledge_hash(root))


@lru_cache(maxsize=8)
def _load_cached(root: Path, digest: str) -> Knowledge:
    problems: list[Problem] = []
    for folder in ("model", "priors"):
        if not (root / folder).is_dir():
            problems.append(Problem(str(root / folder), "", "must be a folder of YAML files",
                                    "nothing there", "run from a bayesdx checkout or set BAYESDX_ROOT"))
    if problems:
        raise KnowledgeError(problems)

    sections: dict[str, dict[str, tuple[str, Any]]] = {
        k: {} for k in ("context", "causes", "findings", "context_p", "causes_p",
                        "findings_p", "references")
    }
    singles: dict[str, tuple[str, Any]] = {}

    def merge(kind: str, rel: str, mapping: dict | None):
        if not mapping:
            return
        for name, value in mapping.items():
            if name in sections[kind]:
                other = sections[kind][name][0]
                problems.append(Problem(rel, f"{kind.removesuffix('_p')}.{name}",
                                        "must be defined once", f"also defined in {other}",
                                        "keep one definition"))
            else:
                sections[kind][name] = (rel, value)

    def single(kind: str, rel: str, value: Any):
        if value is None:
            return
        if kind in singles:
            problems.append(Problem(rel, kind, "must be defined once",
                                    f"also defined in {singles[kind][0]}"))
        else:
            singles[kind] = (rel, value)

    for path in _files(root / "model"):
        rel = _rel(path, root)
        mf = _parse(path, root, ModelFile, problems)
        if mf is None:
            continue
        merge("context", rel, mf.context)
        merge("causes", rel, mf.causes)
        merge("findings", rel, mf.findings)
        single("reference_population", rel, mf.reference_population)
        single("case_mapping", rel, mf.case_mapping)
        single("drugs", rel, mf.drugs)

    for path in _files(root / "priors"):
        rel = _rel(path, root)
        pf = _parse(path, root, PriorsFile, problems)
        if pf is None:
            continue
        merge("context_p", rel, pf.context)
        merge("causes_p", rel, pf.causes)
        merge("findings_p", rel, pf.findings)
        merge("references", rel, pf.references)

    for kind, where in (("reference_population", "model/"), ("case_mapping", "model/"),
                        ("drugs", "model/")):
        if kind not in singles:
            problems.append(Problem(where, kind, "must be defined in one model file",
                                    "none", f"add a top-level '{kind}:' section"))

    checker = _Checker(root, sections, problems)
    checker.check_structure()
    checker.check_numbers()
    if "case_mapping" in singles:
        checker.check_mapping(*singles["case_mapping"])
    if "drugs" in singles:
        checker.check_drugs(*singles["drugs"])
    if problems:
        raise KnowledgeError(problems)

    def values(kind):
        return {k: v for k, (_, v) in sections[kind].items()}

    return Knowledge(
        root=root,
        reference_population=singles["reference_population"][1],
        context=values("context"),
        causes=values("causes"),
        findings=values("findings"),
        context_priors=values("context_p"),
        cause_cpts=values("causes_p"),
        finding_cpts=values("findings_p"),
        references=values("references"),
        mapping=singles["case_mapping"][1],
        drugs=singles["drugs"][1],
        digest=digest,
    )


# --------------------------------------------------------------------------- checks


class _Checker:
    """Cross-file checks; appends to ``problems``."""

    def __init__(self, root: Path, sections: dict, problems: list[Problem]):
        self.root = root
        self.s = sections
        self.problems = problems
        self.context: dict[str, ContextSpec] = {k: v for k, (_, v) in sections["context"].items()}
        self.causes: dict[str, CauseSpec] = {k: v for k, (_, v) in sections["causes"].items()}
        self.findings: dict[str, FindingSpec] = {k: v for k, (_, v) in sections["findings"].items()}
        self.refs = set(sections["references"])

    # helpers
    def add(self, rel, path, expected, got=None, hint=None):
        self.problems.append(Problem(rel, path, expected, got, hint))

    def states(self, node: str) -> list[str] | None:
        if node in self.causes:
            return ["absent", "present"]
        if node in self.context:
            return list(self.context[node].states)
        if node in self.findings:
            return list(self.findings[node].states)
        return None

    def near(self, name: str, pool) -> str:
        import difflib

        m = difflib.get_close_matches(name, list(pool), n=3)
        return f"one of {', '.join(m)}" if m else "a name defined in model/"

    # structure
    def check_structure(self):
        import re

        seen: dict[str, str] = {}
        for kind in ("context", "causes", "findings"):
            for name, (rel, spec) in self.s[kind].items():
                if name in seen:
                    self.add(rel, f"{kind}.{name}", "must be a unique node name",
                             f"also a {seen[name]} node", "rename one of them")
                seen[name] = kind
                if not re.match(r"^[a-z][a-z0-9_]*$", name):
                    self.add(rel, f"{kind}.{name}", "must be a lower-case snake_case name",
                             repr(name))
                states = getattr(spec, "states", None)
                if states is not None and len(set(states)) != len(states):
                    self.add(rel, f"{kind}.{name}.states", "must not repeat a state", str(states))

        for name, (rel, spec) in self.s["context"].items():
            for p in spec.parents:
                if p not in self.context:
                    self.add(rel, f"context.{name}.parents", "must name context nodes",
                             repr(p), self.near(p, self.context))
        for name, (rel, spec) in self.s["causes"].items():
            for p in spec.parents:
                if p not in self.context:
                    self.add(rel, f"causes.{name}.parents", "must name context nodes",
                             repr(p), self.near(p, self.context))
        for name, (rel, spec) in self.s["findings"].items():
            for p in spec.parents:
                if p not in self.context and p not in self.causes:
                    self.add(rel, f"findings.{name}.parents", "must name causes or context nodes",
                             repr(p), self.near(p, [*self.causes, *self.context]))
            if len(set(spec.parents)) != len(spec.parents):
                self.add(rel, f"findings.{name}.parents", "must not repeat a parent",
                         str(spec.parents))

        # cycles among context nodes (the only place edges can loop)
        for name, (rel, _) in self.s["context"].items():
            seen_chain = [name]
            cur = name
            while True:
                parents = self.context[cur].parents if cur in self.context else []
                if not parents:
                    break
                cur = parents[0]
                if cur in seen_chain:
                    self.add(rel, f"context.{name}.parents", "must not form a cycle",
                             " -> ".join([*seen_chain, cur]), "remove one of these edges")
                    break
                seen_chain.append(cur)

        children: dict[str, int] = {c: 0 for c in self.causes}
        for spec in self.findings.values():
            for p in spec.parents:
                if p in children:
                    children[p] += 1
        for c, n in children.items():
            if n == 0:
                rel = self.s["causes"][c][0]
                self.add(rel, f"causes.{c}", "must be a parent of at least one finding",
                         "no finding lists it", "add it to the parents of a finding")

    # numbers
    def param(self, rel, path, p: Param, kind="probability"):
        lo, hi = p.range
        if kind == "probability":
            for label, v in (("value", p.value), ("range", lo), ("range", hi)):
                if not (0.0 <= v <= 1.0):
                    self.add(rel, f"{path}.{label}", "must be a probability in [0, 1]", repr(v))
                    return
        else:
            if p.value < 0 or lo < 0:
                self.add(rel, f"{path}", "must be a relative risk >= 0", f"{p.value} {p.range}")
                return
        if not (lo <= p.value <= hi):
            self.add(rel, f"{path}.range", "must contain the value (low <= value <= high)",
                     f"value {p.value}, range [{lo}, {hi}]", "widen the range or fix the value")
        for src in p.source_list:
            if src != "E" and src not in self.refs:
                self.add(rel, f"{path}.source", "must be 'E' or a reference id in priors/references.yaml",
                         repr(src), self.near(src, self.refs) if self.refs else "E")

    def check_numbers(self):
        # every node has numbers, and only nodes have numbers
        for kind, pkind in (("context", "context_p"), ("causes", "causes_p"),
                            ("findings", "findings_p")):
            nodes = self.s[kind]
            nums = self.s[pkind]
            for name, (rel, _) in nodes.items():
                if name not in nums:
                    self.add("priors/", f"{kind}.{name}", "must have numbers",
                             "none", f"add '{name}:' under '{kind}:' in a priors file")
            for name, (rel, _) in nums.items():
                if name not in nodes:
                    self.add(rel, f"{kind}.{name}", f"must name a node in model/ ({kind})",
                             repr(name), self.near(name, nodes))
        for name, (rel, cp) in self.s["context_p"].items():
            if name in self.context:
                self.check_context(rel, name, cp)
        for name, (rel, cp) in self.s["causes_p"].items():
            if name in self.causes:
                self.check_cause(rel, name, cp)
        for name, (rel, fp) in self.s["findings_p"].items():
            if name in self.findings:
                self.check_finding(rel, name, fp)

    def dist(self, rel, path, dist: dict[str, Param], states: list[str]):
        for s, p in dist.items():
            if s not in states:
                self.add(rel, f"{path}.{s}", "must be a state of the node", repr(s),
                         f"one of {', '.join(states)}")
            else:
                self.param(rel, f"{path}.{s}", p)
        missing = [s for s in states if s not in dist]
        if missing:
            self.add(rel, path, "must give every state", f"missing {', '.join(missing)}")
        total = sum(p.value for p in dist.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            self.add(rel, path, "must sum to 1 over the states", f"{total:.4f}",
                     "adjust the values")

    def check_context(self, rel, name, cp: ContextPrior):
        spec = self.context[name]
        path = f"context.{name}"
        if spec.parents:
            if cp.given is None or cp.prior is not None:
                self.add(rel, path, f"must give 'given:' (one distribution per state of {spec.parents[0]})",
                         "'prior:'" if cp.prior is not None else "nothing")
                return
            pstates = self.states(spec.parents[0]) or []
            for ps in pstates:
                if ps not in cp.given:
                    self.add(rel, f"{path}.given", f"must give a row for {spec.parents[0]}={ps}", "none")
            for ps, row in cp.given.items():
                if ps not in pstates:
                    self.add(rel, f"{path}.given.{ps}", f"must be a state of {spec.parents[0]}",
                             repr(ps), f"one of {', '.join(pstates)}")
                else:
                    self.dist(rel, f"{path}.given.{ps}", row, spec.states)
        else:
            if cp.prior is None or cp.given is not None:
                self.add(rel, path, "must give 'prior:' (a distribution over the states)",
                         "'given:'" if cp.given is not None else "nothing")
                return
            self.dist(rel, f"{path}.prior", cp.prior, spec.states)

    def check_cause(self, rel, name, cp: CauseCPT):
        spec = self.causes[name]
        path = f"causes.{name}"
        if (cp.prior is None) == (cp.base is None):
            self.add(rel, path, "must give exactly one of 'prior' and 'base'",
                     "both" if cp.prior is not None else "neither")
        if cp.prior is not None:
            self.param(rel, f"{path}.prior", cp.prior)
        if cp.base is not None:
            self.param(rel, f"{path}.base", cp.base)
        if not (0 < cp.cap <= 1):
            self.add(rel, f"{path}.cap", "must be in (0, 1]", repr(cp.cap))
        for p in spec.parents:
            if p not in cp.rr:
                self.add(rel, f"{path}.rr", f"must give relative risks for parent {p}", "none",
                         f"add '{p}: {{state: {{value: ..}}}}' for every state")
        for p, table in cp.rr.items():
            if p not in spec.parents:
                self.add(rel, f"{path}.rr.{p}", "must name a parent listed in model/",
                         repr(p), f"one of {', '.join(spec.parents) or '(no parents)'}")
                continue
            pstates = self.states(p) or []
            for s, prm in table.items():
                if s not in pstates:
                    self.add(rel, f"{path}.rr.{p}.{s}", f"must be a state of {p}", repr(s),
                             f"one of {', '.join(pstates)}")
                else:
                    self.param(rel, f"{path}.rr.{p}.{s}", prm, kind="rr")
            missing = [s for s in pstates if s not in table]
            if missing:
                self.add(rel, f"{path}.rr.{p}", "must give every state of the parent",
                         f"missing {', '.join(missing)}")

    def effect(self, rel, path, eff, states: list[str]):
        """An effect: a Param (binary) or a mapping of non-baseline state -> Param."""
        active = states[1:]
        if isinstance(eff, Param):
            if len(active) != 1:
                self.add(rel, path, f"must give one probability per state ({', '.join(active)})",
                         "a single number")
                return
            self.param(rel, path, eff)
            return
        if not isinstance(eff, dict) or not all(isinstance(v, Param) for v in eff.values()):
            self.add(rel, path, "must map states to numbers", type(eff).__name__)
            return
        for s, p in eff.items():
            if s not in active:
                self.add(rel, f"{path}.{s}", "must be a non-baseline state", repr(s),
                         f"one of {', '.join(active)}")
            else:
                self.param(rel, f"{path}.{s}", p)
        total = sum(p.value for p in eff.values())
        if total > 1.0 + 1e-9:
            self.add(rel, path, "must sum to at most 1", f"{total:.4f}")

    def check_finding(self, rel, name, fp: FindingCPT):
        spec = self.findings[name]
        path = f"findings.{name}"
        self.effect(rel, f"{path}.leak", fp.leak, spec.states)
        for p in spec.parents:
            if p not in fp.links:
                self.add(rel, f"{path}.links", f"must give the effect of parent {p}", "none")
        for p, eff in fp.links.items():
            if p not in spec.parents:
                self.add(rel, f"{path}.links.{p}", "must name a parent listed in model/",
                         repr(p), self.near(p, spec.parents))
                continue
            if p in self.causes:
                self.effect(rel, f"{path}.links.{p}", eff, spec.states)
            else:
                pstates = self.states(p) or []
                if not isinstance(eff, dict):
                    self.add(rel, f"{path}.links.{p}", f"must map states of {p} to effects",
                             type(eff).__name__)
                    continue
                for ps, sub in eff.items():
                    if ps not in pstates:
                        self.add(rel, f"{path}.links.{p}.{ps}", f"must be a state of {p}",
                                 repr(ps), f"one of {', '.join(pstates)}")
                    else:
                        self.effect(rel, f"{path}.links.{p}.{ps}", sub, spec.states)

    # case mapping
    def check_mapping(self, rel, m: MappingSpec):
        base = "case_mapping"
        age_states = self.states("age_group")
        if age_states is None:
            self.add(rel, f"{base}.age", "needs a context node 'age_group'", "none")
        elif list(m.age) != age_states:
            self.add(rel, f"{base}.age", "must list the states of age_group in order",
                     str(list(m.age)), str(age_states))
        for field_name, values in m.categorical.items():
            node = {"sex": "sex", "ancestry": "ancestry", "duration": "course"}.get(field_name)
            if node is None:
                self.add(rel, f"{base}.categorical.{field_name}", "must be sex, ancestry or duration",
                         repr(field_name))
                continue
            st = self.states(node)
            if st is None:
                self.add(rel, f"{base}.categorical.{field_name}", f"needs a node {node!r}", "none")
                continue
            for word, state in values.items():
                if state is not None and state not in st:
                    self.add(rel, f"{base}.categorical.{field_name}.{word}",
                             f"must map to a state of {node}", repr(state), f"one of {', '.join(st)}")
        for group in ("cbc", "baseline_cbc", "vitamins"):
            for fname, nf in getattr(m, group).items():
                fpath = f"{base}.{group}.{fname}"
                lo, hi = nf.plausible
                if lo > hi:
                    self.add(rel, f"{fpath}.plausible", "must be [low, high] with low <= high",
                             str(nf.plausible))
                for i, tgt in enumerate(nf.nodes):
                    st = self.states(tgt.node)
                    if st is None:
                        self.add(rel, f"{fpath}.nodes.{i}.node", "must name a node", repr(tgt.node),
                                 self.near(tgt.node, [*self.findings, *self.context]))
                        continue
                    tables = {"default": tgt.bands.default, **tgt.bands.by_age_group,
                              **tgt.bands.by_sex}
                    for key, bands in tables.items():
                        bpath = f"{fpath}.nodes.{i}.bands.{key}"
                        last = float("-inf")
                        for j, (state, upper) in enumerate(bands):
                            if state not in st:
                                self.add(rel, f"{bpath}.{j}", f"must be a state of {tgt.node}",
                                         repr(state), f"one of {', '.join(st)}")
                            if upper is None and j != len(bands) - 1:
                                self.add(rel, f"{bpath}.{j}", "only the last band may be open (null)")
                            if upper is not None and upper <= last:
                                self.add(rel, f"{bpath}.{j}", "must list bounds in increasing order",
                                         repr(upper))
                            if upper is not None:
                                last = upper
                        if bands and bands[-1][1] is not None:
                            self.add(rel, bpath, "must end with an open band ([state, null])",
                                     repr(bands[-1]))
                    for key in tgt.bands.by_age_group:
                        if age_states and key not in age_states:
                            self.add(rel, f"{fpath}.nodes.{i}.bands.by_age_group.{key}",
                                     "must be an age group", repr(key))
                for word, assign in nf.categorical.items():
                    for node, state in assign.items():
                        st = self.states(node)
                        if st is None or state not in st:
                            self.add(rel, f"{fpath}.categorical.{word}.{node}",
                                     "must assign a state of a node", f"{node}={state}")
        for sname, sec in m.sections.items():
            for term, node in sec.terms.items():
                st = self.states(node)
                if st is None:
                    self.add(rel, f"{base}.sections.{sname}.terms.{term}", "must name a node",
                             repr(node), self.near(node, [*self.findings, *self.context]))
                    continue
                for word, state in sec.values.items():
                    if state not in st:
                        self.add(rel, f"{base}.sections.{sname}.terms.{term}",
                                 f"node {node} must have state {state!r} (for '{word}')", str(st))
        for cell, assign in m.marrow_cellularity.items():
            for node, state in assign.items():
                st = self.states(node)
                if st is None or state not in st:
                    self.add(rel, f"{base}.marrow_cellularity.{cell}.{node}",
                             "must assign a state of a node", f"{node}={state}")

    def check_drugs(self, rel, d: DrugsSpec):
        for cname, cls in d.classes.items():
            st = self.states(cls.node)
            path = f"drugs.classes.{cname}"
            if st is None:
                self.add(rel, f"{path}.node", "must name a context node", repr(cls.node))
                continue
            if cls.cause is not None and cls.cause not in self.causes:
                self.add(rel, f"{path}.cause", "must name a cause", repr(cls.cause))
            for s in cls.precedence:
                if s not in st:
                    self.add(rel, f"{path}.precedence", f"must list states of {cls.node}", repr(s))
            for s in st:
                if s not in cls.precedence and s != "none":
                    self.add(rel, f"{path}.precedence", f"must rank every state of {cls.node} but none",
                             f"missing {s!r}")
            if "none" not in st:
                self.add(rel, f"{path}.node", f"{cls.node} must have a state 'none'", str(st))
        for dname, drug in d.drugs.items():
            path = f"drugs.drugs.{dname}"
            if drug.cls == "none":
                continue
            if drug.cls not in d.classes:
                self.add(rel, f"{path}.class", "must be an exposure class or 'none'", repr(drug.cls),
                         f"one of {', '.join(d.classes)}")
                continue
            st = self.states(d.classes[drug.cls].node) or []
            for timing in ("early", "window", "late", "unknown"):
                if f"{drug.tier}_{timing}" not in st:
                    self.add(rel, f"{path}.tier",
                             f"needs state {drug.tier}_{timing} in {d.classes[drug.cls].node}",
                             repr(drug.tier))
        for alias, target in d.aliases.items():
            if target not in d.drugs:
                self.add(rel, f"drugs.aliases.{alias}", "must point to a listed drug", repr(target))
