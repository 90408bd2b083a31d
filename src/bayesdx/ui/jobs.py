"""Bounded, per-session work: no session waits for another's heavy query.

Every ranking the app asks for is priced first. A light query (fewer than
:data:`LIGHT_ABNORMAL` abnormal findings: milliseconds) runs on the shared
engine (thread-safe: it locks its own caches). A heavy query runs on
the session's own engine (:func:`session_engine`), in a worker thread of the
session (:class:`Job`), under the app's budget (:data:`APP_BUDGET`): exact
when its estimate fits, else the labelled Gibbs approximation
(:mod:`bayesdx.inference.approx`). No global lock is held while it runs, and
the compiled sampler releases the GIL, so other sessions keep drawing.

The page polls the job and shows its progress; a newer query of the same
session cancels the older one (the sampler stops at its next batch of
chains), and a rerun with the same evidence picks the running or finished
job up again instead of starting over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..diagnosis import Diagnosis, Model, diagnose_evidence
from ..errors import BayesdxError
from ..inference.approx import Cancelled
from ..inference.budget import Budget
from ..inference.engine import Engine

__all__ = ["APP_BUDGET", "LIGHT_ABNORMAL", "Job", "abnormal_count", "is_light",
           "session_model", "start"]

APP_BUDGET = Budget(seconds=2.0)
"""Estimated seconds an exact ranking may take in the app (and a quarter of it for the
approximation beyond): a page should answer within seconds, not the CLI's 8."""

LIGHT_ABNORMAL = 8
"""Queries with fewer abnormal findings cost milliseconds (the frontier doubles with each):
they run on the shared engine. The rest run in the session's own job."""

def abnormal_count(model: Model, evidence: Mapping[str, str]) -> int:
    """Findings in the evidence that are not in their baseline state."""
    net = model.net
    return sum(1 for n, s in evidence.items() if n in net.findings and s != net.states[n][0])


def is_light(model: Model, evidence: Mapping[str, str]) -> bool:
    """True when the query is cheap enough for the shared engine (see :data:`LIGHT_ABNORMAL`)."""
    return abnormal_count(model, evidence) < LIGHT_ABNORMAL


def session_model(model: Model, store: dict) -> Model:
    """``model`` with the session's own engine (created on first use, kept in ``store``): the
    app's budget, and the shared engine's compiled plans (a heavy pattern compiled for the
    ranking is not compiled again for its intervals or analyses)."""
    eng = store.get("bdx.engine")
    if eng is None or eng.net is not model.net:
        eng = Engine(model.net, budget=APP_BUDGET, plan_cache=model.engine.plan_cache)
        store["bdx.engine"] = eng
    return Model(model.kb, model.net, eng)


class Job:
    """One heavy ranking in a worker thread: result or error, progress, cancellation.

    Parameters
    ----------
    key : hashable
        What the job computes (the evidence); a rerun with the same key reuses it.
    fn : callable
        ``fn(cancel_event, progress_callback) -> result``.
    """

    def __init__(self, key, fn: Callable[[threading.Event, Callable[[float], None]], Any]):
        self.key = key
        self.cancel = threading.Event()
        self.done = threading.Event()
        self.progress = 0.0
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True,
                                        name="bayesdx-job")
        self._thread.start()

    def _run(self, fn) -> None:
        try:
            self.result = fn(self.cancel, self._report)
        except BaseException as exc:  # noqa: BLE001 - handed to the page, never lost
            self.error = exc
        finally:
            self.progress = 1.0
            self.done.set()

    def _report(self, fraction: float) -> None:
        self.progress = float(fraction)

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when finished."""
        return self.done.wait(seconds)

    def outcome(self) -> Diagnosis | BayesdxError:
        """The finished job's diagnosis, or the error that explains why there is none."""
        if isinstance(self.error, BayesdxError):
            return self.error
        if self.error is not None:
            return BayesdxError(f"the ranking failed: {type(self.error).__name__}: {self.error}")
        return self.result


def start(model: Model, evidence: Mapping[str, str], store: dict) -> Job:
    """The session's job for ``evidence``: the current one if it computes the same evidence,
    else a new one (and the old one is cancelled)."""
    key = tuple(sorted(evidence.items()))
    job = store.get("bdx.job")
    if job is not None and job.key == key and not isinstance(job.error, Cancelled):
        return job
    if job is not None:
        job.cancel.set()
    mine = session_model(model, store)
    ev = dict(evidence)
    job = Job(key, lambda cancel, progress: diagnose_evidence(
        mine, ev, draws=0, scores=False, budget=APP_BUDGET, cancel=cancel, progress=progress))
    store["bdx.job"] = job
    return job
