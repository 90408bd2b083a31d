"""Term sections: ``smear``, ``history``, ``tests``, ``marrow`` (cellularity and findings).

Internal to :mod:`bayesdx.case`. A section is a list of what is present
(positive), or a mapping ``term: present | absent`` (``positive | negative``
for tests); a single term may be a string. ``normal`` (smear, marrow findings)
sets every abnormal term absent, and an explicit ``present`` term beside it is
a contradiction; ``normal: absent`` says only that something is abnormal and
is listed under ``ignored``. Terms map to nodes through
``model/case_mapping.yaml``.

Examples
--------
>>> from bayesdx.knowledge.load import load_knowledge
>>> kb = load_knowledge()
>>> r = SectionsReader(kb, lenient=False, source="<case>")
>>> r.read_terms("history", ["dialysis"], kb.mapping.sections["history"])
>>> r.read_marrow({"cellularity": "hypocellular"})
>>> r.evidence
{'hx_dialysis': 'present', 'marrow_hypocellular': 'present', 'marrow_hypercellular': 'absent'}
"""

from __future__ import annotations

from typing import Any

from ..knowledge.schema import TermSection
from .common import ReaderBase, describe, field_path, path_text, suggest, word

__all__ = ["MARROW_KEYS", "SECTION_FIELD", "SectionsReader"]

#: fields of ``marrow:``
MARROW_KEYS = ("cellularity", "findings", "blasts_percent")
#: section of ``model/case_mapping.yaml`` -> its path in a case
SECTION_FIELD = {"smear": "smear", "history": "history", "tests": "tests",
                 "marrow_findings": "marrow.findings"}


class SectionsReader(ReaderBase):
    """Reads the term sections of a case."""

    def term_state(self, node: str, active: bool) -> str:
        states = self.kb.states(node)
        return states[1] if active else states[0]

    def read_terms(self, sname: str, raw: Any, sec: TermSection):
        path = SECTION_FIELD[sname]
        if raw is None:
            return
        if isinstance(raw, str):
            raw = [raw]
        vocab = [*sec.terms, *(["normal"] if sec.has_normal else [])]
        words = ", ".join(sec.values)
        explicit: dict[str, tuple[str, str | tuple]] = {}
        normal_path: str | tuple | None = None
        if isinstance(raw, list):
            for i, item in enumerate(raw):
                ipath = f"{path}[{i}]"
                if not isinstance(item, str):
                    self.add(ipath, f"must be a term ({path} lists what is present)", describe(item))
                    continue
                term = word(item)
                if sec.has_normal and term == "normal":
                    normal_path = ipath
                elif term in sec.terms:
                    explicit[term] = (self.term_state(sec.terms[term], True), ipath)
                else:
                    self.unknown_key(ipath, item, vocab, f"{path} term")
        elif isinstance(raw, dict):
            for key, value in raw.items():
                kpath = (*field_path(path), str(key))
                term = word(str(key))
                if term not in sec.terms and not (sec.has_normal and term == "normal"):
                    self.unknown_key(kpath, key, vocab, f"{path} term")
                    continue
                if value is None:
                    continue  # unknown
                if not isinstance(value, str) or word(value) not in sec.values:
                    hint = f"one of {words}"
                    if isinstance(value, bool):
                        hint += " (YAML reads yes/no/true/false as booleans)"
                    self.add(kpath, f"must be one of {words}", describe(value), hint)
                    continue
                state = sec.values[word(value)]
                if term == "normal":
                    node0 = next(iter(sec.terms.values()))
                    if state == self.kb.states(node0)[0]:
                        self.ignore(kpath, "says only that something is abnormal; name the abnormal terms")
                    else:
                        normal_path = kpath
                    continue
                explicit[term] = (state, kpath)
        else:
            self.add(path, f"must be a list of terms or a mapping term: {' | '.join(sec.values)}",
                     describe(raw), f"{path}: [{next(iter(sec.terms))}]")
            return
        if normal_path is not None:
            for term, (state, tpath) in explicit.items():
                if state != self.kb.states(sec.terms[term])[0]:
                    self.add(tpath, f"must not be {state} when {path} is normal (a contradiction)",
                             f"{term} and normal", f"removing 'normal' or {term}")
        for term, (state, tpath) in explicit.items():
            self.set(sec.terms[term], state, tpath)
        if normal_path is not None:
            for term, node in sec.terms.items():
                if term not in explicit:
                    self.set(node, self.term_state(node, False), normal_path)

    def read_marrow(self, raw: Any):
        data = self.mapping("marrow", raw, "cellularity and findings")
        if data is None:
            return
        for key in data:
            if key not in MARROW_KEYS:
                self.unknown_key(("marrow", str(key)), key, MARROW_KEYS, "marrow field")
        cell = data.get("cellularity")
        if cell is not None:
            options = self.m.marrow_cellularity
            if not isinstance(cell, str) or word(cell) not in options:
                self.add("marrow.cellularity", f"must be one of {', '.join(options)}", describe(cell),
                         suggest(str(cell), options, "word") if isinstance(cell, str) else None)
            else:
                for node, state in options[word(cell)].items():
                    self.set(node, state, "marrow.cellularity")
        if "marrow_findings" in self.m.sections:
            self.read_terms("marrow_findings", data.get("findings"), self.m.sections["marrow_findings"])
        elif data.get("findings") is not None:  # a model without marrow terms (tests' tiny one)
            self.add("marrow.findings", "must not be given: the model's case mapping has no marrow "
                     "terms", describe(data["findings"]), "the evidence: extension")
        self.read_blasts(data.get("blasts_percent"))
        self.check_blast_order(self.m.marrow_blasts_percent)

    def read_blasts(self, raw: Any):
        """``marrow.blasts_percent`` (an extension): sets every threshold node of the mapping."""
        if raw is None:
            return
        path = "marrow.blasts_percent"
        cuts = self.m.marrow_blasts_percent
        if not cuts:
            self.add(path, "must not be given: the model's case mapping has no marrow blast thresholds",
                     describe(raw), "marrow.findings")
            return
        value = raw
        if isinstance(raw, str):
            try:
                value = float(raw.strip().removesuffix("%").strip())
            except ValueError:
                value = None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            self.add(path, "must be a percentage of marrow nucleated cells from 0 to 100", describe(raw),
                     f"{path}: 35")
            return
        for node, cut in cuts.items():
            self.set(node, self.term_state(node, value >= cut), path)

    def check_blast_order(self, cuts: dict[str, float]):
        """A higher threshold present with a lower one absent is a contradiction."""
        ranked = sorted(cuts, key=cuts.get)
        for low, high in zip(ranked, ranked[1:]):
            lo, hi = self.evidence.get(low), self.evidence.get(high)
            if lo is None or hi is None:
                continue
            if lo == self.kb.states(low)[0] and hi == self.kb.states(high)[1]:
                self.add(self.origin[high], f"must agree with {path_text(self.origin[low])} ({low}={lo}): blasts at "
                         f"{cuts[high]:g} % or more are also at {cuts[low]:g} % or more",
                         f"{high}={hi}", "removing one of the two")
