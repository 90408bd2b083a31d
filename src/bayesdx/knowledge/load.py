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

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .alerts import alert_problems
from .checks import Checker
from .pydantic_problems import pydantic_problems
from . import yaml_cache
from .files import default_root, knowledge_hash
from .files import knowledge_files as _files
from .files import rel as _rel
from .text import TextError, decode, yaml_load
from ..errors import KnowledgeError, Problem
from .schema import (
    AlertsSpec,
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
    node_states,
)

__all__ = ["Knowledge", "default_root", "knowledge_hash", "load_knowledge", "yaml_load"]



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
    alerts: AlertsSpec = field(default_factory=AlertsSpec)
    alert_thresholds: dict[str, Param] = field(default_factory=dict)

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

    @cached_property
    def children(self) -> dict[str, list[str]]:
        """Every node's children (file order), worked out once; treat as read-only.

        >>> from bayesdx.knowledge.load import load_knowledge
        >>> "drug_antipsychotic" in load_knowledge().children["exposure_antipsychotic"]
        True
        """
        children: dict[str, list[str]] = {}
        for group in (self.context, self.causes, self.findings):
            for name, spec in group.items():
                for par in spec.parents:
                    children.setdefault(par, []).append(name)
        return children


# --------------------------------------------------------------------------- reading


def _read_yaml(path: Path, rel: str, problems: list[Problem], lines: dict | None = None) -> Any:
    duplicates: list[TextError] = []
    try:
        raw = path.read_bytes()
        cached = yaml_cache.load(raw)  # the same data, parsed before (see yaml_cache)
        found: dict = cached[1] if cached else {}
        data = cached[0] if cached else yaml_load(decode(raw), duplicates=duplicates, lines=found)
        if lines is not None:
            lines.update(found)
        if not cached and not duplicates and isinstance(data, dict):
            yaml_cache.store(raw, data, found)
    except OSError as exc:
        problems.append(Problem(rel, "", "must be a readable file", str(exc)))
        return None
    except TextError as exc:
        problems.append(exc.problem(rel))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(
            Problem(rel, where, "must be valid YAML", getattr(exc, "problem", str(exc)),
                    "check indentation and quoting near that line")
        )
        return None
    problems.extend(d.problem(rel) for d in duplicates)
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(rel, "", "must be a mapping at the top level",
                                type(data).__name__))
        return None
    return data


_ENTRY_SECTIONS = ("context", "causes", "findings", "references")


def _parse(path: Path, root: Path, schema: type[BaseModel], problems: list[Problem],
           broken: set[str], lines: dict | None = None):
    """Validate one file; an invalid entry is reported, added to ``broken`` and left out.

    The rest of the file is still loaded (so one typo does not drop the whole
    file and every entry in it). None when the file cannot be read at all.
    """
    rel = _rel(path, root)
    data = _read_yaml(path, rel, problems, lines)
    if data is None:
        return None
    seen: set[str] = set()
    for _ in range(4):
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            new = [p for p in pydantic_problems(exc, rel, schema) if str(p) not in seen]
            seen.update(map(str, new))
            problems.extend(new)
            dropped = False
            for err in exc.errors():
                loc = err["loc"]
                top = loc[0] if loc else None
                if top in _ENTRY_SECTIONS and len(loc) > 1 and isinstance(data.get(top), dict):
                    dropped |= data[top].pop(loc[1], None) is not None
                    broken.add(str(loc[1]))
                elif top in data:
                    data.pop(top)
                    broken.add(str(top))
                    dropped = True
            if not dropped:
                return None
    return None


