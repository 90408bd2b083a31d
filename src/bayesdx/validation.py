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

Examples
--------
>>> vs = load_vignettes()
>>> len(vs) >= 40
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import BayesdxError, CaseError, Problem

__all__ = ["Score", "Vignette", "VignetteResult", "load_vignettes", "score_vignettes",
           "vignette_dir"]


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

    @property
    def accepted(self) -> tuple[str, ...]:
        """Ids accepted as the first answer."""
        return (self.cause, *self.equivalent)


@dataclass(frozen=True)
class VignetteResult:
    """How the model did on one vignette."""

    vignette: Vignette
    ranking: tuple[str, ...]
    probs: tuple[float, ...]
    error: str | None = None

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


def vignette_dir() -> Path:
    """The repository's ``validation/vignettes`` folder."""
    from .knowledge import default_root

    return default_root() / "validation" / "vignettes"


def load_vignettes(folder: str | Path | None = None) -> list[Vignette]:
    """Read every ``*.yaml`` vignette in ``folder``; report all problems at once.

    Raises
    ------
    CaseError
        Listing every unreadable vignette file and field.
    """
    folder = Path(folder) if folder else vignette_dir()
    out, problems = [], []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            v = _VignetteFile.model_validate(data)
        except yaml.YAMLError as exc:
            problems.append(Problem(str(path), "", "must be valid YAML", str(exc).splitlines()[0]))
            continue
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(Problem(str(path), ".".join(map(str, err["loc"])),
                                        f"must be valid: {err['msg'].lower()}"))
            continue
        out.append(Vignette(v.id, v.title, tuple(v.tags), v.expected.cause,
                            tuple(v.expected.equivalent), tuple(v.expected.also), v.case, str(path)))
    if problems:
        raise CaseError(problems, case_id="vignettes")
    return out


def score_vignettes(vignettes: list[Vignette], model=None) -> Score:
    """Run the model on every vignette (no intervals) and score it."""
    from .case import parse_case
    from .diagnose import load_model

    model = model or load_model()
    results = []
    for v in vignettes:
        try:
            pc = parse_case(v.case, model.kb, source=v.path)
            post = model.engine.posterior(pc.evidence)
        except BayesdxError as exc:
            results.append(VignetteResult(v, (), (), str(exc)))
            continue
        ranked = post.ranked()
        results.append(VignetteResult(v, tuple(c for c, _ in ranked), tuple(p for _, p in ranked)))
    return Score(tuple(results))
