"""Tests of bayesdx.case (public API) and bayesdx.case.reader: whole cases, files, batches."""

from __future__ import annotations

import doctest
import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

import bayesdx.case as case_module
import bayesdx.case.units as units_module
from bayesdx.case import ParsedCase, parse_case, read_case, read_cases
from bayesdx.errors import CaseError
from bayesdx.knowledge.load import load_knowledge

from test_case_common import EXAMPLE, EXAMPLE_EVIDENCE, ev, problems


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


# --------------------------------------------------------------------------- the contract's example


def test_contract_example_parses_to_expected_evidence(kb):
    parsed = parse_case(yaml.safe_load(EXAMPLE), kb)
    assert parsed.id == "example-1"
    assert parsed.evidence == EXAMPLE_EVIDENCE
    fields = {i["field"] for i in parsed.ignored}
    assert fields == {"cbc.wbc", "baseline_cbc.weeks_ago"}
    assert all(i["reason"] for i in parsed.ignored)
    assert parsed.raw == yaml.safe_load(EXAMPLE)


def test_contract_example_in_shared_doc_still_matches(kb):
    doc = Path(__file__).resolve().parents[2].parent / "shared" / "case-format.md"
    if not doc.exists():
        pytest.skip("shared/case-format.md not beside the checkout")
    block = re.search(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S).group(1)
    assert parse_case(yaml.safe_load(block), kb).evidence == EXAMPLE_EVIDENCE


def test_empty_case_gives_no_evidence(kb):
    assert parse_case({}, kb) == ParsedCase(id=None, evidence={}, ignored=[], raw={})


def test_every_evidence_node_and_state_exists(kb):
    for node, state in parse_case(yaml.safe_load(EXAMPLE), kb).evidence.items():
        assert state in kb.states(node), node


# --------------------------------------------------------------------------- public API


def test_all_is_the_public_api():
    assert sorted(case_module.__all__) == ["CaseReading", "ParsedCase", "case_to_row", "evidence_to_case",
                                           "iter_cases", "parse_case", "parse_row", "read_case", "read_cases",
                                           "row_to_case"]
    for name in case_module.__all__:
        assert getattr(case_module, name).__doc__
    assert sorted(units_module.__all__) == ["Reading", "UnitError", "convert", "parse_unit",
                                            "read_value", "registry"]
    for name in units_module.__all__:
        assert getattr(units_module, name).__doc__


CASE_MODULES = [case_module, *(importlib.import_module(m.name)
                               for m in pkgutil.iter_modules(case_module.__path__, "bayesdx.case."))]


def test_case_is_a_package_of_small_modules():
    names = sorted(m.__name__ for m in CASE_MODULES)
    assert names == ["bayesdx.case", "bayesdx.case.baseline", "bayesdx.case.collect", "bayesdx.case.common",
                     "bayesdx.case.fields", "bayesdx.case.inverse",
                     "bayesdx.case.medications", "bayesdx.case.reader", "bayesdx.case.sections",
                     "bayesdx.case.table", "bayesdx.case.typed", "bayesdx.case.unit_build", "bayesdx.case.unit_table",
                     "bayesdx.case.units"]
    for module in CASE_MODULES:
        assert module.__doc__ and module.__all__, module.__name__
        assert len(Path(module.__file__).read_text(encoding="utf-8").splitlines()) < 400, module.__name__


@pytest.mark.parametrize("module", [*CASE_MODULES, units_module], ids=lambda m: m.__name__)
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_parsed_case_is_frozen(kb):
    parsed = parse_case({"sex": "male"}, kb)
    with pytest.raises(AttributeError):
        parsed.id = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("data", [
    None, [], "x", 3, {"cbc": []}, {"cbc": {"anc": {}}}, {"medications": "clozapine"},
    {"medications": [3]}, {"medications": [{"weeks": 3}]}, {"smear": 5}, {"history": [{"a": 1}]},
    {"evidence": []}, {"marrow": "x"}, {1: 2}, {"sex": 1}, {"tests": {"ana": 1}},
    {"medications": [{"name": "clozapine", "weeks": "soon"}]}, {"id": {"a": 1}},
    {"marrow": {"cellularity": ["x"]}}, {"evidence": {"anc": 1}},
    {"medications": [{"name": "clozapine", "weeks": "<3"}]},
])
def test_garbage_is_a_case_error_never_a_traceback(kb, data):
    with pytest.raises(CaseError):
        parse_case(data, kb)


def test_null_values_are_unknown(kb):
    assert ev({"cbc": {"anc": None}, "history": {"fever": None}, "sex": None, "smear": None,
               "medications": None, "vitamins": None, "marrow": {"findings": None}}, kb) == {}


# --------------------------------------------------------------------------- error messages


