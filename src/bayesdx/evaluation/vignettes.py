"""Validation vignettes: load them, score the model on them.

A vignette (``validation/vignettes/*.yaml``) is a case in the contract format
under ``case:`` plus what a haematologist expects:

``expected.cause``
    the cause that should rank first;
``expected.equivalent``
    other ids that count as the right first answer (a root cause and its
    mechanism, e.g. hepatitis C and chronic liver disease);
``expected.also``
    for two-cause vignettes, a second cause expected within the top three.

A vignette is a **top-1 hit** when the first-ranked cause is ``cause`` or an
equivalent, a **top-3 hit** when one of those is within the first three.

Probabilistic scores (:data:`SCORE_DEFINITION`) treat every cause of a
vignette as a binary forecast: the target is 1 for the accepted causes
(``cause``, ``equivalent`` and ``also``) and 0 for the rest. The **Brier
score** is the mean over causes of ``(p - y)**2``; the **log loss** the mean of
``-[y log p + (1 - y) log(1 - p)]`` with ``p`` clipped to
``[1e-6, 1 - 1e-6]``. :func:`calibration` bins such forecasts into a
reliability table with its expected calibration error (ECE).

Examples
--------
>>> vs = load_vignettes()
>>> len(vs) >= 40
True
>>> cal = calibration([0.05, 0.15, 0.95, 0.85], [0, 0, 1, 1], bins=10)
>>> round(cal.ece, 3), cal.n
(0.1, 4)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BayesdxError, CaseError, Problem
from ..knowledge.text import TextError, read_text, yaml_load
from .calibration import Calibration, CalibrationBin, calibration

__all__ = ["SCORE_DEFINITION", "Calibration", "CalibrationBin", "Score", "Vignette",
           "VignetteResult", "calibration", "load_vignettes", "score_rankings", "score_vignettes",
           "vignette_dir"]

SCORE_DEFINITION = (
    "Brier score and log loss treat every cause of a vignette as a binary forecast with "
    "target 1 for the accepted causes (expected cause, its equivalents and the 'also' "
    "causes) and 0 for every other cause; each is the mean over all causes of the "
    "vignette, (p - y)^2 and -[y ln p + (1 - y) ln(1 - p)] (p clipped to [1e-6, 1 - 1e-6]), "
    "then averaged over vignettes.")
_EPS = 1e-6


class _Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cause: str
    equivalent: list[str] = Field(default_factory=list)
    also: list[str] = Field(default_factory=list)


class _VignetteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    description: str
    tags: list[str] = Field(default_factory=list)
    expected: _Expected
    case: dict[str, Any]
    citation: str | None = None
    url: str | None = None
    not_expressed: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Vignette:
    """One validation vignette."""

    id: str
    title: str
    tags: tuple[str, ...]
    cause: str
    equivalent: tuple[str, ...]
    also: tuple[str, ...]
    case: dict
    path: str
    citation: str | None = None
    url: str | None = None
    not_expressed: tuple[str, ...] = ()

    @property
    def accepted(self) -> tuple[str, ...]:
        """Ids accepted as the first answer."""
        return (self.cause, *self.equivalent)

    @property
    def targets(self) -> tuple[str, ...]:
        """Ids whose target is 1 in the Brier score and log loss (accepted and ``also``)."""
        return tuple(dict.fromkeys((*self.accepted, *self.also)))


@dataclass(frozen=True)
class VignetteResult:
    """How the model did on one vignette."""

    vignette: Vignette
    ranking: tuple[str, ...]
    probs: tuple[float, ...]
    error: str | None = None
    family: str | None = None

    @property
    def rank(self) -> int | None:
        """1-based rank of the best-ranked accepted cause (None on error)."""
        if self.error:
            return None
        ranks = [self.ranking.index(c) + 1 for c in self.vignette.accepted if c in self.ranking]
        return min(ranks) if ranks else None

    @property
    def top1(self) -> bool:
        return self.rank == 1

    @property
    def top3(self) -> bool:
        return self.rank is not None and self.rank <= 3

    @property
    def also_ok(self) -> bool:
        """Every ``also`` cause is within the top three."""
        return all(c in self.ranking[:3] for c in self.vignette.also)

    @property
    def posteriors(self) -> dict[str, float]:
        """Cause -> posterior (empty on error)."""
        return dict(zip(self.ranking, self.probs))

    def forecasts(self) -> tuple[np.ndarray, np.ndarray]:
        """Forecasts ``p`` and targets ``y`` over every cause (ranking order)."""
        p = np.asarray(self.probs, dtype=float)
        y = np.array([c in self.vignette.targets for c in self.ranking], dtype=float)
        return p, y

    @property
    def brier(self) -> float | None:
        """Mean over causes of ``(p - y)**2`` (None on error); see :data:`SCORE_DEFINITION`."""
        if self.error or not self.ranking:
            return None
        p, y = self.forecasts()
        return float(np.mean((p - y) ** 2))

    @property
    def log_loss(self) -> float | None:
        """Mean over causes of the binary log loss (None on error)."""
        if self.error or not self.ranking:
            return None
        p, y = self.forecasts()
        p = np.clip(p, _EPS, 1 - _EPS)
        return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


@dataclass(frozen=True)
class Score:
    """Accuracy over a set of vignettes."""

    results: tuple[VignetteResult, ...] = field(default_factory=tuple)

    @property
    def n(self) -> int:
        return len(self.results)

    @property
    def top1(self) -> float:
        return sum(r.top1 for r in self.results) / max(self.n, 1)

    @property
    def top3(self) -> float:
        return sum(r.top3 for r in self.results) / max(self.n, 1)

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank of the accepted cause."""
        return sum(1.0 / r.rank for r in self.results if r.rank) / max(self.n, 1)

    @property
    def misses(self) -> list[VignetteResult]:
        """Vignettes whose accepted cause was not ranked first."""
        return [r for r in self.results if not r.top1]

    @property
    def errors(self) -> list[VignetteResult]:
        """Vignettes that could not be scored."""
        return [r for r in self.results if r.error]

    @property
    def brier(self) -> float:
        """Mean Brier score over the scored vignettes (NaN when none)."""
        vals = [r.brier for r in self.results if r.brier is not None]
        return float(np.mean(vals)) if vals else float("nan")

    @property
    def log_loss(self) -> float:
        """Mean log loss over the scored vignettes (NaN when none)."""
        vals = [r.log_loss for r in self.results if r.log_loss is not None]
        return float(np.mean(vals)) if vals else float("nan")

    def by_family(self) -> dict[str, Score]:
        """The score split by the family of each vignette's expected cause (sorted)."""
        groups: dict[str, list[VignetteResult]] = {}
        for r in self.results:
            groups.setdefault(r.family or "unknown", []).append(r)
        return {k: Score(tuple(v)) for k, v in sorted(groups.items())}

    def calibration(self, bins: int = 10) -> Calibration:
        """Reliability table over every (vignette, cause) forecast."""
        pairs = [r.forecasts() for r in self.results if not r.error and r.ranking]
        if not pairs:
            return calibration([], [], bins)
        return calibration(np.concatenate([p for p, _ in pairs]),
                           np.concatenate([y for _, y in pairs]), bins)


