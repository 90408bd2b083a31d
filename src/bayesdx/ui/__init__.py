"""Page pieces of the bayesdx Streamlit app (``app.py`` holds the layout only).

Pure functions (no Streamlit):

* :mod:`~bayesdx.ui.spec` - the evidence form, derived from the knowledge files;
* :mod:`~bayesdx.ui.values` - form values <-> case file;
* :mod:`~bayesdx.ui.scenario` - form values -> network evidence, A/B comparison;
* :mod:`~bayesdx.ui.share` - the URL (``node=state``) and case files;
* :mod:`~bayesdx.ui.charts` - the Altair charts (Vega-Lite specs and their data).

Streamlit:

* :mod:`~bayesdx.ui.state` - session state, callbacks, the cached model and engines;
* :mod:`~bayesdx.ui.entry` - the evidence form (left);
* :mod:`~bayesdx.ui.results` - the ranking, A vs B, the evidence used (right);
* :mod:`~bayesdx.ui.analysis` - why, next best test, sensitivity (slower; own engine);
* :mod:`~bayesdx.ui.page` - style, disclaimer, messages, case-file and share popovers.

Every number shown comes from the package (:mod:`bayesdx.case`,
:mod:`bayesdx.diagnosis`, :mod:`bayesdx.explain`, :mod:`bayesdx.uncertainty`,
:mod:`bayesdx.voi`, :mod:`bayesdx.sensitivity`); nothing here models.
"""

__all__: list[str] = []