def test_all_problems_reported_at_once(kb):
    with pytest.raises(CaseError) as info:
        parse_case({"id": "bad", "sex": "femal", "smear": ["blast"], "tests": {"hiv": "pos"},
                    "agee": 3, "cbc": {"ancc": 1}}, kb, source="cases.yaml")
    err = info.value
    assert err.case_id == "bad"
    paths = [p.path for p in err.problems]
    assert paths == ["agee", "sex", "cbc.ancc", "smear[0]", "tests.hiv"]
    assert all(p.file == "cases.yaml" for p in err.problems)
    text = str(err)
    assert text.startswith("case 'bad': 5 problems:")
    assert "did you mean age_years" in text
    assert "did you mean blasts" in text
    assert "did you mean anc" in text
    assert "did you mean female" in text


def test_unknown_terms_suggest(kb):
    assert "did you mean fever" in problems({"history": {"fevr": "present"}}, kb)
    assert "did you mean increased_blasts" in problems({"marrow": {"findings": ["increased_blast"]}}, kb)
    assert "did you mean cellularity" in problems({"marrow": {"celularity": "hypocellular"}}, kb)
    assert "did you mean anti_dsdna" in problems({"tests": {"anti_dsdn": "positive"}}, kb)
    assert "did you mean folate" in problems({"vitamins": {"folat": 3}}, kb)
    assert "did you mean weeks" in problems({"medications": [{"name": "clozapine", "week": 3}]}, kb)
    assert "hypocellular" in problems({"marrow": {"cellularity": "empty"}}, kb)


def test_case_insensitive_words(kb):
    assert ev({"sex": "Female", "tests": {"ana": "Positive"}, "smear": ["Blasts"]}, kb) == {
        "sex": "female", "test_ana": "positive", "smear_blasts": "present"}


# --------------------------------------------------------------------------- evidence extension


def test_evidence_extension(kb):
    assert ev({"evidence": {"age_group": "older", "hiv": "present"}}, kb) == {
        "age_group": "older", "hiv": "present"}
    assert ev({"cbc": {"anc": 0.3}, "evidence": {"anc": "severe"}}, kb) == {"anc": "severe"}
    msg = problems({"evidence": {"ancc": "low", "hb": "lo"}}, kb)
    assert "evidence.ancc" in msg and "did you mean anc" in msg
    assert "evidence.hb" in msg and "did you mean low" in msg


def test_evidence_conflicting_with_a_field_is_an_error(kb):
    msg = problems({"cbc": {"anc": 0.3}, "evidence": {"anc": "mild"}}, kb)
    assert "evidence.anc: must agree with cbc.anc (anc=severe); got anc=mild" in msg
    msg = problems({"medications": [], "evidence": {"exposure_chemotherapy": "on_unknown"}}, kb)
    assert "evidence.exposure_chemotherapy" in msg and "medications" in msg


# --------------------------------------------------------------------------- files


def test_batch_file_with_one_bad_case(kb, tmp_path):
    f = tmp_path / "batch.yaml"
    f.write_text("cases:\n"
                 "  - {id: a, sex: female}\n"
                 "  - {id: b, medications: [{name: clozapin}]}\n"
                 "  - {id: c, cbc: {anc: '450 /uL'}}\n", encoding="utf-8")
    out = read_cases(f, kb)
    assert [type(x).__name__ for x in out] == ["ParsedCase", "CaseError", "ParsedCase"]
    assert out[0].evidence == {"sex": "female"}
    assert out[1].case_id == "b"
    assert out[1].problems[0].path == "cases[1].medications[0].name"
    assert out[1].problems[0].file == str(f)
    assert out[2].evidence == {"anc": "severe"}
    lenient = read_cases(f, kb, lenient=True)
    assert all(isinstance(x, ParsedCase) for x in lenient)


def test_single_case_json_and_yaml(kb, tmp_path):
    j = tmp_path / "case.json"
    j.write_text(json.dumps(yaml.safe_load(EXAMPLE)), encoding="utf-8")
    (parsed,) = read_cases(j, kb)
    assert parsed.evidence == EXAMPLE_EVIDENCE
    y = tmp_path / "case.yaml"
    y.write_text(EXAMPLE, encoding="utf-8")
    assert read_cases(str(y), kb)[0].evidence == EXAMPLE_EVIDENCE
    bare = tmp_path / "list.yaml"
    bare.write_text("- {sex: male}\n- {sex: female}\n", encoding="utf-8")
    assert [c.evidence for c in read_cases(bare, kb)] == [{"sex": "male"}, {"sex": "female"}]
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert read_cases(empty, kb)[0].evidence == {}


def test_json_nan_is_rejected(kb, tmp_path):
    j = tmp_path / "nan.json"
    j.write_text('{"cbc": {"anc": NaN}}', encoding="utf-8")
    (err,) = read_cases(j, kb)
    assert isinstance(err, CaseError) and err.problems[0].path == "cbc.anc"


