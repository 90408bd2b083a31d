"""Page pieces of the bayesdx Streamlit app (``app.py`` holds the layout only).

* :mod:`~bayesdx.ui.spec` - the evidence form, derived from the knowledge files;
* :mod:`~bayesdx.ui.scenario` - form values <-> case file <-> evidence, the
  URL, A/B comparison (pure functions, no Streamlit);
* :mod:`~bayesdx.ui.charts` - the Altair charts;
* :mod:`~bayesdx.ui.state` - Streamlit session state, the cached model;
* :mod:`~bayesdx.ui.panels` - the Streamlit widgets and result panels.

Every number shown comes from the package (:mod:`bayesdx.case`,
:mod:`bayesdx.diagnose`, :mod:`bayesdx.explain`); nothing here models.
"""

__all__: list[str] = []
