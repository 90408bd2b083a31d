"""Read a case file (``shared/case-format.md``) into evidence on the network.

A case is one patient's evidence written the way a clinician or a data export
writes it. :func:`parse_case` turns it into ``node -> state`` evidence using
``model/case_mapping.yaml`` (bands, units, terms) and ``model/drugs.yaml``
(drug classes and timing windows); :func:`read_cases` reads a YAML or JSON
file holding one case or a batch under ``cases:`` (:func:`iter_cases` one
case at a time, for streaming); :func:`evidence_to_case`
goes back from evidence to a case dict (export from the app). In a table
(CSV, Parquet) a case is one row: :func:`row_to_case` / :func:`case_to_row`
map a row to a case dict and back, and :func:`parse_row` reads a row with the
same reader (``docs/cohort-format.md``).

Every field and term of the contract is accepted; anything else is a
:class:`~bayesdx.errors.CaseError` that lists **all** problems of the case,
each with the field path, what is accepted and the nearest valid names
(``medications[0].name: must be a known drug name; got 'clozapin'; try a known
name - did you mean clozapine?``). No traceback, no NaN, no infinity.

Rules
-----
Absent versus unknown
    A field or term that is not mentioned (or is ``null``) is unknown: it is
    not in the evidence. ``absent`` / ``negative`` is evidence. ``normal`` in
    ``smear`` or ``marrow.findings`` sets every abnormal term of that section
    absent; an explicit ``present`` term beside ``normal`` is an error.
    ``normal: absent`` (in mapping form) says only that something is abnormal;
    it is listed under ``ignored``.
Term sections
    ``smear``, ``history``, ``tests`` and ``marrow.findings`` take a list of
    what is present (positive), or a mapping ``term: present | absent``
    (``positive | negative`` for tests). A single term may be written as a
    string (``smear: normal``).
Numbers and units
    A bare number is in the field's default unit; a string ``"value unit"``
    is converted with pint (:mod:`bayesdx.case.units`): ``"111 pmol/L"`` (B12),
    ``"4.8 nmol/L"`` (folate), ``"12 umol/L"`` (copper), ``"129 g/L"`` (Hb),
    ``"1100 /uL"`` (counts). A value of the wrong dimension or outside the
    plausible range of ``model/case_mapping.yaml`` is an error naming the
    field, the accepted units and an example. Bands: a value below a band's
    upper bound (and at or above the previous one) takes that band's state;
    an age-group table wins over a sex table, which wins over the default
    (used when age or sex is not given).
WBC
    When ``cbc.anc`` or ``cbc.alc`` is given, ``cbc.wbc`` is not used (it is
    listed under ``ignored``); otherwise it sets the ``wbc`` node.
Baseline counts
    ``baseline_cbc.anc`` sets ``baseline_anc``; the other fields (the same as
    ``cbc``) and ``weeks_ago`` are checked and listed under ``ignored``.
Medications: the list is complete
    **A** ``medications:`` **list, when the key is present, is taken as the
    complete list of the patient's drugs**: every exposure class with no
    listed drug becomes ``none``, so ``medications: []`` means *no drugs*.
    Leave the key out (or ``null``) when the drugs are not known. In lenient
    mode a list holding unknown names is not taken as complete (the unknown
    drug could belong to any class): classes without a listed drug then stay
    unknown.
Medications: timing
    Each drug maps to a class and tier (``model/drugs.yaml``); its class's
    exposure node gets ``<tier>_<timing>``:

    * ``weeks`` (weeks since start) against the class window ``[a, b]``:
      below ``a`` -> ``early``, ``a`` to ``b`` -> ``window``, above ``b`` ->
      ``late``; no timing -> ``unknown``.
    * ``stopped_weeks_ago`` above the stopped-effect period -> ``stopped``;
      at or below it the drug is treated as current: its timing comes from
      ``weeks`` when given, otherwise ``window`` (a drug is usually stopped
      because of the low count, i.e. inside its window). The period is the
      drug's own ``stopped_effect_weeks`` when ``model/drugs.yaml`` gives one
      (rituximab: late-onset neutropenia months after the last dose), else
      its class's; it is also the period used below.
    * Chemotherapy's clock is ``days_since_last_dose`` (the window is in
      days, nadir ~5-21 days): early / window / late, and ``stopped`` when
      the last dose is longer ago than the stopped-effect period.
      ``stopped_weeks_ago`` works as a last-dose time; ``weeks`` since start
      alone gives ``on_unknown``.
    * For the other classes ``days_since_last_dose`` longer ago than the
      stopped-effect period means ``stopped``; otherwise it is listed under
      ``ignored`` (their clock is weeks since start).
    * Several drugs of one class: the state listed first in the class's
      ``precedence`` wins (higher tier, then window > unknown > early >
      late > stopped).
    * Drugs of class ``none`` (propranolol, metformin, ...) are accepted and
      listed under ``ignored`` with the reason.

The file itself
    Read as UTF-8 (a byte-order mark is accepted in YAML and JSON alike).
    A key given twice in one mapping is an error naming both lines (YAML and
    JSON would otherwise keep the last one silently: ``medications:`` twice
    would drop the drugs). Numbers are decimal: YAML 1.1's ``0x10``, ``010``,
    ``1:30`` and ``1_000`` are errors, not 16, 8, 90 and 1000. Nesting deeper
    than 64 levels, YAML alias bombs and ``cases: []`` are errors
    (:mod:`bayesdx.knowledge.text`).

Labels
    ``diagnosis: {present: [...], absent: [...]}`` (cause ids; one id may be
    written as a string) is checked against the model and kept on
    :attr:`ParsedCase.label`; it never becomes evidence.

Extensions (beyond the contract)
--------------------------------
* ``evidence:`` - a mapping ``node: state`` set directly on the network,
  validated against the model (an unknown node or state is an error with
  suggestions) and merged after the fields; a state that contradicts one
  derived from a field is an error. :func:`evidence_to_case` uses it for
  whatever has no natural field (e.g. ``age_group``, exposure states).
* Words instead of numbers: ``cbc``, ``baseline_cbc.anc`` and ``vitamins``
  accept the node states as words (``anc: moderate``, ``b12: low``,
  ``mcv: high``, ``amc: high`` for monocytosis); ``mma`` also accepts a number
  in umol/L (elevated from 0.4).
* Censored values ``"<50 pg/mL"``, ``">2000"``: used when the whole range
  falls in one band, otherwise an error asking for the measured value.
* Times with units: ``age_years: "9 months"``, ``weeks: "3 months"``.
* Medications may be written as plain names (``- clozapine``) or as
  ``- clozapine: {weeks: 9}``; names are matched case-insensitively with
  spaces, hyphens, slashes and ``+`` read as ``_`` (``TMP-SMX``,
  ``Co-trimoxazole``), brand names and spellings come from the aliases of
  ``model/drugs.yaml``, and salt or formulation words (``sodium``,
  ``mofetil``, ``XR``, ``100mg``) are dropped if needed. A medication may
  carry a ``dose`` (not modelled; listed under ``ignored``).
* Words are case-insensitive (``Positive``); ``note`` and ``description``
  are free-text fields; a batch file may also be a bare list of cases.

Modules
-------
The reader is split by responsibility; only the names above are public.

* :mod:`bayesdx.case.reader` - :class:`ParsedCase`, :func:`parse_case`,
  :func:`read_cases` (files, batches), the ``evidence:`` extension.
* :mod:`bayesdx.case.collect` - the collect mode :func:`read_case`
  (:class:`CaseReading`: the evidence of every readable field and every
  problem, each with its field path as data, e.g. ``("medications", 0,
  "name")``; the app reads its form this way).
* :mod:`bayesdx.case.fields` - demographics, numeric CBC / baseline /
  vitamin fields and their bands.
* :mod:`bayesdx.case.sections` - smear, history, tests and marrow terms.
* :mod:`bayesdx.case.medications` - drug names, classes and tiers, timing.
* :mod:`bayesdx.case.inverse` - :func:`evidence_to_case`.
* :mod:`bayesdx.case.table` - :func:`row_to_case`, :func:`case_to_row`,
  :func:`parse_row` (the table form).
* :mod:`bayesdx.case.common` - words, hints, the problem list, numbers with
  units (:mod:`bayesdx.case.units`).

Examples
--------
>>> from bayesdx.knowledge.load import load_knowledge
>>> kb = load_knowledge()
>>> case = parse_case({"age_years": 34, "cbc": {"anc": "800 /uL"},
...                    "medications": [{"name": "clozapine", "weeks": 9}]}, kb)
>>> case.evidence["anc"], case.evidence["exposure_antipsychotic"]
('moderate', 'clozapine_window')
>>> case.evidence["exposure_antithyroid"]   # the list is complete
'none'
"""

from __future__ import annotations

from .inverse import evidence_to_case
from .collect import CaseReading, read_case
from .reader import ParsedCase, iter_cases, parse_case, read_cases
from .table import case_to_row, parse_row, row_to_case

__all__ = ["CaseReading", "ParsedCase", "case_to_row", "evidence_to_case", "iter_cases", "parse_case",
           "parse_row",
           "read_case", "read_cases", "row_to_case"]
