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
    return 1e3 * statistics.median(ts) if ts else float("nan")


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


PEER_TIMEOUT_S = 60
"""Seconds a peer library may spend on one case before it is counted as failed."""
PEER_MEMORY_GB = 6
"""Address-space limit of the peer worker, so a huge allocation fails fast instead of swapping."""

_PEER: dict = {}


def _peer_init(model, gb):
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (gb << 30, gb << 30))
    _PEER["model"] = model


def _pgmpy_case(ev):
    from pgmpy.inference import VariableElimination

    from bayesdx.inference.export import to_pgmpy

    net = _PEER["model"].net
    pm = to_pgmpy(net, findings=[f for f in ev if f in net.findings])
    t = time.perf_counter()
    ve = VariableElimination(pm)
    got = [ve.query([c], evidence=ev, show_progress=False).values[1] for c in net.causes]
    return time.perf_counter() - t, got


def _agrum_case(path, ev):
    import pyagrum as gum

    bn = gum.loadBN(str(path))
    return _agrum_run(bn, ev, _PEER["model"].net.causes)


def run_isolated(model, fn, args_list, timeout=None, gb=PEER_MEMORY_GB):
    """Run ``fn(*args)`` per case in a forked worker with a time and memory limit.

    Returns ``(results, failures)``: a result is ``(seconds, posteriors)`` or None.
    """
    import multiprocessing as mp

    timeout = timeout or _PEER.get("timeout", PEER_TIMEOUT_S)
    ctx = mp.get_context("fork")
    pool = ctx.Pool(1, initializer=_peer_init, initargs=(model, gb))
    results, failures = [], []
    try:
        for i, args in enumerate(args_list):
            try:
                results.append(pool.apply_async(fn, args).get(timeout))
            except mp.TimeoutError:
                failures.append(f"case {i}: no answer within {timeout} s")
                results.append(None)
                pool.terminate()
                pool = ctx.Pool(1, initializer=_peer_init, initargs=(model, gb))
            except Exception as exc:  # noqa: BLE001 - pyAgrum reports std::bad_alloc as a bare Exception
                failures.append(f"case {i}: {type(exc).__name__}: {exc} (memory limit {gb} GB)")
                results.append(None)
    finally:
        pool.terminate()
    return results, failures


def pgmpy_times(model, evs):
    """``(seconds, max |diff| vs the engine, failures, ids of the cases it did)``."""
    res, failed = run_isolated(model, _pgmpy_case, [(ev,) for ev in evs])
    ts, worst = [], 0.0
    for r, ev in zip(res, evs):
        if r is None:
            continue
        ts.append(r[0])
        worst = max(worst, float(np.abs(np.array(r[1]) - model.engine.posterior(ev).probs).max()))
    return ts, worst, failed, [i for i, r in enumerate(res) if r is not None]


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


def random_sets(net, n: int, seed: int = 2026, max_nodes: int = 6) -> list[dict[str, str]]:
    """Random evidence on context nodes and findings; half the findings abnormal."""
    import random

    rng = random.Random(seed)
    pool = [x for x in net.states if x not in net.causes]
    out = []
    for _ in range(n):
        ev = {}
        for x in rng.sample(pool, rng.randint(1, max_nodes)):
            st = net.states[x]
            ev[x] = st[0] if x in net.findings and rng.random() < 0.5 else \
                rng.choice(st[1:] if x in net.findings else st)
        out.append(ev)
    return out


def pyagrum_times(model, evs, tmp: Path, whole: int = 0):
    """Per-case pruned networks, and the whole exported BIF on the first ``whole`` cases."""
    try:
        import pyagrum  # noqa: F401
    except ImportError:
        return {"error": "pyagrum not installed (pip install -e '.[bench]')"}
    from pgmpy.readwrite import BIFWriter

    from bayesdx.inference.export import to_pgmpy, write_network

    net = model.net
    out: dict = {}
    if whole:
        full = write_network(net, tmp / "bayesdx.bif", "bif")
        res, failed = run_isolated(model, _agrum_case, [(full, ev) for ev in evs[:whole]])
        ok = [r[0] for r in res if r is not None]
        if ok:
            out["full_median_ms"] = _median_ms(ok)
        out["full_failed"] = failed
        out["full_cases"] = len(res)
    paths = []
    for i, ev in enumerate(evs):
        path = tmp / f"case{i}.bif"
        BIFWriter(to_pgmpy(net, findings=[f for f in ev if f in net.findings])).write(str(path))
        paths.append((path, ev))
    res, failed = run_isolated(model, _agrum_case, paths)
    ts, worst = [], 0.0
    for r, (_, ev) in zip(res, paths):
        if r is None:
            continue
        ts.append(r[0])
        worst = max(worst, float(np.abs(np.array(r[1]) - model.engine.posterior(ev).probs).max()))
    out["pruned_failed"] = failed
    out["pruned_median_ms"] = _median_ms(ts) if ts else None
    out["pruned_cases"] = len(ts)
    out["pruned_max_abs_diff"] = worst
    out["pruned_case_ids"] = [i for i, r in enumerate(res) if r is not None]
    return out


