"""The implementation of each ``bayesdx`` subcommand: one function per command.

Each takes the parsed arguments and returns an exit code; expected errors are
raised as :class:`~bayesdx.errors.BayesdxError` and turned into exit codes by
:func:`bayesdx.cli.main.main`.
"""

from __future__ import annotations

import json
import textwrap
import sys
from collections import deque

from ..errors import BayesdxError

__all__ = ["NODE_KINDS", "case_label", "cmd_calibrate", "cmd_check", "cmd_compare", "cmd_diagnose", "cmd_explain",
           "cmd_export", "cmd_fit", "cmd_next_tests", "cmd_nodes", "cmd_regress", "cmd_score", "cmd_sensitivity",
           "cmd_validate"]

#: the kinds of node ``bayesdx nodes --kind`` lists (the three layers of the network)
NODE_KINDS = ("context", "cause", "finding")


def _model(args):
    from ..diagnosis import load_model

    return load_model(args.root)


def cmd_check(args) -> int:
    """Validate model/ and priors/ and print a summary."""
    from ..diagnosis import load_model

    m = load_model(args.root)
    net = m.net
    n_edges = sum(len(p) for p in net.parents.values())
    largest = max(net.parents, key=lambda n: len(net.parents[n]))
    print(f"knowledge OK: {len(net.context)} context nodes, {len(net.causes)} causes, "
          f"{len(net.findings)} findings, {n_edges} edges, {net.n_params} numbers "
          f"({sum(p.estimate for p in net.params)} estimates); largest fan-in: {largest} "
          f"({len(net.parents[largest])} parents)")
    return 0


def cmd_nodes(args) -> int:
    """List the network's nodes (kind, id, readable label, states): all, one kind, or one node."""
    from ..errors import Problem, QueryError, check_option, suggest

    net = _model(args).net
    layers = dict(zip(NODE_KINDS, (net.context, net.causes, net.findings)))
    if args.kind is not None:
        check_option("--kind", args.kind, NODE_KINDS)
    if args.node is not None and args.node not in net.states:
        raise QueryError(Problem("nodes", "", "must be a node of the network", repr(args.node),
                                 suggest(args.node, net.states, "node")))
    rows = [(kind, n) for kind in (NODE_KINDS if args.kind is None else (args.kind,))
            for n in layers[kind] if args.node in (None, n)]
    if not rows:
        raise QueryError(Problem("nodes", "", f"must be a {args.kind} node", repr(args.node),
                                 f"'bayesdx nodes {args.node}' (without --kind)"))
    w_id = max(len(n) for _, n in rows)
    w_label = max(len(net.labels.get(n) or n) for _, n in rows)
    for kind, n in rows:
        print(f"{kind:<8}  {n:<{w_id}}  {net.labels.get(n) or n:<{w_label}}  {', '.join(net.states[n])}")
    return 0


def _print_table(d, top: int | None, out=None) -> None:
    from ..diagnosis import DISCLAIMER

    out = out or sys.stdout
    print(f"Case: {d.id or '(no id)'}", file=out)
    rows = d.causes if top is None else d.causes[:top]
    w = max(len(c.label) for c in rows) if rows else 10
    cf = bool(rows) and rows[0].sufficiency is not None
    head = f"  {'sufficiency':>11}  {'disablement':>11}  {'P(needed)':>9}" if cf else ""
    if d.rank_by != "posterior":
        print(f"Ranked by {d.rank_by} (see 'bayesdx diagnose --help')", file=out)
    approx = not d.exact
    post_head = "  posterior (approx.)  ± s.e." if approx else f"  {'posterior':>9}"
    print(f"  {'#':>2}  {'cause':<{w}}  {'prior':>7}{post_head}{head}  90% interval", file=out)
    for i, c in enumerate(rows, 1):
        iv = f"{c.interval[0]:.3f}-{c.interval[1]:.3f}" if c.interval else "-"
        sc = (f"  {c.sufficiency:11.3f}  {c.disablement:11.3f}  {c.p_needed:9.3f}" if cf else "")
        post = f"{c.posterior:19.3f}  ±{c.se:6.3f}" if approx else f"{c.posterior:9.3f}"
        print(f"  {i:>2}  {c.label:<{w}}  {c.prior:7.3f}  {post}{sc}  {iv}", file=out)
    if top is not None and len(d.causes) > top:
        print(f"  ... {len(d.causes) - top} more (use --all)", file=out)
    ev = ", ".join(f"{k}={v}" for k, v in d.evidence.items()) or "(none: the prior)"
    print(f"Evidence: {ev}", file=out)
    inf = d.inference
    line = f"Inference: {inf['method']} posterior"
    if not inf["exact"]:
        smp = inf["sampler"]
        line = (f"Inference: APPROXIMATE posterior ({inf['method'].capitalize()} sampling, "
                f"{smp['chains']} chains x {smp['sweeps']} sweeps, seed {smp['seed']}), Monte-Carlo "
                f"standard error up to {inf['posterior_error']:.4f} (± s.e.); the exact posterior "
                f"({inf['exact_cost']}) is over the time budget (--budget-seconds)")
    if "interval" in inf:
        iv = inf["interval"]
        line += f"; intervals from {iv['draws']} of {iv['requested']} parameter draws"
        if iv["mc_error"] is not None:
            line += f" (Monte-Carlo error of the ends ~{iv['mc_error']:.3f})"
        if iv["note"] and iv["draws"] == 0:
            line += f": {iv['note']}"
    print(line, file=out)
    if d.ignored:
        print("Ignored: " + "; ".join(f"{i.get('field')}: {i.get('reason')}" for i in d.ignored),
              file=out)
    print(DISCLAIMER, file=out)


