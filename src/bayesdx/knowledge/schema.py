"""Pydantic schemas of the knowledge files (``model/`` and ``priors/``).

Every knowledge file is YAML. The schemas forbid unknown keys, so a misspelt
key is reported instead of silently ignored. :mod:`bayesdx.knowledge.load` loads the
files with these schemas and adds the checks that span files.

File kinds (each file may hold any subset of the sections of its kind):

* ``model/*.yaml`` (:class:`ModelFile`): ``reference_population``, ``context``,
  ``causes``, ``findings`` (the network's structure), ``case_mapping`` (how a
  case file becomes evidence) and ``drugs`` (drug names to exposure classes).
* ``priors/*.yaml`` (:class:`PriorsFile`): ``references``, ``context``,
  ``causes``, ``findings`` (the numbers).

Examples
--------
>>> Param(value=0.2, range=(0.1, 0.3), source="E").source_list
['E']
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "AgeBands",
    "AlertsSpec",
    "ConsistencySpec",
    "DoNotMissSpec",
    "BandSpec",
    "CauseCPT",
    "CauseSpec",
    "ContextPrior",
    "ContextSpec",
    "DerivedSpec",
    "DrugClassSpec",
    "DrugSpec",
    "DrugsSpec",
    "FindingCPT",
    "FindingSpec",
    "MappingSpec",
    "ModelFile",
    "NumericField",
    "NumericTarget",
    "Param",
    "PriorsFile",
    "Reference",
    "TermSection",
    "CAUSE_STATES",
    "node_states",
]

#: the states of every cause node
CAUSE_STATES = ("absent", "present")


def node_states(node: str, context: dict, causes: dict, findings: dict) -> list[str] | None:
    """The states of ``node`` (None when it is not a node): the one definition.

    ``context`` and ``findings`` map names to specs with ``states``; every
    cause has :data:`CAUSE_STATES`.
    """
    if node in causes:
        return list(CAUSE_STATES)
    if node in context:
        return list(context[node].states)
    if node in findings:
        return list(findings[node].states)
    return None


class Strict(BaseModel):
    """Base for every schema: unknown keys are errors, objects are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- priors


class Param(Strict):
    """One number with its plausible range and where it comes from.

    ``source`` is a reference id from ``priors/references.yaml`` (``R22``), a
    list of them, or ``E`` for an estimate (a judgement, no direct figure).
    """

    value: float
    range: tuple[float, float]
    source: str | list[str]
    note: str | None = None

    @property
    def source_list(self) -> list[str]:
        """The sources as a list."""
        if isinstance(self.source, str):
            return [s.strip() for s in self.source.split(",") if s.strip()]
        return list(self.source)


class Reference(Strict):
    """A reference of the clinical brief that numbers may cite."""

    citation: str
    secondary: bool = False


class ContextPrior(Strict):
    """Numbers of a context node: a distribution, or one per parent state."""

    prior: dict[str, Param] | None = None
    given: dict[str, dict[str, Param]] | None = None


class CauseCPT(Strict):
    """Numbers of a cause: P(cause | context) = min(cap, base * prod(rr)).

    Give either ``prior`` (the cause's share in the reference population; the
    base is solved so that the marginal matches it) or ``base`` (the
    probability when every relative risk is 1). ``rr`` maps each parent to a
    relative risk for *every* one of its states.
    """

    prior: Param | None = None
    base: Param | None = None
    rr: dict[str, dict[str, Param]] = Field(default_factory=dict)
    cap: float = 0.99


class FindingCPT(Strict):
    """Numbers of a finding (leaky noisy-MAX; noisy-OR when binary).

    ``leak`` and every ``links[parent]`` give, for each non-baseline state,
    the probability that this source alone produces that state. For a cause
    parent the link is its effect when present; for a context parent,
    ``links[parent][parent_state][state]``. A binary finding may give a
    single :class:`Param` instead of a per-state mapping.
    """

    leak: Param | dict[str, Param]
    links: dict[str, Param | dict[str, Param] | dict[str, dict[str, Param]]] = Field(
        default_factory=dict
    )


class PriorsFile(Strict):
    """A file under ``priors/``."""

    references: dict[str, Reference] | None = None
    context: dict[str, ContextPrior] | None = None
    causes: dict[str, CauseCPT] | None = None
    findings: dict[str, FindingCPT] | None = None
    alerts: dict[str, Param] | None = None


# --------------------------------------------------------------------------- structure


class ContextSpec(Strict):
    """A context node: something known about the patient (age, drugs, history).

    ``label`` is the readable clinical name shown wherever the node is named (app,
    command line, summary); ``short`` (optional) is its name inside its section of
    the evidence form, where the section gives the context (``Known SLE``).
    """

    label: str = Field(min_length=1)
    short: str | None = Field(default=None, min_length=1)
    group: str
    states: list[str] = Field(min_length=2)
    parents: list[str] = Field(default_factory=list, max_length=1)
    description: str | None = None


Family = Literal["marrow", "autoimmune", "infection", "drug", "nutritional", "congenital", "other"]


class CauseSpec(Strict):
    """A cause node: binary (present/absent); causes may co-occur."""

    label: str = Field(min_length=1)
    family: Family
    parents: list[str] = Field(default_factory=list)
    description: str | None = None


class DerivedSpec(Strict):
    """A coarser reading of another finding: each of its states is a run of the source's.

    ``states`` maps every state of the derived finding, in order, to consecutive
    states of ``finding`` (e.g. ``low: [low, very_low]``). A laboratory's
    verdict ("B12 low", no value) is such a reading: it says the level lies in
    one of several bands, not in the mildest one.
    """

    finding: str
    states: dict[str, list[str]]


