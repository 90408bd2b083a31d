"""The safe YAML/JSON reader: duplicate keys, encoding, nesting, alias bombs, YAML 1.1 numbers."""

from __future__ import annotations

import pytest

from bayesdx.knowledge.text import (
    MAX_DEPTH,
    TextError,
    decode,
    json_load,
    yaml_load,
)


def _error(fn, text) -> TextError:
    with pytest.raises(TextError) as exc:
        fn(text)
    return exc.value


@pytest.mark.parametrize("text, where, lines", [
    ("cbc: {anc: 0.2, anc: 3.0}\n", "cbc.anc", "line 1, column 7 and again at column 17"),
    ("medications:\n  - {name: clozapine, weeks: 9}\nsex: female\nmedications: []\n",
     "medications", "line 1 and again at line 4"),
    ("cases:\n  - id: a\n    cbc:\n      anc: 1\n      anc: 2\n", "cases[0].cbc.anc",
     "line 4 and again at line 5"),
    ("{1: a, true: b}\n", "True", "column 2 and again at column 8"),  # 1 == True in Python
])
def test_yaml_duplicate_keys_name_path_and_both_lines(text, where, lines):
    err = _error(yaml_load, text)
    assert err.where == where and err.expected == "must be given once"
    assert lines in err.got
    assert str(err.problem("f.yaml")).startswith(f"f.yaml: {where}: must be given once; got it at line")


@pytest.mark.parametrize("text, where, lines", [
    ('{"cbc": {"anc": 0.2, "anc": 3.0}}', "cbc.anc", "column 10 and again at column 22"),
    ('{"medications": [{"name": "clozapine"}],\n "sex": "male",\n "medications": []}',
     "medications", "line 1 and again at line 3"),
])
def test_json_duplicate_keys_name_path_and_both_lines(text, where, lines):
    err = _error(json_load, text)
    assert err.where == where and lines in err.got


def test_duplicates_can_be_collected_for_a_full_report():
    dups: list = []
    lines: dict = {}
    data = yaml_load("causes:\n  sle:\n    cap: 0.9\n    cap: 0.5\n  sle: {}\n", duplicates=dups,
                     lines=lines)
    assert sorted(d.where for d in dups) == ["causes.sle", "causes.sle.cap"]
    assert data == {"causes": {"sle": {}}}  # YAML's last value, as before; the problems are reported
    assert lines["causes.sle"] == 2


def test_merge_keys_are_not_duplicates():
    assert yaml_load("b: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n") == {"b": {"x": 1}, "c": {"x": 2}}


def test_bom_and_utf8():
    assert json_load("\ufeff{\"cbc\": {\"anc\": 0.2}}") == {"cbc": {"anc": 0.2}}
    assert yaml_load(decode(b"\xef\xbb\xbfcbc: {anc: 0.2}")) == {"cbc": {"anc": 0.2}}
    err = _error(decode, b"sex: female\nnote: caf\xe9\n")
    assert err.where == "line 2, column 10" and "0xe9" in err.got


@pytest.mark.parametrize("fn, text", [
    (yaml_load, "a: " + "[" * 5000 + "]" * 5000),
    (yaml_load, "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)),
    (yaml_load, "".join(" " * i + "a:\n" for i in range(MAX_DEPTH + 5))),
    (json_load, "[" * 5000 + "]" * 5000),
    (json_load, "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)),
])
def test_deep_nesting_is_a_clear_error(fn, text):
    assert f"must be nested at most {MAX_DEPTH} levels deep" in _error(fn, text).expected


def test_alias_bomb_and_self_reference():
    bomb = "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)])
    assert "YAML aliases" in _error(yaml_load, bomb).expected
    assert _error(yaml_load, "a: &a [*a]").expected == "must not contain itself"
    assert yaml_load("a: &a [1]\nb: *a\n") == {"a": [1], "b": [1]}  # plain aliases are fine


def test_yaml_11_number_forms_are_kept_as_written():
    got = yaml_load("a: 0x10\nb: 010\nc: 0b11\nd: 1:30\ne: 1_000\nf: 1_0.5\ng: -7\nh: 2.5\ni: 0\n")
    assert got == {"a": "0x10", "b": "010", "c": "0b11", "d": "1:30", "e": "1_000", "f": "1_0.5",
                   "g": -7, "h": 2.5, "i": 0}
    assert yaml_load("a: " + "1" * 5000)["a"] == "1" * 5000  # never int(): no digit-limit error
    assert json_load('{"a": ' + "1" * 5000 + "}")["a"] == "1" * 5000


def test_syntax_errors_are_still_yaml_errors_with_a_position():
    import yaml

    with pytest.raises(yaml.YAMLError):
        yaml_load("a: [1, 2\n")
    err = _error(json_load, '{"a": 1,}')
    assert err.where.startswith("line 1") and err.expected == "must be valid JSON"
