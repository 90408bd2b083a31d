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
import os
import sys
from typing import Sequence

from .. import __version__
from .commands import (
    NODE_KINDS,
    cmd_check,
    cmd_diagnose,
    cmd_explain,
    cmd_export,
    cmd_next_tests,
    cmd_nodes,
    cmd_score,
    cmd_sensitivity,
)
from .evaluate import cmd_calibrate, cmd_compare, cmd_fit, cmd_regress, cmd_validate
from ..errors import BayesdxError
from ..inference.export import FORMATS
from ..voi import SORT_KEYS

__all__ = ["count", "main"]


# --------------------------------------------------------------------------- parser


def _points(text: str) -> float:
    """``--interval-error``: percentage points, 0 to 50."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or not 0 <= value <= 50:
        raise argparse.ArgumentTypeError(f"must be a number of percentage points from 0 to 50; "
                                         f"got {text!r}; try 2 (or 0 for every draw)")
    return value


def _seconds(text: str) -> float:
    """``--budget-seconds``: a positive number of seconds."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds; got {text!r}; "
                                         "try 8")
    return value


def count(minimum: int = 0):
    """An argparse type: a whole number >= ``minimum``, with a clear message (exit 2, not 70).

    >>> count()("12")
    12
    >>> count()("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a whole number >= 0; got '-1'; try 0 or more
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}; got {text!r}; "
                                             f"try {minimum} or more")
        return value

    parse.__name__ = "count"
    return parse


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
    s.add_argument("--top", type=count(), default=10, help="rows in the table (default 10)")
    s.add_argument("--all", action="store_true", help="show every cause")
    s.add_argument("--draws", type=count(), default=1000, help="most Monte-Carlo draws of the "
                   "priors for the credible interval (0: no interval; default 1000)")
    s.add_argument("--interval-error", type=_points, default=2.0, metavar="POINTS",
                   help="draws are added until every interval end's Monte-Carlo error is within "
                   "this many percentage points (default 2; 0: every draw)")
    s.add_argument("--seed", type=count(), default=0)
    s.add_argument("--rank-by", choices=["posterior", "sufficiency", "disablement", "needed"],
                   default="posterior", help="order of the causes: posterior = P(present | "
                   "findings); sufficiency = expected number of abnormal findings the cause "
                   "alone would produce; disablement = expected number that would become less "
                   "abnormal without it; needed = P(present and at least one abnormal finding "
                   "needs it). Default posterior (the contract's order)")
    s.add_argument("--no-scores", action="store_true", help="skip the counterfactual scores "
                   "(the 'needed' column; ~0.05-0.35 s a complete work-up): posteriors and "
                   "intervals only, for large batches")
    s.add_argument("--budget-seconds", type=_seconds, default=None, metavar="S",
                   help="estimated seconds the exact posterior may take (default 8); beyond it "
                   "the posterior is a labelled approximation with its Monte-Carlo error")
    s.add_argument("--exact", action="store_true", help="refuse (exit 3) rather than approximate "
                   "a case whose exact posterior is over the budget")
    s.set_defaults(func=cmd_diagnose)

    s = sub.add_parser("score", help="score a cohort table (CSV or Parquet, one row a patient; "
                       "docs/cohort-format.md) into a table of every cause's posterior")
    s.add_argument("cohort", help="COHORT.csv or COHORT.parquet")
    s.add_argument("-o", "--out", required=True, help="OUT.parquet or OUT.csv")
    s.add_argument("--jobs", type=int, default=None, help="worker processes (default: every core)")
    s.add_argument("--intervals", action="store_true", help="also the 90%% credible interval of "
                   "every posterior (slower)")
    s.add_argument("--draws", type=count(), default=1000, help="draws of the priors for --intervals "
                   "(default 1000)")
    s.add_argument("--seed", type=count(), default=0)
    s.add_argument("--lenient", action="store_true", help="list unknown drug names under "
                   "'ignored' instead of failing the row")
    s.add_argument("--keep", action="append", default=[], metavar="COLUMN", help="copy COLUMN "
                   "to the output as text and do not read it (repeatable), e.g. a record number")
    s.add_argument("--chunk-rows", type=int, default=1000, help="rows per chunk (default 1000)")
    s.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("validate", help="score the vignettes, published cases and behaviour "
                       "probes (exit 1 when a probe fails)")
    s.add_argument("--set", dest="sets", choices=["vignettes", "published", "probes"],
                   default=None, help="score only this set (default: all three)")
    s.add_argument("--vignettes", default=None, help="folder of vignettes "
                   "(default validation/vignettes)")
    s.add_argument("--published", default=None, help="folder of published case reports "
                   "(default validation/published; skipped when absent or empty)")
    s.add_argument("--probes", default=None, help="folder of behaviour probes "
                   "(default validation/probes)")
    s.add_argument("--min-top1", type=float, default=0.7, help="vignettes' top-1 target")
    s.add_argument("--min-top3", type=float, default=0.9, help="vignettes' top-3 target")
    s.add_argument("--json", action="store_true", help="print every set's figures, misses "
                   "and probe results as one JSON object")
    s.add_argument("--posterior-only", action="store_true", help="skip the side-by-side "
                   "table of the counterfactual rankings (sufficiency, disablement, needed)")
    s.add_argument("--report", metavar="DIR", default=None, help="also write summary.md, "
                   "cases.csv, published.csv, probes.csv, report.json and calibration.png "
                   "into DIR")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("calibrate", help="calibration on a synthetic cohort sampled from the model")
    s.add_argument("--n", type=int, default=2000, help="patients (default 2000)")
    s.add_argument("--seed", type=count(), default=0)
    s.add_argument("--bins", type=int, default=10)
    s.add_argument("--p-context", type=float, default=1.0, help="chance each context node is "
                   "observed (default 1)")
    s.add_argument("--p-other", type=float, default=0.25, help="chance each finding outside the "
                   "blood count is observed (default 0.25)")
    s.add_argument("--plot", metavar="PNG", default=None, help="write the reliability diagram")
    s.add_argument("--max-ece", type=float, default=None, help="exit 1 when the ECE is above")
    s.set_defaults(func=cmd_calibrate)

    s = sub.add_parser("regress", help="compare the vignettes' posteriors with the golden pins")
    s.add_argument("--vignettes", default=None, help="folder of vignettes "
                   "(default validation/vignettes)")
    s.add_argument("--golden", default=None, help="golden file "
                   "(default validation/golden/posteriors.json)")
    s.add_argument("--tol", type=float, default=1e-6, help="absolute tolerance (default 1e-6)")
    s.add_argument("--update", action="store_true", help="rewrite the pins (a deliberate change)")
    s.add_argument("--limit", type=count(), default=40, help="rows of the diff (default 40)")
    s.add_argument("--all", action="store_true", help="show every changed posterior")
    s.set_defaults(func=cmd_regress)

    s = sub.add_parser("compare", help="compare two versions of priors/ (folders or git revisions)")
    s.add_argument("old", nargs="?", help="folder holding priors/ (and maybe model/), or a git "
                   "revision")
    s.add_argument("new", nargs="?", help="the same; default the working tree")
    s.add_argument("--against", metavar="REV", default=None, help="compare the working tree "
                   "with REV (e.g. HEAD)")
    s.add_argument("--vignettes", default=None, help="folder of vignettes "
                   "(default validation/vignettes)")
    s.add_argument("--limit", type=count(), default=15, help="rows per section (default 15)")
    s.add_argument("--all", action="store_true", help="show every change")
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("fit", help="fit the causes' priors and relative risks, the findings' "
                       "links and leaks and the context tables to a labelled cohort (MAP by "
                       "EM); write a new model/ + priors/ folder and a report")
    s.add_argument("cohort", help="case file (YAML/JSON) or table (CSV/Parquet) with "
                   "diagnosis: labels")
    s.add_argument("-o", "--out", required=True, help="new folder for model/, priors/ and "
                   "fit-report.txt")
    s.add_argument("--holdout", type=float, default=0.2, help="share of cases held out for the "
                   "log-likelihood check (default 0.2; 0: none)")
    s.add_argument("--iterations", type=int, default=50, help="most EM iterations (default 50)")
    s.add_argument("--priors-only", action="store_true", help="fit the causes' priors only "
                   "(leave links, leaks, relative risks and context tables; about 5x faster "
                   "per iteration)")
    s.add_argument("--no-context", action="store_true", help="leave the context tables (their "
                   "E-step costs one engine pass per state of every context node a case leaves "
                   "unobserved)")
    s.add_argument("--no-rr", action="store_true", help="leave the causes' relative risks")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--lenient", action="store_true", help="list unknown drug names under "
                   "'ignored' instead of failing the case")
    s.set_defaults(func=cmd_fit)

    s = sub.add_parser("nodes", help="list the network's nodes with their readable labels and states")
    s.add_argument("node", nargs="?", default=None, help="one node id (default: every node)")
    s.add_argument("--kind", choices=NODE_KINDS, default=None, help="only context nodes, causes or findings")
    s.set_defaults(func=cmd_nodes)

    s = sub.add_parser("export", help="write the network as BIF or XMLBIF")
    s.add_argument("out", help="output file")
    s.add_argument("--format", choices=FORMATS, default="bif")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("next-tests", help="rank the tests worth ordering next (value of "
                       "information) for a case file")
    s.add_argument("case", help="case file: one case, or a list under 'cases:'")
    s.add_argument("--by", choices=(*SORT_KEYS, "differential"), default="info",
                   help="rank by expected entropy reduction over all causes (info), by it per "
                   "cost (cost), by the expected change of the leading cause (change), or by "
                   "the expected information about the differential, the causes that may "
                   "explain the findings (differential); default info")
    s.add_argument("--pursue", action="append", default=None, metavar="CAUSE",
                   help="rank by expected information about these causes only (repeatable)")
    s.add_argument("--lookahead", action="store_true", help="with --by differential or "
                   "--pursue: also the exact two-step value of each test (its result, then the "
                   "best next test) and that next test per result")
    s.add_argument("--top", type=count(), default=10, help="rows (default 10)")
    s.add_argument("--json", action="store_true", help="one JSON object per case (JSON Lines)")
    s.add_argument("--lenient", action="store_true", help="list unknown drug names under "
                   "'ignored' instead of failing")
    s.set_defaults(func=cmd_next_tests)

    s = sub.add_parser("explain", help="the most probable sets of causes for a case file, and "
                       "for one cause the findings for and against it and the tests that would "
                       "most confirm or exclude it")
    s.add_argument("case", help="case file: one case, or a list under 'cases:'")
    s.add_argument("--cause", default=None, help="cause id (default: the leading explanation's)")
    s.add_argument("-k", type=int, default=5, help="explanations listed (default 5)")
    s.add_argument("--top", type=int, default=6, help="rows per list (default 6)")
    s.add_argument("--json", action="store_true", help="one JSON object per case (JSON Lines)")
    s.add_argument("--lenient", action="store_true", help="list unknown drug names under "
                   "'ignored' instead of failing")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("sensitivity", help="which numbers of priors/ move one cause's "
                       "posterior most for a case file")
    s.add_argument("case", help="case file: one case, or a list under 'cases:'")
    s.add_argument("--cause", default=None, help="cause id, e.g. sle (default: each case's top cause)")
    s.add_argument("--params", action="append", default=None, metavar="PREFIX",
                   help="only parameters whose path starts with PREFIX (repeatable), "
                   "e.g. causes.sle or findings.test_ana")
    s.add_argument("--top", type=count(), default=15, help="rows (default 15)")
    s.add_argument("--json", action="store_true", help="one JSON object per case (JSON Lines)")
    s.add_argument("--lenient", action="store_true", help="list unknown drug names under "
                   "'ignored' instead of failing")
    s.set_defaults(func=cmd_sensitivity)
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
    except BrokenPipeError:  # e.g. `bayesdx diagnose ... --json | head`: not an error
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep Python from complaining at exit
        except OSError:
            pass
        return 0
    except Exception as exc:  # pragma: no cover - a bug
        if os.environ.get("BAYESDX_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in bayesdx; rerun with BAYESDX_DEBUG=1 for details and report it",
              file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
