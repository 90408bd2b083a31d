"""``bayesdx score``: a CSV or Parquet cohort streamed in chunks over worker processes.

:func:`score_file` reads the table in chunks of ``chunk_rows`` rows (pandas for
CSV, pyarrow for Parquet), scores each chunk with
:func:`~bayesdx.scoring.frame.score_frame` in a pool of ``jobs`` worker
processes (default: every core; each worker loads the model once) and writes
the results in input order as they arrive (pyarrow's ``ParquetWriter``, or CSV).
At most two chunks per worker are in flight, so memory stays bounded whatever
the cohort's size. A tqdm progress bar counts rows on a terminal.

The output has one row per input row: ``row`` (the row's 0-based position in
the input; a CSV file's line is ``row + 2``), then the columns of
:func:`~bayesdx.scoring.frame.output_columns`. It is written to
``OUT.partial`` and renamed when complete. A Parquet output carries the
disclaimer, the bayesdx version and the knowledge hash in its metadata.

Examples
--------
>>> import os, tempfile
>>> import pandas as pd
>>> with tempfile.TemporaryDirectory() as d:
...     src, out = os.path.join(d, "c.csv"), os.path.join(d, "s.csv")
...     pd.DataFrame({"cbc.anc": [0.3, "x"], "tests.hiv": ["positive", None]}).to_csv(src, index=False)
...     s = score_file(src, out, jobs=1, progress=False)
...     scored = pd.read_csv(out)
>>> (s.rows, s.scored, s.errors), list(scored.columns[:3])
((2, 1, 1), ['row', 'id', 'error'])
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..diagnosis import DISCLAIMER, load_model
from ..errors import Problem
from ..knowledge.load import knowledge_hash
from ..uncertainty import DEFAULT_DRAWS
from .frame import ScoreError, output_columns, score_frame

__all__ = ["CHUNK_ROWS", "NA_WORDS", "ScoreSummary", "default_jobs", "iter_chunks",
           "score_file"]

CHUNK_ROWS = 1000
"""Rows per chunk: large enough that the batched engine shares its passes, small
enough that a chunk of full work-ups stays within tens of MB."""

NA_WORDS = ("", "NA", "N/A", "n/a", "NaN", "nan", "#N/A")
"""Cells read as empty (unknown) in a CSV file. Not among them: ``None`` / ``none``
(``medications: none`` means *no drugs*) and ``NULL`` / ``null`` (``null`` is a
state: the Duffy-null phenotype); a stray ``NULL`` is an error naming its column,
never a silent unknown."""

_TABLE = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class ScoreSummary:
    """What :func:`score_file` did: rows read, scored, in error, time, and the commonest errors."""

    source: str
    out: str
    rows: int
    scored: int
    errors: int
    seconds: float
    jobs: int
    first_errors: tuple[tuple[int, str], ...]
    common_errors: tuple[tuple[str, int], ...]

    def format(self) -> str:
        """The summary ``bayesdx score`` prints (on stderr)."""
        rate = self.rows / self.seconds if self.seconds > 0 else float("inf")
        out = [f"scored {self.scored} of {self.rows} rows of {self.source} into {self.out} in "
               f"{self.seconds:.1f} s ({rate:,.0f} rows/s, {self.jobs} "
               f"process{'es' if self.jobs != 1 else ''}); {self.errors} row"
               f"{'s' if self.errors != 1 else ''} with an error"
               + (" (see the 'error' column)" if self.errors else "")]
        for row, text in self.first_errors:
            out.append(f"  row {row}: {text}")
        if self.errors > len(self.first_errors):
            out.append("  commonest errors:")
            out += [f"  {n:>7} x {text}" for text, n in self.common_errors]
        out.append(DISCLAIMER)
        return "\n".join(out)


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _kind(path: Path, what: str) -> str:
    kind = _TABLE.get(path.suffix.lower())
    if kind is None:
        raise ScoreError(Problem("score", what, "must be a .csv or .parquet file", str(path),
                                 f"{path.stem}.parquet or {path.stem}.csv"))
    return kind


def _count_rows(path: Path, kind: str) -> int | None:
    """Rows of the table for the progress bar (a CSV's line count: approximate when
    cells hold line breaks)."""
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        n, last = 0, b"\n"
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                n += block.count(b"\n")
                last = block[-1:]
        return max(0, n + (last != b"\n") - 1)
    except Exception:  # noqa: BLE001 - only the bar's total; reading reports the problem
        return None


def iter_chunks(path: str | Path, rows: int = CHUNK_ROWS, *, text: Sequence[str] = ("id",)
                ) -> Iterator[pd.DataFrame]:
    """Yield the table at ``path`` in DataFrames of at most ``rows`` rows, indexed by row.

    CSV columns named in ``text`` are read as text (an ``id`` keeps its leading
    zeros); only :data:`NA_WORDS` are empty cells.

    Raises
    ------
    ScoreError
        When the file is missing or cannot be read as its kind.
    """
    path = Path(path)
    kind = _kind(path, "COHORT")
    try:
        if kind == "csv":
            reader = pd.read_csv(path, chunksize=rows, keep_default_na=False,
                                 na_values=list(NA_WORDS), dtype={c: str for c in text},
                                 skipinitialspace=True, low_memory=False)
            with reader:
                yield from reader
            return
        import pyarrow.parquet as pq

        offset = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            df = batch.to_pandas()
            df.index = pd.RangeIndex(offset, offset + len(df))
            offset += len(df)
            yield df
    except ScoreError:
        raise
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ScoreError(Problem(str(path), "", f"must be a readable {kind.upper()} table",
                                 f"{type(exc).__name__}: {exc}".splitlines()[0],
                                 "checking the path and the file's format")) from None


class _Writer:
    """Appends scored chunks to ``OUT.partial``; :meth:`close` renames it to ``OUT``."""

    def __init__(self, out: Path, columns: list[str], text: set[str], meta: dict[str, str]):
        self.out, self.kind = out, _kind(out, "-o")
        self.tmp = out.with_name(out.name + ".partial")
        self.columns = ["row", *columns]
        self.writer = None
        self.rows = 0
        if self.kind == "parquet":
            import pyarrow as pa

            fields = [pa.field("row", pa.int64())]
            fields += [pa.field(c, pa.string() if c in text else pa.float64()) for c in columns]
            self.schema = pa.schema(fields, metadata={f"bayesdx.{k}": v for k, v in meta.items()})
        try:
            self.tmp.parent.mkdir(parents=True, exist_ok=True)
            self.tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise ScoreError(Problem(str(out), "", "must be a writable path", str(exc),
                                     "another folder, or -o OUT.parquet")) from None

    def write(self, df: pd.DataFrame) -> None:
        df = df.copy()
        df.insert(0, "row", df.index.to_numpy())
        if self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df[self.columns], schema=self.schema, preserve_index=False)
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.tmp, self.schema)
            self.writer.write_table(table)
        else:
            df[self.columns].to_csv(self.tmp, mode="a", header=self.rows == 0, index=False)
        self.rows += len(df)

    def close(self, ok: bool) -> None:
        if self.writer is not None:
            self.writer.close()
        elif ok and self.kind == "parquet":  # an empty cohort: a valid, empty file
            import pyarrow.parquet as pq

            pq.write_table(self.schema.empty_table(), self.tmp)
        elif ok and self.rows == 0:
            pd.DataFrame(columns=self.columns).to_csv(self.tmp, index=False)
        if ok:
            os.replace(self.tmp, self.out)
        else:
            self.tmp.unlink(missing_ok=True)


_WORKER: dict[str, Any] = {}


def _init(root: str | None, options: dict[str, Any]) -> None:
    _WORKER["model"] = load_model(root)
    _WORKER["options"] = options


def _work(df: pd.DataFrame) -> pd.DataFrame:
    return score_frame(df, model=_WORKER["model"], **_WORKER["options"])


def score_file(src: str | Path, out: str | Path, *, jobs: int | None = None,
               chunk_rows: int = CHUNK_ROWS, intervals: bool = False, draws: int = DEFAULT_DRAWS,
               seed: int = 0, lenient: bool = False, keep: Sequence[str] = (),
               root: str | Path | None = None, progress: bool = True) -> ScoreSummary:
    """Score a CSV or Parquet cohort into a CSV or Parquet file, row by row.

    Parameters
    ----------
    src, out : str or Path
        ``.csv`` or ``.parquet`` (``.pq``); the kinds may differ.
    jobs : int, optional
        Worker processes (default: every core, :func:`default_jobs`); 1 scores
        in this process.
    chunk_rows : int
        Rows per chunk (:data:`CHUNK_ROWS`).
    intervals, draws, seed, lenient, keep
        As in :func:`~bayesdx.scoring.frame.score_frame`.
    root : str or Path, optional
        Folder holding ``model/`` and ``priors/``.
    progress : bool
        Draw a progress bar on stderr (only when it is a terminal).

    Raises
    ------
    ScoreError
        A setting, the input or the output path cannot be used (rows in error
        do not raise: they are in the output's ``error`` column).
    """
    from tqdm import tqdm

    src, out = Path(src), Path(out)
    _kind(src, "COHORT")
    _kind(out, "-o")
    jobs = default_jobs() if jobs is None else jobs
    for name, val in (("--jobs", jobs), ("--chunk-rows", chunk_rows)):
        if not isinstance(val, int) or val < 1:
            raise ScoreError(Problem("score", name, "must be a positive whole number", repr(val),
                                     f"{name} 2"))
    if not src.is_file():
        raise ScoreError(Problem(str(src), "", "must be an existing file", "nothing there",
                                 "checking the path"))
    model = load_model(root)
    keep = [k for k in keep if k != "id"]
    columns = output_columns(model.engine.causes, intervals=intervals, keep=keep)
    meta = {"disclaimer": DISCLAIMER, "version": __version__,
            "knowledge": knowledge_hash(model.kb.root)}
    writer = _Writer(out, columns, {"id", *keep, "error", "ignored"}, meta)
    options = dict(intervals=intervals, draws=draws, seed=seed, lenient=lenient, keep=tuple(keep))
    counts: Counter = Counter()
    first: list[tuple[int, str]] = []
    t0 = time.perf_counter()

    def take(df: pd.DataFrame) -> None:
        writer.write(df)
        bad = df["error"].notna()
        for row, text in zip(df.index[bad], df["error"][bad]):
            counts[text] += 1
            if len(first) < 5:
                first.append((int(row), text))
        bar.update(len(df))

    chunks = iter_chunks(src, chunk_rows, text=("id", *keep))
    total = _count_rows(src, _kind(src, "COHORT"))
    if total is not None:  # no more workers than chunks: a small table is scored right here
        jobs = min(jobs, -(-total // chunk_rows)) or 1
    ok = False
    bar = tqdm(total=total, unit="row", unit_scale=True,
               desc="scoring", disable=None if progress else True, dynamic_ncols=True)
    try:
        if jobs == 1:
            for chunk in chunks:
                take(score_frame(chunk, model=model, **options))
        else:
            _pool_run(chunks, jobs, root, options, take)
        ok = True
    finally:
        bar.close()
        writer.close(ok)
    return ScoreSummary(str(src), str(out), writer.rows, writer.rows - sum(counts.values()),
                        sum(counts.values()), time.perf_counter() - t0, jobs, tuple(first),
                        tuple(counts.most_common(5)))


def _pool_run(chunks: Iterator[pd.DataFrame], jobs: int, root, options, take) -> None:
    # forkserver: the workers start from a clean process (no threads of pyarrow or
    # tqdm inherited) and each loads the model once in its initializer
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["bayesdx.scoring.files"])
    try:
        with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init,
                                 initargs=(None if root is None else str(root), options)) as pool:
            pending: deque = deque()
            for chunk in chunks:
                pending.append(pool.submit(_work, chunk))
                while len(pending) >= 2 * jobs:
                    take(pending.popleft().result())
            while pending:
                take(pending.popleft().result())
    except BrokenProcessPool:
        raise ScoreError(Problem("score", "--jobs", "must leave each worker process enough memory",
                                 "a worker process died", "--jobs 1 or a smaller --chunk-rows")
                         ) from None
