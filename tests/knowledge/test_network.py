"""Network tables: the batched build equals the per-draw build and every table is a distribution."""

from __future__ import annotations

import numpy as np
import pytest

from bayesdx.uncertainty import sample_parameters


@pytest.mark.parametrize("which", ["tiny", "real"])
def test_batch_tables_equal_per_draw_tables(which, tiny_net, net):
    n = tiny_net if which == "tiny" else net
    theta = sample_parameters(n, 6, seed=2)
    batch = n.tables(theta)
    for d in (0, 3, 5):
        one = n.tables(theta[d])
        for attr in ("context_cpt", "cause_cpt", "finding_leak", "cause_base"):
            for k, a in getattr(batch, attr).items():
                assert np.array_equal(a[d], getattr(one, attr)[k][0]), (attr, k)
        for f, links in batch.finding_links.items():
            for p, a in links.items():
                assert np.array_equal(a[d], one.link(f, p)[0]), (f, p)


def test_point_tables_are_distributions(net):
    t = net.tables()
    for f in net.findings:
        assert np.allclose(t.finding_leak[f].sum(-1), 1.0)
        for p in net.parents[f]:
            link = t.link(f, p)
            assert link.shape == (1, net.card(p), net.card(f))
            assert np.allclose(link.sum(-1), 1.0) and (link >= 0).all()
    for x in net.context:
        assert np.allclose(t.context_cpt[x].sum(-1), 1.0)
    priors = net.cause_priors()
    for c in net.causes:
        cc = net.kb.cause_cpts[c]
        assert (t.cause_cpt[c] <= cc.cap + 1e-15).all()
        if cc.prior is not None:
            assert priors[c] == pytest.approx(cc.prior.value, rel=1e-9), c
