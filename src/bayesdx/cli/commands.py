"""The implementation of each ``bayesdx`` subcommand: one function per command.

Each takes the parsed arguments and returns an exit code; expected errors are
raised as :class:`~bayesdx.errors.BayesdxError` and turned into exit codes by
:func:`bayesdx.cli.main.main`.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections import deque

from ..errors import BayesdxError
from ..words import pct, short_label

__all__ = ["NODE_KINDS", "case_label", "cmd_check", "cmd_diagnose", "cmd_explain", "cmd_export",
           "cmd_next_tests", "cmd_nodes", "cmd_score", "cmd_sensitivity", "model_of"]

#: the kinds of node ``bayesdx nodes --kind`` lists (the three layers of the network)
NODE_KINDS = ("context", "cause", "finding")


def model_of(args):
    """The model of ``--root`` (or the default knowledge folders)."""
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

    net = model_of(args).net
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
    # the cause's label without its trailing parenthesis (as on the app's bars), so the table stays narrow
    names = [short_label(c.label) or c.id for c in rows]
    w = max(len(n) for n in names) if rows else 10
    cf = bool(rows) and rows[0].sufficiency is not None
    # probabilities in percent; the interval next to the posterior; of the counterfactual
    # scores, 'needed' always and the expected count the table is ranked by (100 columns)
    extra = d.rank_by if d.rank_by in ("sufficiency", "disablement") else None
    head = (f"  {'needed':>6}" + (f"  {extra[:6] + '.':>7}" if extra else "")) if cf else ""
    if d.rank_by != "posterior":
        print(f"Ranked by {d.rank_by} (see 'bayesdx diagnose --help')", file=out)
    approx = not d.exact
    post_head = "  approx.  ± s.e." if approx else f"  {'posterior':>9}"
    print(f"  {'#':>2}  {'cause':<{w}}  {'prior':>6}{post_head}  {'90% interval':<13}{head}".rstrip(),
          file=out)
    for i, (c, name) in enumerate(zip(rows, names), 1):
        iv = f"{pct(c.interval[0])}-{pct(c.interval[1])}" if c.interval else "-"
        sc = ""
        if cf:
            sc = f"  {pct(c.p_needed):>6}" + (f"  {getattr(c, extra):7.2f}" if extra else "")
        post = f"{pct(c.posterior):>7}  ±{pct(c.se):>6}" if approx else f"{pct(c.posterior):>9}"
        print(f"  {i:>2}  {name:<{w}}  {pct(c.prior):>6}  {post}  {iv:<13}{sc}".rstrip(), file=out)
    if top is not None and len(d.causes) > top:
        print(f"  ... {len(d.causes) - top} more (use --all)", file=out)
    if cf:
        print("  needed: chance the cause is present and needed for at least one abnormal finding",
              file=out)
        if extra:
            print({"sufficiency": "  suffic.: expected abnormal findings the cause would produce "
                                  "alone",
                   "disablement": "  disabl.: expected abnormal findings that would be normal "
                                  "without it"}[extra], file=out)
    ev = ", ".join(f"{k}={v}" for k, v in d.evidence.items()) or "(none: the prior)"
    print(_wrap(f"Evidence: {ev}"), file=out)
    inf = d.inference
    line = f"Inference: {inf['method']} posterior"
    if not inf["exact"]:
        smp = inf["sampler"]
        line = (f"Inference: APPROXIMATE posterior ({inf['method'].capitalize()} sampling, "
                f"{smp['chains']} chains x {smp['sweeps']} sweeps, seed {smp['seed']}), Monte-Carlo "
                f"standard error up to {100 * inf['posterior_error']:.2f} points (± s.e.); the exact posterior "
                f"({inf['exact_cost']}) is over the time budget (--budget-seconds)")
    if "interval" in inf:
        iv = inf["interval"]
        line += f"; intervals from {iv['draws']} of up to {iv['requested']} parameter draws"
        if iv["mc_error"] is not None:
            line += f" (Monte-Carlo error of the ends ~{100 * iv['mc_error']:.1f} points"
            tol = iv.get("tolerance") or 0
            if tol:
                line += (", within" if iv["mc_error"] <= tol else ", above") + \
                    f" the {100 * tol:g}-point target"
            line += ")"
        if iv["note"] and iv["draws"] == 0:
            line += f": {iv['note']}"
    print(_wrap(line), file=out)
    if d.ignored:
        print("Ignored:", file=out)
        for i in d.ignored:
            print(_wrap(f"  {i.get('field')}: {i.get('reason')}", indent="    "), file=out)
    print(_wrap(DISCLAIMER), file=out)


def _wrap_lines(text: str) -> str:
    """Every line of ``text`` within 100 columns, continued four spaces further in."""
    return "\n".join(_wrap(ln, " " * (len(ln) - len(ln.lstrip()) + 4)) if len(ln) > 100 else ln
                     for ln in text.splitlines())


def _wrap(text: str, indent: str = "  ") -> str:
    """``text`` in lines of at most 100 characters, continued with ``indent``."""
    return textwrap.fill(text, width=100, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False)


def case_label(path, pc, i: int, n: int) -> str:
    """Which case of a file a message is about: ``file`` or ``file: cases[i] (id 'x')``."""
    cid = getattr(pc, "id", None) or getattr(pc, "case_id", None)
    if n == 1:
        return f"{path}" + (f" (id {cid!r})" if cid else "")
    return f"{path}: cases[{i}]" + (f" (id {cid!r})" if cid else "")


def cmd_diagnose(args) -> int:
    """Rank the causes for each case in a case file, streaming one result per case."""
    from ..case import iter_cases
    from ..batch import score_cases
    from ..errors import Problem, QueryError
    from ..progress import progress_bar

    rank_by = getattr(args, "rank_by", "posterior")
    no_scores = getattr(args, "no_scores", False)
    if no_scores and rank_by != "posterior":
        raise QueryError(Problem("--rank-by", "", "must be posterior with --no-scores (ranking by a "
                                 "counterfactual score needs the scores)", repr(rank_by),
                                 "drop --no-scores, or rank by posterior"))
    model = model_of(args)
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
                          scores=not no_scores, rank_by=rank_by,
                          budget=budget, approximate=not args.exact,
                          tolerance=args.interval_error / 100)
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


def cmd_export(args) -> int:
    """Write the network as BIF or XMLBIF."""
    from ..inference.export import write_network

    model = model_of(args)
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


def cmd_next_tests(args) -> int:
    """Rank the unobserved orderable tests by expected information, for each case."""
    from ..voi import next_tests

    model = model_of(args)

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

    model = model_of(args)
    labels = model.net.labels

    def score(pc):
        je = joint_explanations(model.engine, pc.evidence, k=args.k)
        obj, text = je.to_dict(), je.format(labels)
        only = sorted(je.only.items(), key=lambda kv: -kv[1])[:3]
        text += "\nP(only this cause present): " + "; ".join(
            f"{labels[c]} {pct(p)}" for c, p in only)
        cause = args.cause or (je.items[0].causes[0] if je.items and je.items[0].causes
                               else model.engine.posterior(pc.evidence).ranked()[0][0])
        w = cause_workup(model.engine, cause, pc.evidence)
        obj["workup"] = w.to_dict()
        return obj, _wrap_lines(text + "\n" + w.format(args.top, labels[cause]))

    return _each_case(args, model, score)


def cmd_sensitivity(args) -> int:
    """Which numbers of priors/ move one cause's posterior most, for each case."""
    from ..errors import check_cause
    from ..sensitivity import sensitivity

    model = model_of(args)
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
