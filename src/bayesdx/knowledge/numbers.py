"""Checks of the numbers in ``priors/``: every value in its range, with a source, on a real state.

Internal to :mod:`bayesdx.knowledge`; :class:`NumberChecks` is a part of
:class:`bayesdx.knowledge.checks.Checker` (which provides ``add``, ``states``,
``near`` and the parsed sections). Every node must have numbers and every
number must belong to a node; context distributions sum to one; relative
risks, leaks and links give every state they must.
"""

from __future__ import annotations

from .schema import CauseCPT, ContextPrior, FindingCPT, Param

__all__ = ["SUM_TOLERANCE", "NumberChecks"]

SUM_TOLERANCE = 0.011
"""How far a distribution of ``priors/`` may sum from one (rounded published shares)."""


class NumberChecks:
    """The checks of ``priors/`` (a part of :class:`~bayesdx.knowledge.checks.Checker`)."""

    def param(self, rel, path, p: Param, kind="probability"):
        lo, hi = p.range
        bad = False  # every problem of the entry at once (the source too)
        if kind == "probability":
            for label, v in (("value", p.value), ("range", [lo, hi])):
                if not all(0.0 <= x <= 1.0 for x in (v if label == "range" else [v])):
                    self.add(rel, f"{path}.{label}", "must be a probability in [0, 1]", repr(v))
                    bad = True
        elif p.value < 0 or lo < 0:
            self.add(rel, f"{path}", "must be a relative risk >= 0", f"{p.value} {p.range}")
            bad = True
        if not bad and not (lo <= p.value <= hi):
            self.add(rel, f"{path}.range", "must contain the value (low <= value <= high)",
                     f"value {p.value}, range [{lo}, {hi}]", "widen the range or fix the value")
        for src in p.source_list:
            if src != "E" and src not in self.refs and "references" not in self.lost:
                self.add(rel, f"{path}.source", "must be 'E' or a reference id in priors/references.yaml",
                         repr(src), self.near(src, self.refs) if self.refs else "E")

    def check_numbers(self):
        # every node has numbers, and only nodes have numbers
        for kind, pkind in (("context", "context_p"), ("causes", "causes_p"),
                            ("findings", "findings_p")):
            nodes = self.s[kind]
            nums = self.s[pkind]
            for name, (rel, spec) in nodes.items():
                if getattr(spec, "derived_from", None) is not None:
                    if name in nums:
                        self.add(nums[name][0], f"{kind}.{name}", "must not have numbers of its own "
                                 "(a derived finding reads its source's)", "an entry",
                                 f"delete it; edit {spec.derived_from.finding}'s numbers instead")
                    continue
                if name not in nums and not self.gone(name, "priors"):
                    self.add("priors/", f"{kind}.{name}", "must have numbers",
                             "none", f"add '{name}:' under '{kind}:' in a priors file")
            for name, (rel, _) in nums.items():
                if name not in nodes and not self.gone(name):
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
            if self.states(spec.parents[0]) is None and self.gone(spec.parents[0]):
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
            if self.states(p) is None and self.gone(p):
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
            elif not (self.states(p) is None and self.gone(p)):
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
