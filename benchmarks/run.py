"""bayesdx benchmarks: the engine side by side with pgmpy and pyAgrum.

Run with ``./dev bench`` (installs pyAgrum, the ``bench`` extra). Prints a
table and writes JSON (``--json PATH``, default ``reports/bench.json``).

What is measured (all on this machine, wall-clock, ``time.perf_counter``):

* engine: full posterior of every cause per validation case, median over the
  cases, *cold* (a new evidence pattern: plan compiled) and *warm* (plan cached);
* pgmpy VariableElimination, all causes, on the exported full-table network
  pruned to the observed findings (unobserved findings are barren: exact);
* pyAgrum LazyPropagation, all causes, on the exported BIF of the whole
  network, and on the same per-case pruned networks as pgmpy;
* batch scoring (plans compiled inside the timing): the validation cases
  replicated to ≥ 5,000; 5,000 synthetic patients sampled from the model, each
  a different evidence pattern; the same patients with only age, sex and drug
  exposures recorded;
* cold start: ``bayesdx diagnose`` in a fresh process (import + build + one case);
* Monte-Carlo credible intervals: 1,000 parameter draws for one case.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _median_ms(ts):
    return 1e3 * statistics.median(ts)


def engine_times(model, evs):
    e = model.engine
    cold, warm = [], []
    for ev in evs:
        e._plans.clear()
        t = time.perf_counter()
        e.posterior(ev)
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        e.posterior(ev)
        warm.append(time.perf_counter() - t)
    return cold, warm


def pgmpy_times(model, evs):
    from pgmpy.inference import VariableElimination

    from bayesdx.export import to_pgmpy

    net = model.net
    ts, worst, failed = [], 0.0, []
    for i, ev in enumerate(evs):
        pm = to_pgmpy(net, findings=[f for f in ev if f in net.findings])
        t = time.perf_counter()
        try:
            ve = VariableElimination(pm)
            got = [ve.query([c], evidence=ev, show_progress=False).values[1] for c in net.causes]
        except MemoryError as exc:
            failed.append(f"case {i}: {type(exc).__name__}")
            continue
        ts.append(time.perf_counter() - t)
        worst = max(worst, float(np.abs(np.array(got) - model.engine.posterior(ev).probs).max()))
    return ts, worst, failed


def _agrum_run(bn, ev, causes):
    import pyagrum as gum

    t = time.perf_counter()
    ie = gum.LazyPropagation(bn)
    ie.setEvidence(ev)
    for c in causes:
        ie.addTarget(c)
    ie.makeInference()
    post = [ie.posterior(c)[1] for c in causes]
    return time.perf_counter() - t, post


def pyagrum_times(model, evs, tmp: Path):
    """Whole network (may not fit in memory) and per-case pruned networks."""
    try:
        import pyagrum as gum
    except ImportError:
        return {"error": "pyagrum not installed (pip install -e '.[bench]')"}
    from pgmpy.readwrite import BIFWriter

    from bayesdx.export import to_pgmpy, write_network

    net = model.net
    out: dict = {}
    full = write_network(net, tmp / "bayesdx.bif", "bif")
    try:
        bn = gum.loadBN(str(full))
        ts = []
        for ev in evs[:10]:
            dt, _ = _agrum_run(bn, ev, net.causes)
            ts.append(dt)
        out["full_median_ms"] = _median_ms(ts)
    except Exception as exc:  # pyAgrum raises std::bad_alloc as Exception
        out["full_error"] = f"{type(exc).__name__}: {exc}"
    ts, worst = [], 0.0
    for i, ev in enumerate(evs):
        path = tmp / f"case{i}.bif"
        BIFWriter(to_pgmpy(net, findings=[f for f in ev if f in net.findings])).write(str(path))
        bn = gum.loadBN(str(path))
        try:
            dt, post = _agrum_run(bn, ev, net.causes)
        except Exception as exc:
            out.setdefault("pruned_errors", []).append(f"case {i}: {exc}")
            continue
        ts.append(dt)
        worst = max(worst, float(np.abs(np.array(post) - model.engine.posterior(ev).probs).max()))
    out["pruned_median_ms"] = _median_ms(ts) if ts else None
    out["pruned_cases"] = len(ts)
    out["pruned_max_abs_diff"] = worst
    return out


def _timed_batch(model, evs):
    model.engine._plans.clear()
    t = time.perf_counter()
    model.engine.posterior_batch(evs)
    return time.perf_counter() - t


def batch_throughput(model, evs, n=5000):
    """Cases per second, plans compiled inside the timing, for three batches.

    ``vignettes``: the validation cases replicated to >= n (92 patterns);
    ``cohort``: n synthetic patients forward-sampled from the model, context
    recorded, every one a different evidence pattern; ``same_schema``: the same
    patients when only age, sex and drug exposures are recorded (the rest unknown).
    """
    from bayesdx.cohort import observe, sample_cohort

    reps = -(-n // len(evs))
    out = {}
    batch = [ev for ev in evs for _ in range(reps)]
    out["vignettes"] = (len(batch), _timed_batch(model, batch))
    net = model.net
    cohort = observe(net, sample_cohort(net, n, seed=1), seed=1)
    out["cohort"] = (n, _timed_batch(model, cohort))
    keep = {"age_group", "sex"} | {x for x in net.context if x.startswith("exposure_")}
    schema = [{k: v for k, v in e.items() if k not in net.context or k in keep} for e in cohort]
    out["same_schema"] = (n, _timed_batch(model, schema))
    out["cohort_patterns"] = len({model.engine._pattern_key([model.engine.validate(e)]) for e in cohort})
    return out


def cold_start(case: Path, runs=5):
    exe = Path(sys.executable).with_name("bayesdx")
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([str(exe), "diagnose", str(case), "--draws", "0"], check=True,
                       stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        ts.append(time.perf_counter() - t)
    return ts


def mc_time(model, ev, draws=1000, runs=3):
    from bayesdx.uncertainty import credible_intervals

    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        credible_intervals(model.engine, ev, draws=draws, seed=0)
        ts.append(time.perf_counter() - t)
    return ts


def network_size(model):
    from bayesdx.export import to_pgmpy

    net = model.net
    edges = sum(len(p) for p in net.parents.values())
    pm = to_pgmpy(net)
    largest = max(pm.get_cpds(), key=lambda c: c.values.size)
    widest = max(net.findings, key=lambda f: len(net.parents[f]))
    return {"context": len(net.context), "causes": len(net.causes),
            "findings": len(net.findings), "edges": edges, "parameters": net.n_params,
            "widest_finding": widest, "widest_fan_in": len(net.parents[widest]),
            "exported_nodes": len(pm.nodes), "exported_edges": len(pm.edges),
            "largest_exported_table": f"{largest.variable} ({largest.values.size} entries)"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=str(ROOT / "reports" / "bench.json"))
    ap.add_argument("--pgmpy-cases", type=int, default=30,
                    help="validation cases for pgmpy/pyAgrum (slow); default 30")
    args = ap.parse_args(argv)

    from bayesdx.case import parse_case
    from bayesdx.diagnose import load_model
    from bayesdx.validation import load_vignettes

    t = time.perf_counter()
    model = load_model()
    build_s = time.perf_counter() - t
    evs = [parse_case(v.case, model.kb).evidence for v in load_vignettes()]
    res: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                 "network": network_size(model), "model_build_s": build_s,
                 "validation_cases": len(evs)}

    cold, warm = engine_times(model, evs)
    res["engine"] = {"cold_median_ms": _median_ms(cold), "cold_max_ms": 1e3 * max(cold),
                     "warm_median_ms": _median_ms(warm), "warm_max_ms": 1e3 * max(warm)}
    sub = evs[: args.pgmpy_cases]
    pg, worst, failed = pgmpy_times(model, sub)
    ok = [ev for i, ev in enumerate(sub) if not any(f.startswith(f"case {i}:") for f in failed)]
    c_sub, w_sub = engine_times(model, ok)
    res["pgmpy"] = {"cases": len(ok), "failed": failed, "median_ms": _median_ms(pg),
                    "max_abs_diff": worst,
                    "speedup_vs_engine_cold": _median_ms(pg) / _median_ms(c_sub),
                    "speedup_vs_engine_warm": _median_ms(pg) / _median_ms(w_sub)}
    with tempfile.TemporaryDirectory() as tmp:
        ag = pyagrum_times(model, ok, Path(tmp))
    if ag.get("pruned_median_ms"):
        ag["speedup_vs_engine_cold"] = ag["pruned_median_ms"] / _median_ms(c_sub)
        ag["speedup_vs_engine_warm"] = ag["pruned_median_ms"] / _median_ms(w_sub)
    res["pyagrum"] = ag
    bt = batch_throughput(model, evs)
    res["batch"] = {k: {"cases": v[0], "seconds": v[1], "cases_per_s": v[0] / v[1]}
                    for k, v in bt.items() if k != "cohort_patterns"}
    res["batch"]["cohort_patterns"] = bt["cohort_patterns"]
    res["cold_start_s"] = statistics.median(cold_start(ROOT / "examples" / "clozapine.yaml"))
    mc = mc_time(model, evs[0])
    res["mc_1000_draws_s"] = statistics.median(mc)

    e, p, a = res["engine"], res["pgmpy"], res["pyagrum"]
    rows = [
        ("network", f"{res['network']['context']} context, {res['network']['causes']} causes, "
                    f"{res['network']['findings']} findings, {res['network']['edges']} edges; "
                    f"widest {res['network']['widest_finding']} ({res['network']['widest_fan_in']} parents)"),
        ("exported (full tables)", f"{res['network']['exported_nodes']} nodes, "
                                   f"{res['network']['exported_edges']} edges; largest table "
                                   f"{res['network']['largest_exported_table']}"),
        ("engine, all causes (cold / warm)", f"{e['cold_median_ms']:.2f} / {e['warm_median_ms']:.2f} ms "
                                             f"median over {len(evs)} cases (max {e['cold_max_ms']:.1f} / "
                                             f"{e['warm_max_ms']:.1f})"),
        ("pgmpy VE, pruned network", f"{p['median_ms']:.1f} ms median over the {p['cases']} cases it "
                                     f"could do ({len(p['failed'])} ran out of memory); "
                                     f"{p['speedup_vs_engine_cold']:.0f}x / {p['speedup_vs_engine_warm']:.0f}x "
                                     f"slower; max |diff| {p['max_abs_diff']:.1e}"),
        ("pyAgrum LazyPropagation, whole BIF", a.get("full_error") or f"{a.get('full_median_ms', 0):.1f} ms"),
        ("pyAgrum LazyPropagation, pruned BIF",
         (f"{a['pruned_median_ms']:.1f} ms median over {a['pruned_cases']} cases; "
          f"{a['speedup_vs_engine_cold']:.1f}x / {a['speedup_vs_engine_warm']:.1f}x slower; "
          f"max |diff| {a['pruned_max_abs_diff']:.1e}") if a.get("pruned_median_ms") else a.get("error", "-")),
        ("batch: validation cases x55", f"{res['batch']['vignettes']['cases_per_s']:.0f} cases/s "
                                        f"({res['batch']['vignettes']['cases']} cases, 92 patterns)"),
        ("batch: synthetic cohort", f"{res['batch']['cohort']['cases_per_s']:.0f} cases/s "
                                    f"({res['batch']['cohort']['cases']} patients, "
                                    f"{res['batch']['cohort_patterns']} distinct patterns)"),
        ("batch: same, age/sex/drugs only", f"{res['batch']['same_schema']['cases_per_s']:.0f} cases/s"),
        ("cold start (bayesdx diagnose)", f"{res['cold_start_s']:.2f} s"),
        ("model build (in process)", f"{build_s:.2f} s"),
        ("credible intervals, 1,000 draws", f"{res['mc_1000_draws_s']:.2f} s"),
    ]
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(res, indent=2))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