def _timed_batch(model, evs):
    model.engine._plans.clear()
    t = time.perf_counter()
    model.engine.posterior_batch(evs)
    return time.perf_counter() - t


def batch_throughput(model, evs, n=5000):
    """Cases per second, plans compiled inside the timing, for three batches.

    ``vignettes``: the validation cases replicated to >= n (92 patterns);
    ``blood_counts``: the cohort's patients with only their blood count (12
    findings) and context, like a laboratory registry;
    ``cohort``: n synthetic patients forward-sampled from the model, context
    recorded, every one a different evidence pattern; ``same_schema``: the same
    patients when only age, sex and drug exposures are recorded (the rest unknown).
    """
    from bayesdx.evaluation.cohort import observe, sample_cohort
    from bayesdx.inference.plan import Pattern

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
    cbc = {f for f in net.findings if net.kb.findings[f].group == "cbc"}
    counts = [{k: v for k, v in e.items() if k in net.context or k in cbc} for e in cohort]
    out["blood_counts"] = (n, _timed_batch(model, counts))
    out["cohort_patterns"] = len({Pattern.of(model.net, [model.engine.validate(e)]) for e in cohort})
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


def voi_times(model, evs):
    from bayesdx.voi import next_tests

    ts = []
    for ev in evs:
        t = time.perf_counter()
        next_tests(model.engine, ev)
        ts.append(time.perf_counter() - t)
    return ts


