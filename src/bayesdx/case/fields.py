"""Demographics and numeric fields: age, sex, ancestry, duration, CBC, baseline, vitamins.

Internal to :mod:`bayesdx.case`. A numeric value (a number in the field's
default unit, a ``"value unit"`` string, a censored ``"<50 pg/mL"`` or a word
such as ``moderate``) is read by :class:`~bayesdx.case.common.ReaderBase` and
placed in a band of ``model/case_mapping.yaml``: a value below a band's upper
bound (and at or above the previous one) takes that band's state; an age-group
table wins over a sex table, which wins over the default.

Examples
--------
>>> from bayesdx.knowledge.load import load_knowledge
>>> r = FieldsReader(load_knowledge(), lenient=False, source="<case>")
>>> r.read_age("6 months")
>>> r.read_cbc({"anc": "1100 /uL", "wbc": 3.0})   # the infant table: ANC 1.1 is normal
>>> r.evidence, [i["field"] for i in r.ignored]
({'age_group': 'infant', 'anc': 'normal'}, ['cbc.wbc'])
"""

from __future__ import annotations

import math
from typing import Any

from ..knowledge.schema import BandSpec, NumericField
from .units import Reading
from .common import (
    CATEGORICAL_NODE,
    TIME_UNITS,
    ReaderBase,
    describe,
    fmt,
    suggest,
    word,
)

__all__ = ["AGE", "FieldsReader"]

#: ``age_years``: in years, or "9 months"
AGE = NumericField(unit="year", also_units=["month", "week", "day"], plausible=(0, 120))


