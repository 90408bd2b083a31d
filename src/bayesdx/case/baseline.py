"""The fall-from-baseline finding: has the ANC fallen since a count taken before the drugs?

Internal to :mod:`bayesdx.case`. A drug that is causing a neutropenia has lowered
the count from where it stood before the drug was started, so an ANC that has
*not* fallen since a baseline count that predates every suspect drug argues
against the drugs (node ``anc_fall`` observed ``absent``). The finding is read
only when all of these hold:

* ``cbc.anc`` and ``baseline_cbc.anc`` are both measured numbers;
* ``baseline_cbc.weeks_ago`` is given;
* the medication list names at least one drug whose cause is a parent of
  ``anc_fall``, every such drug has its start (``weeks``), and the baseline
  was taken at or before the earliest start (``weeks_ago`` >= every ``weeks``).

"Not fallen" means the ANC now is at least :data:`UNCHANGED` of the baseline
(within day-to-day variation). A fall is left unobserved: the baseline band
(``baseline_anc``) already carries what a normal earlier count says, and a fall
fits a new non-drug cause as well as a drug.

Examples
--------
>>> from bayesdx.case import parse_case
>>> from bayesdx.knowledge.load import load_knowledge
>>> case = {"age_years": 30, "cbc": {"anc": 1.1},
...         "baseline_cbc": {"anc": 1.2, "weeks_ago": 20},
...         "medications": [{"name": "clozapine", "weeks": 12}]}
>>> parse_case(case, load_knowledge()).evidence["anc_fall"]
'absent'
"""

from __future__ import annotations

from .common import ReaderBase
from .units import Reading

__all__ = ["UNCHANGED", "BaselineReader"]

UNCHANGED = 0.75
"""An ANC at or above this share of the baseline has not fallen (E: within-person
variation of the neutrophil count is of the order of 15-20 %)."""

NODE = "anc_fall"


class BaselineReader(ReaderBase):
    """Sets ``anc_fall`` from the current and baseline ANC and the drug start times."""

    anc_now: object = None
    anc_before: object = None
    before_weeks: object = None
    drug_starts: tuple = ()  # (cause, weeks) per listed drug, from the medications reader

    def read_fall(self) -> str | None:
        """Observe ``anc_fall: absent`` when the rules above hold.

        Returns ``None`` when it was observed, else why ``baseline_cbc.weeks_ago``
        (if given) changed nothing.
        """
        if NODE not in self.kb.findings:
            return "no fall-from-baseline finding in this model"
        parents = self.kb.findings[NODE].parents
        starts = [w for c, w in self.drug_starts if c in parents]
        now, before, ago = self.anc_now, self.anc_before, self.before_weeks
        if not starts:
            return "used only to date a baseline ANC against a listed neutropenia drug's start"
        if not all(isinstance(r, Reading) and r.op is None for r in (now, before, ago)):
            return "used only when the ANC now and at baseline are both given as numbers"
        if any(w is None for w in starts) or ago.value < max(starts):
            return ("used only when the baseline predates every listed drug's start "
                    "(each drug needs its weeks)")
        if now.value < UNCHANGED * before.value:
            return "the ANC has fallen since the baseline: the fall is carried by baseline_anc"
        self.set(NODE, "absent", "baseline_cbc.weeks_ago")
        return None
