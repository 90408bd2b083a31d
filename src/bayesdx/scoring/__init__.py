"""Cohort scoring: a whole table of patients (CSV, Parquet, a DataFrame, a Dask DataFrame).

* :func:`score_frame` (:mod:`bayesdx.scoring.frame`) - a pandas DataFrame in
  the table form of the case contract (``docs/cohort-format.md``) -> every
  cause's posterior per row, or the row's error;
* :func:`score_file` (:mod:`bayesdx.scoring.files`) - ``bayesdx score``: a CSV
  or Parquet file streamed in chunks over worker processes, with a progress bar;
* :func:`score_dask` (:mod:`bayesdx.scoring.cluster`) - the same over a Dask
  DataFrame (``map_partitions(score_frame)``), on a laptop or a cluster
  (needs the ``dask`` extra).
"""

from __future__ import annotations

from .cluster import score_dask
from .files import ScoreSummary, score_file
from .frame import ScoreError, output_columns, output_meta, score_frame

__all__ = ["ScoreError", "ScoreSummary", "output_columns", "output_meta", "score_dask",
           "score_file", "score_frame"]
