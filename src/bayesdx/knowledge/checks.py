"""Checks that span knowledge files: names, parents, cycles, numbers, mappings.

The numbers (every prior, relative risk, leak and link with its range and
source) are checked by :mod:`bayesdx.knowledge.numbers`.

Pydantic validates each file alone; :class:`Checker` validates what connects
them and appends every problem to one list, so that
:func:`bayesdx.knowledge.load.load_knowledge` can report all of them at once.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Problem, suggest
from .numbers import NumberChecks
from .schema import (
    CauseSpec,
    ContextSpec,
    DrugsSpec,
    FindingSpec,
    MappingSpec,
    node_states,
)

__all__ = ["Checker", "spelt_out"]

#: Words a node id adds for its group, not for meaning (``test_hiv``, ``hx_fever``, ``b12_level``).
_ID_PREFIXES = {"test", "smear", "marrow", "hx"}
_ID_SUFFIXES = {"level"}


def _words(text: str) -> list[str]:
    import re

    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    while words and words[0] in _ID_PREFIXES:
        words = words[1:]
    while words and words[-1] in _ID_SUFFIXES:
        words = words[:-1]
    return words


def spelt_out(node: str, label: str) -> bool:
    """Whether ``label`` is only the node id spelt out (``Test: duffy null`` for ``test_duffy_null``).

    Such a label says nothing the id does not; every node needs a clinical name.

    >>> spelt_out("test_duffy_null", "Test: duffy null"), spelt_out("hx_fever", "Fever")
    (True, True)
    >>> spelt_out("test_duffy_null", "Duffy-null red-cell phenotype (Fy(a-b-))")
    False
    """
    return _words(label) == _words(node)


class Checker(NumberChecks):
    """Cross-file checks; appends to ``problems``.

    The structure (names, parents, cycles), the case mapping and the drug
    list are checked here; the numbers in :class:`~bayesdx.knowledge.numbers.NumberChecks`.
    """

    def __init__(self, root: Path, sections: dict, problems: list[Problem],
                 lost: set[str] = frozenset(), broken: dict[str, set[str]] | None = None):
        self.root = root
        self.lost = set(lost)  # folders ("model", "priors") with an unread file; "references" too
        self.broken = broken or {}  # folder -> names of entries that failed validation
        self.s = sections
        self.problems = problems
        self.context: dict[str, ContextSpec] = {k: v for k, (_, v) in sections["context"].items()}
        self.causes: dict[str, CauseSpec] = {k: v for k, (_, v) in sections["causes"].items()}
        self.findings: dict[str, FindingSpec] = {k: v for k, (_, v) in sections["findings"].items()}
        self.refs = set(sections["references"])

    # helpers
    def add(self, rel, path, expected, got=None, hint=None):
        self.problems.append(Problem(rel, path, expected, got, hint))

    def gone(self, name: str, folder: str = "model") -> bool:
        """Whether ``name`` may be missing only because a file or entry already reported is unread."""
        return folder in self.lost or name in self.broken.get(folder, ())

    def states(self, node: str) -> list[str] | None:
        return node_states(node, self.context, self.causes, self.findings)

    def near(self, name: str, pool) -> str:
        return suggest(name, pool, fallback="a name defined in model/")

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
                if p not in self.context and not self.gone(p):
                    self.add(rel, f"context.{name}.parents", "must name context nodes",
                             repr(p), self.near(p, self.context))
        for name, (rel, spec) in self.s["causes"].items():
            for p in spec.parents:
                if p not in self.context and not self.gone(p):
                    self.add(rel, f"causes.{name}.parents", "must name context nodes",
                             repr(p), self.near(p, self.context))
        for name, (rel, spec) in self.s["findings"].items():
            if spec.derived_from is not None:
                self.check_derived(rel, name, spec)
                continue
            if not spec.parents:
                self.add(rel, f"findings.{name}.parents", "must list at least one cause or context node",
                         "none", "add its causes, or 'derived_from' if it reads another finding")
            for p in spec.parents:
                if p not in self.context and p not in self.causes and not self.gone(p):
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
            if n == 0 and not self.lost and not self.broken.get("model"):
                rel = self.s["causes"][c][0]
                self.add(rel, f"causes.{c}", "must be a parent of at least one finding",
                         "no finding lists it", "add it to the parents of a finding")

    def check_derived(self, rel, name: str, spec) -> None:
        """A derived finding reads one plain finding through runs of its states, in order."""
        path = f"findings.{name}.derived_from"
        d = spec.derived_from
        if spec.parents:
            self.add(rel, f"findings.{name}.parents", "must be left out for a derived finding",
                     str(spec.parents), f"delete it: the parents are those of {d.finding}")
        if spec.orderable:
            self.add(rel, f"findings.{name}.orderable", "must be false for a derived finding",
                     "true", f"order its source, {d.finding}")
        src = self.findings.get(d.finding)
        if src is None:
            if not self.gone(d.finding):
                self.add(rel, f"{path}.finding", "must name a finding", repr(d.finding),
                         self.near(d.finding, self.findings))
            return
        if src.derived_from is not None:
            self.add(rel, f"{path}.finding", "must name a finding that is not itself derived",
                     repr(d.finding), f"read {src.derived_from.finding} instead")
            return
        if list(d.states) != list(spec.states):
            self.add(rel, f"{path}.states", f"must map every state of {name}, in order",
                     str(list(d.states)), str(list(spec.states)))
        runs = [s for group in d.states.values() for s in group]
        if runs != list(src.states) or not all(d.states.values()):
            self.add(rel, f"{path}.states", f"must split the states of {d.finding} into consecutive "
                     "runs, in their order, each state once", str(dict(d.states)),
                     f"e.g. runs of {', '.join(src.states)}")

    # labels
    def check_labels(self):
        """Every node has a clinical label: not its id spelt out, not shared with another node."""
        seen: dict[str, str] = {}
        for kind in ("context", "causes", "findings"):
            for name, (rel, spec) in self.s[kind].items():
                label = spec.label.strip()
                if not label or spelt_out(name, label):
                    self.add(rel, f"{kind}.{name}.label", "must be a readable clinical name, not the id "
                             "spelt out", repr(spec.label), "e.g. 'Duffy-null red-cell phenotype (Fy(a-b-))' "
                             "for test_duffy_null; put the form's short name in 'short'")
                key = label.lower()
                if key in seen:
                    self.add(rel, f"{kind}.{name}.label", "must differ from every other node's label",
                             f"{spec.label!r} (also {seen[key]})", "make the two labels distinct")
                seen.setdefault(key, name)

    # case mapping
    def check_mapping(self, rel, m: MappingSpec):
        base = "case_mapping"
        age_states = self.states("age_group")
        if age_states is None:
            if not self.gone("age_group"):
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
                if not self.gone(node):
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
                        if not self.gone(tgt.node):
                            self.add(rel, f"{fpath}.nodes.{i}.node", "must name a node", repr(tgt.node),
                                     self.near(tgt.node, [*self.findings, *self.context]))
                        continue
                    tables = {"default": tgt.bands.default, **tgt.bands.by_age_group,
                              **tgt.bands.by_sex,
                              **{f"by_age_months.{k}": row.bands
                                 for k, row in enumerate(tgt.bands.by_age_months)}}
                    unders = [row.under_months for row in tgt.bands.by_age_months]
                    if unders != sorted(set(unders)):
                        self.add(rel, f"{fpath}.nodes.{i}.bands.by_age_months",
                                 "must list under_months in increasing order", repr(unders))
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
                        if (st is None and not self.gone(node)) or (st and state not in st):
                            self.add(rel, f"{fpath}.categorical.{word}.{node}",
                                     "must assign a state of a node", f"{node}={state}")
        for sname, sec in m.sections.items():
            for term, node in sec.terms.items():
                st = self.states(node)
                if st is None:
                    if not self.gone(node):
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
                if (st is None and not self.gone(node)) or (st and state not in st):
                    self.add(rel, f"{base}.marrow_cellularity.{cell}.{node}",
                             "must assign a state of a node", f"{node}={state}")
        for node, cut in m.marrow_blasts_percent.items():
            st = self.states(node)
            if st is None:
                if not self.gone(node):
                    self.add(rel, f"{base}.marrow_blasts_percent.{node}", "must name a node", repr(node),
                             self.near(node, [*self.findings]))
            elif tuple(st) != ("absent", "present") or not 0 < cut <= 100:
                self.add(rel, f"{base}.marrow_blasts_percent.{node}",
                         "must name an absent/present node with a threshold in (0, 100]", f"{st}, {cut}")

    def check_drugs(self, rel, d: DrugsSpec):
        for cname, cls in d.classes.items():
            st = self.states(cls.node)
            path = f"drugs.classes.{cname}"
            if st is None:
                if not self.gone(cls.node):
                    self.add(rel, f"{path}.node", "must name a context node", repr(cls.node))
                continue
            if cls.cause is not None and cls.cause not in self.causes and not self.gone(cls.cause):
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
            st = self.states(d.classes[drug.cls].node)
            if st is None:
                continue  # the class's node is missing: reported with the class
            for timing in ("early", "window", "late", "unknown"):
                if f"{drug.tier}_{timing}" not in st:
                    self.add(rel, f"{path}.tier",
                             f"needs state {drug.tier}_{timing} in {d.classes[drug.cls].node}",
                             repr(drug.tier))
        for alias, target in d.aliases.items():
            if target not in d.drugs:
                self.add(rel, f"drugs.aliases.{alias}", "must point to a listed drug", repr(target))
