"""A package's names imported on first use (PEP 562), for the packages' ``__init__`` modules.

Examples
--------
>>> ns = {"__name__": "bayesdx.knowledge"}
>>> getattr_ = lazy_getattr(ns, {"knowledge_hash": "files"})
>>> len(getattr_("knowledge_hash")()), "knowledge_hash" in ns
(64, True)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(namespace: dict[str, Any], where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from the submodule ``where[name]`` of the
    package whose globals are ``namespace``, on first use, and keeps it there."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