@pytest.mark.parametrize("name,text,where", [
    ("missing.yaml", None, ""),
    ("bad.yaml", "cases: [\n  {id: a\n", "line"),
    ("bad.json", '{"id": ', "line"),
    ("notlist.yaml", "cases: {id: a}\n", "cases"),
    ("extra.yaml", "cases: []\nid: x\n", "id"),
])
def test_unreadable_files_raise_case_error(kb, tmp_path, name, text, where):
    f = tmp_path / name
    if text is not None:
        f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseError) as info:
        read_cases(f, kb)
    p = info.value.problems[0]
    assert p.file == str(f)
    assert p.path.startswith(where)


def test_diagnosis_label_is_read_and_checked_but_not_evidence():
    """The contract's ``diagnosis:`` label: cause ids present / absent; scoring ignores it."""
    from bayesdx.case import parse_case
    from bayesdx.errors import CaseError
    from bayesdx.knowledge.load import load_knowledge

    kb = load_knowledge()
    pc = parse_case({"cbc": {"anc": 0.4}, "diagnosis": {"present": ["b12_deficiency"],
                                                         "absent": "mds"}}, kb)
    assert pc.label == {"present": ["b12_deficiency"], "absent": ["mds"]}
    assert pc.evidence == parse_case({"cbc": {"anc": 0.4}}, kb).evidence
    assert parse_case({}, kb).label is None
    with pytest.raises(CaseError) as err:
        parse_case({"diagnosis": {"present": ["b12_deficency"], "absent": ["mds"],
                                  "maybe": ["sle"]}}, kb)
    text = str(err.value)
    assert "diagnosis.present[0]" in text and "did you mean b12_deficiency" in text
    assert "diagnosis.maybe" in text
    with pytest.raises(CaseError, match="both present and absent"):
        parse_case({"diagnosis": {"present": ["mds"], "absent": ["mds"]}}, kb)


# --------------------------------------------------------------------------- collect mode


def test_collect_mode_returns_the_same_problems_as_parse_case(kb):
    case = {"age_years": "two", "sex": "femal", "cbc": {"anc": "1,2", "plt": 30, "a.b": 1},
            "smear": {"blasts": "maybe"}, "medications": ["clozapin", {"name": "omeprazole", "dose": 20}],
            "evidence": {"ghost": "x"}}
    with pytest.raises(CaseError) as err:
        parse_case(case, kb)
    reading = read_case(case, kb)
    assert [str(p) for p in reading.problems] == [str(p) for p in err.value.problems]
    fields = [p.field for p in reading.problems]
    assert fields == [("age_years",), ("sex",), ("cbc", "a.b"), ("cbc", "anc"), ("smear", "blasts"),
                      ("medications", 0, "name"), ("evidence", "ghost")]
    assert reading.evidence["plt"] == "very_low" and "anc" not in reading.evidence
    assert reading.evidence["exposure_antipsychotic"] == "none"  # the list still counts as complete
    assert not reading.ok


def test_collect_mode_leaves_out_what_a_problem_involves(kb):
    # a count larger than the WBC leaves out both; the rest still counts
    r = read_case({"cbc": {"wbc": 1.0, "alc": 3.0, "plt": 30}}, kb)
    assert [(p.field, p.related) for p in r.problems] == [(("cbc", "alc"), (("cbc", "wbc"),))]
    assert "alc" not in r.evidence and "wbc" not in r.evidence and r.evidence["plt"] == "very_low"
    # 'present' beside 'normal': the term is left out, so 'normal' sets it absent
    r = read_case({"smear": {"normal": "present", "blasts": "present"}}, kb)
    assert r.problems[0].field == ("smear", "blasts") and r.evidence["smear_blasts"] == "absent"
    # a stop later than the start: the stop is left out, the drug counts from its start
    r = read_case({"medications": [{"name": "clozapine", "weeks": 9, "stopped_weeks_ago": 20}]}, kb)
    assert r.problems[0].field == ("medications", 0, "stopped_weeks_ago")
    assert r.evidence["exposure_antipsychotic"] == "clozapine_window"


def test_collect_mode_maps_paths_back_to_the_case_as_given(kb):
    # the unknown drugs are left out after the first pass; what the second pass reads
    # from the second entry still names medications[1] (the case as given)
    r = read_case({"medications": ["clozapin", {"name": "clozapine", "weeks": 9}, "methimazol"]}, kb)
    assert [p.field for p in r.problems] == [("medications", 0, "name"), ("medications", 2, "name")]
    assert r.evidence["exposure_antipsychotic"] == "clozapine_window"
    assert r.origin["exposure_antipsychotic"] == ("medications", 1)


def test_collect_mode_of_a_good_case_equals_parse_case(kb):
    case = {"age_years": 34, "cbc": {"anc": "800 /uL"}, "smear": ["normal"],
            "medications": [{"name": "clozapine", "weeks": 9}]}
    r, p = read_case(case, kb), parse_case(case, kb)
    assert r.ok and r.evidence == p.evidence and r.ignored == p.ignored
