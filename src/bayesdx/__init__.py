"""bayesdx: a probabilistic diagnostic model for the causes of leukopenia.

A research and teaching tool, not a medical device.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
