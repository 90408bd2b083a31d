"""Issue 12's fresh-process rows (used by ``issue12.py``): ``bayesdx diagnose`` as a user runs it.

Wall seconds, CPU seconds (user + sys, ``os.wait4``) and peak RSS of the child
process (its ``VmHWM``, polled: see :func:`run_child`).
``cohort40_cli`` writes the 40 validation vignettes with the most abnormal
findings (as the app counts them: findings not in their baseline state) to one
batch file in a temporary directory and scores it with the CLI defaults.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["batch_example_cli", "cohort40_cli", "diagnose_cli", "heavy_cli", "heaviest", "run_child", "write_batch"]

ROOT = Path(__file__).resolve().parents[1]


def _hwm_kb(pid: int) -> int:
    """Peak resident memory so far of the process's current program (``VmHWM``, kB); 0 if gone."""
    try:
        for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_child(cmd: list[str], poll: float = 0.01) -> dict:
    """Run ``cmd`` as a fresh process: wall s, CPU s (user + sys), peak RSS (MB), exit code, output.

    The peak is the child's own ``VmHWM`` (``/proc``), read every ``poll``
    seconds until it exits: ``ru_maxrss`` cannot be used, because Linux carries
    the parent's resident size across fork and exec into it (a child of this
    large benchmark process would report at least the benchmark's size).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        peak = 0
        while True:
            peak = max(peak, _hwm_kb(proc.pid))
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(poll)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "mb": peak / 1024,
                "exit": proc.returncode, "stdout": out.read().decode(errors="replace"),
                "stderr": err.read().decode(errors="replace")}


def _inference_lines(text: str) -> list[str]:
    """The ``Inference:`` lines of ``bayesdx diagnose``'s tables (with their continuation)."""
    lines, out = text.splitlines(), []
    for i, ln in enumerate(lines):
        if ln.startswith("Inference:"):
            more = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1].startswith("  ") else ""
            out.append(f"{ln} {more}".strip())
    return out


def diagnose_cli(path: Path) -> dict:
    """``bayesdx diagnose PATH`` (the CLI defaults: 1,000 interval draws) in a fresh process."""
    exe = Path(sys.executable).with_name("bayesdx")
    r = run_child([str(exe), "diagnose", str(path)])
    inf = _inference_lines(r.pop("stdout"))
    err = r.pop("stderr")
    return {**r, "cases_answered": len(inf), "approximate": sum("approximat" in x for x in inf),
            "inference": (inf[0] if len(inf) == 1 else f"{len(inf)} cases answered")[:160],
            "stderr_head": err.strip().splitlines()[0][:160] if err.strip() else ""}


def heavy_cli() -> dict:
    """The 27-finding work-up (``examples/heavy_workup.yaml``)."""
    return diagnose_cli(ROOT / "examples" / "heavy_workup.yaml")


def batch_example_cli() -> dict:
    """``examples/batch.yaml``: 3 cases, one unreadable on purpose (exit 2 expected)."""
    return diagnose_cli(ROOT / "examples" / "batch.yaml")


def heaviest(vignettes, model, n: int = 40) -> tuple[list, dict[str, int]]:
    """The ``n`` vignettes with the most abnormal findings (ties: by id), heaviest first,
    and every vignette's count (findings not in their baseline state, as the app counts)."""
    from bayesdx.case import parse_case
    from bayesdx.ui.jobs import abnormal_count

    counts = {v.id: abnormal_count(model, parse_case(v.case, model.kb).evidence) for v in vignettes}
    return sorted(vignettes, key=lambda v: (-counts[v.id], v.id))[:n], counts


def write_batch(cases: list[dict], path: Path) -> Path:
    """Write case dicts as one batch file (a list under ``cases:``, see examples/batch.yaml)."""
    import yaml

    path.write_text("# issue 12 benchmark: validation vignettes as one batch\n"
                    + yaml.safe_dump({"cases": list(cases)}, sort_keys=False, allow_unicode=True))
    return path


def cohort40_cli(model, n: int = 40) -> dict:
    """``bayesdx diagnose`` on the ``n`` validation vignettes with the most abnormal findings."""
    from bayesdx.evaluation.vignettes import load_vignettes

    chosen, counts = heaviest(load_vignettes(), model, n)
    with tempfile.TemporaryDirectory() as tmp:
        r = diagnose_cli(write_batch([v.case for v in chosen], Path(tmp) / f"heaviest{n}.yaml"))
    abn = [counts[v.id] for v in chosen]
    return {**r, "cases": len(chosen), "abnormal_min": min(abn), "abnormal_max": max(abn),
            "abnormal_median": float(np.median(abn))}