def case_label(path, pc, i: int, n: int) -> str:
    """Which case of a file a message is about: ``file`` or ``file: cases[i] (id 'x')``."""
    cid = getattr(pc, "id", None) or getattr(pc, "case_id", None)
    if n == 1:
        return f"{path}" + (f" (id {cid!r})" if cid else "")
    return f"{path}: cases[{i}]" + (f" (id {cid!r})" if cid else "")


def cmd_diagnose(args) -> int:
    """Rank the causes for each case in a case file, streaming one result per case."""
    from ..case import iter_cases
    from ..diagnosis import score_cases
    from ..progress import progress_bar

    model = _model(args)
    budget = None
    if args.budget_seconds is not None:
        from ..inference.budget import Budget

        budget = Budget(model.engine.budget.memory_bytes, args.budget_seconds)
    parsed = iter_cases(args.case, model.kb, lenient=args.lenient)
    kept: deque = deque()  # each parsed case until its result is out (for the message naming it)

    def keep(stream):
        for pc in stream:
            kept.append(pc)
            yield pc

    results = score_cases(keep(parsed), model=model, draws=args.draws, seed=args.seed,
                          rank_by=getattr(args, "rank_by", "posterior"),
                          budget=budget, approximate=not args.exact)
    code = 0
    for i, r in enumerate(progress_bar(results, total=len(parsed), label="cases")):
        pc = kept.popleft()
        if isinstance(r, Exception):
            where = case_label(args.case, pc, i, len(parsed))
            if isinstance(r, BayesdxError):
                print(f"{where}: {r}", file=sys.stderr)
                code = max(code, r.exit_code)
            else:  # a bug, but only this case's: the others are still scored
                print(f"{where}: internal error: {type(r).__name__}: {r}\nthis is a bug in "
                      "bayesdx; please report it", file=sys.stderr)
                code = 70
            continue
        if args.json:
            print(json.dumps(r.to_dict()), flush=True)
        else:
            _print_table(r, None if args.all else args.top)
            print(flush=True)
    return code


def _print_set(name: str, score) -> None:
    """Headline figures and misses of a vignette-format set."""
    print(f"{name}: {score.n}  top-1: {score.top1:.3f}  top-3: {score.top3:.3f}  "
          f"MRR: {score.mrr:.3f}  Brier: {score.brier:.4f}  log loss: {score.log_loss:.4f}")
    misses = score.misses
    if misses:
        print(f"  misses ({len(misses)}):")
        for r in misses:
            if r.error:
                print(f"    {r.vignette.id}: ERROR {r.error}")
                continue
            top3 = ", ".join(f"{c} {p:.2f}" for c, p in zip(r.ranking[:3], r.probs[:3]))
            rank = r.rank or "none: not a cause of the model"
            print(f"    {r.vignette.id}: expected {r.vignette.cause} (rank {rank}); top: {top3}")


def _print_rankings(args, model, v, sets) -> None:
    """Top-1 / top-3 / MRR of every ranking (posterior and counterfactual) per ranked set."""
    from ..evaluation.suite import set_folder
    from ..evaluation.vignettes import load_vignettes, score_rankings

    out = sys.stderr if getattr(args, "json", False) else sys.stdout
    print("rankings side by side (counterfactual scores: docs/counterfactual.md):", file=out)
    print(f"  {'set':<10} {'ranking':<12} {'top-1':>6} {'top-3':>6} {'MRR':>6}", file=out)
    for name in ("vignettes", "published"):
        if name not in sets or getattr(v, name) is None:
            continue
        given = getattr(args, name, None)
        vs = load_vignettes(given or set_folder(name), published=name == "published")
        for rk, sc in score_rankings(vs, model).items():
            print(f"  {name:<10} {rk:<12} {sc.top1:6.3f} {sc.top3:6.3f} {sc.mrr:6.3f}", file=out)


