"""Knowledge in: the schema of ``model/`` and ``priors/``, the loader, the
cross-file checks, and the network of probability tables built from them.

The layer below everything else: it imports nothing from inference, the
analyses or the edges.
"""

from __future__ import annotations

from .load import Knowledge, default_root, knowledge_hash, load_knowledge, yaml_load
from .network import Network, ParamInfo, Tables

__all__ = ["Knowledge", "Network", "ParamInfo", "Tables", "default_root", "knowledge_hash",
           "load_knowledge", "yaml_load"]
