"""Medications: drug names, exposure classes and tiers, timing.

Internal to :mod:`bayesdx.case`. Each drug maps to a class and tier
(``model/drugs.yaml``); its class's exposure node gets ``<tier>_<timing>``
from ``weeks`` (since the start), ``stopped_weeks_ago`` and
``days_since_last_dose`` (the class's window; the stopped-effect period of the
drug if it has its own, else of the class; the rules are in
:mod:`bayesdx.case`). A ``medications:`` list is complete: a
class with no listed drug becomes ``none`` (not in lenient mode when a name is
unknown). Names are matched case-insensitively, with aliases (brand names,
spellings) and salt or formulation words dropped if needed.

Examples
--------
>>> from bayesdx.knowledge.load import load_knowledge
>>> kb = load_knowledge()
>>> r = MedicationsReader(kb, lenient=False, source="<case>")
>>> r.resolve_drug("Clozaril 100mg"), r.resolve_drug("Co-trimoxazole"), r.resolve_drug("foo")
('clozapine', 'trimethoprim_sulfamethoxazole', None)
>>> r.read_medications([{"name": "methimazole", "weeks": 5}, "omeprazole"])
>>> r.evidence["exposure_antithyroid"], r.evidence["exposure_antipsychotic"]
('on_window', 'none')

A drug may keep its effect longer after stopping than its class (rituximab:
26 weeks; the immunosuppressant class: 6):

>>> r = MedicationsReader(kb, lenient=False, source="<case>")
>>> r.read_medications([{"name": "rituximab", "stopped_weeks_ago": 14},
...                     {"name": "azathioprine", "stopped_weeks_ago": 14}])
>>> r.evidence["exposure_immunosuppressant"]
'low_window'
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ..knowledge.load import Knowledge
from ..knowledge.schema import DrugClassSpec, NumericField
from .units import Reading, convert
from .common import ReaderBase, describe, field_path, fmt, nearest, suggest, word

__all__ = ["DAYS", "MED_KEYS", "WEEKS", "MedicationsReader", "best_drug_match", "drug_lookup", "match_drug",
           "medication_item"]

#: fields of one medication
MED_KEYS = ("name", "weeks", "stopped_weeks_ago", "days_since_last_dose", "dose")
#: ``weeks`` and ``stopped_weeks_ago``
WEEKS = NumericField(unit="week", also_units=["day", "month", "year"], plausible=(0, 5200))
#: ``days_since_last_dose``
DAYS = NumericField(unit="day", also_units=["week"], plausible=(0, 36500))

# dropped from the end of an unknown drug name (salts, formulations, strengths)
_DRUG_SUFFIXES = {
    "sodium", "potassium", "calcium", "magnesium", "hydrochloride", "hcl", "hydrobromide",
    "fumarate", "besylate", "besilate", "maleate", "mesylate", "mesilate", "succinate",
    "tartrate", "citrate", "sulfate", "sulphate", "phosphate", "acetate", "dihydrate",
    "monohydrate", "mofetil", "decanoate", "palmitate", "enanthate", "xr", "xl", "sr", "er",
    "cr", "la", "ir", "dr", "ec", "tablet", "tablets", "tabs", "oral", "iv", "im", "sc", "po",
    "injection", "infusion", "depot", "mg", "mcg", "ug", "g", "ml", "iu",
}
_STRENGTH = re.compile(r"^\d+(?:\.\d+)?(?:mg|g|mcg|ug|ml|iu|units?)?$")

_LOOKUP: list = [None, None]  # [knowledge, (drugs, aliases)]: the last knowledge seen
_LOOKUP_LOCK = threading.Lock()


def drug_lookup(kb: Knowledge) -> tuple[dict[str, str], dict[str, str]]:
    """Normalised drug names and aliases of ``kb`` (cached for the last knowledge object; thread-safe)."""
    with _LOOKUP_LOCK:
        if _LOOKUP[0] is kb:
            return _LOOKUP[1]
    drugs = {word(k): k for k in kb.drugs.drugs}
    aliases = {word(k): v for k, v in kb.drugs.aliases.items()}
    with _LOOKUP_LOCK:
        _LOOKUP[:] = [kb, (drugs, aliases)]
    return drugs, aliases


def medication_item(item: Any) -> dict | Any:
    """One entry of ``medications:`` as a mapping with ``name``; anything else as given.

    >>> medication_item("clozapine"), medication_item({"clozapine": {"weeks": 9}})
    ({'name': 'clozapine'}, {'name': 'clozapine', 'weeks': 9})
    """
    if isinstance(item, str):
        return {"name": item}
    if isinstance(item, dict) and "name" not in item and len(item) == 1:
        (key, value), = item.items()
        if key not in MED_KEYS and (value is None or isinstance(value, dict)):
            return {"name": key, **(value or {})}
    return item


def match_drug(kb: Knowledge, name: str) -> tuple[str, str] | None:
    """``(the name matched, its generic name)`` for a drug name as written, or None.

    Matched case-insensitively against the generic names and aliases of
    ``model/drugs.yaml``, dropping salt, formulation and strength words from
    the end if needed.

    >>> from bayesdx.knowledge.load import load_knowledge
    >>> match_drug(load_knowledge(), "Clozaril 100mg")
    ('clozaril', 'clozapine')
    """
    drugs, aliases = drug_lookup(kb)
    parts = word(name).split("_")
    while parts:
        w = "_".join(parts)
        if w in drugs:
            return w, drugs[w]
        if w in aliases:
            return w, aliases[w]
        if len(parts) > 1 and (parts[-1] in _DRUG_SUFFIXES or _STRENGTH.match(parts[-1])):
            parts.pop()
            continue
        return None
    return None


def best_drug_match(kb: Knowledge, text: str) -> tuple[str | None, tuple[str, ...]]:
    """The one generic name that best matches what was typed, and the other candidates.

    An exact generic or brand name (brands resolve to their generic) wins;
    then the generics whose own name starts with the text, then those of a
    brand that does (shortest first); then the closest spelling. Used when a
    person types part of a name and presses Enter: one drug, never several.

    >>> from bayesdx.knowledge import load_knowledge
    >>> kb = load_knowledge()
    >>> best_drug_match(kb, "cloza")[0], best_drug_match(kb, "Clozaril")[0], best_drug_match(kb, "clozapine 100 mg")[0]
    ('clozapine', 'clozapine', 'clozapine')
    >>> best_drug_match(kb, "xyzzy")
    (None, ())
    """
    t = word(text or "")
    if not t:
        return None, ()
    hit = match_drug(kb, text)
    exact = hit[1] if hit else None
    drugs, aliases = drug_lookup(kb)
    ranked: list[str] = []
    if exact:
        ranked.append(exact)
    ranked += sorted((g for w, g in drugs.items() if w.startswith(t)), key=lambda g: (len(g), g))
    ranked += [g for w, g in sorted(aliases.items(), key=lambda kv: (len(kv[0]), kv[0])) if w.startswith(t)]
    if not ranked:
        import difflib

        close = difflib.get_close_matches(t, [*drugs, *aliases], n=3, cutoff=0.75)
        ranked = [drugs.get(w) or aliases[w] for w in close]
    ranked = list(dict.fromkeys(g for g in ranked if g in kb.drugs.drugs))
    return (ranked[0], tuple(ranked[1:6])) if ranked else (None, ())


class MedicationsReader(ReaderBase):
    """Reads the ``medications:`` list of a case."""

    drug_starts: tuple = ()  # (cause, weeks since start or None) per listed modelled drug

    def resolve_drug(self, name: str) -> str | None:
        """The generic name in model/drugs.yaml for a name as written, or None."""
        hit = match_drug(self.kb, name)
        return hit[1] if hit else None

    def timing(self, value: float, window: tuple[float, float]) -> str:
        lo, hi = window
        if value < lo:
            return "early"
        return "window" if value <= hi else "late"

    def exposure(self, ipath: str, name: str, cls: DrugClassSpec, tier: str,
                 t: dict[str, float], stopped_effect_weeks: float | None = None) -> str:
        """The exposure state of one drug from its timing fields (in weeks / days).

        ``stopped_effect_weeks`` is the drug's own stopped-effect period
        (``model/drugs.yaml``); ``None`` uses the class's.
        """
        weeks = t.get("weeks")
        stopped = t.get("stopped_weeks_ago")
        days = t.get("days_since_last_dose")
        effect = cls.stopped_effect_weeks if stopped_effect_weeks is None else stopped_effect_weeks
        if weeks is not None and stopped is not None and stopped > weeks:
            self.add(f"{ipath}.stopped_weeks_ago", "must not exceed weeks (since the start of the drug)",
                     f"stopped {fmt(stopped)} weeks ago, started {fmt(weeks)} weeks ago",
                     "checking both values")
        if cls.timing == "days_since_last_dose":
            if days is not None and stopped is not None and convert(days, "day", "week") + 1 < stopped:
                self.add(f"{ipath}.days_since_last_dose",
                         "must not be more recent than the stop (stopped_weeks_ago)",
                         f"last dose {fmt(days)} days ago, stopped {fmt(stopped)} weeks ago",
                         "checking both values", related=(field_path(f"{ipath}.stopped_weeks_ago"),))
            if days is None and stopped is not None:
                days = convert(stopped, "week", "day")
            if days is None:
                if weeks is not None:
                    self.ignore(f"{ipath}.weeks", f"{name}: the clock of this class is days_since_last_dose; "
                                "weeks since start is not used (timing unknown)")
                return f"{tier}_unknown"
            if days > convert(effect, "week", "day"):
                return "stopped"
            return f"{tier}_{self.timing(days, cls.window)}"
        # clock: weeks since start
        if days is not None:
            if convert(days, "day", "week") > effect:
                return "stopped"
            self.ignore(f"{ipath}.days_since_last_dose",
                        f"{name}: within the period its effect outlasts the last dose; treated as current "
                        "(the clock of this class is weeks since start)")
        if stopped is not None:
            if stopped > effect:
                return "stopped"
            if weeks is None:
                return f"{tier}_window"
        if weeks is None:
            return f"{tier}_unknown"
        return f"{tier}_{self.timing(weeks, cls.window)}"

    def read_medications(self, raw: Any):
        if raw is None:
            return  # unknown
        if not isinstance(raw, list):
            self.add("medications", "must be a list of drugs (complete: [] means none)", describe(raw),
                     "medications: [{name: clozapine, weeks: 9}]")
            return
        d = self.kb.drugs
        seen: dict[str, str] = {}
        per_class: dict[str, list[tuple[str, str]]] = {}
        unknown_names = False
        lookup_pool = [*d.drugs, *d.aliases]
        for i, item in enumerate(raw):
            ipath = f"medications[{i}]"
            item = medication_item(item)
            if not isinstance(item, dict):
                self.add(ipath, "must be a drug name or a mapping {name: ..., weeks: ...}", describe(item))
                continue
            for key in item:
                if key not in MED_KEYS:
                    self.unknown_key(("medications", i, str(key)), key, MED_KEYS, "medication field")
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                self.add(f"{ipath}.name", "must be a drug name (generic, e.g. clozapine)", describe(name))
                continue
            canon = self.resolve_drug(name)
            label = word(name)
            if canon is None:
                hint = suggest(label, lookup_pool, "name")
                if self.lenient:
                    unknown_names = True
                    close = nearest(label, lookup_pool)
                    reason = "unknown drug name, not used (lenient mode)"
                    if close:
                        reason += f"; did you mean {', '.join(close)}?"
                    self.ignore(f"medications.{label}", reason)
                else:
                    self.add(f"{ipath}.name", "must be a known drug name", repr(name),
                             f"{hint} (or lenient mode, --lenient, to list unknown drugs under ignored)")
                continue
            if canon in seen:
                self.add(f"{ipath}.name", f"must list each drug once (also {seen[canon]})", repr(name),
                         "merging the two entries")
                continue
            seen[canon] = ipath
            times: dict[str, float] = {}
            for key, spec in (("weeks", WEEKS), ("stopped_weeks_ago", WEEKS),
                              ("days_since_last_dose", DAYS)):
                if item.get(key) is None:
                    continue
                r = self.reading(f"{ipath}.{key}", item[key], spec,
                                 f'{key}: 9 or {key}: "2 months"' if spec is WEEKS
                                 else f'{key}: 11 or {key}: "2 weeks"')
                if isinstance(r, Reading):
                    if r.op is not None:
                        self.add(f"{ipath}.{key}", "must be a number (not a censored value)",
                                 describe(item[key]))
                        continue
                    times[key] = r.value
                    wk = r.value if spec is WEEKS else convert(r.value, "day", "week")
                    self.check_time_vs_age(f"{ipath}.{key}", wk)
            spec = d.drugs[canon]
            shown = canon if canon == label else f"{label} ({canon})"
            dose = item.get("dose")
            if isinstance(dose, bool) or not isinstance(dose, (int, float, str, type(None))):
                self.add(f"{ipath}.dose", "must be a number or text (the dose is not modelled)",
                         describe(dose), 'dose: "100 mg twice daily"')
            elif dose is not None:
                self.ignore(f"medications.{label}.dose", "the dose is not modelled")
            if spec.cls == "none":
                self.ignore(f"medications.{label}", f"{shown}: {spec.note or 'no marrow effect modelled'}")
                continue
            cls = d.classes[spec.cls]
            self.drug_starts = (*self.drug_starts, (cls.cause, times.get("weeks")))
            state = self.exposure(ipath, shown, cls, spec.tier, times, spec.stopped_effect_weeks)
            per_class.setdefault(spec.cls, []).append((state, ipath))
        for cname, cls in d.classes.items():
            entries = per_class.get(cname)
            if entries:
                rank = {s: i for i, s in enumerate(cls.precedence)}
                state, ipath = min(entries, key=lambda e: rank.get(e[0], len(rank)))
                self.set(cls.node, state, ipath if len(entries) == 1 else "medications")
            elif not unknown_names:
                self.set(cls.node, "none", "medications")
        if unknown_names:
            self.ignore("medications", "not taken as complete because it holds unknown names: exposure "
                        "classes without a listed drug are left unknown")
