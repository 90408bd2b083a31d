"""The app's page pieces without Streamlit: form spec, scenario <-> case <-> evidence, URL, labels, charts."""

from __future__ import annotations

import math

import pytest
import yaml

from bayesdx.case.baseline import NODE as BASELINE_NODE
from bayesdx.case import parse_case
from bayesdx.diagnosis import load_model
from bayesdx.errors import CaseError, ImpossibleEvidenceError
from bayesdx.ui.charts import compare_chart, tornado_chart, why_chart
from bayesdx.ui.ranking import ranking_html
from bayesdx.ui.labels import (
    cause_label,
    finding_label,
    param_text,
    reference_text,
)
from bayesdx.ui.scenario import compare, conflict_text, derive, evidence_diff
from bayesdx.ui.share import (
    case_yaml,
    evidence_to_query,
    load_case_text,
    query_to_evidence,
    values_from_evidence,
)
from bayesdx.ui.spec import form_spec, human
from bayesdx.words import pct, state_text
from bayesdx.ui.values import case_to_values, default_values, values_to_case


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def spec(model):
    return form_spec(model.kb)


def test_the_form_covers_every_node_of_the_model(model, spec):
    covered = {"age_group", "sex", "ancestry", "course", *spec.exposure_nodes, *spec.cellularity_nodes}
    for nin in spec.numeric.values():
        covered |= set(nin.nodes)
    covered |= {t.node for t in spec.terms.values()}
    # latent context: the Duffy phenotype is never entered, only observed through the Duffy test
    covered |= {"duffy_phenotype"}
    # derived: the fall since the earlier count is read from the two counts the form offers
    assert spec.section_numeric("baseline_cbc") and spec.section_numeric("cbc")
    covered |= {BASELINE_NODE}
    missing = [n for n in model.kb.nodes if n not in model.kb.causes and n not in covered]
    assert missing == []


def test_terms_have_three_states_in_the_contract_words(spec):
    assert spec.terms["smear.blasts"].words == ("present", "absent")
    assert spec.terms["tests.ana"].words == ("positive", "negative")
    assert spec.terms["history.alcohol_excess"].is_context
    assert not spec.terms["history.fever"].is_context


def test_labels_are_readable(model, spec):
    assert human("weeks_ago") == "Weeks ago"
    # every term of the form is named by the knowledge files (its short name, else its label)
    for t in spec.terms.values():
        node = model.kb.findings.get(t.node) or model.kb.context.get(t.node)
        assert t.label == (node.short or node.label), t.fid
    assert spec.terms["tests.cmv_igm"].label == "CMV IgM"
    assert spec.terms["tests.duffy_null"].label == "Duffy-null phenotype"
    assert state_text("carbamazepine_late") == "carbamazepine, after risk window"
    assert state_text("very_low") == "very low"


def test_form_offers_the_published_case_terms(model, spec):
    # issue 10 extensions: the form is generated from model/case_mapping.yaml, so it offers them
    assert spec.terms["tests.ebv_pcr"].label == "EBV DNA (PCR)"
    assert spec.terms["tests.cmv_pcr"].label == "CMV DNA (PCR)"
    assert spec.terms["tests.cmv_pcr"].words == ("positive", "negative")
    assert spec.terms["smear.microcytic_hypochromic"].label == "Microcytic hypochromic red cells"
    assert spec.terms["marrow_findings.lymphoma_infiltration"].label == "Lymphoma infiltration"
    v = default_values(spec)
    v.update({"tests.cmv_pcr": "positive", "smear.microcytic_hypochromic": "present",
              "marrow_findings.lymphoma_infiltration": "absent"})
    ev = parse_case(values_to_case(v, spec), model.kb).evidence
    assert ev["test_cmv_pcr"] == "positive" and ev["smear_microcytic_hypochromic"] == "present"
    assert ev["marrow_lymphoma_infiltration"] == "absent"


