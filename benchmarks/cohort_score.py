"""Cohort scoring at scale: ``bayesdx score`` on 1 and 2 cores, and on a local Dask cluster.

1. Draws a synthetic cohort of ``--n`` patients (default 100,000) from the
   model's own sampler (:func:`bayesdx.evaluation.cohort.sample_cohort`, then
   :func:`~bayesdx.evaluation.cohort.observe`: context and blood count always,
   every other finding with probability 0.25), writes each patient as a case
   (:func:`~bayesdx.case.evidence_to_case`) flattened to a table row
   (:func:`~bayesdx.case.case_to_row`) and the whole as Parquet (row groups of
   ``--chunk-rows``). The file is kept and reused for the same ``--n`` and
   ``--seed``.
2. Runs ``bayesdx score COHORT.parquet -o OUT.parquet --jobs J`` in a fresh
   process for each J in ``--jobs`` (default 1 and 2).
3. Runs the same cohort through :func:`bayesdx.scoring.score_dask` on a
   ``distributed.LocalCluster`` of ``--dask-workers`` single-threaded worker
   processes (``dd.read_parquet(..., split_row_groups=True)`` -> ``to_parquet``),
   in a fresh process.

For each run it prints wall time, throughput (rows/s), the CPU time of the
process tree (user + system of the process and every worker, sampled with
psutil every 0.2 s; rows per CPU second is the figure least disturbed by other
users), the peak resident
memory of the whole process tree (sum of RSS over the parent and its workers,
sampled every 0.2 s with psutil) and the largest single process's peak RSS as ``/usr/bin/time -v`` reports it
(when installed), and the 1-minute load average before and
after: the machine is shared, so the load says how much of it the run had.
It also checks that every run produced the same posteriors (largest absolute
difference against the first run). Figures go to stdout as a table and as JSON
(``--json``, default ``reports/cohort_score.json``).

    .venv/bin/python benchmarks/cohort_score.py [--n 100000] [--jobs 1 2] [--dask-workers 2]

Needs the ``dask`` extra (``pip install -e ".[dask]"``) for the Dask run and
psutil (installed with it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

DASK_SCRIPT = """
import sys, dask.dataframe as dd
from distributed import Client, LocalCluster
from bayesdx.scoring import score_dask
src, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                  dashboard_address=None) as cluster, Client(cluster):
    ddf = dd.read_parquet(src, split_row_groups=True)
    score_dask(ddf).to_parquet(out, write_index=True)
"""


def make_cohort(n: int, seed: int, chunk_rows: int, folder: Path) -> Path:
    """The synthetic cohort as Parquet (reused when it exists)."""
    from bayesdx.case import case_to_row, evidence_to_case
    from bayesdx.diagnosis import load_model
    from bayesdx.evaluation.cohort import observe, sample_cohort

    path = folder / f"cohort_n{n}_seed{seed}.parquet"
    if path.exists():
        return path
    model = load_model()
    t0 = time.perf_counter()
    evs = observe(model.net, sample_cohort(model.net, n, seed=seed), seed=seed)
    rows = [case_to_row({"id": f"s{seed}-{i:06d}", **evidence_to_case(e, model.kb)})
            for i, e in enumerate(evs)]
    df = pd.DataFrame(rows)
    df.to_parquet(path, row_group_size=chunk_rows, index=False)
    print(f"cohort: {n} patients, {df.shape[1]} columns, "
          f"{np.mean([len(e) for e in evs]):.1f} observed nodes each, written in "
          f"{time.perf_counter() - t0:.0f} s to {path}", file=sys.stderr)
    return path


def run_measured(cmd: list[str]) -> dict:
    """Run ``cmd``; wall time, peak RSS of its process tree, load average before/after."""
    import psutil

    load0 = os.getloadavg()[0]
    timed = Path("/usr/bin/time").exists()
    if timed:  # GNU time's own figure too: the largest single process's peak RSS
        cmd = ["/usr/bin/time", "-v", *cmd]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    top = psutil.Process(proc.pid)
    peak = 0
    cpu: dict[int, float] = {}  # pid -> user + system seconds, last seen (workers included)
    while proc.poll() is None:
        try:
            tree = [top, *top.children(recursive=True)]
        except psutil.Error:
            tree = []
        rss = 0
        for p in tree:
            try:
                t = p.cpu_times()
                cpu[p.pid] = t.user + t.system
                rss += p.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, rss)
        time.sleep(0.2)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    # bayesdx score exits 2 when some rows could not be scored (their 'error' column says
    # why); the sampler can draw combinations the reader rejects, e.g. marrow blasts >= 20 %
    # without blasts >= 5 %, so a synthetic cohort has a few such rows
    scored = proc.returncode == 2 and "scored " in err
    if proc.returncode != 0 and not scored:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    gnu = [ln for ln in err.splitlines() if "Maximum resident set size" in ln]
    return {"seconds": wall, "cpu_seconds": sum(cpu.values()), "peak_rss_mb": peak / 2**20,
            "time_v_max_rss_mb": int(gnu[-1].split(":")[-1]) / 1024 if gnu else None,
            "load_before": load0, "load_after": os.getloadavg()[0],
            "summary": next((ln.strip() for ln in err.splitlines() if ln.startswith("scored ")), "")}


def _partial(r: dict, n: int) -> None:
    """One run's figures on stderr as soon as it ends (a long benchmark may be cut short)."""
    print(f"done: {r['run']}: {r['seconds']:.1f} s, {n / r['seconds']:.0f} rows/s, "
          f"{r['cpu_seconds']:.0f} CPU s, peak "
          f"{r['peak_rss_mb']:.0f} MB (largest process {r['time_v_max_rss_mb'] or 0:.0f} MB, "
          f"/usr/bin/time -v), load {r['load_before']:.1f} -> {r['load_after']:.1f}",
          file=sys.stderr, flush=True)


