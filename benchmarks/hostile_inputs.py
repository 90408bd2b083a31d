"""Run a catalogue of bad inputs through the ``bayesdx`` CLI and tabulate what happened (issue 15).

Each entry is a bad case file, a broken knowledge folder or a bad argument,
run as ``bayesdx diagnose`` / ``bayesdx check`` in a subprocess. An outcome is

* **clear error** - a non-zero exit other than 70 whose message names the file
  and the field (or line) and says what was expected (``must ...``);
* **silent acceptance** - exit 0 (the bad input was used as if it were fine);
* **exit 70** - an internal error (a bug);
* **vague error** - any other failure (no ``must``, or the file not named).

Usage::

    .venv/bin/python benchmarks/hostile_inputs.py [--jobs 2]

Prints one line per input and the table by kind; exits 1 unless every input is
a clear error.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BAYESDX = [sys.executable, "-m", "bayesdx.cli.main"]

DEEP = "[" * 5000 + "]" * 5000
BOMB = "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]) + "\ncbc: *a8\n"

# (kind, name, file name, content, what the message must mention)
CASES: list[tuple[str, str, str, str | bytes, str]] = [
    ("duplicate key", "YAML flow", "c.yaml", "cbc: {anc: 0.2, anc: 3.0}\n", "cbc.anc"),
    ("duplicate key", "YAML block", "c.yaml", "cbc:\n  anc: 0.2\n  anc: 3.0\n", "cbc.anc"),
    ("duplicate key", "medications twice", "c.yaml",
     "medications: [{name: clozapine, weeks: 9}]\nsex: male\nmedications: []\n", "medications"),
    ("duplicate key", "JSON", "c.json", '{"cbc": {"anc": 0.2, "anc": 3.0}}', "cbc.anc"),
    ("duplicate key", "JSON medications", "c.json",
     '{"medications": [{"name": "clozapine"}], "medications": []}', "medications"),
    ("duplicate key", "in a batch case", "c.yaml", "cases:\n  - {id: a, sex: male, sex: female}\n",
     "cases[0].sex"),
    ("huge number", "400-digit integer", "c.yaml", "cbc: {anc: " + "1" * 400 + "}\n", "cbc.anc"),
    ("huge number", "5000-digit integer JSON", "c.json", '{"cbc": {"anc": ' + "9" * 5000 + "}}",
     "cbc.anc"),
    ("huge number", "1e400 string", "c.yaml", "cbc: {anc: '1e400'}\n", "cbc.anc"),
    ("non-decimal number", "hexadecimal", "c.yaml", "cbc: {anc: 0x10}\n", "cbc.anc"),
    ("non-decimal number", "octal", "c.yaml", "cbc: {plt: 0100}\n", "cbc.plt"),
    ("non-decimal number", "base 60", "c.yaml", "age_years: 1:30\n", "age_years"),
    ("non-decimal number", "underscores", "c.yaml", "cbc: {plt: 1_50}\n", "cbc.plt"),
    ("non-finite number", "NaN JSON", "c.json", '{"cbc": {"anc": NaN}}', "cbc.anc"),
    ("non-finite number", ".inf YAML", "c.yaml", "cbc: {anc: .inf}\n", "cbc.anc"),
    ("deep nesting", "YAML 5,000 levels", "c.yaml", "cbc: " + DEEP + "\n", "nested"),
    ("deep nesting", "JSON 5,000 levels", "c.json", '{"cbc": ' + DEEP + "}", "nested"),
    ("deep nesting", "YAML 70 levels", "c.yaml", "cbc: " + "[" * 70 + "]" * 70 + "\n", "nested"),
    ("alias bomb", "10^8 expanded values", "c.yaml", BOMB, "aliases"),
    ("alias bomb", "self-reference", "c.yaml", "cbc: &a {anc: *a}\n", "itself"),
    ("encoding", "Latin-1 byte", "c.yaml", b"note: caf\xe9\n", "UTF-8"),
    ("encoding", "UTF-16", "c.json", '{"cbc": {"anc": 0.2}}'.encode("utf-16"), "UTF-8"),
    ("wrong type", "dose a mapping", "c.yaml", "medications: [{name: clozapine, dose: {a: [1]}}]\n",
     "medications[0].dose"),
    ("wrong type", "dose a list", "c.yaml", "medications: [{name: clozapine, dose: [1, 2]}]\n",
     "medications[0].dose"),
    ("wrong type", "cbc a list", "c.yaml", "cbc: [1, 2]\n", "cbc"),
    ("wrong type", "case a number", "c.yaml", "cases:\n  - 5\n", "cases[0]:"),
    ("wrong type", "medications a string", "c.yaml", "medications: clozapine\n", "medications"),
    ("wrong type", "anc a boolean", "c.yaml", "cbc: {anc: yes}\n", "cbc.anc"),
    ("wrong type", "id a mapping", "c.yaml", "id: {a: 1}\n", "id"),
    ("empty batch", "cases: []", "c.yaml", "cases: []\n", "cases"),
    ("empty batch", "bare []", "c.json", "[]", "at least one case"),
    ("syntax", "unclosed bracket", "c.yaml", "cbc: {anc: [1, 2}\n", "line"),
    ("syntax", "JSON trailing comma", "c.json", '{"cbc": {"anc": 1,}}', "line"),
    ("syntax", "python tag", "c.yaml", "!!python/object/apply:os.system ['echo hi']\n", "line"),
    ("syntax", "two documents", "c.yaml", "sex: male\n---\nsex: female\n", "line"),
    ("unknown name", "misspelt drug", "c.yaml", "medications: [clozapin]\n", "medications[0].name"),
    ("unknown name", "unknown field", "c.yaml", "cbcc: {anc: 1}\n", "cbcc"),
    ("unknown name", "unknown evidence node", "c.yaml", "evidence: {ghost: present}\n", "evidence.ghost"),
    ("implausible value", "negative count", "c.yaml", "cbc: {anc: -1}\n", "cbc.anc"),
    ("implausible value", "wrong dimension", "c.yaml", "vitamins: {b12: '150 kg'}\n", "vitamins.b12"),
    ("markdown in text", "image as drug name", "c.yaml",
     "medications: ['![x](http://127.0.0.1:1/b.png)']\n", "medications[0].name"),
]

ARGS: list[tuple[str, str, list[str], str]] = [
    ("bad argument", "--draws -1", ["--draws", "-1"], "--draws"),
    ("bad argument", "--seed -1", ["--seed", "-1"], "--seed"),
    ("bad argument", "--top -5", ["--top", "-5"], "--top"),
    ("bad argument", "--draws 10^7", ["--draws", "10000000"], "draws"),
]


def _knowledge_breaks(root: Path) -> list[tuple[str, str, Path, str]]:
    """Broken copies of model/ and priors/ (kind, name, folder, what the message must mention)."""
    out = []

    def variant(name: str, edit) -> Path:
        d = root / name.replace(" ", "_")
        for folder in ("model", "priors"):
            shutil.copytree(REPO / folder, d / folder)
        edit(d)
        return d

    def append(rel: str, data: bytes):
        return lambda d: (d / rel).open("ab").write(data)

    def replace(rel: str, old: str, new: str):
        def edit(d):
            p = d / rel
            p.write_text(p.read_text().replace(old, new, 1))
        return edit

    out.append(("knowledge", "duplicate cap", variant("dup cap", replace(
        "priors/causes.yaml", "    cap: 0.9\n", "    cap: 0.9\n    cap: 0.5\n")), "cap: must be given once"))
    out.append(("knowledge", "cause defined twice", variant("cause twice", append(
        "model/findings_tests.yaml", b"causes:\n  sle: {label: SLE, family: autoimmune}\n")),
        "must be defined once"))
    out.append(("knowledge", "non-UTF-8 byte", variant("latin1", append("priors/context.yaml", b"# caf\xe9\n")),
                "UTF-8"))
    out.append(("knowledge", "typo in one entry", variant("typo", replace(
        "priors/causes.yaml", "value: 0.00777", "valeu: 0.00777")), "valeu"))
    out.append(("knowledge", "missing context.yaml", variant(
        "no context", lambda d: (d / "model/context.yaml").unlink()), "model/context.yaml"))
    out.append(("knowledge", "deep nesting", variant("deep", append(
        "priors/references.yaml", ("x: " + DEEP + "\n").encode())), "nested"))
    return out


def _run(args: list[str]) -> tuple[int, str]:
    p = subprocess.run([*BAYESDX, *args], capture_output=True, text=True, timeout=600, cwd=REPO)
    return p.returncode, p.stdout + p.stderr


def _judge(code: int, out: str, names: list[str]) -> str:
    if code == 0:
        return "silent acceptance"
    if code == 70 or "internal error" in out or "Traceback" in out:
        return "exit 70"
    if "must" in out and all(n in out for n in names):
        return "clear error"
    return "vague error"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="also print the rows as JSON Lines")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        jobs = []
        for i, (kind, name, fname, content, mention) in enumerate(CASES):
            f = tmp / f"{i:02d}-{fname}"
            f.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
            jobs.append((kind, name, ["diagnose", str(f), "--draws", "0"], [f.name, mention]))
        ok = tmp / "ok.yaml"
        ok.write_text("cbc: {anc: 0.5}\n")
        for kind, name, extra, mention in ARGS:
            jobs.append((kind, name, ["diagnose", str(ok), *extra], [mention]))
        for kind, name, root, mention in _knowledge_breaks(tmp):
            jobs.append((kind, name, ["--root", str(root), "check"], [mention]))

        def one(job):
            kind, name, cli, names = job
            code, out = _run(cli)
            lines = out.strip().count("\n") + 1 if out.strip() else 0
            return {"kind": kind, "input": name, "exit": code, "outcome": _judge(code, out, names),
                    "lines": lines, "message": out.strip().splitlines()[-1][:160] if out.strip() else ""}

        with ThreadPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(one, jobs))
    for r in rows:
        print(f"{r['outcome']:<17} exit {r['exit']:>2}  {r['kind']:<18} {r['input']:<26} {r['message']}")
        if args.json:
            print(json.dumps(r))
    kinds = sorted({r["kind"] for r in rows}, key=lambda k: [r["kind"] for r in rows].index(k))
    cols = ["clear error", "silent acceptance", "exit 70", "vague error"]
    print(f"\n| kind of bad input | tried | {' | '.join(cols)} |")
    print("|---|---:|" + "---:|" * len(cols))
    for k in kinds:
        sub = [r for r in rows if r["kind"] == k]
        print(f"| {k} | {len(sub)} | " + " | ".join(str(sum(r['outcome'] == c for r in sub)) for c in cols) + " |")
    print(f"| **all** | **{len(rows)}** | " + " | ".join(
        f"**{sum(r['outcome'] == c for r in rows)}**" for c in cols) + " |")
    return 0 if all(r["outcome"] == "clear error" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