def test_values_round_trip_through_a_case(model, spec):
    v = default_values(spec)
    v.update({"age_years": "0.75", "sex": "female", "cbc.anc": "900", "cbc.anc@unit": "/uL",
              "cbc.hb": "<7", "vitamins.b12": "111", "vitamins.b12@unit": "pmol/L",
              "vitamins.mma": "elevated", "smear.blasts": "absent", "tests.hiv": "negative",
              "history.fever": "present", "marrow.cellularity": "hypocellular",
              "marrow_findings.dysplasia": "present", "meds": ["doxorubicin", "tegretol"],
              "med.doxorubicin.days": "11", "med.tegretol.weeks": "3", "med.tegretol.stopped": "1"})
    case = values_to_case(v, spec)
    assert case["cbc"]["anc"] == "900 /uL" and case["cbc"]["hb"] == "<7"
    assert case["medications"][0] == {"name": "doxorubicin", "days_since_last_dose": 11}
    assert case["marrow"] == {"cellularity": "hypocellular", "findings": {"dysplasia": "present"}}
    ev = parse_case(case, model.kb).evidence
    back, direct, notes = case_to_values(case, spec)
    assert direct == {} and notes == []
    assert parse_case(values_to_case(back, spec), model.kb).evidence == ev
    assert back["cbc.anc"] == "900" and back["cbc.anc@unit"] == "/uL"


def test_no_medication_is_an_empty_complete_list(model, spec):
    v = default_values(spec)
    v["meds.none"] = True
    case = values_to_case(v, spec)
    assert case == {"medications": []}
    ev = derive(model, v).evidence
    assert set(ev) == set(spec.exposure_nodes) and set(ev.values()) == {"none"}
    back, _, _ = case_to_values(case, spec)
    assert back["meds.none"] is True and back["meds"] == []


def test_normal_smear_in_a_case_sets_every_term_absent(spec):
    values, _, _ = case_to_values({"smear": ["normal"], "marrow": {"findings": ["normal"]}}, spec)
    assert {values[t.fid] for t in spec.section_terms("smear")} == {"absent"}
    assert {values[t.fid] for t in spec.section_terms("marrow_findings")} == {"absent"}


def test_derive_reports_bad_fields_and_keeps_the_rest(model, spec):
    v = default_values(spec)
    v.update({"cbc.anc": "1,2", "cbc.plt": "30", "age_years": "two", "meds": ["clozapine"],
              "med.clozapine.weeks": "9", "med.clozapine.stopped": "20"})
    d = derive(model, v)
    assert set(d.field_errors) >= {"cbc.anc", "age_years", "med.clozapine.stopped"}
    assert d.evidence["plt"] == "very_low" and "anc" not in d.evidence
    assert d.evidence["exposure_antipsychotic"] == "clozapine_window"  # the drug still counts
    assert all("must" in msg for _, _, msg in d.problems)


def test_direct_evidence_never_overrides_a_field(model, spec):
    v = default_values(spec)
    v["cbc.anc"] = "0.2"
    d = derive(model, v, {"anc": "normal", "age_group": "older", "bogus": "x"})
    assert d.evidence["anc"] == "severe" and d.overridden == {"anc": "normal"}
    assert d.evidence["age_group"] == "older"
    assert "evidence.bogus" in d.field_errors and "bogus" not in d.evidence


@pytest.mark.parametrize("evidence", [
    {"anc": "severe", "exposure_antipsychotic": "clozapine_window", "age_group": "young"},
    {"mcv": "high", "microcytosis": "absent", "b12_level": "low", "sex": "male"},
    {"mcv": "high"},  # a band without its companion node stays direct
    {"marrow_hypocellular": "present", "marrow_hypercellular": "absent", "course": "chronic"},
    {},
])
def test_values_from_evidence_reproduce_the_evidence_exactly(model, evidence):
    values, direct = values_from_evidence(model, evidence)
    assert derive(model, values, direct).evidence == evidence


def test_query_parameters_are_validated(model):
    ev, msgs = query_to_evidence({"anc": ["severe"], "sle": "present", "ancc": "low", "hb": "vlow",
                                  "embed": "true"}, model)
    assert ev == {"anc": "severe"}
    text = " ".join(msgs)
    assert "'sle'" in text and "not a cause" in text
    assert "'ancc'" in text and "'hb'" in text
    assert evidence_to_query({"test_hiv": "negative", "sex": "male"}, model.kb) == \
        {"sex": "male", "test_hiv": "negative"}


def test_case_files_are_read_safely(model):
    case, notes = load_case_text("age_years: 40\ncbc: {anc: 0.4}\nmedications: [metformin]\n", model)
    assert case["cbc"]["anc"] == 0.4 and any("metformin" in n for n in notes)
    with pytest.raises(CaseError, match="must be valid YAML"):
        load_case_text("!!python/object/apply:os.system ['true']", model)
    with pytest.raises(CaseError, match="exactly one case"):
        load_case_text("cases: [{id: a}, {id: b}]", model)
    with pytest.raises(CaseError, match="did you mean clozapine"):
        load_case_text("medications: [clozapin]", model)
    text = case_yaml({"cbc": {"anc": 0.4}}, "not a medical device")
    assert text.startswith("# bayesdx case file") and yaml.safe_load(text) == {"cbc": {"anc": 0.4}}


