"""Tests of bayesdx.case.units (pint) as used by the case reader."""

from __future__ import annotations

import pytest

from bayesdx.knowledge.load import load_knowledge
from bayesdx.case.units import UnitError, convert, read_value


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def test_mapping_units_all_convert_with_pint(kb):
    m = kb.mapping
    for group in ("cbc", "baseline_cbc", "vitamins"):
        for name, nf in getattr(m, group).items():
            for unit in nf.also_units:
                convert(1.0, unit, nf.unit, molar_mass=nf.molar_mass)
            lo, hi = nf.plausible
            assert lo < hi, name


def test_units_module_directly():
    assert read_value("129 g/L", "g/dL").value == 12.9
    assert read_value("111 pmol/L", "pg/mL", molar_mass="1355.37 g/mol").value == pytest.approx(150.45, abs=0.01)
    assert convert(1500, "/uL", "10^9/L") == 1.5
    for bad, kind in [("150 kg", "dimension"), ("abc", "syntax"), ("nan", "nonfinite"),
                      ("inf pg/mL", "nonfinite"), ("3 bogons", "unit"), ("1,5", "syntax")]:
        with pytest.raises(UnitError) as info:
            read_value(bad, "pg/mL")
        assert info.value.kind == kind, bad
    for bad in (float("nan"), float("inf"), True, None, [1]):
        with pytest.raises(UnitError):
            read_value(bad, "pg/mL")


def test_time_factors_are_pints_own():
    """The plain time units skip pint; each factor, and every conversion, must be pint's."""
    import random

    from bayesdx.case.units import TIME_FACTORS, _round, parse_unit

    units = ("day", "week", "month", "year")
    assert set(TIME_FACTORS) == {(a, b) for a in units for b in units}
    rng = random.Random(0)
    values = [i / 4 for i in range(2000)] + [rng.uniform(0, 1e5) for _ in range(2000)]
    for (a, b), factor in TIME_FACTORS.items():
        ref = parse_unit(b)
        assert float((parse_unit(a) / ref).to("dimensionless").magnitude) == factor, (a, b)
        for v in values:
            pint_value = _round(float((v * parse_unit(a) / ref).to("dimensionless").magnitude))
            assert convert(v, a, b) == pint_value, (v, a, b)
    assert convert(3, "months", "week") == convert(3, "mo", "wk") == 13.0446
    with pytest.raises(UnitError) as info:
        convert(float("inf"), "day", "week")
    assert info.value.kind == "nonfinite"


def test_reading_a_case_without_unit_strings_does_not_import_pint():
    import subprocess
    import sys

    code = ("import sys; from bayesdx.diagnosis import diagnose; "
            "diagnose({'age_years': 34, 'cbc': {'anc': 0.2}, 'baseline_cbc': {'anc': 4.2, 'weeks_ago': 10}, "
            "'medications': [{'name': 'clozapine', 'weeks': 9}]}, draws=0); "
            "print('pint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
