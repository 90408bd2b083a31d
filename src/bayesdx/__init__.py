"""bayesdx: a probabilistic diagnostic model for the causes of leukopenia.

A research and teaching tool, not a medical device.

The package is layered; each layer imports only from those below it:

* :mod:`bayesdx.knowledge` — knowledge in: schema, loader, checks, network tables;
* :mod:`bayesdx.inference` — the exact inference core (:class:`Engine`);
* :mod:`bayesdx.case` — the case-file reader and units;
* the analyses at the top: :mod:`bayesdx.diagnosis`, :mod:`bayesdx.explain`,
  :mod:`bayesdx.voi`, :mod:`bayesdx.sensitivity`, :mod:`bayesdx.uncertainty`;
* the edges: :mod:`bayesdx.evaluation`, :mod:`bayesdx.cli`, :mod:`bayesdx.ui`.

The flat public API below is what the case-file contract promises, plus
:func:`score_frame` (a pandas DataFrame of patients in the table form of the
contract, ``docs/cohort-format.md``, scored row by row).

Examples
--------
>>> import bayesdx
>>> d = bayesdx.diagnose({"age_years": 34, "cbc": {"anc": 0.2},
...                       "medications": [{"name": "clozapine", "weeks": 9}]}, draws=0)
>>> d.causes[0].id
'drug_antipsychotic'
"""

from __future__ import annotations

from .lazy import lazy_getattr

__version__ = "0.1.0"

# The flat API is imported on first use (PEP 562), so that ``python -m bayesdx.ui.serve``
# starts the app's server without first importing numpy, scipy and the engine (~0.6 s):
# its warm-up thread imports them beside the starting server.
_LAZY = {
    "CounterfactualScores": "counterfactual", "counterfactual": "counterfactual",
    "counterfactual_batch": "counterfactual",
    "diagnose_many": "batch", "score_cases": "batch",
    "CauseResult": "diagnosis", "Diagnosis": "diagnosis", "Model": "diagnosis", "diagnose": "diagnosis",
    "load_model": "diagnosis",
    "BayesdxError": "errors", "CaseError": "errors", "ImpossibleEvidenceError": "errors",
    "KnowledgeError": "errors", "Problem": "errors", "UsageError": "errors",
    "CauseWorkup": "differential", "DifferentialTests": "differential", "cause_workup": "differential",
    "differential_tests": "differential",
    "JointExplanation": "explanations", "JointExplanations": "explanations",
    "joint_explanations": "explanations", "only_cause": "explanations",
    "BatchPosterior": "inference.engine", "Engine": "inference.engine", "Posterior": "inference.engine",
    "score_frame": "scoring.frame",
}

__all__ = [
    "BatchPosterior",
    "BayesdxError",
    "CaseError",
    "CauseResult",
    "CauseWorkup",
    "CounterfactualScores",
    "DifferentialTests",
    "JointExplanation",
    "JointExplanations",
    "Diagnosis",
    "Engine",
    "ImpossibleEvidenceError",
    "KnowledgeError",
    "Model",
    "Posterior",
    "Problem",
    "UsageError",
    "__version__",
    "cause_workup",
    "counterfactual",
    "counterfactual_batch",
    "differential_tests",
    "joint_explanations",
    "only_cause",
    "diagnose",
    "diagnose_many",
    "score_cases",
    "load_model",
    "score_frame",
]


__getattr__ = lazy_getattr(globals(), _LAZY)
"""The flat API, imported on first use (see ``_LAZY``; ``score_frame`` needs pandas)."""


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