def cmd_validate(args) -> int:
    """Score the validation sets separately; exit 1 when a probe fails or vignettes miss."""
    from ..evaluation.suite import SETS, run_validation

    model = _model(args)
    sets = (args.sets,) if getattr(args, "sets", None) else SETS
    folders = {"vignettes": args.vignettes, "published": getattr(args, "published", None),
               "probes": getattr(args, "probes", None)}
    v = run_validation(model, sets, folders, progress=True)
    labels = model.net.labels
    if getattr(args, "json", False):
        from ..evaluation.report_sets import validation_dict

        print(json.dumps(validation_dict(v, model)))
    else:
        for name in ("vignettes", "published"):
            if getattr(v, name) is not None:
                _print_set(name, getattr(v, name))
        if "published" in sets and v.published is None:
            print("published: none (validation/published is absent or empty)")
        if v.probes is not None:
            print(v.probes.format(lambda c: labels.get(c, c)))
    if not getattr(args, "posterior_only", False):
        _print_rankings(args, model, v, sets)
    if getattr(args, "report", None):
        from ..evaluation.report_sets import write_validation_report

        rep = write_validation_report(v, args.report, model)
        plot = rep.plot or "not written (no vignettes, or matplotlib is not installed)"
        ece = (f" (vignettes' ECE {v.vignettes.calibration().ece:.4f})"
               if v.vignettes is not None else "")
        print(f"report: {rep.summary}{ece}; plot: {plot}",
              file=sys.stderr if args.json else sys.stdout)
    code = 0
    s = v.vignettes
    if s is not None and not (s.top1 >= args.min_top1 and s.top3 >= args.min_top3):
        print(f"below target: vignettes' top-1 must be >= {args.min_top1}, top-3 >= "
              f"{args.min_top3}", file=sys.stderr)
        code = 1
    if not v.probes_ok:
        ids = ", ".join(r.probe.id for r in v.probes.failures)
        print(f"behaviour suite FAILED: {v.probes.failed} of {v.probes.n} probes failed ({ids})",
              file=sys.stderr)
        code = 1
    return code


def cmd_calibrate(args) -> int:
    """Calibration of the engine on a synthetic cohort sampled from the model itself."""
    from ..evaluation.cohort import check_cohort
    from ..evaluation.report import plot_reliability

    r = check_cohort(_model(args), args.n, args.seed, bins=args.bins, p_context=args.p_context,
                     p_other=args.p_other, progress=True)
    cal = r.calibration
    print(r.format())
    if args.plot:
        path = plot_reliability(cal, args.plot, f"Synthetic cohort: n={r.n}, seed {r.seed}")
        print(f"plot: {path}" if path else "plot not written: matplotlib is not installed")
    bad = args.max_ece is not None and not cal.ece <= args.max_ece
    if bad:
        print(f"calibration: ECE must be <= {args.max_ece}; got {cal.ece:.4f}", file=sys.stderr)
    return 1 if bad else 0


def cmd_regress(args) -> int:
    """Compare every vignette's posteriors with the golden pins (or rewrite them)."""
    from ..errors import Problem
    from ..evaluation.regress import (
        RegressError,
        compute_pins,
        diff_pins,
        golden_path,
        read_pins,
        write_pins,
    )
    from ..evaluation.vignettes import load_vignettes

    if not args.tol >= 0:
        raise RegressError(Problem("regress", "--tol", "must be >= 0", str(args.tol), "1e-6"))
    path = args.golden or golden_path(args.vignettes)
    pinned = None if args.update else read_pins(path)  # fail fast on a missing file
    doc = compute_pins(_model(args), load_vignettes(args.vignettes), progress=True)
    if args.update:
        write_pins(doc, path)
        print(f"pinned {sum(map(len, doc['posteriors'].values()))} posteriors of "
              f"{len(doc['posteriors'])} vignettes in {path} "
              f"(knowledge {doc['knowledge_hash'][:12]})")
        return 0
    diff = diff_pins(pinned, doc, args.tol)
    print(diff.format(None if args.all else args.limit))
    return 0 if diff.ok else 1


def cmd_compare(args) -> int:
    """Compare two versions of the knowledge (folders or git revisions) on the vignettes."""
    from ..evaluation.compare import CompareError, compare_roots, knowledge_side
    from ..errors import Problem
    from ..knowledge.load import default_root

    current = args.root or str(default_root())
    if args.against and args.new:
        raise CompareError(Problem("compare", "--against", "must not be combined with OLD NEW",
                                   f"{args.old} {args.new}", f"compare --against {args.against}"))
    old, new = (args.against, current) if args.against else (args.old, args.new or current)
    if old is None:
        raise CompareError(Problem("compare", "OLD", "must be given", "nothing",
                                   "bayesdx compare --against HEAD, or compare OLD NEW"))
    with knowledge_side(old, current) as (ro, lo), knowledge_side(new, current) as (rn, ln):
        if new == current:
            ln = f"working tree {current}"
        cmp = compare_roots(ro, rn, args.vignettes, old_label=lo, new_label=ln, progress=True)
    print(cmp.format(None if args.all else args.limit))
    return 0


