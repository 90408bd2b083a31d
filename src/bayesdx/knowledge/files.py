"""Where the knowledge files are, and their digest: light (no YAML, no schema), for start-up paths.

Examples
--------
>>> (default_root() / "model").is_dir(), len(knowledge_hash())
(True, 64)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["default_root", "knowledge_files", "knowledge_hash", "rel"]


def default_root() -> Path:
    """The folder holding ``model/`` and ``priors/``.

    The ``BAYESDX_ROOT`` environment variable wins; otherwise the repository
    checkout this package was installed from.
    """
    env = os.environ.get("BAYESDX_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "model").is_dir() and (parent / "priors").is_dir():
            return parent
    return Path.cwd()


def knowledge_files(folder: Path) -> list[Path]:
    """The YAML files under ``folder``, sorted."""
    return sorted(p for p in folder.rglob("*.yaml") if p.is_file())


def rel(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (as given when it is outside)."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def knowledge_hash(root: Path | None = None) -> str:
    """SHA-256 over the bytes of every file in ``model/`` and ``priors/``.

    >>> len(knowledge_hash())
    64
    """
    root = Path(root) if root else default_root()
    h = hashlib.sha256()
    for folder in ("model", "priors"):
        for p in knowledge_files(root / folder):
            h.update(rel(p, root).encode())
            h.update(b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
    return h.hexdigest()
