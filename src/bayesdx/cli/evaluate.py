"""The evaluation subcommands of ``bayesdx``: validate, calibrate, regress, compare, fit.

One function per command, as in :mod:`bayesdx.cli.commands`; each takes the
parsed arguments and returns an exit code.
"""

from __future__ import annotations

import json
import sys

from .commands import model_of

__all__ = ["cmd_calibrate", "cmd_compare", "cmd_fit", "cmd_regress", "cmd_validate"]


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

    model = model_of(args)
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

    r = check_cohort(model_of(args), args.n, args.seed, bins=args.bins, p_context=args.p_context,
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
    doc = compute_pins(model_of(args), load_vignettes(args.vignettes), progress=True)
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


def cmd_fit(args) -> int:
    """Fit priors, relative risks, links, leaks and context tables to a labelled cohort;
    write model/, priors/, report."""
    from ..evaluation.fit_io import fit_cohort

    model = model_of(args)
    fit, changed = fit_cohort(model, args.cohort, args.out, holdout=args.holdout, seed=args.seed,
                              max_iter=args.iterations, lenient=args.lenient,
                              links=not args.priors_only,
                              context=not (args.priors_only or args.no_context),
                              rr=not (args.priors_only or args.no_rr))
    print(fit.format())
    print(f"wrote {args.out}/priors ({len(changed)} numbers changed) and {args.out}/fit-report.txt; "
          f"next: bayesdx compare {model.net.kb.root} {args.out}")
    return 0