def cmd_export(args) -> int:
    """Write the network as BIF or XMLBIF."""
    from ..inference.export import write_network

    model = _model(args)
    path = write_network(model.net, args.out, args.format)
    print(f"wrote {path} ({args.format})")
    return 0


def _each_case(args, model, score) -> int:
    """Run ``score(parsed_case) -> (json dict, text)`` on every case of ``args.case``."""
    from ..case import iter_cases
    from ..diagnosis import DISCLAIMER

    code = 0
    cases = iter_cases(args.case, model.kb, lenient=args.lenient)
    for i, pc in enumerate(cases):
        try:
            if isinstance(pc, Exception):
                raise pc
            obj, text = score(pc)
        except BayesdxError as exc:
            print(f"{case_label(args.case, pc, i, len(cases))}: {exc}", file=sys.stderr)
            code = max(code, exc.exit_code)
            continue
        if args.json:
            print(json.dumps({"id": pc.id, **obj, "disclaimer": DISCLAIMER}))
        else:
            print(f"Case: {pc.id or '(no id)'}\n{text}\n" + "\n".join(textwrap.wrap(DISCLAIMER, 100)) + "\n")
    return code


def cmd_fit(args) -> int:
    """Fit the causes' priors to a labelled cohort; write model/, priors/ and the report."""
    from ..evaluation.fit_io import fit_cohort

    model = _model(args)
    fit, changed = fit_cohort(model, args.cohort, args.out, holdout=args.holdout, seed=args.seed,
                              max_iter=args.iterations, lenient=args.lenient)
    print(fit.format())
    print(f"wrote {args.out}/priors ({len(changed)} numbers changed) and {args.out}/fit-report.txt; "
          f"next: bayesdx compare {model.net.kb.root} {args.out}")
    return 0


def cmd_next_tests(args) -> int:
    """Rank the unobserved orderable tests by expected information, for each case."""
    from ..voi import next_tests

    model = _model(args)

    def score(pc):
        if args.by == "differential" or getattr(args, "pursue", None):
            from ..differential import differential_tests

            dt = differential_tests(model.engine, pc.evidence, pursue=args.pursue,
                                    lookahead=getattr(args, "lookahead", False))
            return dt.to_dict(args.top), dt.format(args.top, model.net.labels)
        nt = next_tests(model.engine, pc.evidence, by=args.by)
        return nt.to_dict(args.top), nt.format(args.top, model.net.labels)

    return _each_case(args, model, score)


def cmd_explain(args) -> int:
    """The k most probable explanations and, for one cause, the DXplain-style lists."""
    from ..differential import cause_workup
    from ..explanations import joint_explanations

    model = _model(args)
    labels = model.net.labels

    def score(pc):
        je = joint_explanations(model.engine, pc.evidence, k=args.k)
        obj, text = je.to_dict(), je.format(labels)
        only = sorted(je.only.items(), key=lambda kv: -kv[1])[:3]
        text += "\nP(only this cause present): " + "; ".join(
            f"{labels[c]} {p:.3f}" for c, p in only)
        cause = args.cause or (je.items[0].causes[0] if je.items and je.items[0].causes
                               else model.engine.posterior(pc.evidence).ranked()[0][0])
        w = cause_workup(model.engine, cause, pc.evidence)
        obj["workup"] = w.to_dict()
        return obj, text + "\n" + w.format(args.top, labels[cause])

    return _each_case(args, model, score)


def cmd_sensitivity(args) -> int:
    """Which numbers of priors/ move one cause's posterior most, for each case."""
    from ..errors import check_cause
    from ..sensitivity import sensitivity

    model = _model(args)
    if args.cause:
        check_cause(model.engine, args.cause, "--cause")

    def score(pc):
        if args.cause:
            cause = args.cause
        else:
            post = model.engine.posterior(pc.evidence)
            cause = max(post.causes, key=post.of)
        s = sensitivity(model.engine, cause, pc.evidence, params=args.params)
        return s.to_dict(args.top), s.format(args.top)

    return _each_case(args, model, score)




def cmd_score(args) -> int:
    """Score every row of a cohort table; exit 2 when some rows could not be scored."""
    from ..scoring.files import score_file

    summary = score_file(args.cohort, args.out, jobs=args.jobs, chunk_rows=args.chunk_rows,
                         intervals=args.intervals, draws=args.draws, seed=args.seed,
                         lenient=args.lenient, keep=args.keep, root=args.root,
                         progress=not args.quiet)
    if not args.quiet or summary.errors:
        print(summary.format(), file=sys.stderr)
    return 2 if summary.errors else 0