def test_result_helpers(model):
    assert pct(0.9431) == "94%" and pct(0.0042) == "0.42%" and pct(float("nan")) == "-"
    rows = compare({"a": 0.1, "b": 0.5}, {"a": 0.3, "b": 0.2})
    assert rows[0]["id"] == "a" and math.isclose(rows[0]["delta"], 0.2)
    assert evidence_diff({"anc": "severe"}, {"anc": "normal", "sex": "male"}, model.kb) == \
        [("sex", None, "male"), ("anc", "severe", "normal")]
    err = ImpossibleEvidenceError({"anc": "normal", "smear_absent_neutrophils": "present"})
    assert conflict_text(err, model.net.labels) == \
        f"{model.net.labels['anc']} = normal; {model.net.labels['smear_absent_neutrophils']} = present"


def test_charts_keep_one_spec_per_shape():
    spec, df = why_chart([{"finding": "ANC = severe", "weight": 1.2, "lr": "LR 16", "direction": "raises",
                           "without": "3%", "exact": "16"}])
    assert spec["layer"][0]["mark"]["type"] == "bar" and len(df) == 1
    spec2, _ = why_chart([{"finding": "Hb = low", "weight": 1.0, "lr": "LR 9", "direction": "raises",
                           "without": "9%", "exact": "9"}])
    assert spec == spec2 and "data" not in spec  # one spec per shape: only the data changes
    spec, df = compare_chart([{"label": "A", "family": "drug", "a": 0.9, "b": 0.95}])
    assert df["change"][0] == "+5.0 pts"


