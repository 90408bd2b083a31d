"""Score a pandas DataFrame of patients (one row each): :func:`score_frame`.

Each row is read by the one case reader through the table form of the
contract (:mod:`bayesdx.case.table`, ``docs/cohort-format.md``); the rows that
can be read are scored together by the batched exact engine
(:meth:`~bayesdx.inference.engine.Engine.posterior_batch`), as
:func:`~bayesdx.batch.diagnose_many` does for a case file. A row that
cannot be read, or whose evidence is impossible, gets its message in the
``error`` column and empty posteriors; the other rows are scored as usual.

Output columns (:func:`output_columns`), index as the input's; text columns
have pandas' ``string`` dtype, numbers ``float64``:

``id``
    the row's ``id`` cell as text (empty when there is none);
``<kept columns>``
    copied as text (``keep=``), e.g. a record number;
``error``
    every problem of the row, ``; ``-separated, each ``column: must be ...;
    got ...; try ...`` (missing, ``<NA>``, when the row was scored);
``ignored``
    what the reader accepted but did not use, ``field: reason``, ``; ``-separated;
``log_evidence``
    ``log P(evidence)`` under the model;
``posterior.<cause>``
    ``P(cause present | evidence)`` for every cause, in model order;
``interval_low.<cause>``, ``interval_high.<cause>``
    the 5th and 95th percentile over draws of the priors, when ``intervals=True``.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"id": ["a", "b"], "cbc.anc": [0.2, "lots"],
...                    "med.clozapine.weeks": [9, None]})
>>> out = score_frame(df)
>>> bool(out.loc[0, "posterior.drug_antipsychotic"] > 0.5), bool(pd.isna(out.loc[0, "error"]))
(True, True)
>>> print(out.loc[1, "error"])
cbc.anc: must be a number in 10^9/L or a string "value unit" (units: 10^9/L, /uL, 10^3/uL, /mm^3, G/L), or one of normal, mild, moderate, severe, very_severe; got 'lots'; try anc: 0.2 or anc: "200 /uL"
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..case.table import parse_row
from ..diagnosis import DISCLAIMER, Model, load_model
from ..errors import BayesdxError, CaseError, Problem, UsageError
from ..inference.engine import Engine
from ..knowledge.load import knowledge_hash
from ..uncertainty import DEFAULT_DRAWS, credible_intervals

__all__ = ["DISCLAIMER", "ScoreError", "error_text", "output_columns", "output_meta",
           "score_frame"]


class ScoreError(UsageError):
    """A scoring setting or the model on a worker cannot be used."""


def output_columns(causes: Sequence[str], *, intervals: bool = False,
                   keep: Sequence[str] = ()) -> list[str]:
    """The output columns of :func:`score_frame`, in order.

    >>> output_columns(["sle", "mds"], intervals=True)
    ['id', 'error', 'ignored', 'log_evidence', 'posterior.sle', 'posterior.mds', 'interval_low.sle', 'interval_low.mds', 'interval_high.sle', 'interval_high.mds']
    """
    cols = ["id", *keep, "error", "ignored", "log_evidence"]
    cols += [f"posterior.{c}" for c in causes]
    if intervals:
        cols += [f"interval_low.{c}" for c in causes] + [f"interval_high.{c}" for c in causes]
    return cols


def output_meta(causes: Sequence[str], *, intervals: bool = False,
                keep: Sequence[str] = ()) -> pd.DataFrame:
    """An empty DataFrame with the output's columns and dtypes (Dask's ``meta``)."""
    cols = output_columns(causes, intervals=intervals, keep=keep)
    text = {"id", "error", "ignored", *keep}
    return pd.DataFrame({c: pd.Series([], dtype="string" if c in text else "float64")
                         for c in cols})


def error_text(exc: BaseException) -> str:
    """One line for the ``error`` column: every problem, without the row's name.

    >>> error_text(CaseError([Problem("row 3", "sex", "must be one of female, male", "'f'")]))
    "sex: must be one of female, male; got 'f'"
    """
    if isinstance(exc, CaseError):
        return "; ".join(str(Problem("", p.path, p.expected, p.got, p.hint)).lstrip(": ")
                         for p in exc.problems)
    return str(exc).replace("\n", " ")


def _text(value: Any) -> str | None:
    from ..case.table import is_missing

    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an id read as 7.0 from a column with blanks
    return str(value.item() if hasattr(value, "item") else value)


def _resolve(model: Model | None, root: str | Path | None, expect_hash: str | None) -> Model:
    model = model or load_model(root)
    if expect_hash is not None:
        here = knowledge_hash(model.kb.root)
        if here != expect_hash:
            raise ScoreError(Problem(
                "score", "knowledge", "must be the same model/ and priors/ on every worker",
                f"knowledge {here[:12]} here, {expect_hash[:12]} expected",
                "installing the same bayesdx checkout on the workers, or setting BAYESDX_ROOT"))
    return model


def score_frame(df: pd.DataFrame, *, model: Model | None = None, root: str | Path | None = None,
                intervals: bool = False, draws: int = DEFAULT_DRAWS, seed: int = 0,
                lenient: bool = False, keep: Sequence[str] = (), source: str = "row",
                expect_hash: str | None = None) -> pd.DataFrame:
    """Score every row of ``df`` (one patient each): every cause's posterior, or the row's error.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns of the table form of the case contract (``docs/cohort-format.md``).
    model : Model, optional
        The model; default :func:`~bayesdx.diagnosis.load_model` of ``root``
        (loaded once per process and cached).
    root : str or Path, optional
        Folder holding ``model/`` and ``priors/`` (a path on the worker when run
        by Dask).
    intervals : bool
        Also the 90 % credible interval of every posterior (``draws`` draws of
        the priors; slower: each row is its own run).
    draws, seed : int
        The interval's draws and seed (deterministic).
    lenient : bool
        List unknown drug names under ``ignored`` instead of failing the row.
    keep : sequence of str
        Columns copied to the output as text and not read as case fields
        (e.g. a record number).
    source : str
        How rows are named in messages (``"row"`` -> ``row 5``; the index label).
    expect_hash : str, optional
        :func:`~bayesdx.knowledge.load.knowledge_hash` the model must have
        (a Dask worker with other priors fails instead of scoring with them).

    Returns
    -------
    pandas.DataFrame
        Same index as ``df``; columns :func:`output_columns`.
    """
    model = _resolve(model, root, expect_hash)
    eng: Engine = model.engine
    keep = [k for k in keep if k != "id"]
    missing = [k for k in keep if k not in df.columns]
    if missing:
        raise ScoreError(Problem("score", "keep", "must name columns of the table",
                                 ", ".join(map(repr, missing)), "one of " + ", ".join(
                                     map(str, list(df.columns)[:10]))))
    n = len(df)
    readable = [c for c in df.columns if c not in keep]
    records = df[readable].to_dict("records")
    errors: list[str | None] = [None] * n
    ignored: list[str | None] = [None] * n
    evidences: dict[int, dict[str, str]] = {}
    for i, (label, rec) in enumerate(zip(df.index, records)):
        try:
            pc = parse_row(rec, model.kb, lenient=lenient, source=f"{source} {label}")
            eng.validate(pc.evidence)
        except BayesdxError as exc:
            errors[i] = error_text(exc)
            continue
        evidences[i] = pc.evidence
        if pc.ignored:
            ignored[i] = "; ".join(f"{g.get('field')}: {g.get('reason')}" for g in pc.ignored)
    C = len(eng.causes)
    probs = np.full((n, C), np.nan)
    logz = np.full(n, np.nan)
    lo = np.full((n, C), np.nan) if intervals else None
    hi = np.full((n, C), np.nan) if intervals else None
    rows = list(evidences)
    if rows:
        batch = eng.posterior_batch([evidences[i] for i in rows])
        for j, i in enumerate(rows):
            if np.isfinite(batch.log_evidence[0, j]):
                probs[i], logz[i] = batch.probs[0, j], batch.log_evidence[0, j]
            else:
                try:  # raises, naming the conflicting findings
                    post = eng.posterior(evidences[i])
                except BayesdxError as exc:
                    errors[i] = error_text(exc)
                    continue
                probs[i], logz[i] = post.probs, post.log_evidence
            if intervals:
                iv = credible_intervals(eng, evidences[i], draws=draws, seed=seed)
                lo[i], hi[i] = iv[:, 0], iv[:, 1]
    def text(values) -> pd.Series:  # pandas' string dtype: missing is <NA>, in pandas 2 and 3
        return pd.Series(list(values), index=df.index, dtype="string")

    cols: dict[str, Any] = {"id": text(map(_text, df["id"]) if "id" in df.columns else [None] * n)}
    for k in keep:
        cols[k] = text(map(_text, df[k]))
    cols["error"] = text(errors)
    cols["ignored"] = text(ignored)
    cols["log_evidence"] = logz
    for j, c in enumerate(eng.causes):
        cols[f"posterior.{c}"] = probs[:, j]
    if intervals:
        for j, c in enumerate(eng.causes):
            cols[f"interval_low.{c}"] = lo[:, j]
        for j, c in enumerate(eng.causes):
            cols[f"interval_high.{c}"] = hi[:, j]
    return pd.DataFrame(cols, index=df.index)
