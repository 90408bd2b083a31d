"""Safety lines for a scenario: "do not miss" causes and contradictory entries.

What to name, and from which probability, is knowledge (``model/alerts.yaml``,
thresholds with their sources in ``priors/alerts.yaml``); this module applies
it to one scenario's evidence and posteriors. The app, the command line and
the printable summary all show the same lines.

* :attr:`Alerts.do_not_miss` - a dangerous cause (acute leukaemia, aplastic
  anaemia, HIV, drug agranulocytosis with fever) whose probability given the
  evidence is at or above its threshold, i.e. plausible and not yet excluded;
* :attr:`Alerts.inconsistent` - entries that contradict each other (a normal
  ANC with no neutrophils on the smear): check them before reading a ranking.

Examples
--------
>>> from bayesdx.diagnosis import load_model, diagnose_evidence
>>> m = load_model()
>>> ev = {"anc": "normal", "smear_absent_neutrophils": "present"}
>>> a = check_alerts(m.kb, ev, {c.id: c.posterior for c in diagnose_evidence(m, ev, draws=0).causes})
>>> a.inconsistent[0].id
'normal_anc_absent_neutrophils'
>>> ev = {"anc": "severe", "hx_fever": "present", "exposure_antipsychotic": "clozapine_window"}
>>> post = {c.id: c.posterior for c in diagnose_evidence(m, ev, draws=0).causes}
>>> [d.id for d in check_alerts(m.kb, ev, post).do_not_miss][0]
'drug_agranulocytosis_fever'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .words import pct

__all__ = ["Alerts", "DoNotMiss", "Inconsistency", "check_alerts"]


@dataclass(frozen=True)
class DoNotMiss:
    """A dangerous cause that is plausible given the evidence and not yet excluded."""

    id: str
    label: str
    cause: str
    probability: float
    threshold: float
    action: str
    sources: tuple[str, ...]

    @property
    def text(self) -> str:
        """One sentence: the cause, its probability against its threshold, what settles it."""
        return (f"{self.label} ({pct(self.probability)}; named from {pct(self.threshold)}): "
                f"consider {self.action}.")


@dataclass(frozen=True)
class Inconsistency:
    """Entries that contradict each other as a clinician reads them."""

    id: str
    message: str
    entries: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Alerts:
    """Every safety line of one scenario (empty tuples when there is none)."""

    do_not_miss: tuple[DoNotMiss, ...] = ()
    inconsistent: tuple[Inconsistency, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.do_not_miss or self.inconsistent)


def check_alerts(kb, evidence: Mapping[str, str], posteriors: Mapping[str, float]) -> Alerts:
    """The safety lines of a scenario.

    Parameters
    ----------
    kb : Knowledge
        The loaded knowledge (``kb.alerts`` and ``kb.alert_thresholds``).
    evidence : mapping
        Node -> state, as the model sees it.
    posteriors : mapping
        Cause id -> probability given ``evidence``.
    """
    dnm = []
    for key, item in kb.alerts.do_not_miss.items():
        if any(evidence.get(node) not in states for node, states in item.when.items()):
            continue
        threshold = kb.alert_thresholds[item.threshold]
        cause = max(item.causes, key=lambda c: posteriors.get(c, 0.0))
        p = float(posteriors.get(cause, 0.0))
        if p >= threshold.value:
            dnm.append(DoNotMiss(key, item.label, cause, p, threshold.value, item.action,
                                 tuple(threshold.source_list)))
    bad = []
    for key, rule in kb.alerts.consistency.items():
        if all(evidence.get(node) in states for node, states in rule.all.items()):
            bad.append(Inconsistency(key, rule.message, tuple((n, evidence[n]) for n in rule.all)))
    return Alerts(tuple(sorted(dnm, key=lambda d: -d.probability)), tuple(bad))
