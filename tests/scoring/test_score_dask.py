"""Past one machine: the same cohort on a local Dask cluster and in-process, the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scoring_data import BAD, cohort, model  # noqa: F401 - fixtures

from bayesdx.scoring.cluster import score_dask
from bayesdx.scoring.frame import output_meta, score_frame

dd = pytest.importorskip("dask.dataframe", reason="the dask extra is not installed "
                         "(pip install -e '.[dask]'; the dev extra includes it)")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_local_cluster_matches_in_process(model, cohort, client, tmp_path):
    ddf = dd.from_pandas(cohort, npartitions=4)
    lazy = score_dask(ddf)
    assert list(lazy.columns) == list(output_meta(model.engine.causes).columns)
    on_cluster = lazy.compute()
    # in-process, partition by partition: identical, bit for bit
    parts = [ddf.get_partition(i).compute() for i in range(ddf.npartitions)]
    here = pd.concat([score_frame(p) for p in parts])
    pd.testing.assert_frame_equal(on_cluster, here)
    assert sorted(np.flatnonzero(on_cluster["error"].notna())) == sorted(BAD)
    # and the whole frame in one call: the same to rounding (exact inference; the
    # batched engine sums in another order when the rows are cut differently)
    whole = score_frame(cohort)
    a = on_cluster.filter(like="posterior.").to_numpy(float)
    b = whole.filter(like="posterior.").to_numpy(float)
    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.nanmax(np.abs(a - b)) <= 1e-12


def test_parquet_in_parquet_out_on_the_cluster(model, cohort, client, tmp_path):
    cohort.to_parquet(tmp_path / "c.parquet", row_group_size=25)
    ddf = dd.read_parquet(tmp_path / "c.parquet", split_row_groups=True)
    score_dask(ddf, keep=["id"]).to_parquet(tmp_path / "out")
    got = pd.read_parquet(tmp_path / "out").set_index("id").sort_index()
    ref = score_frame(cohort).set_index("id").sort_index()
    assert len(got) == len(cohort)
    assert np.allclose(got.filter(like="posterior.").to_numpy(float),
                       ref.filter(like="posterior.").to_numpy(float),
                       rtol=0, atol=1e-12, equal_nan=True)
