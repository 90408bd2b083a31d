"""The behaviour-probe format, every expectation kind (pass and fail), two-case probes,
unknown cause ids, malformed probes and set selection in ``bayesdx validate``."""

from __future__ import annotations

import json
import textwrap
from collections import Counter

import pytest

from bayesdx.cli.main import main
from bayesdx.diagnosis import load_model
from bayesdx.errors import CaseError
from bayesdx.evaluation.probe_score import Ranking, check_expectation, score_probes
from bayesdx.evaluation.probes import Expectation, load_probes, probe_dir, read_probe
from bayesdx.evaluation.suite import run_validation

R = {"a": Ranking(("x", "y", "z"), (0.6, 0.3, 0.1)),
     "b": Ranking(("y", "x", "z"), (0.5, 0.4, 0.05))}

CASE = "{age_years: 40, sex: male, cbc: {anc: 0.3, hb: 14.0, plt: 240}}"


def _check(kind, value, causes=("y",), case="a"):
    return check_expectation(Expectation(tuple(causes), kind, value, case), R)


@pytest.mark.parametrize("kind,value,causes,case,ok", [
    ("first", True, ("x",), "a", True), ("first", True, ("y",), "a", False),
    ("not_first", True, ("y",), "a", True), ("not_first", True, ("x",), "a", False),
    ("in_top", 2, ("y",), "a", True), ("in_top", 1, ("y",), "a", False),
    ("not_in_top", 1, ("y",), "a", True), ("not_in_top", 2, ("y",), "a", False),
    ("at_least", 0.3, ("y",), "a", True), ("at_least", 0.31, ("y",), "a", False),
    ("at_most", 0.3, ("y",), "a", True), ("at_most", 0.29, ("y",), "a", False),
    ("above", "z", ("y",), "a", True), ("above", "x", ("y",), "a", False),
    ("higher_in", "b", ("y",), "a", True), ("higher_in", "a", ("y",), "a", False),
    ("first", True, ("y",), "b", True), ("first", True, ("x",), "b", False),
    ("first", True, ("z", "x"), "a", True), ("at_most", 0.2, ("z", "y"), "a", False),
])
def test_each_kind_passes_and_fails(kind, value, causes, case, ok):
    c = _check(kind, value, causes, case)
    assert c.passed is ok
    assert c.detail and "rank" in c.detail


def test_failure_detail_has_the_numbers():
    c = _check("at_most", 0.1)
    assert not c.passed and c.detail == "rank 2, 0.300"
    c = _check("above", "x")
    assert "x rank 1, 0.600" in c.detail
    c = _check("higher_in", "a")
    assert c.detail == "case a 0.300 (rank 2), case b 0.500 (rank 1)"


def test_unknown_cause_id_fails_clearly():
    c = _check("first", True, ("cmv",))
    assert not c.passed and c.unknown == ("cmv",)
    assert "unknown cause id 'cmv'" in c.detail
    c = _check("above", "lymphoma", ("x",))
    assert not c.passed and c.unknown == ("lymphoma",)


def _write(folder, name, body):
    p = folder / f"{name}.yaml"
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


def test_suite_in_repository_is_well_formed():
    ps = load_probes()
    assert len(ps) >= 45
    assert len({p.id for p in ps}) == len(ps)
    covered = Counter(c for p in ps for c in p.covers)
    assert all(covered[f"10.{i}"] >= 2 for i in range(1, 9)) and covered["positive"] >= 5
    assert any(p.case_b for p in ps)
    assert probe_dir().name == "probes"


def test_scoring_probe_files_with_an_unknown_cause(tmp_path):
    _write(tmp_path, "b001-ok", f"""\
        id: b001-ok
        title: t
        rationale: r
        case: {CASE}
        expect:
          - {{cause: duffy_null_neutropenia, at_most: 1.0}}
        """)
    _write(tmp_path, "b002-unknown", f"""\
        id: b002-unknown
        title: t
        rationale: r
        case: {CASE}
        expect:
          - {{cause: no_such_cause, first: true}}
          - {{cause: idiopathic, at_least: 0.0}}
        """)
    s = score_probes(load_probes(tmp_path), load_model())
    assert (s.n, s.passed, s.failed) == (2, 1, 1)
    assert s.unknown_causes() == ["no_such_cause"]
    assert "no_such_cause ranks first: unknown cause id 'no_such_cause'" in s.format()


def test_two_case_probe(tmp_path):
    _write(tmp_path, "b001-copper", """\
        id: b001-copper
        title: t
        rationale: r
        compare: copper 5 (a) versus 150 (b)
        case: {age_years: 50, sex: female, cbc: {anc: 0.8, hb: 9.9}, vitamins: {copper: 5},
               history: {bariatric_surgery: present}}
        case_b: {age_years: 50, sex: female, cbc: {anc: 0.8, hb: 9.9}, vitamins: {copper: 150},
                 history: {bariatric_surgery: present}}
        expect:
          - {cause: copper_deficiency, higher_in: a}
          - {cause: copper_deficiency, higher_in: b}
          - {cause: copper_deficiency, not_first: true, in: b}
        """)
    (r,) = score_probes(load_probes(tmp_path), load_model()).results
    assert [c.passed for c in r.checks] == [True, False, True]
    assert set(r.rankings) == {"a", "b"}
    assert r.to_dict()["checks"][1]["passed"] is False


