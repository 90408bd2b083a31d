"""The three validation sets, scored separately by ``bayesdx validate``.

``vignettes``
    the project's own vignettes (``validation/vignettes``), scored by rank
    (top-1, top-3, MRR) and by probability (Brier, log loss);
``published``
    published case reports (``validation/published``): the vignette format plus
    ``citation``, ``url`` and ``not_expressed``; scored the same way; skipped
    quietly when the folder is absent or empty;
``probes``
    the clinical behaviour suite (``validation/probes``, :mod:`.probes`):
    passed or failed, expectation by expectation.

Examples
--------
>>> v = run_validation(sets=("probes",), folders={"probes": None})
>>> v.vignettes is None and v.probes.n >= 45
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem, UsageError
from .probe_score import ProbeScore
from .vignettes import Score

__all__ = ["SETS", "Validation", "ValidationSetError", "run_validation", "set_folder"]

SETS = ("vignettes", "published", "probes")


class ValidationSetError(UsageError):
    """A validation set named on the command line cannot be used."""


@dataclass(frozen=True)
class Validation:
    """Scores of the sets that were run (None: not run, or skipped because empty)."""

    vignettes: Score | None = None
    published: Score | None = None
    probes: ProbeScore | None = None

    @property
    def probes_ok(self) -> bool:
        """No probe failed (True when the probes were not run)."""
        return self.probes is None or self.probes.failed == 0

    def figures(self) -> dict[str, Any]:
        """The headline figures of each set that ran, JSON-ready."""
        out: dict[str, Any] = {}
        for name in ("vignettes", "published"):
            s = getattr(self, name)
            if s is not None:
                out[name] = {"n": s.n, "top1": round(s.top1, 6), "top3": round(s.top3, 6),
                             "mrr": round(s.mrr, 6), "brier": _num(s.brier),
                             "log_loss": _num(s.log_loss), "errors": len(s.errors)}
        if self.probes is not None:
            out["probes"] = {"n": self.probes.n, "passed": self.probes.passed,
                             "failed": self.probes.failed,
                             "unknown_causes": self.probes.unknown_causes()}
        return out


def _num(x: float):
    return None if x != x else round(float(x), 6)


def set_folder(name: str, root: str | Path | None = None) -> Path:
    """The default folder of set ``name`` under the repository (or ``root``)."""
    from ..knowledge.load import default_root

    if name not in SETS:
        raise ValidationSetError(Problem("validate", "--set", "must be one of " + ", ".join(SETS),
                                         repr(name), "--set probes"))
    return Path(root or default_root()) / "validation" / name


def run_validation(model=None, sets: tuple[str, ...] = SETS,
                   folders: dict[str, str | Path | None] | None = None,
                   *, progress: bool = False) -> Validation:
    """Score each set in ``sets``; ``folders`` overrides a set's folder.

    A named folder that does not exist is an error, except for ``published``
    at its default place, which is skipped quietly when absent or empty.
    """
    from ..diagnosis import load_model
    from .probe_score import score_probes
    from .probes import load_probes
    from .vignettes import load_vignettes, score_vignettes

    folders = folders or {}
    model = model or load_model()
    out: dict[str, Any] = {}
    for name in sets:
        given = folders.get(name)
        folder = Path(given) if given else set_folder(name)
        if not folder.is_dir() or not any(folder.glob("*.yaml")):
            if name == "published" and not given:
                continue
            raise ValidationSetError(Problem(str(folder), "", f"must be a folder of {name} "
                                             "(*.yaml files)", "no such folder or no files",
                                             f"--{name} DIR"))
        if name == "probes":
            out[name] = score_probes(load_probes(folder), model, progress=progress)
        else:
            vs = load_vignettes(folder, published=name == "published")
            out[name] = score_vignettes(vs, model, progress=progress)
    return Validation(**out)
