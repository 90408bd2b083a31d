"""Past one machine: score a Dask DataFrame with ``map_partitions(score_frame)``.

Dask splits the cohort into partitions and runs :func:`~bayesdx.scoring.frame.score_frame`
on each, on whatever scheduler is active: the local threads by default, a
``distributed.LocalCluster`` on one machine, or a real cluster after
``Client("tcp://scheduler:8786")``. Nothing here schedules work itself.

Each worker loads the model once (``load_model`` is cached per process) from
its own ``model/`` and ``priors/``: install the same bayesdx checkout on every
worker (or point ``BAYESDX_ROOT`` / ``root=`` at the same files). The
knowledge hash of the client is passed along, and a worker whose files differ
fails with a :class:`~bayesdx.scoring.frame.ScoreError` rather than score
with other numbers.

Needs the ``dask`` extra (``pip install "bayesdx[dask]"``).

Examples
--------
>>> import pandas as pd, dask.dataframe as dd                  # doctest: +SKIP
>>> ddf = dd.read_parquet("cohort.parquet")                    # doctest: +SKIP
>>> score_dask(ddf).to_parquet("scores/")                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..diagnosis import load_model
from ..errors import Problem
from ..knowledge.load import knowledge_hash
from ..uncertainty import DEFAULT_DRAWS
from .frame import ScoreError, output_meta, score_frame

__all__ = ["require_dask", "score_dask"]


def require_dask():
    """Import ``dask.dataframe``, or raise a :class:`ScoreError` saying how to install it."""
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        raise ScoreError(Problem("score", "dask", "must be installed to score a Dask DataFrame",
                                 str(exc), 'pip install "bayesdx[dask]"')) from None
    return dd


def score_dask(ddf: Any, *, root: str | Path | None = None, intervals: bool = False,
               draws: int = DEFAULT_DRAWS, seed: int = 0, lenient: bool = False,
               keep: Sequence[str] = ()) -> Any:
    """Score every row of a Dask DataFrame: lazily, partition by partition.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Columns of the table form of the case contract (``docs/cohort-format.md``).
    root : str or Path, optional
        Folder holding ``model/`` and ``priors/`` **on the workers** (default:
        their bayesdx checkout or ``BAYESDX_ROOT``).
    intervals, draws, seed, lenient, keep
        As in :func:`~bayesdx.scoring.frame.score_frame`.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; ``.compute()`` it, or write it with ``.to_parquet(...)``. Its
        partitions are :func:`score_frame` of the input's partitions.
    """
    require_dask()
    model = load_model(root)
    meta = output_meta(model.engine.causes, intervals=intervals, keep=keep)
    return ddf.map_partitions(
        score_frame, root=None if root is None else str(root), intervals=intervals, draws=draws,
        seed=seed, lenient=lenient, keep=tuple(keep), expect_hash=knowledge_hash(model.kb.root),
        meta=meta)