class FieldsReader(ReaderBase):
    """Reads the demographic and numeric fields of a case (bands and units)."""

    # ---------------------------------------------------------------- bands
    def table(self, bands: BandSpec) -> list[tuple[str, float | None]]:
        if self.age_years is not None:
            for row in bands.by_age_months:
                if self.age_years * 12 < row.under_months:
                    return row.bands
        if self.age_group is not None and self.age_group in bands.by_age_group:
            return bands.by_age_group[self.age_group]
        if self.sex is not None and self.sex in bands.by_sex:
            return bands.by_sex[self.sex]
        return bands.default

    def band(self, path: str, table, r: Reading, plausible, unit: str) -> str | None:
        """The state of a reading in a band table (None: ambiguous, reported)."""
        lo, hi = plausible
        v = r.value
        if r.op is None:
            a = b = v
        elif r.op == "<":
            a, b = lo, math.nextafter(v, -math.inf)
        elif r.op == "<=":
            a, b = lo, v
        elif r.op == ">":
            a, b = math.nextafter(v, math.inf), hi
        else:
            a, b = v, hi
        if a > b:
            self.add(path, f"must leave a plausible range ({fmt(lo)} to {fmt(hi)} {unit})",
                     f"{r.op}{fmt(v)}", "giving the measured value")
            return None
        states: list[str] = []
        lower = -math.inf
        for state, upper in table:
            up = math.inf if upper is None else upper
            if lower <= b and a < up and state not in states:
                states.append(state)
            lower = up
        if len(states) == 1:
            return states[0]
        self.add(path, "must fall in a single band to be used",
                 f"{r.op}{fmt(v)} {unit} (could be {' or '.join(states)})", "giving the measured value")
        return None

    def numeric(self, path: str, raw: Any, nf: NumericField) -> Reading | dict | None:
        """Read a numeric field and set its nodes; returns what was read."""
        r = self.reading(path, raw, nf)
        if r is None:
            return None
        if isinstance(r, dict):
            for node, state in r.items():
                self.set(node, state, path)
            return r
        for tgt in nf.nodes:
            state = self.band(path, self.table(tgt.bands), r, nf.plausible, nf.unit)
            if state is not None:
                self.set(tgt.node, state, path)
        return r

    # ---------------------------------------------------------------- demographics
    def read_age(self, raw: Any):
        if raw is None:
            return
        r = self.reading("age_years", raw, AGE, 'age_years: 34 or age_years: "9 months"')
        if not isinstance(r, Reading):
            return
        table = [(g, up) for g, up in self.m.age.items()]
        group = self.band("age_years", table, r, AGE.plausible, "years")
        if group is not None:
            self.age_group = group
            self.age_years = r.value if r.op is None else None
            self.set("age_group", group, "age_years")

    def read_categorical(self, fname: str, raw: Any):
        if raw is None:
            return
        words = self.m.categorical.get(fname, {})
        if not isinstance(raw, str) or word(raw) not in words:
            self.add(fname, f"must be one of {', '.join(words)}", describe(raw),
                     suggest(str(raw), words, "word") if isinstance(raw, str) else None)
            return
        state = words[word(raw)]
        if state is None:
            return  # 'unknown': not observed
        if fname == "sex":
            self.sex = state
        self.set(CATEGORICAL_NODE[fname], state, fname)

    # ---------------------------------------------------------------- numeric groups
    def read_group(self, group: str, raw: Any, specs: dict[str, NumericField]) -> dict[str, Any]:
        """Check the keys of a numeric group; return key -> raw value (non-null)."""
        data = self.mapping(group, raw, f"field: value, fields {', '.join(specs)}")
        if data is None:
            return {}
        out = {}
        for key, value in data.items():
            if key not in specs:
                self.unknown_key((group, str(key)), key, specs, f"{group} field")
            elif value is not None:
                out[key] = value
        return out

    def check_differential(self, group: str, readings: dict[str, Any]):
        def num(k):
            r = readings.get(k)
            return r.value if isinstance(r, Reading) and r.op is None else None

        wbc = num("wbc")
        if wbc is None:
            return
        parts = {k: num(k) for k in ("anc", "alc", "amc", "eos")}
        bad = False
        for k, v in parts.items():
            if v is not None and v > wbc * 1.05 + 0.05:
                bad = True
                self.add(f"{group}.{k}", f"must not exceed the WBC ({fmt(wbc)} x10^9/L)",
                         fmt(v), "checking both values and their units (counts in 10^9/L)",
                         related=((group, "wbc"),))
        given = [v for v in parts.values() if v is not None]
        total = sum(given)
        if not bad and len(given) >= 2 and total > wbc * 1.1 + 0.1:
            self.add(group, "must have a differential (anc + alc + amc + eos) no larger than the WBC",
                     f"{fmt(total)} > {fmt(wbc)} x10^9/L", "checking the values and their units",
                     related=tuple((group, k) for k in ("wbc", *parts) if k in readings))

    def read_cbc(self, raw: Any):
        specs = self.m.cbc
        values = self.read_group("cbc", raw, specs)
        use_wbc = "anc" not in values and "alc" not in values
        readings: dict[str, Any] = {}
        for key, value in values.items():
            path = f"cbc.{key}"
            if key == "wbc" and not use_wbc:
                readings[key] = self.reading(path, value, specs[key])
                if readings[key] is not None:
                    self.ignore(path, "not used when ANC or ALC is given (the differential is more specific)")
                continue
            readings[key] = self.numeric(path, value, specs[key])
        self.anc_now = readings.get("anc")
        self.check_differential("cbc", readings)

    def read_baseline(self, raw: Any):
        specs = self.m.baseline_cbc
        values = self.read_group("baseline_cbc", raw, specs)
        readings: dict[str, Any] = {}
        for key, value in values.items():
            path = f"baseline_cbc.{key}"
            nf = specs[key]
            if nf.nodes or nf.categorical:
                readings[key] = self.numeric(path, value, nf)
                continue
            readings[key] = self.reading(path, value, nf)
            if readings[key] is None:
                continue
            if nf.unit in TIME_UNITS:
                self.before_weeks = readings[key]  # dates the baseline against drug starts
            else:
                used = [f"baseline_cbc.{k}" for k, s in specs.items() if s.nodes]
                self.ignore(path, f"not modelled: only {', '.join(used) or 'none'} of the baseline count is used")
        self.anc_before = readings.get("anc")
        if readings.get("weeks_ago") is not None and isinstance(readings["weeks_ago"], Reading):
            self.check_time_vs_age("baseline_cbc.weeks_ago", readings["weeks_ago"].value)
        self.check_differential("baseline_cbc", readings)

    def read_vitamins(self, raw: Any):
        specs = self.m.vitamins
        for key, value in self.read_group("vitamins", raw, specs).items():
            self.numeric(f"vitamins.{key}", value, specs[key])
