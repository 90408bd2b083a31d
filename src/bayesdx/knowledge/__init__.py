"""Knowledge in: the schema of ``model/`` and ``priors/``, the loader, the
cross-file checks, and the network of probability tables built from them.

The layer below everything else: it imports nothing from inference, the
analyses or the edges.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_LAZY = {"Knowledge": "load", "default_root": "files", "knowledge_hash": "files", "load_knowledge": "load",
         "yaml_load": "load", "Network": "network", "ParamInfo": "network", "Tables": "network"}
"""Where each name of the layer lives: imported on first use (PEP 562), so that a light module
of it (:mod:`bayesdx.knowledge.files`, read when the app starts) needs no YAML or schema."""

__all__ = ["Knowledge", "Network", "ParamInfo", "Tables", "default_root", "knowledge_hash",
           "load_knowledge", "yaml_load"]


__getattr__ = lazy_getattr(globals(), _LAZY)
