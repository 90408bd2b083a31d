"""Export: full tables (and the exact chain decomposition) give the same posteriors."""

from __future__ import annotations

import random

import numpy as np
import pytest

import bayesdx.inference.export as export
from bayesdx.cli.main import main

from conftest import brute_force, random_evidence


def _pgmpy_posteriors(model, causes, evidence):
    from pgmpy.inference import VariableElimination

    ve = VariableElimination(model)
    return np.array([ve.query([c], evidence=evidence, show_progress=False).values[1]
                     for c in causes])


@pytest.mark.parametrize("max_direct", [0, 1, 4])
def test_pgmpy_model_matches_brute_force(tiny_net, monkeypatch, max_direct):
    # max_direct 0/1 forces every finding through the chain decomposition
    monkeypatch.setattr(export, "MAX_DIRECT_PARENTS", max_direct)
    model = export.to_pgmpy(tiny_net)
    assert model.check_model()
    rng = random.Random(max_direct)
    for _ in range(15):
        ev = random_evidence(tiny_net, rng)
        got = _pgmpy_posteriors(model, tiny_net.causes, ev)
        want, _ = brute_force(tiny_net, ev)
        assert np.abs(got - want).max() < 1e-10


def test_chain_nodes_are_auxiliary_and_named(tiny_net, monkeypatch):
    monkeypatch.setattr(export, "MAX_DIRECT_PARENTS", 1)
    model = export.to_pgmpy(tiny_net)
    aux = sorted(n for n in model.nodes if "__c" in n)
    assert aux == ["anc__c01", "anc__c02", "fever__c01", "fever__c02"]


@pytest.mark.parametrize("fmt", ["bif", "xmlbif"])
def test_written_file_reads_back_with_same_posteriors(tiny_net, tmp_path, fmt):
    from pgmpy.readwrite import BIFReader, XMLBIFReader

    path = export.write_network(tiny_net, tmp_path / f"net.{fmt}", fmt)
    reader = BIFReader(str(path)) if fmt == "bif" else XMLBIFReader(str(path))
    model = reader.get_model()
    ev = {"anc": "severe", "fever": "present", "age_group": "adult"}
    got = _pgmpy_posteriors(model, tiny_net.causes, ev)
    want, _ = brute_force(tiny_net, ev)
    assert np.abs(got - want).max() < 1e-6  # BIF stores decimals


def test_cli_export(tmp_path, capsys):
    from bayesdx.diagnosis import _build  # noqa: F401  (ensure importable)
    from conftest import TINY

    out = tmp_path / "tiny.bif"
    assert main(["--root", str(TINY), "export", str(out), "--format", "bif"]) == 0
    assert out.read_text().startswith("network")
    assert main(["--root", str(TINY), "export", str(out), "--format", "dot"]) == 2
