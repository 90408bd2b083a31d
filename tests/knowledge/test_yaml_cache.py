"""The JSON copy of parsed knowledge files (bayesdx.knowledge.yaml_cache): same knowledge, same errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bayesdx.errors import KnowledgeError
from bayesdx.knowledge import load as load_module, yaml_cache
from bayesdx.knowledge.load import knowledge_hash

from conftest import REPO


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("BAYESDX_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "knowledge-yaml"


@pytest.fixture()
def real_copy(tmp_path) -> Path:
    root = tmp_path / "kb"
    for folder in ("model", "priors"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def _fresh(root: Path):
    """Load without the in-process cache of load_knowledge (each call reads the files)."""
    root = root.resolve()
    return load_module._load_cached.__wrapped__(root, knowledge_hash(root))


def _problems(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as exc:
        _fresh(root)
    return [str(p) for p in exc.value.problems]


def test_knowledge_from_the_cache_equals_the_parsed_one(cache, monkeypatch):
    monkeypatch.setenv("BAYESDX_CACHE_DIR", "off")
    parsed = _fresh(REPO)
    monkeypatch.setenv("BAYESDX_CACHE_DIR", str(cache.parent))
    first = _fresh(REPO)  # parses and stores
    n_files = len(list((REPO / "model").rglob("*.yaml")) + list((REPO / "priors").rglob("*.yaml")))
    assert len(list(cache.glob("*.json"))) == n_files
    calls = []
    monkeypatch.setattr(load_module, "yaml_load", lambda *a, **k: calls.append(1))
    again = _fresh(REPO)  # every file from the cache: the YAML parser is never called
    assert not calls
    assert parsed == first == again
    assert parsed.mapping == again.mapping and parsed.causes == again.causes


def test_errors_name_the_same_lines_from_the_cache(cache, real_copy):
    p = real_copy / "model/findings_tests.yaml"
    p.write_text(p.read_text() + "causes:\n  sle:\n    label: SLE again\n    family: autoimmune\n")
    first = _problems(real_copy)
    assert any(yaml_cache.load(f.read_bytes()) for f in (real_copy / "model").glob("*.yaml"))
    assert _problems(real_copy) == first
    assert "must be defined once; got also defined in model/causes.yaml line " in first[0]


def test_a_file_with_a_problem_is_never_kept(cache, real_copy):
    p = real_copy / "priors/causes.yaml"
    p.write_text(p.read_text().replace("    cap: 0.9\n", "    cap: 0.9\n    cap: 0.5\n", 1))
    first = _problems(real_copy)
    assert yaml_cache.load(p.read_bytes()) is None
    assert _problems(real_copy) == first and "must be given once" in first[0]


def test_a_broken_or_missing_entry_changes_nothing(cache):
    expected = _fresh(REPO)
    entries = sorted(cache.glob("*.json"))
    entries[0].write_text("{not json", encoding="utf-8")
    entries[1].write_text('{"data": {}, "lines": {"a": "x"}}', encoding="utf-8")
    entries[2].unlink()
    assert _fresh(REPO) == expected


def test_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYESDX_CACHE_DIR", "off")
    assert yaml_cache.folder() is None
    yaml_cache.store(b"a: 1\n", {"a": 1}, {"a": 1})
    assert yaml_cache.load(b"a: 1\n") is None


def test_only_what_json_holds_exactly_is_kept(cache):
    import datetime

    yaml_cache.store(b"d: 2020-01-01\n", {"d": datetime.date(2020, 1, 1)}, {"d": 1})
    yaml_cache.store(b"1: a\n", {1: "a"}, {"1": 1})
    assert not cache.exists() or not list(cache.glob("*.json"))
    yaml_cache.store(b"a: [1, 2.5, x]\n", {"a": [1, 2.5, "x"]}, {"a": 1})
    assert yaml_cache.load(b"a: [1, 2.5, x]\n") == ({"a": [1, 2.5, "x"]}, {"a": 1})
    assert yaml_cache.load(b"a: [1, 2.5, y]\n") is None  # other bytes, other entry
