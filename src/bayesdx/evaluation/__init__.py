"""Evaluation at the edge: validation sets and their scores (:mod:`.vignettes`),
reports and plots (:mod:`.report`), pinned posteriors (:mod:`.regress`),
what a prior change did (:mod:`.compare`) and synthetic-cohort calibration
(:mod:`.cohort`).
"""

__all__: list[str] = []
