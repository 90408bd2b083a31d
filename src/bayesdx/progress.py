"""A small progress bar on stderr for long runs (validation, synthetic cohorts).

Drawn only when the stream is a terminal, so logs and pipes stay clean. It
lives on its own (not in :mod:`bayesdx.evaluation.report`) so that the
runners that use it and the report that reads their results do not import
each other.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress_bar"]

T = TypeVar("T")


def progress_bar(items: Iterable[T], total: int | None = None, label: str = "",
                 stream=None) -> Iterator[T]:
    """Yield ``items``, drawing a bar on ``stream`` (stderr) only when it is a terminal.

    >>> list(progress_bar([1, 2, 3], label="demo"))   # not a terminal here: silent
    [1, 2, 3]
    """
    stream = stream if stream is not None else sys.stderr
    try:
        total = total if total is not None else len(items)  # type: ignore[arg-type]
    except TypeError:
        total = None
    tty = bool(getattr(stream, "isatty", lambda: False)())
    last = 0.0
    i = 0
    for i, item in enumerate(items, 1):
        yield item
        now = time.monotonic()
        if tty and (now - last > 0.1 or i == total):
            last = now
            if total:
                done = int(30 * i / total)
                stream.write(f"\r{label} [{'#' * done}{'.' * (30 - done)}] {i}/{total}")
            else:
                stream.write(f"\r{label} {i}")
            stream.flush()
    if tty and i:
        stream.write("\n")
        stream.flush()
