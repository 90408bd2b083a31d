"""A small synthetic cohort in the table form, drawn from the model's own sampler.

Imported by the scoring tests (not a conftest: tests/conftest.py is imported by name).
"""

from __future__ import annotations

import pandas as pd
import pytest

from bayesdx.case import case_to_row, evidence_to_case
from bayesdx.diagnosis import load_model
from bayesdx.evaluation.cohort import observe, sample_cohort

#: rows of the ``cohort`` fixture that cannot be read, and what each error says
BAD = {5: "cbc.anc:", 17: "med.clozapin:", 30: "smear.<term> columns, not both"}


@pytest.fixture(scope="session")
def model():
    return load_model()


@pytest.fixture(scope="session")
def cohort(model):
    """60 sampled patients as table rows; rows 5, 17 and 30 are bad (:data:`BAD`)."""
    evs = observe(model.net, sample_cohort(model.net, 60, seed=11), seed=11)
    rows = [case_to_row({"id": f"p{i:03d}", **evidence_to_case(e, model.kb)})
            for i, e in enumerate(evs)]
    rows[5] = {"id": "bad-anc", "cbc.anc": "lots", "sex": "female"}
    rows[17] = {"id": "bad-drug", "med.clozapin.weeks": 9, "sex": "femal"}
    rows[30] = {"id": "bad-section", "smear": "normal", "smear.blasts": "present"}
    return pd.DataFrame(rows)
