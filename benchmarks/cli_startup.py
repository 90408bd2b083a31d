"""Start-up of ``bayesdx diagnose`` in a fresh process (a benchmark script, not a test).

Runs ``bayesdx diagnose examples/batch.yaml`` (3 cases, one unreadable on
purpose, so it exits with 2) ``--runs`` times, each in a new process, and
prints the median wall time, CPU time (user + system) and peak memory, with
the load average (on a shared machine the wall time follows the load; the CPU
time much less). Then, in one more fresh process, where the time goes, stage
by stage. Targets (issue 12): at most 2 s wall and 300 MB.

    .venv/bin/python benchmarks/cli_startup.py [--runs 5] [--draws 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "examples" / "batch.yaml"

STAGES = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
out = []
def lap(label):
    global t0, c0
    t, c = time.perf_counter(), time.process_time()
    out.append((label, t - t0, c - c0)); t0, c0 = t, c
import bayesdx.cli.main
lap("imports")
from bayesdx.knowledge.load import load_knowledge
load_knowledge(); lap("knowledge files")
from bayesdx.diagnosis import load_model
model = load_model(); lap("model (network, engine)")
from bayesdx.case import iter_cases
cases = list(iter_cases(sys.argv[1], model.kb)); lap("reading the cases")
from bayesdx.batch import score_cases
list(score_cases(cases, model=model, draws=0, scores=False)); lap("posteriors")
list(score_cases(cases, model=model, draws=0)); lap("scores (first use of the kernel)")
draws = int(sys.argv[2])
if draws:
    list(score_cases(cases, model=model, draws=draws)); lap(f"with intervals ({draws} draws)")
print(json.dumps(out))
"""


def timed_run(argv: list[str]) -> dict:
    """Wall, CPU and peak memory of one fresh process (os.wait4: this child's own figures)."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": time.perf_counter() - t, "cpu_s": ru.ru_utime + ru.ru_stime,
            "peak_mb": ru.ru_maxrss / 1024, "exit": proc.returncode, "load": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh processes to time")
    ap.add_argument("--draws", type=int, default=1000, help="interval draws (the CLI default: 1000)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    script = Path(sys.executable).with_name("bayesdx")  # the console script, as a user runs it
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "bayesdx.cli.main"]
    cli = [*entry, "diagnose", "--draws", str(args.draws), str(CASES.relative_to(REPO))]
    runs = [timed_run(cli) for _ in range(args.runs)]
    stages = json.loads(subprocess.run([sys.executable, "-c", STAGES, str(CASES), str(args.draws)],
                                       cwd=REPO, capture_output=True, text=True, check=True).stdout)
    res = {"command": " ".join([Path(cli[0]).name, *cli[1:]]), "runs": runs,
           **{f"median_{k}": statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_mb")},
           "stages": [{"stage": s, "wall_s": w, "cpu_s": c} for s, w, c in stages],
           "target": {"wall_s": 2.0, "peak_mb": 300}}
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    loads = [r["load"] for r in runs]
    print(f"{res['command']}: {len(runs)} fresh processes, exit {runs[0]['exit']} "
          f"(load average {min(loads):.1f}-{max(loads):.1f})")
    print(f"  median {res['median_wall_s']:.2f} s wall, {res['median_cpu_s']:.2f} s CPU, "
          f"{res['median_peak_mb']:.0f} MB peak   (target <= 2 s, <= 300 MB)")
    print("  where the time goes (one more fresh process):")
    for s in res["stages"]:
        print(f"    {s['stage']:34s} {s['wall_s']:6.3f} s wall {s['cpu_s']:6.3f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