def test_malformed_probe_names_file_and_key(tmp_path):
    _write(tmp_path, "b001-bad", """\
        id: b001-other
        title: t
        case: {cbc: {anc: 0.3}}
        extra: 1
        expect:
          - {cause: alcohol, at_most: 2}
          - {cause: alcohol, first: true, not_first: true}
          - {cause: alcohol, higher_in: a}
          - {cause: alcohol, frist: true}
        """)
    _write(tmp_path, "b002-yaml", "id: [unclosed\n")
    with pytest.raises(CaseError) as exc:
        load_probes(tmp_path)
    text = str(exc.value)
    for part in ("b001-bad.yaml: id: must equal the file name", "b001-bad.yaml: rationale: must "
                 "be given", "b001-bad.yaml: extra: must be a known key",
                 "expect[0].at_most: must be a probability", "expect[1]: must have exactly one",
                 "expect[2].higher_in: must be 'a' or 'b'", "expect[3].frist: must be a known key",
                 "b002-yaml.yaml: must be valid YAML"):
        assert part in text, part


def test_case_b_without_compare_and_bad_case(tmp_path):
    p = _write(tmp_path, "b001-x", f"""\
        id: b001-x
        title: t
        rationale: r
        case: {CASE}
        case_b: {CASE}
        expect: [{{cause: alcohol, not_first: true, in: c}}]
        """)
    probe, problems = read_probe(p)
    assert probe is None
    text = " ".join(map(str, problems))
    assert "compare: must say" in text and "expect[0].in: must be 'a' or 'b'" in text
    _write(tmp_path, "b001-x", """\
        id: b001-x
        title: t
        rationale: r
        case: {cbc: {anc: -3}}
        expect: [{cause: alcohol, not_first: true}]
        """)
    (r,) = score_probes(load_probes(tmp_path), load_model()).results
    assert not r.passed and r.error and "cbc" in r.error


def test_set_selection_and_exit_codes(tmp_path, capsys):
    probes = tmp_path / "probes"
    probes.mkdir()
    _write(probes, "b001-pass", f"""\
        id: b001-pass
        title: t
        rationale: r
        case: {CASE}
        expect: [{{cause: alcohol, at_most: 1.0}}]
        """)
    assert main(["validate", "--set", "probes", "--probes", str(probes)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("probes: 1  passed: 1  failed: 0") and "vignettes:" not in out
    _write(probes, "b002-fail", f"""\
        id: b002-fail
        title: t
        rationale: r
        case: {CASE}
        expect: [{{cause: alcohol, at_least: 0.99}}]
        """)
    assert main(["validate", "--set", "probes", "--probes", str(probes)]) == 1
    cap = capsys.readouterr()
    assert "FAIL b002-fail" in cap.out and "at least 0.99: rank" in cap.out
    assert "behaviour suite FAILED: 1 of 2 probes failed (b002-fail)" in cap.err
    assert main(["validate", "--set", "probes", "--probes", str(tmp_path / "none")]) == 2
    assert "must be a folder of probes" in capsys.readouterr().err
    rep = tmp_path / "rep"
    assert main(["validate", "--set", "probes", "--probes", str(probes), "--json",
                 "--report", str(rep)]) == 1
    d = json.loads(capsys.readouterr().out)
    assert set(d["sets"]) == {"probes"} and d["sets"]["probes"]["failed"] == 1
    assert "## Clinical behaviour suite" in (rep / "summary.md").read_text()
    assert json.loads((rep / "report.json").read_text())["sets"]["probes"]["n"] == 2


def test_published_set_is_separate_and_skipped_when_absent(tmp_path, monkeypatch):
    pub = tmp_path / "pub"
    pub.mkdir()
    (pub / "p001-x.yaml").write_text(textwrap.dedent("""\
        id: p001-x
        title: t
        description: d
        citation: "A. Author. A case. J Case Rep 2020;1:1."
        url: https://example.org/case
        not_expressed: [the marrow report]
        expected: {cause: copper_deficiency}
        case: {age_years: 50, sex: female, cbc: {anc: 0.8, hb: 9.9}, vitamins: {copper: 5}}
        """), encoding="utf-8")
    v = run_validation(sets=("published",), folders={"published": pub})
    assert v.vignettes is None and v.probes is None and v.published.n == 1
    assert v.published.results[0].vignette.not_expressed == ("the marrow report",)
    assert set(v.figures()) == {"published"}
    (pub / "p001-x.yaml").write_text("id: p001-x\ntitle: t\ndescription: d\n"
                                     "expected: {cause: sle}\ncase: {}\n", encoding="utf-8")
    with pytest.raises(CaseError, match="p001-x.yaml: citation: must be given"):
        run_validation(sets=("published",), folders={"published": pub})
    empty = tmp_path / "empty"
    empty.mkdir()
    import bayesdx.evaluation.suite as suite

    monkeypatch.setattr(suite, "set_folder", lambda name, root=None: empty)
    assert run_validation(sets=("published",)).published is None   # default place: quiet skip
    with pytest.raises(Exception, match="must be a folder of published"):
        run_validation(sets=("published",), folders={"published": empty})   # named: an error


def test_compare_shows_the_other_sets():
    from bayesdx.evaluation.compare import SetChange, _other_sets

    m = load_model()
    sets = {s.name: s for s in _other_sets(m, m)}
    assert sets["probes"].old == sets["probes"].new and sets["probes"].flipped == ()
    text = "\n".join(SetChange("probes", {"passed": 39.0}, {"passed": 41.0},
                               (("b001-x", True),)).format())
    assert "passed         39       41       +2" in text and "b001-x: now passes" in text
