"""Hostile and careless case files: each a clear CaseError naming file and field (issue 15, items 2 and 4)."""

from __future__ import annotations

import json

import pytest

from bayesdx.case import parse_case, read_cases
from bayesdx.errors import CaseError
from bayesdx.knowledge.load import load_knowledge


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _file_error(tmp_path, kb, name: str, content: str | bytes) -> str:
    f = tmp_path / name
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    try:
        out = read_cases(f, kb)
    except CaseError as exc:
        return str(exc.problems[0])
    errors = [r for r in out if isinstance(r, CaseError)]
    assert errors, f"{name} was accepted: {out}"
    return str(errors[0].problems[0])


@pytest.mark.parametrize("name, content, expected", [
    ("dup.yaml", "cbc: {anc: 0.2, anc: 3.0}\n",
     "dup.yaml: cbc.anc: must be given once; got it at line 1, column 7 and again at column 17"),
    ("dupmed.yaml", "medications: [{name: clozapine, weeks: 9}]\nsex: male\nmedications: []\n",
     "dupmed.yaml: medications: must be given once; got it at line 1 and again at line 3"),
    ("dup.json", '{"medications": [{"name": "clozapine", "weeks": 9}],\n"medications": []}',
     "dup.json: medications: must be given once; got it at line 1 and again at line 2"),
    ("big.yaml", "cbc:\n  anc: " + "1" * 400 + "\n", "big.yaml: cbc.anc: must be a number"),
    ("huge.json", '{"cbc": {"anc": ' + "9" * 5000 + "}}", "huge.json: cbc.anc: must be a number"),
    ("deep.yaml", "cbc: " + "[" * 5000 + "]" * 5000 + "\n", "must be nested at most 64 levels deep"),
    ("deep.json", '{"cbc": ' + "[" * 5000 + "]" * 5000 + "}", "must be nested at most 64 levels deep"),
    ("latin1.yaml", b"note: caf\xe9\n", "latin1.yaml: line 1, column 10: must be UTF-8 text"),
    ("hex.yaml", "cbc: {anc: 0x10}\n", "hex.yaml: cbc.anc: must be a number"),
    ("octal.yaml", "cbc: {anc: 010}\n", "not a plain decimal number"),
    ("dose.yaml", "medications: [{name: clozapine, dose: {a: [1]}}]\n",
     "dose.yaml: medications[0].dose: must be a number or text"),
    ("empty.yaml", "cases: []\n", "empty.yaml: cases: must hold at least one case; got an empty list"),
    ("emptylist.json", "[]", "emptylist.json: must hold at least one case"),
    ("notmap.yaml", "cases:\n  - 5\n", "notmap.yaml: cases[0]: must be a mapping of case fields; got 5"),
])
def test_bad_case_files_are_clear_errors(tmp_path, kb, name, content, expected):
    assert expected in _file_error(tmp_path, kb, name, content)


def test_no_path_ends_in_a_stray_dot(tmp_path, kb):
    msg = _file_error(tmp_path, kb, "b.yaml", "cases:\n  - 5\n  - [1]\n")
    assert ".:" not in msg


def test_json_with_a_bom_is_read_like_yaml_with_one(tmp_path, kb):
    for name in ("bom.json", "bom.yaml"):
        f = tmp_path / name
        f.write_bytes(b"\xef\xbb\xbf" + json.dumps({"cbc": {"anc": 0.2}}).encode())
        (case,) = read_cases(f, kb)
        assert case.evidence == {"anc": "severe"}


def test_dose_as_number_or_text_is_still_accepted(kb):
    for dose in (100, "100 mg twice daily"):
        c = parse_case({"medications": [{"name": "clozapine", "dose": dose}]}, kb)
        assert {"field": "medications.clozapine.dose", "reason": "the dose is not modelled"} in c.ignored


def test_huge_integer_given_directly_is_a_case_error(kb):
    with pytest.raises(CaseError, match="cbc.anc"):
        parse_case({"cbc": {"anc": 10 ** 5000}}, kb)
