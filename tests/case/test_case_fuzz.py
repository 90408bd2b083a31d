"""Fuzz test of the case reader (issue 15): every input parses or is a CaseError, never NaN.

Three generators, from structured to raw: case-shaped mappings with hostile
values in every field; YAML/JSON text built from the case vocabulary and the
characters that matter to the parsers; arbitrary bytes. Whatever they make,
reading it must either give cases or raise :class:`~bayesdx.errors.CaseError`
(never another exception), and every case that reads must score with finite
posteriors or raise a clear error (impossible evidence; a cause given under
``evidence:``, which the reader keeps and the engine refuses).

CI runs a small fixed budget (``derandomize=True``, :data:`EXAMPLES` per test,
no deadline). A long run: ``BAYESDX_FUZZ_EXAMPLES=40000 pytest -s
tests/case/test_case_fuzz.py -p no:cacheprovider --hypothesis-seed=1`` (three
tests: 120,000 cases); it prints the count of cases per test.
"""

from __future__ import annotations

import math
import os
import string

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bayesdx.case import parse_case, read_cases  # noqa: E402
from bayesdx.case.common import FIELDS  # noqa: E402
from bayesdx.diagnosis import load_model  # noqa: E402
from bayesdx.errors import CaseError, ImpossibleEvidenceError  # noqa: E402

EXAMPLES = int(os.environ.get("BAYESDX_FUZZ_EXAMPLES", "300"))
LONG = EXAMPLES > 1000
MAX_ABNORMAL = 10  # more abnormal findings than this are the compute budget's issue, not the reader's
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG, database=None,
                suppress_health_check=list(HealthCheck), print_blob=True)

MODEL = load_model()
KB = MODEL.kb
M = KB.mapping
COUNTS = {"dict": 0, "text": 0, "bytes": 0}

# --------------------------------------------------------------------------- vocabulary

TERMS = {name: sorted(sec.terms) for name, sec in M.sections.items()}
WORDS = sorted({*FIELDS, *M.cbc, *M.baseline_cbc, *M.vitamins, *(t for ts in TERMS.values() for t in ts),
                *M.marrow_cellularity, "present", "absent", "positive", "negative", "normal", "low",
                "high", "elevated", "findings", "cellularity", "name", "weeks", "stopped_weeks_ago",
                "days_since_last_dose", "dose", "cases", "female", "male", "chronic", "severe",
                *list(KB.drugs.drugs)[:40], *(w for ws in M.categorical.values() for w in ws)})
UNITS = ["", " /uL", " 10^9/L", " x10^9/L", " g/L", " g/dL", " pmol/L", " pg/mL", " ng/mL", " nmol/L",
         " umol/L", " ug/dL", " mg/dL", " fL", " %", " kg", " weeks", " months", " days", " bogons"]
HOSTILE_TEXT = ["", " ", "nan", "inf", "-inf", "1e400", "0x10", "010", "1:30", "1_000", "1,5", "<50",
                ">2000", "<=0", "≥3", "1" * 400, "![x](http://127.0.0.1/b.png)", "\u202e", "\x00",
                "null", "~", "yes", "'", '"', "\\", "💥", "a" * 5000]


def numbers():
    return st.one_of(st.integers(), st.integers(min_value=-10**500, max_value=10**500),
                     st.floats(allow_nan=True, allow_infinity=True), st.just(10**400))


def text_values():
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT), st.text(max_size=30), st.sampled_from(WORDS),
        st.builds(lambda n, u: f"{n}{u}", st.one_of(st.integers(-10**6, 10**6),
                                                     st.floats(allow_nan=True)),
                  st.sampled_from(UNITS)))


def scalars():
    return st.one_of(st.none(), st.booleans(), numbers(), text_values())


def values(depth: int = 3):
    return st.recursive(scalars(), lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(WORDS), st.text(max_size=8), st.integers()),
                        inner, max_size=4)), max_leaves=12)


def numeric_group(keys):
    return st.dictionaries(st.sampled_from(sorted(keys)), st.one_of(scalars(), values()), max_size=5)


def term_section(terms):
    word = st.one_of(st.sampled_from(terms + ["normal"]), st.text(max_size=10))
    return st.one_of(st.lists(word, max_size=4), word,
                     st.dictionaries(word, st.one_of(st.sampled_from(["present", "absent", "positive",
                                                                      "negative", "Present"]),
                                                     scalars()), max_size=4), values())


