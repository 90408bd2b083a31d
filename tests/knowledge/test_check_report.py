"""``bayesdx check`` reports every problem at once and nothing consequential (issue 15, items 2 and 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bayesdx.errors import KnowledgeError
from bayesdx.knowledge.load import load_knowledge

from conftest import REPO


@pytest.fixture()
def real_copy(tmp_path) -> Path:
    for folder in ("model", "priors"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def _lines(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(root)
    return [str(p) for p in exc.value.problems]


def _replace(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_duplicate_key_in_a_knowledge_file(real_copy):
    _replace(real_copy / "priors/causes.yaml", "    cap: 0.9\n", "    cap: 0.9\n    cap: 0.5\n")
    assert _lines(real_copy) == [
        "priors/causes.yaml: causes.aplastic_anemia.cap: must be given once; got it at line 14 "
        "and again at line 15; try keeping one of the two"]


def test_cause_defined_twice_across_files_names_both_lines(real_copy):
    p = real_copy / "model/findings_tests.yaml"
    p.write_text(p.read_text() + "causes:\n  sle:\n    label: SLE again\n    family: autoimmune\n")
    (line,) = _lines(real_copy)
    assert line.startswith("model/findings_tests.yaml line ")
    assert ": causes.sle: must be defined once; got also defined in model/causes.yaml line " in line


def test_non_utf8_byte_in_a_knowledge_file(real_copy):
    with open(real_copy / "priors/context.yaml", "ab") as f:
        f.write(b"# caf\xe9\n")
    lines = _lines(real_copy)
    assert len(lines) == 1 and "priors/context.yaml: line " in lines[0]
    assert "must be UTF-8 text; got the byte 0xe9" in lines[0]


def test_every_problem_of_one_entry_at_once(real_copy):
    _replace(real_copy / "priors/causes.yaml", "value: 0.00777, range: [0.003, 0.012], source: [R82, E]",
             "value: 1.5, range: [0.003, 0.012], source: [R999, E]")
    lines = _lines(real_copy)
    assert len(lines) == 2
    assert "causes.aplastic_anemia.prior.value: must be a probability in [0, 1]; got 1.5" in lines[0]
    assert "causes.aplastic_anemia.prior.source: must be 'E' or a reference id" in lines[1]


def test_one_typo_does_not_drop_the_whole_file(real_copy):
    _replace(real_copy / "priors/causes.yaml", "value: 0.00777", "valeu: 0.00777")
    lines = _lines(real_copy)
    assert len(lines) == 2, lines  # the missing 'value' and the unknown 'valeu'; no "must have numbers"
    assert all("causes.aplastic_anemia.prior.val" in line for line in lines)


def test_a_missing_file_is_named_once(real_copy):
    (real_copy / "model/context.yaml").unlink()
    assert _lines(real_copy) == [
        "model/context.yaml: must exist beside priors/context.yaml; got no such file; try restoring "
        "it (git checkout -- model/context.yaml)"]


def test_a_missing_section_without_the_naming_convention_is_named_once(tiny_copy):
    p = tiny_copy / "model/network.yaml"
    text = p.read_text()
    head, rest = text.split("causes:", 1)
    p.write_text(head.split("context:")[0] + "causes:" + rest)  # the context section is gone
    lines = _lines(tiny_copy)
    assert lines == ["model/: context: must be defined in a model file; got no file has a 'context:' "
                     "section; try restoring model/context.yaml"]


def test_a_broken_yaml_file_suppresses_what_follows_from_it(real_copy):
    p = real_copy / "priors/findings_cbc.yaml"
    p.write_text(p.read_text() + "oops: [unclosed\n")
    lines = _lines(real_copy)
    assert len(lines) == 1 and "priors/findings_cbc.yaml: line" in lines[0]


def test_every_node_needs_a_clinical_label(real_copy):
    """A label that only spells out the id, a missing label and a shared label are each refused."""
    _replace(real_copy / "model/findings_tests.yaml", 'label: "Duffy-null red-cell phenotype (Fy(a-b-))"',
             "label: 'Test: duffy null'")
    _replace(real_copy / "model/findings_history.yaml", '    label: "Skin rash"\n', "")
    _replace(real_copy / "model/causes.yaml", "label: Hairy-cell leukaemia", "label: LGL leukaemia")
    lines = _lines(real_copy)
    assert any(line.startswith("model/findings_tests.yaml: findings.test_duffy_null.label: must be a readable "
                               "clinical name, not the id spelt out; got 'Test: duffy null'") for line in lines)
    assert any("findings.hx_rash" in line and "label" in line for line in lines), lines
    assert any(line.startswith("model/causes.yaml: causes.lgl_leukemia.label: must differ from every other "
                               "node's label") for line in lines), lines


def test_the_real_labels_are_clinical():
    from bayesdx.knowledge.checks import spelt_out

    kb = load_knowledge(REPO)
    for kind in (kb.context, kb.causes, kb.findings):
        for name, spec in kind.items():
            assert not spelt_out(name, spec.label), (name, spec.label)