def network_size(model):
    from bayesdx.inference.export import to_pgmpy

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
    ap.add_argument("--peer-vignettes", type=int, default=3,
                    help="validation cases (lightest first) tried with pgmpy and pyAgrum; default 3")
    ap.add_argument("--peer-sets", type=int, default=40,
                    help="random evidence sets (<= 6 nodes) timed with all three; default 40")
    ap.add_argument("--peer-timeout", type=float, default=PEER_TIMEOUT_S,
                    help=f"seconds per case before a peer counts as failed; default {PEER_TIMEOUT_S}")
    ap.add_argument("--no-app", action="store_true",
                    help="skip issue 12's browser rows (the app in headless Chromium)")
    args = ap.parse_args(argv)
    _PEER["timeout"] = args.peer_timeout

    from bayesdx.case import parse_case
    from bayesdx.diagnosis import load_model
    from bayesdx.evaluation.vignettes import load_vignettes

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
    # Peers, part 1: the lightest validation cases (fewest abnormal findings). A
    # validation case observes many findings (normal ones too), each tied to up to
    # 35 causes, and the peers' elimination orders / junction trees exhaust the
    # time or memory limit; we record that.
    net = model.net
    n_abn = [sum(1 for f, v in ev.items() if f in net.findings and v != net.states[f][0]) for ev in evs]
    light = sorted(range(len(evs)), key=lambda i: (n_abn[i], i))[: args.peer_vignettes]
    vsub = [evs[i] for i in light]
    _, _, v_failed, _ = pgmpy_times(model, vsub)
    with tempfile.TemporaryDirectory() as tmp:
        v_ag = pyagrum_times(model, vsub, Path(tmp), whole=len(vsub))
    res["peers_on_validation_cases"] = {
        "cases": light, "abnormal_findings": [n_abn[i] for i in light],
        "pgmpy_failed": v_failed, "pyagrum_failed": v_ag.get("pruned_failed", []),
        "pyagrum_whole_bif_failed": v_ag.get("full_failed", [])}
    # Peers, part 2: what they can do, random evidence sets of <= 6 observed nodes
    # (the kind of test_crosscheck.py); all three on the same sets.
    sub = random_sets(net, args.peer_sets)
    c_all, w_all = engine_times(model, sub)
    res["engine_random"] = {"cold_median_ms": _median_ms(c_all), "warm_median_ms": _median_ms(w_all)}

    def speedups(peer_ms, ids):  # against the engine on the same sets
        return {"speedup_vs_engine_cold": peer_ms / _median_ms([c_all[i] for i in ids]),
                "speedup_vs_engine_warm": peer_ms / _median_ms([w_all[i] for i in ids])}

    pg, worst, failed, ok = pgmpy_times(model, sub)
    res["pgmpy"] = {"sets": len(sub), "cases": len(ok), "failed": failed, "median_ms": _median_ms(pg),
                    "max_abs_diff": worst, **speedups(_median_ms(pg), ok)}
    with tempfile.TemporaryDirectory() as tmp:
        ag = pyagrum_times(model, sub, Path(tmp), whole=5)
    if ag.get("pruned_median_ms"):
        ag.update(speedups(ag["pruned_median_ms"], ag["pruned_case_ids"]))
    res["pyagrum"] = ag
    vt = voi_times(model, evs[::4])
    res["next_tests"] = {"cases": len(vt), "median_s": statistics.median(vt), "max_s": max(vt)}
    bt = batch_throughput(model, evs)
    res["batch"] = {k: {"cases": v[0], "seconds": v[1], "cases_per_s": v[0] / v[1]}
                    for k, v in bt.items() if k != "cohort_patterns"}
    res["batch"]["cohort_patterns"] = bt["cohort_patterns"]
    res["cold_start_s"] = statistics.median(cold_start(ROOT / "examples" / "clozapine.yaml"))
    mc = mc_time(model, evs[0])
    res["mc_1000_draws_s"] = statistics.median(mc)

    e, p, a = res["engine"], res["pgmpy"], res["pyagrum"]
    v = res["peers_on_validation_cases"]
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
        ("peers on validation cases", (f"{len(v['cases'])} lightest ({v['abnormal_findings']} abnormal findings): "
                                       f"pgmpy failed {len(v['pgmpy_failed'])}, pyAgrum (pruned) failed "
                                       f"{len(v['pyagrum_failed'])}, pyAgrum (whole BIF) failed "
                                       f"{len(v['pyagrum_whole_bif_failed'])} "
                                       f"(limits {_PEER.get('timeout', PEER_TIMEOUT_S):g} s, {PEER_MEMORY_GB} GB)")),
        ("random sets (<= 6 nodes): engine", (f"{res['engine_random']['cold_median_ms']:.2f} / "
                                              f"{res['engine_random']['warm_median_ms']:.2f} ms (cold / warm) "
                                              f"median over {p['sets']} sets")),
        ("  pgmpy VE, pruned network", (f"{p['median_ms']:.1f} ms median over the {p['cases']} sets it "
                                        f"could do ({len(p['failed'])} failed); "
                                        f"{p['speedup_vs_engine_cold']:.0f}x / {p['speedup_vs_engine_warm']:.0f}x "
                                        f"slower; max |diff| {p['max_abs_diff']:.1e}")),
        ("  pyAgrum LazyPropagation, whole BIF", (f"{a.get('full_median_ms', float('nan')):.1f} ms median "
                                                  f"over the {a['full_cases'] - len(a['full_failed'])} of "
                                                  f"{a['full_cases']} sets it could do")),
        ("  pyAgrum LazyPropagation, pruned",
         (f"{a['pruned_median_ms']:.1f} ms median over {a['pruned_cases']} sets "
          f"({len(a.get('pruned_failed', []))} failed); "
          f"{a['speedup_vs_engine_cold']:.1f}x / {a['speedup_vs_engine_warm']:.1f}x slower; "
          f"max |diff| {a['pruned_max_abs_diff']:.1e}") if a.get("pruned_median_ms") else a.get("error", "-")),
        ("batch: validation cases x55", f"{res['batch']['vignettes']['cases_per_s']:.0f} cases/s "
                                        f"({res['batch']['vignettes']['cases']} cases, 92 patterns)"),
        ("batch: synthetic cohort", f"{res['batch']['cohort']['cases_per_s']:.0f} cases/s "
                                    f"({res['batch']['cohort']['cases']} patients, "
                                    f"{res['batch']['cohort_patterns']} distinct patterns)"),
        ("batch: same, age/sex/drugs only", f"{res['batch']['same_schema']['cases_per_s']:.0f} cases/s"),
        ("batch: same, blood count + context", f"{res['batch']['blood_counts']['cases_per_s']:.0f} cases/s"),
        ("cold start (bayesdx diagnose)", f"{res['cold_start_s']:.2f} s"),
        ("model build (in process)", f"{build_s:.2f} s"),
        ("credible intervals, 1,000 draws", f"{res['mc_1000_draws_s']:.2f} s"),
        ("next tests, all candidates ranked", f"{res['next_tests']['median_s']:.3f} s median over "
                                              f"{res['next_tests']['cases']} cases "
                                              f"(max {res['next_tests']['max_s']:.3f})"),
    ]
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    import issue12  # the figures of issue 12's table, with their goals (benchmarks/issue12.py)

    res["issue12"] = issue12.measure(model, evs, batch=bt, peer_res=res,
                                     skip={"app-whiskers", "app-first"} if args.no_app else ())
    print()
    issue12.print_table(res["issue12"])
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(res, indent=2))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
