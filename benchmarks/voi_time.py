"""Time of ranking every candidate test (next best test) on the validation vignettes.

A benchmark script, not a test. For every vignette the case is parsed, the
plan cache is emptied (every case is new to the engine, as in the app) and
:func:`bayesdx.voi.next_tests` ranks all unobserved orderable tests. Prints the
median and maximum wall time (and CPU time, since a loaded machine inflates
wall time), the slowest vignettes, and how far ``method="fast"`` is from the
reference ``method="direct"`` on a sample. The target is a median of at most
0.5 s.

    .venv/bin/python benchmarks/voi_time.py [--method fast|direct] [--check 5]
    .venv/bin/python benchmarks/voi_time.py --sensitivity 10   # also time sensitivity
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bayesdx.case import parse_case  # noqa: E402
from bayesdx.diagnosis import load_model  # noqa: E402
from bayesdx.inference.engine import Engine  # noqa: E402
from bayesdx.sensitivity import sensitivity  # noqa: E402
from bayesdx.evaluation.vignettes import load_vignettes  # noqa: E402
from bayesdx.voi import next_tests  # noqa: E402

TARGET_S = 0.5


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def summary(name: str, rows: list[tuple[str, float, float]], target: float | None = None) -> None:
    wall = [r[1] for r in rows]
    cpu = [r[2] for r in rows]
    print(f"{name}: {len(rows)} cases; wall median {statistics.median(wall):.3f} s, "
          f"max {max(wall):.3f} s; CPU median {statistics.median(cpu):.3f} s, max {max(cpu):.3f} s"
          + (f"; target median <= {target} s: "
             f"{'met' if statistics.median(wall) <= target else 'NOT met'}" if target else ""))
    for vid, w, c in sorted(rows, key=lambda r: -r[1])[:5]:
        print(f"  slowest: {vid:<40} {w:7.3f} s wall  {c:7.3f} s CPU")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=["fast", "direct"], default="fast")
    ap.add_argument("--check", type=int, default=5, help="vignettes compared with the direct "
                    "method (0: none)")
    ap.add_argument("--sensitivity", type=int, default=0, metavar="N",
                    help="also time sensitivity of the expected cause on N vignettes")
    args = ap.parse_args()

    model = load_model()
    eng = model.engine
    Engine(model.net)  # warm up imports
    cases = [(v.id, v.cause, parse_case(v.case, model.kb).evidence) for v in load_vignettes()]
    rows = []
    for vid, _, ev in cases:
        eng = Engine(model.net)  # a new case: nothing compiled yet
        _, w, c = timed(lambda e=eng, x=ev: next_tests(e, x, method=args.method))
        rows.append((vid, w, c))
    n_ev = statistics.median(len(ev) for _, _, ev in cases)
    summary(f"next-tests ({args.method}; median {n_ev:g} evidence items)", rows, TARGET_S)

    if args.check:
        worst = 0.0
        for vid, _, ev in cases[:: max(1, len(cases) // args.check)][:args.check]:
            a, b = next_tests(eng, ev), next_tests(eng, ev, method="direct")
            for ta, tb in zip(sorted(a.items, key=lambda t: t.finding),
                              sorted(b.items, key=lambda t: t.finding)):
                worst = max(worst,
                            abs(ta.expected_entropy_reduction - tb.expected_entropy_reduction),
                            *(abs(x.prob - y.prob) for x, y in zip(ta.outcomes, tb.outcomes)))
        print(f"fast vs direct on {args.check} vignettes: largest difference {worst:.2e}")

    if args.sensitivity:
        srows = []
        for vid, cause, ev in cases[:: max(1, len(cases) // args.sensitivity)][:args.sensitivity]:
            eng = Engine(model.net)
            s, w, c = timed(lambda e=eng, c=cause, x=ev: sensitivity(e, c, x))
            srows.append((vid, w, c))
        summary(f"sensitivity (expected cause; all {len(s.items)} parameters with a range)", srows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
