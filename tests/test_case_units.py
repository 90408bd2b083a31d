"""Tests of bayesdx.units (pint) as used by the case reader."""

from __future__ import annotations

import pytest

from bayesdx.knowledge import load_knowledge
from bayesdx.units import UnitError, convert, read_value


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
