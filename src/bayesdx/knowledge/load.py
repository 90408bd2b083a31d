"""Load and validate the knowledge files (``model/`` and ``priors/``).

:func:`load_knowledge` reads every YAML file of both folders with the schemas
of :mod:`bayesdx.knowledge.schema`, then checks what spans files: unknown node or state
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

from .checks import Checker
from ..errors import KnowledgeError, Problem
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
    PriorsFile,
    Reference,
    node_states,
)

__all__ = ["Knowledge", "default_root", "knowledge_hash", "load_knowledge", "yaml_load"]

_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def yaml_load(text: str) -> Any:
    """``yaml.safe_load(text)``, parsed by libyaml when PyYAML has it (about 7x faster).

    Only the scanner and parser are in C; the constructor is the same safe one,
    so the result is the same. On an error the text is parsed again by the
    pure-Python loader, so the exception (message, line and column) is exactly
    the one ``yaml.safe_load`` raises.

    >>> yaml_load("a: [1, 2.5, yes, null]")
    {'a': [1, 2.5, True, None]}
    """
    if _FAST_LOADER is not None:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - CSafeLoader is the safe loader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


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
        Reference id -> :class:`~bayesdx.knowledge.schema.Reference`.
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
        states = node_states(node, self.context, self.causes, self.findings)
        if states is None:
            raise KeyError(node)
        return states

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
        data = yaml_load(text)
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
            got_s = repr(got) if not isinstance(got, (dict, list)) else (
                f"an empty {type(got).__name__}" if not got else type(got).__name__)
            ctx = err.get("ctx") or {}
            expected = {
                "too_short": f"must have at least {ctx.get('min_length')} item(s)",
                "too_long": f"must have at most {ctx.get('max_length')} item(s)",
                "float_parsing": "must be a number",
                "float_type": "must be a number",
                "string_type": "must be text",
                "list_type": "must be a list",
                "dict_type": "must be a mapping",
                "tuple_type": "must be a list of two numbers [low, high]",
                "literal_error": f"must be one of {ctx.get('expected')}",
            }.get(kind, f"must be valid ({err['msg'].lower()})")
            out.append(Problem(rel, path, expected, got_s))
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

    checker = Checker(root, sections, problems)
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
