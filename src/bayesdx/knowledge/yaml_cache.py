"""A JSON copy of each parsed knowledge file, found by the hash of the file's bytes.

Parsing the knowledge YAML (with the duplicate-key and nesting checks of
:mod:`bayesdx.knowledge.text`) is most of the time it takes to load the
knowledge, about 0.2 s of every start; reading the same data back from JSON
takes a few milliseconds. :func:`load` returns the data and key lines of a
file parsed before, :func:`store` keeps them after a clean parse.

* Found by content: the name is the SHA-256 of the file's bytes and of the
  reader (:data:`VERSION`, the source of :mod:`bayesdx.knowledge.text`,
  PyYAML's version), so an edited file or reader is never served stale, and copies of a file share
  one entry. Only files that parsed without a problem, whose data JSON holds
  exactly (string keys; strings, integers, finite floats, booleans, null,
  lists), are kept; the rest are parsed every time.
* Its absence changes nothing: a missing, unreadable or malformed entry is
  ignored (the file is parsed), and nothing fails when the folder cannot be
  written. JSON only, nothing is ever unpickled or evaluated.
* Where: ``$BAYESDX_CACHE_DIR``, else ``$XDG_CACHE_HOME/bayesdx``, else
  ``~/.cache/bayesdx`` (folder ``knowledge-yaml``); ``BAYESDX_CACHE_DIR=off``
  turns it off. It holds knowledge only (``model/``, ``priors/``), never a
  case, and at most :data:`KEEP` entries (the oldest are removed).

Examples
--------
>>> exact({"a": [1, 2.5, None, True, "x"]}), exact({1: "a"}), exact({"a": float("nan")})
(True, False, False)
>>> shared = [1]
>>> exact({"a": shared, "b": shared})  # one list twice (a YAML alias): JSON would make two
False
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["KEEP", "VERSION", "exact", "folder", "load", "store"]

VERSION = b"bayesdx-knowledge-yaml-1\0"
"""Part of every key, with the bytes of :mod:`bayesdx.knowledge.text` (the reader) and
PyYAML's version: a change of either never serves data the old reader made."""
KEEP = 256
"""Most entries kept in the folder."""


def folder() -> Path | None:
    """The cache folder, or None when turned off (``BAYESDX_CACHE_DIR=off``)."""
    env = os.environ.get("BAYESDX_CACHE_DIR")
    if env:
        return None if env.strip().lower() in ("off", "0", "none") else Path(env) / "knowledge-yaml"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bayesdx" / "knowledge-yaml"


@lru_cache(maxsize=1)
def _parser() -> bytes:
    """What the parsed data depends on besides the file: the reader's source and PyYAML's version."""
    import yaml

    from . import text

    return hashlib.sha256(Path(text.__file__).read_bytes() + yaml.__version__.encode()).digest()


def _key(data: bytes) -> str:
    return hashlib.sha256(VERSION + _parser() + data).hexdigest()


def exact(value: Any) -> bool:
    """Does JSON hold ``value`` exactly (same types and values after a round trip)?"""
    stack = [value]
    seen: set[int] = set()  # a list or mapping met twice (a YAML alias) is one object, JSON makes two
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict or t is list:
            if id(v) in seen:
                return False
            seen.add(id(v))
        if t is dict:
            if not all(type(k) is str for k in v):
                return False
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
        elif t is float:
            if not math.isfinite(v):
                return False
        elif t not in (str, int, bool) and v is not None:
            return False
    return True


def load(data: bytes) -> tuple[Any, dict[str, int]] | None:
    """``(parsed data, key lines)`` of a file with these bytes parsed before, or None."""
    where = folder()
    if where is None:
        return None
    try:
        entry = json.loads((where / f"{_key(data)}.json").read_text(encoding="utf-8"))
        if type(entry) is dict and type(entry.get("lines")) is dict and "data" in entry \
                and all(type(n) is int for n in entry["lines"].values()):
            return entry["data"], entry["lines"]
    except (OSError, ValueError):
        pass
    return None


def store(data: bytes, parsed: Any, lines: dict[str, int]) -> None:
    """Keep ``parsed`` (and its key ``lines``) for a file with these bytes, if JSON holds it exactly."""
    where = folder()
    if where is None or not exact(parsed) or not exact(lines):
        return
    tmp = None
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"data": parsed, "lines": lines}, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, where / f"{_key(data)}.json")
        tmp = None
        entries = sorted(where.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