def medication():
    name = st.one_of(st.sampled_from(list(KB.drugs.drugs)), st.text(max_size=12), scalars())
    entry = st.fixed_dictionaries({"name": name}, optional={
        "weeks": scalars(), "stopped_weeks_ago": scalars(), "days_since_last_dose": scalars(),
        "dose": st.one_of(scalars(), values()), "bogus": scalars()})
    return st.one_of(entry, name, st.dictionaries(st.text(max_size=10), values(), max_size=2))


def cases():
    fields = {
        "id": scalars(), "age_years": scalars(), "sex": scalars(), "ancestry": scalars(),
        "duration": scalars(), "cbc": st.one_of(numeric_group(M.cbc), values()),
        "baseline_cbc": numeric_group(M.baseline_cbc), "vitamins": numeric_group(M.vitamins),
        "smear": term_section(TERMS["smear"]), "history": term_section(TERMS["history"]),
        "tests": term_section(TERMS["tests"]),
        "marrow": st.one_of(st.fixed_dictionaries({}, optional={
            "cellularity": st.one_of(st.sampled_from(sorted(M.marrow_cellularity)), scalars()),
            "findings": term_section(TERMS["marrow_findings"])}), values()),
        "medications": st.one_of(st.lists(medication(), max_size=4), values()),
        "evidence": st.dictionaries(st.sampled_from(KB.nodes[:60] + ["ghost"]),
                                    st.one_of(st.sampled_from(["present", "absent", "severe", "low"]),
                                              scalars()), max_size=3),
        "note": scalars(), "bogus_field": values(),
    }
    return st.fixed_dictionaries({}, optional=fields)


# --------------------------------------------------------------------------- checks


def _abnormal(evidence) -> int:
    return sum(1 for n, s in evidence.items() if n in KB.findings and s != KB.findings[n].states[0])


def _scores_finite(pc) -> None:
    """A case that reads gives finite posteriors in [0, 1] (or is impossible: a clear error)."""
    if _abnormal(pc.evidence) > MAX_ABNORMAL:
        return
    try:
        post = MODEL.engine.posterior(pc.evidence)
    except (ImpossibleEvidenceError, CaseError):  # impossible, or a cause given as evidence: clear errors
        return
    assert np.all(np.isfinite(post.probs)), pc.evidence
    assert np.all((post.probs >= 0) & (post.probs <= 1 + 1e-9)), pc.evidence
    assert math.isfinite(post.log_evidence)


def _read_file(tmp_path_factory, suffix: str, content: bytes) -> None:
    f = tmp_path_factory.mktemp("fuzz") / f"case{suffix}"
    f.write_bytes(content)
    try:
        out = read_cases(f, KB)
    except CaseError:
        return
    for item in out:
        assert isinstance(item, CaseError) or hasattr(item, "evidence"), item
        if not isinstance(item, CaseError):
            _scores_finite(item)


# --------------------------------------------------------------------------- the tests


@FUZZ
@given(case=st.one_of(cases(), values()))
def test_any_case_mapping_reads_or_is_a_case_error(case):
    COUNTS["dict"] += 1
    try:
        pc = parse_case(case, KB)
    except CaseError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
        return
    _scores_finite(pc)


def _yaml_text():
    token = st.one_of(st.sampled_from(WORDS), st.sampled_from(HOSTILE_TEXT[:20]),
                      st.sampled_from(list(": -[]{},#&*!|>'\"%@`\n\n  \t?") + ["\n  ", "\n    ", "\ufeff",
                                                                            "---", "...", "<<: "]),
                      st.text(alphabet=string.printable, max_size=6))
    return st.lists(token, max_size=60).map("".join)


@FUZZ
@given(text=_yaml_text(), suffix=st.sampled_from([".yaml", ".json"]))
def test_any_case_text_reads_or_is_a_case_error(tmp_path_factory, text, suffix):
    COUNTS["text"] += 1
    _read_file(tmp_path_factory, suffix, text.encode("utf-8"))


@FUZZ
@given(data=st.binary(max_size=200), suffix=st.sampled_from([".yaml", ".json"]))
def test_any_bytes_read_or_are_a_case_error(tmp_path_factory, data, suffix):
    COUNTS["bytes"] += 1
    _read_file(tmp_path_factory, suffix, data)


def teardown_module(module):
    if LONG:
        print(f"\nfuzz: cases per test {COUNTS} (total {sum(COUNTS.values())})")
