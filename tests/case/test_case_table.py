"""The table form of a case (bayesdx.case.table): row -> case dict -> the one reader, and back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesdx.case import parse_case
from bayesdx.case.table import case_to_row, is_missing, parse_row, row_to_case
from bayesdx.errors import CaseError
from bayesdx.evaluation.vignettes import load_vignettes
from bayesdx.knowledge.load import load_knowledge


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.mark.parametrize("lists", [False, True])
def test_every_vignette_round_trips_through_a_row(kb, lists):
    """case -> row -> case reads to the same evidence, ignored list and id, for all vignettes."""
    n = 0
    for v in load_vignettes():
        row = case_to_row(v.case, lists=lists)
        assert all("." not in k or not isinstance(val, dict) for k, val in row.items())
        a, b = parse_case(v.case, kb), parse_row(row, kb)
        assert b.evidence == a.evidence, v.id
        assert b.id == a.id
        assert sorted(map(str, b.ignored)) == sorted(map(str, a.ignored)), v.id
        n += 1
    assert n >= 80


def test_round_trip_through_a_real_csv_and_parquet(kb, tmp_path):
    """Through pandas' CSV and pyarrow's Parquet (types, NaN cells, list columns)."""
    vs = load_vignettes()[:30]
    for lists, name in ((False, "v.csv"), (True, "v.parquet")):
        df = pd.DataFrame([case_to_row(v.case, lists=lists) for v in vs])
        path = tmp_path / name
        if name.endswith(".csv"):
            df.to_csv(path, index=False)
            back = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"id": str})
        else:
            df.to_parquet(path)
            back = pd.read_parquet(path)
        for v, rec in zip(vs, back.to_dict("records")):
            assert parse_row(rec, kb).evidence == parse_case(v.case, kb).evidence, (name, v.id)


def test_cells_that_are_empty():
    assert all(map(is_missing, [None, float("nan"), np.nan, pd.NA, pd.NaT, "", "  "]))
    assert not any(map(is_missing, [0, 0.0, "0", "none", [], False]))
    assert row_to_case({"cbc.anc": np.nan, "tests.hiv": None, "sex": ""}) == ({}, [])


def test_numpy_and_parquet_cells_become_plain_python():
    case, problems = row_to_case({"cbc.anc": np.float64(0.4), "age_years": np.int64(3),
                                  "smear": np.array(["blasts", None], dtype=object),
                                  "medications": [{"name": "clozapine", "weeks": 9.0,
                                                   "stopped_weeks_ago": None, "dose": None}]})
    assert problems == []
    assert case == {"cbc": {"anc": 0.4}, "age_years": 3, "smear": ["blasts"],
                    "medications": [{"name": "clozapine", "weeks": 9.0}]}
    assert type(case["cbc"]["anc"]) is float and type(case["age_years"]) is int


def test_medications_forms():
    assert row_to_case({"medications": "none"})[0] == {"medications": []}
    assert row_to_case({"medications": "None"})[0] == {"medications": []}
    assert row_to_case({"medications": []})[0] == {"medications": []}
    assert row_to_case({"medications": "clozapine; omeprazole"})[0] == {
        "medications": ["clozapine", "omeprazole"]}
    # a name in the list and its timing in med.<name>.* columns are one drug
    case, _ = row_to_case({"medications": "Clozapine;omeprazole", "med.clozapine.weeks": 9,
                           "med.methotrexate.stopped_weeks_ago": 8, "med.rituximab": "yes",
                           "med.lorazepam": "no"})
    assert case["medications"] == [{"name": "Clozapine", "weeks": 9}, "omeprazole",
                                   {"name": "methotrexate", "stopped_weeks_ago": 8},
                                   {"name": "rituximab"}]
    # no drug named: unknown, not "no drugs"
    assert "medications" not in row_to_case({"med.clozapine": "no"})[0]
    # a dot in a drug's name stays in the name
    assert row_to_case({"med.co.trimoxazole.weeks": 2})[0]["medications"] == [
        {"name": "co.trimoxazole", "weeks": 2}]


def test_table_problems_name_the_column():
    _, problems = row_to_case({"smear": "normal", "smear.blasts": "absent"})
    assert [p.path for p in problems] == ["smear.blasts"]
    _, problems = row_to_case({"marrow.findings.dysplasia": "present", "marrow.findings": "fibrosis"})
    assert [p.path for p in problems] == ["marrow.findings"]
    _, problems = row_to_case({"med.clozapine": "maybe"})
    assert problems[0].path == "med.clozapine" and "yes or no" in problems[0].expected
    _, problems = row_to_case({"medications": "none", "med.clozapine.weeks": 3})
    assert problems[0].path == "medications" and "contradiction" in problems[0].expected


def test_parse_row_reports_every_problem_by_column(kb):
    with pytest.raises(CaseError) as err:
        parse_row({"cbc.anc": "lots", "med.clozapin.weeks": 9, "med.haloperidol.weeks": "soon",
                   "smear": "normal", "smear.blasts": "present", "tests.hiv": "maybe",
                   "colour": "red"}, kb, source="cohort.csv row 7")
    paths = sorted(p.path for p in err.value.problems)
    assert paths == ["cbc.anc", "colour", "med.clozapin", "med.haloperidol.weeks",
                     "smear.blasts", "tests.hiv"]
    assert {p.file for p in err.value.problems} == {"cohort.csv row 7"}
    text = str(err.value)
    assert "did you mean clozapine" in text


def test_labels_in_columns(kb):
    pc = parse_row({"cbc.anc": 0.4, "diagnosis.present": "sle; rheumatoid_arthritis",
                    "diagnosis.absent": "mds"}, kb)
    assert pc.label == {"present": ["sle", "rheumatoid_arthritis"], "absent": ["mds"]}
    assert pc.evidence == {"anc": "severe"}  # scoring ignores the label
    with pytest.raises(CaseError) as err:
        parse_row({"diagnosis.present": "sle;slee", "diagnosis.absent": "sle"}, kb)
    assert sorted(p.path for p in err.value.problems) == ["diagnosis.absent[0]",
                                                          "diagnosis.present[1]"]


def test_case_to_row_refuses_what_one_row_cannot_hold():
    with pytest.raises(ValueError, match="named once"):
        case_to_row({"medications": ["clozapine", {"name": "clozapine", "weeks": 3}]})
    with pytest.raises(ValueError, match="list of terms"):
        case_to_row({"smear": ["blasts;auer_rods"]})
    assert case_to_row({"medications": [{"clozapine": {"weeks": 9}}]}) == {
        "med.clozapine.weeks": 9}