def posteriors(path: Path) -> np.ndarray:
    df = pd.read_parquet(path).set_index("id").sort_index()  # Dask's partitions restart the index
    return df[[c for c in df.columns if c.startswith("posterior.")]].to_numpy()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--dask-workers", type=int, default=2, help="0: no Dask run")
    ap.add_argument("--chunk-rows", type=int, default=1000)
    ap.add_argument("--dir", default=str(ROOT / "reports" / "cohort_bench"))
    ap.add_argument("--json", default=str(ROOT / "reports" / "cohort_score.json"))
    args = ap.parse_args(argv)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    src = make_cohort(args.n, args.seed, args.chunk_rows, folder)
    runs = []
    for jobs in args.jobs:
        out = folder / f"scores_jobs{jobs}.parquet"
        m = run_measured([str(BIN / "bayesdx"), "score", str(src), "-o", str(out), "--jobs",
                          str(jobs), "--chunk-rows", str(args.chunk_rows), "--quiet"])
        runs.append({"run": f"bayesdx score --jobs {jobs}", "out": out, **m})
        _partial(runs[-1], args.n)
    if args.dask_workers:
        out = folder / "scores_dask"
        m = run_measured([sys.executable, "-c", DASK_SCRIPT, str(src), str(out),
                          str(args.dask_workers)])
        runs.append({"run": f"Dask LocalCluster, {args.dask_workers} workers x 1 thread",
                     "out": out, **m})
        _partial(runs[-1], args.n)
    for r in runs:
        if r["summary"]:
            print(r["summary"])
    ref = posteriors(runs[0]["out"])
    for r in runs:
        p = posteriors(r["out"])
        r["max_abs_diff_vs_first"] = float(np.nanmax(np.abs(p - ref)))
        r["rows_per_s"] = args.n / r["seconds"]
        r["rows_per_cpu_s"] = args.n / r["cpu_seconds"]
        r["out"] = str(r["out"])
    print(f"cohort: {args.n} synthetic patients (seed {args.seed}), Parquet, chunks of "
          f"{args.chunk_rows} rows; machine: {os.cpu_count()} cores, shared")
    print(f"{'run':<42}{'wall s':>8}{'rows/s':>9}{'CPU s':>8}{'rows/CPU s':>11}{'peak MB':>9}"
          f"{'load 1m before/after':>22}{'max |diff|':>12}")
    for r in runs:
        print(f"{r['run']:<42}{r['seconds']:>8.1f}{r['rows_per_s']:>9.0f}{r['cpu_seconds']:>8.0f}"
              f"{r['rows_per_cpu_s']:>11.0f}{r['peak_rss_mb']:>9.0f}"
              f"{r['load_before']:>13.1f} / {r['load_after']:<6.1f}{r['max_abs_diff_vs_first']:>12.1e}")
    doc = {"n": args.n, "seed": args.seed, "chunk_rows": args.chunk_rows,
           "cores": os.cpu_count(), "runs": runs}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(doc, indent=2))
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
