"""Shared fixtures: a tiny network (tests/fixtures/tiny) and a brute-force reference."""

from __future__ import annotations

import itertools
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from bayesdx.errors import KnowledgeError
from bayesdx.inference.engine import Engine
from bayesdx.inference.export import finding_table
from bayesdx.knowledge.load import load_knowledge
from bayesdx.knowledge.network import Network

TINY = Path(__file__).parent / "fixtures" / "tiny"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_kb():
    return load_knowledge(TINY)


@pytest.fixture(scope="session")
def tiny_net(tiny_kb):
    return Network(tiny_kb)


@pytest.fixture(scope="session")
def tiny_engine(tiny_net):
    return Engine(tiny_net)


@pytest.fixture()
def tiny_copy(tmp_path):
    """A writable copy of the tiny knowledge, for breaking it on purpose."""
    dst = tmp_path / "kb"
    shutil.copytree(TINY, dst)
    return dst


@pytest.fixture(scope="session")
def net():
    return Network.from_knowledge(load_knowledge(REPO))


@pytest.fixture(scope="session")
def engine(net):
    return Engine(net)


@pytest.fixture()
def no_severe_anc(tiny_net):
    """Tiny-network tables in which no leak and no link can give anc 'severe'."""
    import copy

    T = copy.deepcopy(tiny_net.tables())
    T.finding_leak["anc"][:, 0] += T.finding_leak["anc"][:, 2]
    T.finding_leak["anc"][:, 2] = 0.0
    for p in ("flu", "marrow", "drug_x"):
        row = T.finding_links["anc"][p]
        row[:, 1, 0] += row[:, 1, 2]
        row[:, 1, 2] = 0.0
    T.invalidate()
    return T


def edit_yaml(root: Path, rel: str, fn) -> None:
    """Load the YAML file ``root/rel``, let ``fn`` change the data, write it back."""
    path = root / rel
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def knowledge_problems(root: Path) -> str:
    """The message of the KnowledgeError that loading ``root`` must raise."""
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(root)
    return str(exc.value)


def labelled_cohort(net: Network, truth: dict[str, float], n: int, seed: int, *,
                    labelled: float = 0.7, **observe_kw) -> list:
    """Labelled cases sampled from ``net`` with the numbers in ``truth`` (path -> value) changed.

    Each cause is labelled (present or absent) with probability ``labelled``,
    independently of its value: missing at random, as EM assumes.
    """
    from bayesdx.evaluation.cohort import observe, sample_cohort
    from bayesdx.evaluation.fit import LabelledCase

    theta = net.theta0.copy()
    for path, v in truth.items():
        theta[net.param_index(path)] = v
    cohort = sample_cohort(net, n, seed=seed, tables=net.tables(theta))
    evidence = observe(net, cohort, seed=seed, **observe_kw)
    seen = np.random.default_rng(seed + 1).random((n, len(net.causes))) < labelled
    return LabelledCase.from_cohort(net.causes, cohort.states, evidence, seen)


def hidden_states(net: Network, evidence: dict[str, str], T):
    """Every assignment of context and causes consistent with ``evidence``, with its prior weight."""
    hidden = [*net.context, *net.causes]
    for vals in itertools.product(*[range(net.card(n)) for n in hidden]):
        a = dict(zip(hidden, vals))
        if any(n in a and a[n] != net.states[n].index(s) for n, s in evidence.items()):
            continue
        p = 1.0
        for x in net.context:
            p *= T.context_cpt[x][0][tuple(a[q] for q in net.parents[x]) + (a[x],)]
        for c in net.causes:
            pc = T.cause_cpt[c][0][tuple(a[q] for q in net.parents[c])]
            p *= pc if a[c] == 1 else 1 - pc
        yield a, p


def brute_force(net: Network, evidence: dict[str, str], tables=None):
    """Posterior of every cause and log P(evidence) by enumerating the joint."""
    T = tables or net.tables()
    ftabs = {f: finding_table(net, T, f) for f in net.findings if f in evidence}
    num = np.zeros(len(net.causes))
    z = 0.0
    for a, p in hidden_states(net, evidence, T):
        for f, tab in ftabs.items():
            p *= tab[tuple(a[q] for q in net.parents[f]) + (net.states[f].index(evidence[f]),)]
        z += p
        num += p * np.array([a[c] for c in net.causes])
    return num / z, np.log(z)


def random_evidence(net: Network, rng: random.Random, *, max_nodes: int | None = None,
                    findings_only: bool = False, abnormal: float = 0.5):
    """Random evidence; ``abnormal`` is the chance a finding is set to a non-baseline state."""
    pool = list(net.findings) if findings_only else [n for n in net.states if n not in net.causes]
    k = rng.randint(0, max_nodes if max_nodes is not None else len(pool))
    ev = {}
    for n in rng.sample(pool, min(k, len(pool))):
        st = net.states[n]
        if n in net.findings and rng.random() >= abnormal:
            ev[n] = st[0]
        else:
            ev[n] = rng.choice(st[1:] if n in net.findings else st)
    read = {n for n in ev}
    for n, (src, _) in getattr(net, "derived", {}).items():
        if n in ev and src in read - {n}:  # one reading of a level: the level or one verdict
            del ev[n]
        elif n in ev:
            read.add(src)
    return ev


def few_vignettes(folder: Path, n: int = 4) -> Path:
    """A new folder holding the first ``n`` real vignettes.

    For tests of the CLI's output and exit codes: the whole set is scored once by
    tests/evaluation/test_vignettes.py and again by ``bayesdx validate`` in ./dev test.
    """
    folder.mkdir()
    for f in sorted((REPO / "validation" / "vignettes").glob("v*.yaml"))[:n]:
        shutil.copy(f, folder / f.name)
    return folder
