"""The 27-finding work-up of issue 15: time and peak memory of ``bayesdx diagnose``.

Runs ``bayesdx diagnose examples/heavy_workup.yaml`` (default draws, so with
credible intervals within the time budget) in a fresh process, several times,
and prints the median wall time, the largest peak RSS, the load average, and
the engine's own cost estimate. Targets: <= 10 s and <= 1.5 GB.

    .venv/bin/python benchmarks/heavy_case.py [--runs 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "heavy_workup.yaml"


def one_run(extra=()) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of a fresh ``bayesdx diagnose`` and its 'Inference:' line."""
    exe = Path(sys.executable).with_name("bayesdx")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run([str(exe), "diagnose", str(CASE), *extra], capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode:
        raise SystemExit(f"bayesdx diagnose failed ({proc.returncode}): {proc.stderr.strip()}")
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("Inference:")), "")
    # ru_maxrss of children is the largest so far; runs are alike, so report it
    return wall, max(peak, before) / 1024, line


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from bayesdx.case import read_cases
    from bayesdx.diagnosis import load_model

    model = load_model()
    pc = read_cases(CASE, model.kb)[0]
    net = model.net
    abnormal = sum(1 for f, s in pc.evidence.items() if f in net.findings and s != net.states[f][0])
    t = time.perf_counter()
    cost = model.engine.estimate(pc.evidence)
    compile_s = time.perf_counter() - t
    out = {"case": str(CASE.relative_to(ROOT)), "abnormal_findings": abnormal,
           "estimate": {"states": cost.states, "mb": round(cost.bytes / 2**20),
                        "seconds": round(cost.seconds, 2), "compile_s": round(compile_s, 2)},
           "load_average": os.getloadavg()[0]}
    for label, extra in (("default draws", ()), ("--draws 0", ("--draws", "0"))):
        walls, peaks = [], []
        for _ in range(args.runs):
            w, p, line = one_run(extra)
            walls.append(w)
            peaks.append(p)
        out[label] = {"median_s": round(statistics.median(walls), 2), "max_s": round(max(walls), 2),
                      "peak_mb": round(max(peaks)), "inference": line}
    print(f"{out['case']}: {abnormal} abnormal findings; estimate {cost.describe()} "
          f"(plan compiled in {compile_s:.2f} s); load average {out['load_average']:.2f}")
    print(f"{'run':<15} {'median s':>9} {'max s':>7} {'peak MB':>8}  target <= 10 s, <= 1,536 MB")
    for label in ("default draws", "--draws 0"):
        r = out[label]
        print(f"{label:<15} {r['median_s']:9.2f} {r['max_s']:7.2f} {r['peak_mb']:8,}")
    print(out["default draws"]["inference"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
