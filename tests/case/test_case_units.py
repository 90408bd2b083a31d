"""Tests of bayesdx.case.units (pint) as used by the case reader."""

from __future__ import annotations

import math

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

    from bayesdx.case.unit_table import FACTORS
    from bayesdx.case.units import _round, parse_unit

    units = ("day", "week", "month", "year")
    time = {(a, b): e[-1] for (a, b, mm), e in FACTORS.items() if a in units and b in units}
    assert set(time) == {(a, b) for a in units for b in units}
    assert all(FACTORS[a, b, ""][:4] == (1.0, "", 1.0, 1.0) for a, b in time)
    rng = random.Random(0)
    values = [i / 4 for i in range(2000)] + [rng.uniform(0, 1e5) for _ in range(2000)]
    for (a, b), factor in time.items():
        ref = parse_unit(b)
        assert float((parse_unit(a) / ref).to("dimensionless").magnitude) == factor, (a, b)
        for v in values:
            pint_value = _round(float((v * parse_unit(a) / ref).to("dimensionless").magnitude))
            assert convert(v, a, b) == pint_value, (v, a, b)
    assert convert(3, "months", "week") == convert(3, "mo", "wk") == 13.0446
    with pytest.raises(UnitError) as info:
        convert(float("inf"), "day", "week")
    assert info.value.kind == "nonfinite"


@pytest.mark.parametrize("case", [
    # no unit strings at all
    "{'age_years': 34, 'cbc': {'anc': 0.2}, 'baseline_cbc': {'anc': 4.2, 'weeks_ago': 10}, "
    "'medications': [{'name': 'clozapine', 'weeks': 9}]}",
    # the units the case mapping offers
    "{'cbc': {'anc': '1100 /uL', 'hb': '89 g/L', 'plt': '110 x10^9/L'}, "
    "'vitamins': {'b12': '95 pmol/L', 'folate': '4.76 nmol/L'}}",
], ids=["no-units", "mapping-units"])
def test_reading_a_case_does_not_import_pint(case):
    import subprocess
    import sys

    code = (f"import sys; from bayesdx.diagnosis import diagnose; diagnose({case}, draws=0); "
            "print('pint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unit_table_is_pints_own_and_covers_the_mapping(kb):
    """Every stored entry is what pint computes now, and every offered unit pair is stored."""
    from bayesdx.case import unit_build, unit_table

    for (a, b, mm), stored in unit_table.FACTORS.items():
        assert unit_build.entry(a, b, mm or None) == stored, (a, b, mm)
    missing = [p for p in unit_build.pairs(kb) if p not in unit_table.FACTORS]
    assert not missing, f"run `python -m bayesdx.case.unit_build` to add {missing}"


def test_unit_table_conversions_equal_pints_bit_for_bit():
    """The stored path gives pint's unrounded value (not only the rounded one) on every pair."""
    import random

    from bayesdx.case import units
    from bayesdx.case.unit_table import FACTORS

    rng = random.Random(1)
    values = [i / 8 for i in range(800)] + [rng.uniform(0, 2e5) for _ in range(800)] \
        + [rng.lognormvariate(0, 6) for _ in range(400)] + [1e308, 5e-324]
    for (a, b, mm), _ in FACTORS.items():
        q, ref = units.parse_unit(a), units.parse_unit(b)
        steps = [None] + ([units.parse_unit(mm)] * 2 if mm else [])
        ops = [lambda x, m: x, lambda x, m: x * m, lambda x, m: x / m]
        for v in values:
            pint_out = None
            for op, m in zip(ops, steps):
                cand = op(v * q, m)
                if cand.dimensionality == ref.dimensionality:
                    pint_out = float((cand / ref).to("dimensionless").magnitude)
                    break
            try:
                got = units.convert(v, a, b, molar_mass=mm or None)
            except units.UnitError as exc:
                assert exc.kind == "nonfinite" and not math.isfinite(pint_out), (v, a, b)
                continue
            assert got == units._round(pint_out), (v, a, b, mm)
            # and unrounded: the same arithmetic as pint, step by step
            x, op, mmag, y, factor = FACTORS[a, b, mm]
            raw = v * x
            raw = raw * mmag if op == "*" else raw / mmag if op == "/" else raw
            assert raw / y * factor == pint_out, (v, a, b, mm)
