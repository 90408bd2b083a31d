"""What the evidence form shows, derived from the knowledge files (no numbers of its own).

:func:`form_spec` reads ``model/case_mapping.yaml`` and ``model/drugs.yaml``
(through :class:`~bayesdx.knowledge.load.Knowledge`) and lists every input the app
offers: numeric fields with their units and band tables, term sections with
their node and three states, the categorical context, marrow cellularity and
the drug list. Each input has a *field id* (``"cbc.anc"``, ``"smear.blasts"``,
``"marrow.cellularity"``) that is also its place in a case file, so the form,
the case file and the error messages of :func:`bayesdx.case.parse_case` all
speak the same names.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> spec = form_spec(load_model().kb)
>>> spec.numeric["cbc.anc"].unit
'10^9/L'
>>> spec.terms["tests.hiv"].node, spec.terms["tests.hiv"].words
('test_hiv', ('positive', 'negative'))
>>> "clozapine" in spec.drugs
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..knowledge.load import Knowledge
from ..knowledge.schema import BandSpec, NumericField
from ..words import state_text

__all__ = ["DrugInfo", "FormSpec", "NumericInput", "TermInput", "band_text", "drug_text", "form_spec",
           "human"]

#: Display names of the numeric case fields (the knowledge files name nodes, not fields).
FIELD_LABELS = {
    "wbc": "White cells (WBC)",
    "anc": "Neutrophils (ANC)",
    "alc": "Lymphocytes (ALC)",
    "amc": "Monocytes (AMC)",
    "hb": "Haemoglobin",
    "plt": "Platelets",
    "mcv": "MCV",
    "retic": "Reticulocytes (absolute)",
    "eos": "Eosinophils",
    "b12": "Vitamin B12",
    "folate": "Folate",
    "copper": "Copper",
    "ceruloplasmin": "Ceruloplasmin",
    "mma": "Methylmalonic acid (MMA)",
    "zinc": "Zinc",
    "weeks_ago": "Taken how long ago",
}

#: Labels of the earlier (baseline) count fields; distinct from the current count's.
BASELINE_LABELS = {"anc": "Earlier ANC", "weeks_ago": "Earlier count: how long ago"}

#: Sub-headings for the tests (presentation only; a test not listed falls under "Other tests").
TEST_GROUPS = {
    "Autoimmune serology": ["ana", "anti_dsdna", "anti_smith", "anti_ro", "rf", "anti_ccp",
                            "low_complement", "direct_coombs", "anti_neutrophil_antibodies",
                            "intrinsic_factor_antibodies"],
    "Infection": ["hiv", "low_cd4", "hbsag", "anti_hcv", "hcv_rna", "ebv_vca_igm", "heterophile",
                  "parvovirus_b19_igm", "parvovirus_b19_pcr"],
    "Clonal, genetic and other": ["lgl_clonality", "braf_v600e", "pnh_clone", "abnormal_karyotype",
                                  "myeloid_gene_panel", "stat3_mutation", "elane_mutation",
                                  "hax1_mutation", "duffy_null", "tpmt_nudt15_deficiency"],
}

def human(name: str) -> str:
    """A snake_case name spelt out, for names the knowledge files do not label (a fallback).

    Every node shown has its own label in ``model/`` (checked when the knowledge is
    loaded); this only spells out field keys.

    >>> human("weeks_ago"), human("hypersegmented_neutrophils")
    ('Weeks ago', 'Hypersegmented neutrophils')
    """
    text = name.replace("_", " ")
    return text[0].upper() + text[1:] if text else text


def drug_text(name: str) -> str:
    """A drug name as shown (lower case, spaces)."""
    return name.replace("_", " ")


def _term_label(node_spec, term: str) -> str:
    """A term's name in its section of the form: the node's ``short`` name, else its label."""
    if node_spec is None:
        return human(term)
    return node_spec.short or node_spec.label


@dataclass(frozen=True)
class NumericInput:
    """A number with a unit (CBC, baseline CBC, vitamins)."""

    fid: str
    section: str
    key: str
    label: str
    unit: str
    units: tuple[str, ...]
    nodes: tuple[str, ...]
    words: tuple[str, ...]
    bands: tuple[tuple[str, BandSpec], ...]
    plausible: tuple[float, float]


@dataclass(frozen=True)
class TermInput:
    """A three-state finding: ``words[0]`` (present/positive), ``words[1]`` (absent/negative), unknown."""

    fid: str
    section: str
    term: str
    node: str
    label: str
    words: tuple[str, str]
    is_context: bool


@dataclass(frozen=True)
class DrugInfo:
    """A drug name offered in the medication list (generic name or alias)."""

    name: str
    canonical: str
    cls: str
    timing: str | None
    display: str


@dataclass(frozen=True)
class FormSpec:
    """Every input of the evidence form (see the module docstring)."""

    numeric: dict[str, NumericInput]
    terms: dict[str, TermInput]
    categorical: dict[str, tuple[str, ...]]
    cellularity: tuple[str, ...]
    cellularity_nodes: tuple[str, ...]
    drugs: dict[str, DrugInfo]
    exposure_nodes: tuple[str, ...]
    has_normal: dict[str, bool] = field(default_factory=dict)
    kb: Knowledge | None = field(default=None, repr=False, compare=False)

    def section_terms(self, section: str, context: bool | None = None) -> list[TermInput]:
        """Term inputs of one section (``smear``, ``history``, ``tests``, ``marrow_findings``)."""
        return [t for t in self.terms.values() if t.section == section
                and (context is None or t.is_context == context)]

    def section_numeric(self, section: str) -> list[NumericInput]:
        """Numeric inputs of one section (``cbc``, ``baseline_cbc``, ``vitamins``)."""
        return [n for n in self.numeric.values() if n.section == section]

    def field_nodes(self) -> dict[str, tuple[str, ...]]:
        """Field id -> the nodes it can set (for clearing a node from the form)."""
        out: dict[str, tuple[str, ...]] = {f: n.nodes for f, n in self.numeric.items()}
        out.update({f: (t.node,) for f, t in self.terms.items()})
        out.update({"age_years": ("age_group",), "sex": ("sex",), "ancestry": ("ancestry",),
                    "duration": ("course",), "marrow.cellularity": self.cellularity_nodes,
                    "meds": self.exposure_nodes})
        return out


def _numeric(section: str, key: str, nf: NumericField, kb: Knowledge) -> NumericInput:
    nodes: list[str] = [t.node for t in nf.nodes]
    for assign in nf.categorical.values():
        nodes += [n for n in assign if n not in nodes]
    label = BASELINE_LABELS.get(key) if section == "baseline_cbc" else FIELD_LABELS.get(key)
    if label is None:
        label = kb.findings[nodes[0]].label if nodes and nodes[0] in kb.findings else human(key)
    units = tuple(dict.fromkeys([nf.unit, *nf.also_units]))
    return NumericInput(f"{section}.{key}", section, key, label, nf.unit, units, tuple(nodes),
                        tuple(nf.categorical), tuple((t.node, t.bands) for t in nf.nodes),
                        tuple(nf.plausible))


_CACHE: dict[int, tuple[Knowledge, FormSpec]] = {}


def _build(kb: Knowledge) -> FormSpec:
    m = kb.mapping
    numeric: dict[str, NumericInput] = {}
    for section, specs in (("cbc", m.cbc), ("baseline_cbc", m.baseline_cbc), ("vitamins", m.vitamins)):
        for key, nf in specs.items():
            if section == "baseline_cbc" and not (nf.nodes or nf.categorical or key == "weeks_ago"):
                continue  # only the modelled baseline fields are offered
            numeric[f"{section}.{key}"] = _numeric(section, key, nf, kb)
    terms: dict[str, TermInput] = {}
    has_normal = {}
    for sname, sec in m.sections.items():
        has_normal[sname] = sec.has_normal
        for term, node in sec.terms.items():
            states = kb.states(node)
            inv = {s: w for w, s in sec.values.items()}
            words = (inv.get(states[1], states[1]), inv.get(states[0], states[0]))
            spec = kb.context.get(node) or kb.findings.get(node)
            label = _term_label(spec, term)
            terms[f"{sname}.{term}"] = TermInput(f"{sname}.{term}", sname, term, node, label,
                                                 words, node in kb.context)
    categorical = {k: tuple(v) for k, v in m.categorical.items()}
    cell_nodes: list[str] = []
    for assign in m.marrow_cellularity.values():
        cell_nodes += [n for n in assign if n not in cell_nodes]
    drugs: dict[str, DrugInfo] = {}
    d = kb.drugs
    for name, spec in d.drugs.items():
        cls = d.classes.get(spec.cls)
        drugs[name] = DrugInfo(name, name, spec.cls, cls.timing if cls else None, drug_text(name))
    for alias, canon in d.aliases.items():
        if alias in drugs or canon not in d.drugs:
            continue
        spec = d.drugs[canon]
        cls = d.classes.get(spec.cls)
        drugs[alias] = DrugInfo(alias, canon, spec.cls, cls.timing if cls else None,
                                f"{drug_text(alias)} (= {drug_text(canon)})")
    drugs = dict(sorted(drugs.items()))
    exposure = tuple(dict.fromkeys(c.node for c in d.classes.values()))
    return FormSpec(numeric, terms, categorical, tuple(m.marrow_cellularity), tuple(cell_nodes),
                    drugs, exposure, has_normal, kb)


def form_spec(kb: Knowledge) -> FormSpec:
    """The evidence form for the knowledge ``kb`` (cached per knowledge object)."""
    hit = _CACHE.get(id(kb))
    if hit is None or hit[0] is not kb:
        hit = (kb, _build(kb))
        _CACHE.clear()
        _CACHE[id(kb)] = hit
    return hit[1]


def _fmt(x: float) -> str:
    return f"{x:g}"


def band_text(nin: NumericInput) -> str:
    """The band tables of a numeric input, for a help tooltip.

    >>> from bayesdx.diagnosis import load_model
    >>> print(band_text(form_spec(load_model().kb).numeric["cbc.anc"]).splitlines()[0])
    Neutrophil count (10^9/L): very severe < 0.2 ≤ severe < 0.5 ≤ moderate < 1 ≤ mild < 1.5 ≤ normal
    """

    def table(rows) -> str:
        out = []
        for state, upper in rows:
            out.append(state_text(state))
            if upper is not None:
                out.append(f"< {_fmt(upper)} ≤")
        return " ".join(out)

    lines = []
    for node, bands in nin.bands:
        name = {"anc": "Neutrophil count", "alc": "Lymphocyte count", "amc": "Monocyte count",
                "wbc": "White-cell count", "mcv": "MCV", "hb": "Haemoglobin", "plt": "Platelets",
                "retic": "Reticulocytes"}.get(node, human(node))
        lines.append(f"{name} ({nin.unit}): {table(bands.default)}")
        for sex, rows in bands.by_sex.items():
            lines.append(f"  {sex}: {table(rows)}")
        for group, rows in bands.by_age_group.items():
            lines.append(f"  {group}: {table(rows)}")
    if nin.words:
        lines.append("Words accepted instead of a number: " + ", ".join(nin.words))
    return "\n".join(lines)