def _companions(root: Path, problems: list[Problem], lost: set[str]) -> None:
    """A file of model/ without its priors/ twin (or the reverse): one problem naming it.

    Only where the knowledge follows the convention of one name in both folders
    (``model/causes.yaml`` and ``priors/causes.yaml``).
    """
    names = {f: {p.name for p in _files(root / f)} for f in ("model", "priors")}
    if not names["model"] & names["priors"]:
        return
    only = {"model": {"population.yaml", "case_mapping.yaml", "drugs.yaml"},
            "priors": {"references.yaml"}}
    for folder, other in (("model", "priors"), ("priors", "model")):
        for name in sorted(names[other] - names[folder] - only[other]):
            problems.append(Problem(f"{folder}/{name}", "", f"must exist beside {other}/{name}",
                                    "no such file", f"restoring it (git checkout -- {folder}/{name})"))
            lost.add(folder)


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
                        "findings_p", "references", "alerts_p")
    }
    singles: dict[str, tuple[str, Any]] = {}
    lost: set[str] = set()  # folders with a file that could not be read
    broken: dict[str, set[str]] = {"model": set(), "priors": set()}
    lines: dict[str, dict[str, int]] = {}

    def at(rel: str, key: str) -> str:
        line = lines.get(rel, {}).get(key)
        return f"{rel} line {line}" if line else rel

    def merge(kind: str, rel: str, mapping: dict | None):
        if not mapping:
            return
        for name, value in mapping.items():
            if name in sections[kind]:
                key = f"{kind.removesuffix('_p')}.{name}"
                problems.append(Problem(at(rel, key), key, "must be defined once",
                                        f"also defined in {at(sections[kind][name][0], key)}",
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

    _companions(root, problems, lost)
    for path in _files(root / "model"):
        rel = _rel(path, root)
        mf = _parse(path, root, ModelFile, problems, broken["model"], lines.setdefault(rel, {}))
        if mf is None:
            lost.add("model")
            continue
        merge("context", rel, mf.context)
        merge("causes", rel, mf.causes)
        merge("findings", rel, mf.findings)
        single("reference_population", rel, mf.reference_population)
        single("case_mapping", rel, mf.case_mapping)
        single("drugs", rel, mf.drugs)
        single("alerts", rel, mf.alerts)

    for path in _files(root / "priors"):
        rel = _rel(path, root)
        pf = _parse(path, root, PriorsFile, problems, broken["priors"], lines.setdefault(rel, {}))
        if pf is None:
            lost.update({"priors", "references"} if path.name == "references.yaml" else {"priors"})
            continue
        merge("context_p", rel, pf.context)
        merge("causes_p", rel, pf.causes)
        merge("findings_p", rel, pf.findings)
        merge("references", rel, pf.references)
        merge("alerts_p", rel, pf.alerts)

    for kind, name in (("reference_population", "population"), ("case_mapping", "case_mapping"),
                       ("drugs", "drugs")):
        if kind not in singles and "model" not in lost and kind not in broken["model"]:
            problems.append(Problem("model/", kind, "must be defined in one model file", "none",
                                    f"restoring model/{name}.yaml, or adding a top-level "
                                    f"'{kind}:' section"))
    for kind, folder, name in (("context", "model", "context"), ("causes", "model", "causes"),
                               ("findings", "model", "findings_*"), ("context_p", "priors", "context"),
                               ("causes_p", "priors", "causes"), ("findings_p", "priors", "findings_*"),
                               ("references", "priors", "references")):
        if not sections[kind] and folder not in lost:  # one line, not one per node that needs it
            section = kind.removesuffix("_p")
            problems.append(Problem(f"{folder}/", section, f"must be defined in a {folder} file",
                                    f"no file has a '{section}:' section",
                                    f"restoring {folder}/{name}.yaml"))
            lost.add(folder)

    checker = Checker(root, sections, problems, lost, broken)
    checker.check_structure()
    checker.check_labels()
    checker.check_numbers()
    if "case_mapping" in singles:
        checker.check_mapping(*singles["case_mapping"])
    if "drugs" in singles:
        checker.check_drugs(*singles["drugs"])
    if problems:
        raise KnowledgeError(problems)

    def values(kind):
        return {k: v for k, (_, v) in sections[kind].items()}

    findings = values("findings")
    for name, spec in findings.items():  # a derived finding has its source's parents
        if spec.derived_from is not None:
            findings[name] = spec.model_copy(
                update={"parents": list(findings[spec.derived_from.finding].parents)})

    kb = Knowledge(
        root=root,
        reference_population=singles["reference_population"][1],
        context=values("context"),
        causes=values("causes"),
        findings=findings,
        context_priors=values("context_p"),
        cause_cpts=values("causes_p"),
        finding_cpts=values("findings_p"),
        references=values("references"),
        mapping=singles["case_mapping"][1],
        drugs=singles["drugs"][1],
        digest=digest,
        alerts=singles["alerts"][1] if "alerts" in singles else AlertsSpec(),
        alert_thresholds=values("alerts_p"),
    )
    problems += alert_problems(kb, singles["alerts"][0] if "alerts" in singles else "model/")
    if problems:
        raise KnowledgeError(problems)
    return kb
