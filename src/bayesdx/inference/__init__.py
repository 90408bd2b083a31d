"""The exact inference core: compiled plans (:mod:`.plan`), evidence-reduced
factors (:mod:`.factors`), one plan per evidence pattern (:mod:`.pattern`),
many patterns in shared passes (:mod:`.slots`), single light queries by one
precompiled program for every pattern (:mod:`.light`), the one query API
(:class:`~bayesdx.inference.engine.Engine`) and export to full tables
(:mod:`.export`) for pgmpy and pyAgrum.
"""

from __future__ import annotations

from .engine import BatchPosterior, Engine, Posterior

__all__ = ["BatchPosterior", "Engine", "Posterior"]