def vignette_dir() -> Path:
    """The repository's ``validation/vignettes`` folder."""
    from ..knowledge.load import default_root

    return default_root() / "validation" / "vignettes"


def load_vignettes(folder: str | Path | None = None, *, published: bool = False
                   ) -> list[Vignette]:
    """Read every ``*.yaml`` vignette in ``folder``; report all problems at once.

    ``published`` reads published case reports (``validation/published``): the same
    format, where ``citation`` (the full reference) and ``url`` are required and
    ``not_expressed`` lists what the report says that the case format cannot.

    Raises
    ------
    CaseError
        Listing every unreadable vignette file and field.
    """
    folder = Path(folder) if folder else vignette_dir()
    out, problems = [], []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml_load(read_text(path))
            v = _VignetteFile.model_validate(data)
        except TextError as exc:
            problems.append(exc.problem(str(path)))
            continue
        except yaml.YAMLError as exc:
            problems.append(Problem(str(path), "", "must be valid YAML", str(exc).splitlines()[0]))
            continue
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(Problem(str(path), ".".join(map(str, err["loc"])),
                                        f"must be valid: {err['msg'].lower()}"))
            continue
        missing = [k for k in ("citation", "url") if published and not getattr(v, k)]
        for k in missing:
            problems.append(Problem(str(path), k, "must be given for a published case report",
                                    None, f"{k}: ... (see the README, Validation sets)"))
        if missing:
            continue
        out.append(Vignette(v.id, v.title, tuple(v.tags), v.expected.cause,
                            tuple(v.expected.equivalent), tuple(v.expected.also), v.case, str(path),
                            v.citation, v.url, tuple(v.not_expressed)))
    if problems:
        raise CaseError(problems, case_id="published" if published else "vignettes")
    return out


def score_vignettes(vignettes: list[Vignette], model=None, *, progress: bool = False) -> Score:
    """Run the model on every vignette (no intervals) and score it.

    ``progress`` draws a progress bar on stderr when stderr is a terminal.
    """
    from ..case import parse_case
    from ..diagnosis import load_model
    from ..progress import progress_bar

    model = model or load_model()
    family = model.net.family
    results = []
    items = progress_bar(vignettes, label="vignettes") if progress else vignettes
    for v in items:
        fam = family.get(v.cause)
        try:
            pc = parse_case(v.case, model.kb, source=v.path)
            post = model.engine.posterior(pc.evidence)
        except BayesdxError as exc:
            results.append(VignetteResult(v, (), (), str(exc), fam))
            continue
        ranked = post.ranked()
        results.append(VignetteResult(v, tuple(c for c, _ in ranked),
                                      tuple(p for _, p in ranked), None, fam))
    return Score(tuple(results))


def score_rankings(vignettes: list[Vignette], model=None) -> dict[str, Score]:
    """Score every ranking of :data:`bayesdx.counterfactual.RANKINGS` on the vignettes.

    One exact counterfactual computation per vignette gives all rankings; each
    :class:`Score`'s ``probs`` hold that ranking's score (not a probability
    except for ``posterior`` and ``needed``), so only top-k and MRR are meaningful.
    """
    from ..case import parse_case
    from ..counterfactual import RANKINGS, counterfactual
    from ..diagnosis import load_model

    model = model or load_model()
    family = model.net.family
    out: dict[str, list] = {k: [] for k in RANKINGS}
    for v in vignettes:
        fam = family.get(v.cause)
        try:
            pc = parse_case(v.case, model.kb, source=v.path)
            cf = counterfactual(model.engine, pc.evidence)
        except BayesdxError as exc:
            for k in RANKINGS:
                out[k].append(VignetteResult(v, (), (), str(exc), fam))
            continue
        for k in RANKINGS:
            ranked = cf.ranked(k)
            out[k].append(VignetteResult(v, tuple(c for c, _ in ranked),
                                         tuple(p for _, p in ranked), None, fam))
    return {k: Score(tuple(r)) for k, r in out.items()}
