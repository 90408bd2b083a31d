"""The ``bayesdx`` command line.

Each subcommand is one function taking the parsed arguments and returning an
exit code. Expected errors never print a traceback:

====  ==============================================================
code  meaning
====  ==============================================================
0     success
1     a check did not pass (accuracy below target, posteriors moved)
2     a case or a command-line argument cannot be used
3     the knowledge files are invalid
4     the evidence is impossible under the model
70    an internal error (a bug: please report it)
====  ==============================================================

Examples
--------
>>> main(["check"])
knowledge OK: ...
0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from . import __version__
from .errors import BayesdxError

__all__ = ["main"]


def _model(args):
    from .diagnose import load_model

    return load_model(args.root)


# --------------------------------------------------------------------------- subcommands


def cmd_check(args) -> int:
    """Validate model/ and priors/ and print a summary."""
    from .diagnose import load_model

    m = load_model(args.root)
    net = m.net
    n_edges = sum(len(p) for p in net.parents.values())
    largest = max(net.parents, key=lambda n: len(net.parents[n]))
    print(f"knowledge OK: {len(net.context)} context nodes, {len(net.causes)} causes, "
          f"{len(net.findings)} findings, {n_edges} edges, {net.n_params} numbers "
          f"({sum(p.estimate for p in net.params)} estimates); largest fan-in: {largest} "
          f"({len(net.parents[largest])} parents)")
    return 0


def _print_table(d, top: int | None, out=sys.stdout) -> None:
    from .diagnose import DISCLAIMER

    print(f"Case: {d.id or '(no id)'}", file=out)
    rows = d.causes if top is None else d.causes[:top]
    w = max(len(c.label) for c in rows) if rows else 10
    print(f"  {'#':>2}  {'cause':<{w}}  {'prior':>7}  {'posterior':>9}  90% interval", file=out)
    for i, c in enumerate(rows, 1):
        iv = f"{c.interval[0]:.3f}-{c.interval[1]:.3f}" if c.interval else "-"
        print(f"  {i:>2}  {c.label:<{w}}  {c.prior:7.3f}  {c.posterior:9.3f}  {iv}", file=out)
    if top is not None and len(d.causes) > top:
        print(f"  ... {len(d.causes) - top} more (use --all)", file=out)
    ev = ", ".join(f"{k}={v}" for k, v in d.evidence.items()) or "(none: the prior)"
    print(f"Evidence: {ev}", file=out)
    if d.ignored:
        print("Ignored: " + "; ".join(f"{i.get('field')}: {i.get('reason')}" for i in d.ignored),
              file=out)
    print(DISCLAIMER, file=out)


def cmd_diagnose(args) -> int:
    """Rank the causes for each case in a case file."""
    from .diagnose import diagnose_many

    model = _model(args)
    results = diagnose_many(args.case, model=model, lenient=args.lenient, draws=args.draws,
                            seed=args.seed)
    code = 0
    for r in results:
        if isinstance(r, Exception):
            print(f"{args.case}: {r}", file=sys.stderr)
            code = max(code, getattr(r, "exit_code", 2))
            continue
        if args.json:
            print(json.dumps(r.to_dict()))
        else:
            _print_table(r, None if args.all else args.top)
            print()
    return code


def cmd_validate(args) -> int:
    """Top-1 / top-3 accuracy on the validation vignettes, and the misses."""
    from .validation import load_vignettes, score_vignettes

    model = _model(args)
    vs = load_vignettes(args.vignettes)
    score = score_vignettes(vs, model)
    print(f"vignettes: {score.n}  top-1: {score.top1:.3f}  top-3: {score.top3:.3f}  "
          f"MRR: {score.mrr:.3f}")
    misses = score.misses
    if misses:
        print(f"misses ({len(misses)}):")
        for r in misses:
            if r.error:
                print(f"  {r.vignette.id}: ERROR {r.error}")
                continue
            top3 = ", ".join(f"{c} {p:.2f}" for c, p in zip(r.ranking[:3], r.probs[:3]))
            print(f"  {r.vignette.id}: expected {r.vignette.cause} (rank {r.rank}); top: {top3}")
    ok = score.top1 >= args.min_top1 and score.top3 >= args.min_top3
    if not ok:
        print(f"below target: top-1 must be >= {args.min_top1}, top-3 >= {args.min_top3}",
              file=sys.stderr)
    return 0 if ok else 1


def cmd_export(args) -> int:
    """Write the network as BIF or XMLBIF."""
    from .export import write_network

    model = _model(args)
    path = write_network(model.net, args.out, args.format)
    print(f"wrote {path} ({args.format})")
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bayesdx", description=(
        "Probabilistic diagnosis of the causes of leukopenia. A research and teaching tool, "
        "not a medical device."))
    p.add_argument("--version", action="version", version=f"bayesdx {__version__}")
    p.add_argument("--root", default=None, help="folder holding model/ and priors/ "
                   "(default: this checkout, or $BAYESDX_ROOT)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("check", help="validate the knowledge files")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("diagnose", help="rank the causes for a case file (YAML or JSON)")
    s.add_argument("case", help="case file: one case, or a list under 'cases:'")
    s.add_argument("--json", action="store_true", help="one JSON object per case (JSON Lines)")
    s.add_argument("--lenient", action="store_true", help="list unknown drug names under "
                   "'ignored' instead of failing")
    s.add_argument("--top", type=int, default=10, help="rows in the table (default 10)")
    s.add_argument("--all", action="store_true", help="show every cause")
    s.add_argument("--draws", type=int, default=1000, help="Monte-Carlo draws of the priors for "
                   "the credible interval (0: no interval; default 1000)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_diagnose)

    s = sub.add_parser("validate", help="accuracy on the validation vignettes")
    s.add_argument("--vignettes", default=None, help="folder of vignettes "
                   "(default validation/vignettes)")
    s.add_argument("--min-top1", type=float, default=0.7)
    s.add_argument("--min-top3", type=float, default=0.9)
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("export", help="write the network as BIF or XMLBIF")
    s.add_argument("out", help="output file")
    s.add_argument("--format", choices=["bif", "xmlbif"], default="bif")
    s.set_defaults(func=cmd_export)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (never raises for expected errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage message
        return int(exc.code or 0) if exc.code in (0, None) else 2
    try:
        return args.func(args)
    except BayesdxError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # pragma: no cover - a bug
        if os.environ.get("BAYESDX_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in bayesdx; rerun with BAYESDX_DEBUG=1 for details and report it",
              file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
