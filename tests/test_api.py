"""Every public module declares __all__ and everything in it exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bayesdx

MODULES = sorted(m.name for m in pkgutil.walk_packages(bayesdx.__path__, "bayesdx."))


@pytest.mark.parametrize("name", MODULES)
def test_all_is_declared_and_exists(name):
    mod = importlib.import_module(name)
    assert hasattr(mod, "__all__"), f"{name} has no __all__"
    for attr in mod.__all__:
        assert hasattr(mod, attr), f"{name}.__all__ names {attr!r}, which does not exist"


def test_flat_public_api():
    """The contract's ``bayesdx.diagnose(case)`` and a small flat API at the top."""
    assert {"diagnose", "diagnose_many", "load_model", "Engine", "Diagnosis", "CauseResult",
            "Posterior", "BayesdxError", "CaseError", "KnowledgeError",
            "ImpossibleEvidenceError", "UsageError", "Problem"} <= set(bayesdx.__all__)
    d = bayesdx.diagnose({"cbc": {"anc": 0.3}}, draws=0)
    assert isinstance(d, bayesdx.Diagnosis)
    assert d.causes[0].posterior >= d.causes[-1].posterior


def test_layers_import_only_downwards():
    """knowledge imports nothing above it; inference nothing but knowledge (and the leaf
    modules errors and lazy, which import nothing of bayesdx)."""
    import ast
    from pathlib import Path

    src = Path(bayesdx.__file__).parent
    leaves = {"errors", "lazy"}
    for leaf in leaves:
        assert "from ." not in (src / f"{leaf}.py").read_text(), f"{leaf}.py must import nothing of bayesdx"
    allowed = {"knowledge": {"knowledge", *leaves},
               "inference": {"knowledge", "inference", *leaves},
               "case": {"knowledge", "case", *leaves}}
    for layer, ok in allowed.items():
        for f in (src / layer).glob("*.py"):
            for node in ast.walk(ast.parse(f.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level:
                    parts = f.relative_to(src).parts[:-1]
                    base = list(parts[: len(parts) - (node.level - 1)])
                    target = (base + (node.module or "").split("."))[0] if base or node.module else ""
                    if not target:   # 'from .. import __version__'
                        continue
                    assert target in ok, f"{f.relative_to(src)} imports from {target}"


def _import_graph() -> dict[str, set[str]]:
    """Module -> the bayesdx modules it imports (at the top or inside a function)."""
    import ast
    from pathlib import Path

    src = Path(bayesdx.__file__).parent
    names = {m: m for m in MODULES} | {"bayesdx": "bayesdx"}
    graph: dict[str, set[str]] = {}
    for f in src.rglob("*.py"):
        rel = f.relative_to(src.parent).with_suffix("")
        mod = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        pkg = mod if rel.name == "__init__" else mod.rsplit(".", 1)[0]
        out: set[str] = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                cands = [f"{target}.{a.name}" for a in node.names] + [target]
            elif isinstance(node, ast.Import):
                cands = [a.name for a in node.names]
            else:
                continue
            for c in cands:
                if c in names and c != mod:
                    out.add(c)
                    break
        graph[mod] = out
    return graph


def test_no_import_cycle_between_modules():
    """Packages re-export their modules (``__init__`` imports them); apart from that, no cycle."""
    graph = _import_graph()
    inits = {m for m in graph if any(o.startswith(m + ".") for o in graph[m])}
    edges = {m: {o for o in out if o not in inits} for m, out in graph.items() if m not in inits}
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for o in sorted(edges.get(m, ())):
            assert seen.get(o) != 1, "import cycle: " + " -> ".join(stack[stack.index(o):] + [o])
            if o not in seen:
                visit(o)
        stack.pop()
        seen[m] = 2

    for m in sorted(edges):
        if m not in seen:
            visit(m)