def ranking_rows(html: str) -> list[dict]:
    """The rows of a ranking's HTML (bayesdx.ui.ranking): its data attributes, its visible text and words."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.stack = [], []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "li":
                self.rows.append({**{k[5:]: v for k, v in a.items() if k.startswith("data-")},
                                  "title": a.get("title"), "text": "", "marks": [], "styles": {}})
            elif self.rows and tag == "span":
                cls = a.get("class", "")
                self.rows[-1]["marks"].append(cls)
                self.rows[-1]["styles"][cls] = a.get("style", "")
            self.stack.append(tag)

        def handle_endtag(self, tag):
            self.stack.pop()

        def handle_data(self, data):
            if self.rows and "li" in self.stack:
                self.rows[-1]["text"] += data

    parser = Rows()
    parser.feed(html)
    return parser.rows


def test_the_ranking_draws_bars_priors_intervals_and_percentages_in_html():
    rows = [{"id": "a", "label": "A & co", "family": "drug", "prior": 0.02, "posterior": 0.9, "lo": 0.7, "hi": 0.97},
            {"id": "b", "label": "B", "family": "marrow", "prior": 0.01, "posterior": 0.3, "lo": 0.2, "hi": 0.45},
            {"id": "c", "label": "C", "family": "other", "prior": 0.1, "posterior": 0.095}]
    got = ranking_rows(ranking_html(rows))
    assert [r["id"] for r in got] == ["a", "b", "c"]
    assert [float(r["posterior"]) for r in got] == [0.9, 0.3, 0.095]  # full precision, for the tests
    assert (got[0]["lo"], got[0]["hi"]) == ("0.7", "0.97") and "lo" not in got[2]
    # one bar and one prior tick each; a whisker only where the interval is known
    assert all(r["marks"].count("bdx-bar") == 1 and r["marks"].count("bdx-prior") == 1 for r in got)
    assert ["bdx-ci" in r["marks"] for r in got] == [True, True, False]
    assert got[1]["styles"]["bdx-ci"] == "left:20.000%;width:calc(45.000% - 20.000%)"
    assert "width:90.000%" in got[0]["styles"]["bdx-bar"] and "#2166ac" in got[0]["styles"]["bdx-bar"]
    # the percentage at the bar's end: inside a long bar, past a prior tick just right of the end
    assert "bdx-pct bdx-in" in got[0]["marks"] and "bdx-pct bdx-out" in got[1]["marks"]
    assert got[2]["styles"]["bdx-pct bdx-out"] == "left:10.000%"
    # readable names (escaped), the percentage, and in words the prior and the interval
    assert got[0]["text"].startswith("A & co90%") and "90% credible interval 70% to 97%" in got[0]["text"]
    assert "prior 10%" in got[2]["text"] and "interval" not in got[2]["text"]
    assert got[1]["title"] == "B (marrow): posterior 30%; 90% interval: 20% to 45%; prior 1.0%"
    assert "A &amp; co" in ranking_html(rows) and "<script" not in ranking_html(rows)


def test_the_ranking_is_the_same_with_and_without_intervals_but_for_the_whiskers():
    rows = [{"id": "a", "label": "A", "family": "drug", "prior": 0.02, "posterior": 0.6, "lo": 0.4, "hi": 0.8},
            {"id": "b", "label": "B", "family": "marrow", "prior": 0.01, "posterior": 0.3}]
    plain = [{k: v for k, v in r.items() if k not in ("lo", "hi")} for r in rows]
    with_ci, without = ranking_rows(ranking_html(rows)), ranking_rows(ranking_html(plain))
    for a, b in zip(with_ci, without):
        assert [m for m in a["marks"] if m != "bdx-ci"] == b["marks"]
        assert a["text"].split(",")[0] == b["text"].split(",")[0]  # same name and percentage


def test_the_ranking_groups_by_family_on_request():
    rows = [{"id": "x", "label": "X", "family": "other", "prior": 0.1, "posterior": 0.9},
            {"id": "y", "label": "Y", "family": "marrow", "prior": 0.1, "posterior": 0.2},
            {"id": "z", "label": "Z", "family": "marrow", "prior": 0.1, "posterior": 0.5}]
    assert [r["id"] for r in ranking_rows(ranking_html(rows, by_family=True))] == ["z", "y", "x"]
    assert [r["id"] for r in ranking_rows(ranking_html(rows))] == ["x", "y", "z"]
    assert "grouped by family" in ranking_html(rows, by_family=True)


def test_why_chart_labels_every_bar():
    rows = [{"finding": f"Finding {i} = state", "weight": w, "lr": "odds ×2", "direction": "raises",
             "without": "3%", "exact": "2"} for i, w in enumerate((2.5, 0.8, 0.3, -0.2, -0.7, 0.05))]
    spec, df = why_chart(rows)
    names = [m for m in spec["layer"] if m["mark"]["type"] == "text" and m["encoding"]["text"]["field"] == "finding"]
    assert len(names) == 1 and not names[0].get("transform")  # one name per row, no filter
    assert spec["height"] == 40 * len(rows) and len(set(df["key"])) == len(rows)


def test_tornado_chart_has_both_ends_of_every_number():
    rows = [{"name": "Prior of X", "source": "source: R1", "path": "causes.x.prior", "value": 0.02,
             "low": 0.01, "high": 0.03, "at_low": 0.7, "at_high": 0.95, "reference": "R1: a paper"},
            {"name": "P(F | X)", "source": "source: E (estimate)", "path": "findings.f.links.x.present",
             "value": 0.5, "low": 0.3, "high": 0.7, "at_low": 0.85, "at_high": 0.8, "reference": "E"}]
    spec, df = tornado_chart(rows, 0.83, "Probability of X")
    assert len(df) == 4 and set(df["end"]) == {"its low", "its high"}
    assert list(df["number"]) == ["0.01", "0.03", "0.3", "0.7"]
    assert list(df["label"].unique()) == ["0: Prior of X", "1: P(F | X)"]  # one band per number
    assert df["source"][0] == "source: R1"  # name and source stand above each bar
    domain = spec["layer"][0]["encoding"]["x"]["scale"]["domain"]
    assert domain[0] < 0.7 and domain[1] > 0.95 and 0 <= domain[0] and domain[1] <= 1


def test_numbers_of_the_priors_are_named_in_words(model):
    shapes = {}
    for p in model.net.params:
        parts = p.path.split(".")
        shapes.setdefault((parts[0], parts[2], len(parts)), p.path)
    for path in shapes.values():
        text = param_text(model, path)
        assert text != path and "None" not in text, path
    assert param_text(model, "causes.sle.rr.age_group.infant") == \
        "Relative risk of Systemic lupus erythematosus if age band = infant"
    assert param_text(model, "not.a.path") == "not.a.path"
    assert cause_label(model, "drug_antipsychotic") == "Drug: Antipsychotic"
    assert finding_label(model, "test_hiv") == "HIV-1/2 antigen/antibody test"
    assert finding_label(model, "test_duffy_null") == "Duffy-null red-cell phenotype (Fy(a-b-))"
    assert finding_label(model, "anc") == "Neutrophil count"
    assert reference_text(model, ("R22", "E")).startswith("R22: Alvir")
