"""Cost of the counterfactual scores and the k-best explanations next to one posterior.

A benchmark script, not a test. For every validation vignette (plan cache
warm for all three, as in the app after the first query of a case):

* one posterior (:meth:`Engine.posterior`);
* every cause's counterfactual scores (:func:`bayesdx.counterfactual.counterfactual`,
  one batched engine call);
* the ``k`` most probable explanations (:func:`bayesdx.explanations.joint_explanations`).

Prints median and worst CPU time of each, and the ratio to the posterior of
the same case (median and worst over the vignettes).

    .venv/bin/python benchmarks/explain_time.py [--k 5] [--repeat 1] [--limit N]

Each case's figures go to stderr as they come (posterior / scores / explanations).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bayesdx.case import parse_case  # noqa: E402
from bayesdx.counterfactual import counterfactual  # noqa: E402
from bayesdx.diagnosis import load_model  # noqa: E402
from bayesdx.evaluation.vignettes import load_vignettes  # noqa: E402
from bayesdx.explanations import joint_explanations  # noqa: E402


def best_cpu(fn, repeat: int) -> float:
    """Smallest CPU time of ``repeat`` runs (after one warm-up run)."""
    fn()
    out = []
    for _ in range(repeat):
        c = time.process_time()
        fn()
        out.append(time.process_time() - c)
    return min(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="only the first N vignettes")
    args = ap.parse_args(argv)
    m = load_model()
    eng = m.engine
    rows = []
    for v in load_vignettes()[:args.limit]:
        ev = parse_case(v.case, m.kb, source=v.path).evidence
        tp = best_cpu(lambda: eng.posterior(ev), args.repeat)
        tc = best_cpu(lambda: counterfactual(eng, ev), args.repeat)
        tj = best_cpu(lambda: joint_explanations(eng, ev, k=args.k), args.repeat)
        n_abn = sum(1 for f, s in ev.items() if f in m.net.kb.findings and s != m.net.states[f][0])
        rows.append((v.id, n_abn, tp, tc, tj))
        print(f"  {v.id:<44} {n_abn:>3} abnormal  {tp:.4f} / {tc:.4f} / {tj:.4f} s",
              file=sys.stderr, flush=True)
    print(f"{len(rows)} vignettes; CPU seconds (best of {args.repeat}), plan cache warm")
    print(f"  {'what':<34} {'median':>9} {'worst':>9}   x posterior: median  worst")
    for name, j in (("one posterior", 2), ("counterfactual scores, all causes", 3),
                    (f"{args.k} best explanations + P(only)", 4)):
        t = [r[j] for r in rows]
        ratio = [r[j] / r[2] for r in rows]
        print(f"  {name:<34} {statistics.median(t):9.4f} {max(t):9.4f}   "
              f"{statistics.median(ratio):13.1f} {max(ratio):6.1f}")
    print("slowest counterfactual cases (abnormal findings, posterior / scores / explanations s):")
    for vid, n, tp, tc, tj in sorted(rows, key=lambda r: -r[3])[:5]:
        print(f"  {vid:<40} {n:>3}  {tp:.4f} / {tc:.4f} / {tj:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