class FindingSpec(Strict):
    """A finding node; its first state is the baseline (normal/absent/negative).

    ``label``: the readable clinical name (``Duffy-null red-cell phenotype
    (Fy(a-b-))``); ``short`` (optional): its name inside its section of the form
    (``Duffy-null phenotype`` under *Tests*). ``derived_from`` (optional): the
    finding is a coarser reading of another one (:class:`DerivedSpec`); it then
    has no numbers of its own and no parents of its own (it takes both from its
    source, so they never disagree).
    """

    label: str = Field(min_length=1)
    short: str | None = Field(default=None, min_length=1)
    group: str
    states: list[str] = Field(min_length=2)
    parents: list[str] = Field(default_factory=list)
    orderable: bool = False
    cost: float | None = None
    description: str | None = None
    derived_from: DerivedSpec | None = None


# --------------------------------------------------------------------------- case mapping


class AgeBands(Strict):
    """A band table for patients younger than ``under_months`` (finer than age groups)."""

    under_months: float
    bands: list[tuple[str, float | None]]
    note: str | None = None


class BandSpec(Strict):
    """Cut points turning a number into a state.

    ``bands`` lists ``[state, upper]`` pairs in increasing order: a value below
    ``upper`` (and at or above the previous bound) takes ``state``; the last
    upper bound is ``null`` (no limit). ``by_age_months`` lists tables for young
    patients in increasing ``under_months``; the first whose ``under_months``
    exceeds the patient's exact age wins over every other table.
    """

    default: list[tuple[str, float | None]]
    by_age_months: list[AgeBands] = Field(default_factory=list)
    by_age_group: dict[str, list[tuple[str, float | None]]] = Field(default_factory=dict)
    by_sex: dict[str, list[tuple[str, float | None]]] = Field(default_factory=dict)
    source: str | list[str] = "E"
    note: str | None = None


class NumericTarget(Strict):
    """One node that a number is turned into."""

    node: str
    bands: BandSpec


class NumericField(Strict):
    """A numeric case field: its unit, what values are plausible, its nodes."""

    unit: str
    also_units: list[str] = Field(default_factory=list)
    molar_mass: str | None = None
    plausible: tuple[float, float]
    nodes: list[NumericTarget] = Field(default_factory=list)
    categorical: dict[str, dict[str, str]] = Field(default_factory=dict)


class TermSection(Strict):
    """A section of terms (smear, history, tests, marrow findings).

    ``terms`` maps each accepted term to its node; the node's states are
    ``[absent, present]`` (or ``[negative, positive]`` for tests).
    ``normal`` (when ``has_normal``) means every term is absent.
    """

    values: dict[str, str]
    terms: dict[str, str]
    has_normal: bool = False


class MappingSpec(Strict):
    """How a case file becomes evidence on the network."""

    age: dict[str, float | None] = Field(
        description="age group -> upper bound in years (exclusive); last is null"
    )
    categorical: dict[str, dict[str, str | None]]
    cbc: dict[str, NumericField]
    baseline_cbc: dict[str, NumericField] = Field(default_factory=dict)
    vitamins: dict[str, NumericField]
    sections: dict[str, TermSection]
    marrow_cellularity: dict[str, dict[str, str]]
    marrow_blasts_percent: dict[str, float] = Field(
        default_factory=dict,
        description="node -> marrow blast percentage at or above which it is present (extension)")


class DrugClassSpec(Strict):
    """An exposure class: its node and the timing window of its risk."""

    node: str
    cause: str | None = None
    timing: Literal["weeks", "days_since_last_dose"] = "weeks"
    window: tuple[float, float]
    stopped_effect_weeks: float = 4.0
    precedence: list[str]


class DrugSpec(Strict):
    """A drug: its exposure class (``none`` for no modelled marrow effect) and tier.

    ``stopped_effect_weeks`` overrides the class's for this drug (e.g. rituximab,
    whose late-onset neutropenia appears months after the last dose).
    """

    cls: str = Field(alias="class")
    tier: str = "on"
    stopped_effect_weeks: float | None = Field(default=None, ge=0)
    note: str | None = None


class DrugsSpec(Strict):
    """Drug names and the exposure classes they map to."""

    classes: dict[str, DrugClassSpec]
    drugs: dict[str, DrugSpec]
    aliases: dict[str, str] = Field(default_factory=dict)

    @field_validator("drugs")
    @classmethod
    def _lower(cls, v: dict[str, DrugSpec]) -> dict[str, DrugSpec]:
        bad = [k for k in v if k != k.lower()]
        if bad:
            raise ValueError(f"drug names must be lower-case; got {bad}")
        return v


class DoNotMissSpec(Strict):
    """A dangerous cause to name while it is plausible (threshold: a key of ``priors`` alerts)."""

    label: str
    causes: list[str] = Field(min_length=1)
    threshold: str
    action: str
    when: dict[str, list[str]] = Field(default_factory=dict)


class ConsistencySpec(Strict):
    """Entries that contradict each other: every node of ``all`` in one of its states."""

    all: dict[str, list[str]] = Field(min_length=2)
    message: str


class AlertsSpec(Strict):
    """``model/alerts.yaml``: the "do not miss" causes and the consistency checks."""

    do_not_miss: dict[str, DoNotMissSpec] = Field(default_factory=dict)
    consistency: dict[str, ConsistencySpec] = Field(default_factory=dict)


class ModelFile(Strict):
    """A file under ``model/``."""

    reference_population: str | None = None
    context: dict[str, ContextSpec] | None = None
    causes: dict[str, CauseSpec] | None = None
    findings: dict[str, FindingSpec] | None = None
    case_mapping: MappingSpec | None = None
    drugs: DrugsSpec | None = None
    alerts: AlertsSpec | None = None
