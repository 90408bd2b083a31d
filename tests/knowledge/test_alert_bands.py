"""The do-not-miss alerts follow the graded bands: a band added below an alert's
state must not silence the alert (ANC < 0.2 is still agranulocytosis)."""
from bayesdx.alerts import check_alerts
from bayesdx.diagnosis import diagnose_evidence, load_model


def _fires(ev: dict) -> list[str]:
    m = load_model()
    post = {c.id: c.posterior for c in diagnose_evidence(m, ev, draws=0).causes}
    return [d.id for d in check_alerts(m.kb, ev, post).do_not_miss]


def test_febrile_agranulocytosis_alert_at_very_severe_anc():
    ev = {"anc": "very_severe", "hx_fever": "present", "exposure_antipsychotic": "clozapine_window"}
    assert "drug_agranulocytosis_fever" in _fires(ev)


def test_febrile_agranulocytosis_alert_needs_fever():
    ev = {"anc": "very_severe", "hx_fever": "absent", "exposure_antipsychotic": "clozapine_window"}
    assert "drug_agranulocytosis_fever" not in _fires(ev)
