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

__version__ = "0.1.0"

from .counterfactual import CounterfactualScores, counterfactual, counterfactual_batch
from .batch import diagnose_many, score_cases
from .diagnosis import CauseResult, Diagnosis, Model, diagnose, load_model
from .errors import (
    BayesdxError,
    CaseError,
    ImpossibleEvidenceError,
    KnowledgeError,
    Problem,
    UsageError,
)
from .differential import CauseWorkup, DifferentialTests, cause_workup, differential_tests
from .explanations import JointExplanation, JointExplanations, joint_explanations, only_cause
from .inference.engine import BatchPosterior, Engine, Posterior

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


def __getattr__(name: str):
    """``bayesdx.score_frame`` is imported on first use (it needs pandas)."""
    if name == "score_frame":
        from .scoring.frame import score_frame

        return score_frame
    raise AttributeError(f"module 'bayesdx' has no attribute {name!r}")
