"""The common frame of every claims-based measure: the measured population, tagged claims, and the
``measure frame`` each measure returns.

A measure frame has one row per *unit* (a person, or an event such as an ED visit or a discharge):

``measure_id, program_id, year, practice_id, person_id, unit_date, denominator, numerator, excluded``

``denominator`` is the unit's weight (1 for a person or an event; member-years for ED visits per 1,000),
``numerator`` its count towards the numerator; ``excluded`` units are counted as exclusions and left out of
both. ``rate = sum(numerator) / sum(denominator) x unit scale`` over units that are not excluded.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.final_action import final_action, superseded_versions
from allpayer.compute.risk import DIAGNOSIS_POSITIONS, age_on
from allpayer.compute.stage import Stage

FRAME_COLUMNS = {"measure_id": "string", "program_id": "string", "year": "int64", "practice_id": "string",
                 "person_id": "string", "unit_date": "date", "denominator": "float64", "numerator": "float64",
                 "excluded": "boolean"}


def population(attribution_month: ir.Table, person: ir.Table) -> ir.Table:
    """One row per program, year and attributed person: ``practice_id`` of the latest attributed month,
    ``months`` attributed, ``age`` on 31 December, ``sex``."""
    am = attribution_month
    keys = ["program_id", "year", "person_id"]
    w = ibis.window(group_by=[am[k] for k in keys], order_by=[ibis.desc(am.month_index)])
    ranked = am.mutate(_rn=ibis.row_number().over(w))
    # Spark has no distinct window aggregates: count the months in a grouped aggregate
    months = am.group_by(keys).aggregate(_months=am.month_index.nunique())
    latest = attach(ranked.filter(ranked._rn == 0), months, tuple(keys))
    p = person.select(_pid=person.person_id, birth_date=person.birth_date, sex=person.sex)
    j = latest.join(p, latest.person_id == p._pid)
    return j.select("program_id", year=j.year.cast("int64"), person_id=j.person_id, practice_id=j.practice_id,
                    months=j._months.cast("int64"), age=age_on(j.birth_date, j.year.cast("int64"), 12, 31),
                    sex=j.sex)


def _claim_key(t: ir.Table) -> ir.StringValue:
    return t.data_source.concat(":", t.claim_id)


def _bill_type(code: ir.StringValue) -> ir.StringValue:
    """UB-04 type of bill without the leading zero ('0111' -> '111')."""
    return ibis.ifelse((code.length() == 4) & code.startswith("0"), code.substr(1), code)


@dataclass(frozen=True)
class ClaimFacts:
    """``claims``: one row per final-action medical claim (``claim_key``, person, dates, principal diagnosis,
    discharge status); ``tags``: (claim_key, person_id, service_date, value_set, principal) for every value
    set a claim or pharmacy fill matches (``principal``: matched by diagnosis position 1)."""

    claims: ir.Table
    tags: ir.Table

    def tagged(self, value_set: str, principal: bool = False) -> ir.Table:
        t = self.tags.filter(self.tags.value_set == value_set)
        return t.filter(t.principal) if principal else t

    def dates(self, value_set: str) -> ir.Table:
        """Distinct (person_id, service_date) with a claim in the value set."""
        return self.tagged(value_set).select("person_id", "service_date").distinct()


def claim_headers(fa: ir.Table) -> ir.Table:
    keyed = fa.mutate(claim_key=_claim_key(fa))
    return keyed.group_by("claim_key").aggregate(
        person_id=keyed.person_id.max(), claim_type=keyed.claim_type.max(),
        service_date=keyed.claim_start_date.min(),
        admission_date=ibis.coalesce(keyed.admission_date, keyed.claim_start_date).min(),
        discharge_date=ibis.coalesce(keyed.discharge_date, keyed.claim_end_date, keyed.claim_start_date).max(),
        discharge_disposition_code=keyed.discharge_disposition_code.max(),
        bill_type=_bill_type(keyed.bill_type_code).max(),
        principal_dx=keyed.diagnosis_code_1.max(),
    )


def claim_codes(fa: ir.Table, pharmacy: ir.Table | None) -> ir.Table:
    """Long (claim_key, person_id, service_date, system, code, principal) over lines, diagnoses and fills.

    One unpivot of the coded columns (not a union per column) keeps the plan small enough for Spark."""
    keyed = fa.mutate(claim_key=_claim_key(fa), service_date=fa.claim_start_date)
    base = ["claim_key", "person_id", "service_date"]
    dx_cols = [f"diagnosis_code_{i}" for i in range(1, DIAGNOSIS_POSITIONS + 1) if f"diagnosis_code_{i}" in fa.columns]
    wide = keyed.select(*base, hcpcs=keyed.hcpcs_code.upper(), revenue=keyed.revenue_center_code.lpad(4, "0"),
                        pos=keyed.place_of_service_code, bill_type=_bill_type(keyed.bill_type_code),
                        **{c: keyed[c].replace(".", "").upper() for c in dx_cols})
    long = wide.pivot_longer(list(wide.columns[len(base):]), names_to="field", values_to="code")
    out = long.select(*base, system=ibis.ifelse(long.field.startswith("diagnosis_code_"), "icd10cm", long.field),
                      code=long.code, principal=long.field == "diagnosis_code_1")
    if pharmacy is not None:
        rx = final_action(pharmacy)
        out = out.union(rx.select(claim_key=ibis.literal("rx:").concat(_claim_key(rx)), person_id=rx.person_id,
                                  service_date=rx.dispensing_date, system=ibis.literal("ndc"), code=rx.ndc_code,
                                  principal=ibis.literal(False)), distinct=False)
    return out.filter(out.code.notnull() & (out.code != "")).distinct()


def tag(codes: ir.Table, value_sets: pa.Table) -> ir.Table:
    """Match long codes to value sets: exact codes by equality, prefixes by the first ``prefix_length``
    characters (one join per distinct prefix length, a handful); only rows in force in the service year."""
    lengths = sorted(set(value_sets["prefix_length"].to_pylist()) - {0})
    vs = ibis.memtable(value_sets)
    year = codes.service_date.year().cast("int64")

    def joined(v: ir.Table, key: ir.StringValue) -> ir.Table:
        j = codes.join(v, (key == v.code) & (codes.system == v.system)
                       & (year >= v.first_year) & (year <= v.last_year))
        return j.select("claim_key", "person_id", "service_date", "value_set", "principal")

    out = joined(vs.filter(vs.match == "exact"), codes.code)
    for n in lengths:
        out = out.union(joined(vs.filter((vs.match == "prefix") & (vs.prefix_length == n)), codes.code.substr(0, n)),
                        distinct=False)
    # a claim matching a value set by a principal and a secondary diagnosis keeps both rows (principal flag)
    return out.distinct()


def claim_facts(medical_claim: ir.Table, pharmacy_claim: ir.Table | None, value_sets: pa.Table,
                stage: Stage | None = None) -> ClaimFacts:
    keep = stage or (lambda _name, expr: expr)
    # Lines intake's list already made final (they carry family_id) are read as they are: storing a copy of every
    # claim column cost 57 s at 630k persons. Other lines have their superseded versions worked out once.
    superseded = None if "family_id" in medical_claim.columns else keep(
        "q_superseded", superseded_versions(medical_claim))
    fa = final_action(medical_claim, superseded)
    return ClaimFacts(claims=keep("q_claims", claim_headers(fa)),
                      tags=keep("q_tags", tag(claim_codes(fa, pharmacy_claim), value_sets)))


def frame(measure_id: str, units: ir.Table) -> ir.Table:
    """Conform a measure's units (program_id, year, practice_id, person_id, unit_date, denominator,
    numerator, excluded) to :data:`FRAME_COLUMNS`."""
    cols = {c: units[c] for c in FRAME_COLUMNS if c != "measure_id"}
    cols["excluded"] = cols["excluded"].fill_null(False)
    cols["numerator"] = cols["numerator"].fill_null(0)
    out = units.select(measure_id=ibis.literal(measure_id), **cols)
    return out.select(**{c: out[c].cast(t) for c, t in FRAME_COLUMNS.items()})


def in_ages(pop: ir.Table, min_age: int | None, max_age: int | None) -> ir.Table:
    keep = ibis.literal(True)
    if min_age is not None:
        keep &= pop.age >= min_age
    if max_age is not None:
        keep &= pop.age <= max_age
    return pop.filter(keep)


def attach(t: ir.Table, other: ir.Table, keys: tuple[str, ...] = ("person_id", "year")) -> ir.Table:
    """Left join on equal ``keys``, keeping one copy of each key column."""
    j = t.left_join(other, list(keys))
    return j.drop(*[f"{k}_right" for k in keys if f"{k}_right" in j.columns])


def flag(pop: ir.Table, hits: ir.Table, name: str, keys: tuple[str, ...] = ("person_id", "year")) -> ir.Table:
    """``pop`` with a boolean column ``name``: whether (person_id, year) appears in ``hits``."""
    j = attach(pop, hits.select(*keys).distinct().mutate(**{name: ibis.literal(True)}), keys)
    return j.mutate(**{name: j[name].fill_null(False)})


def in_year(t: ir.Table, date_col: str = "service_date") -> ir.Table:
    """(person_id, year) pairs of dated rows."""
    return t.select("person_id", year=t[date_col].year().cast("int64"))


def days_between(later: ir.DateValue, earlier: ir.DateValue) -> ir.IntegerValue:
    return (later.epoch_days() - earlier.epoch_days()).cast("int64")


def person_frame(measure_id: str, pop: ir.Table, numerator: ir.Table, exclusions: list[ir.Table]) -> ir.Table:
    """A person-level measure: every person of ``pop`` is a unit; ``numerator`` and each of ``exclusions`` are
    (person_id, year) hits."""
    t = flag(pop, numerator, "_num")
    excluded = ibis.literal(False)
    for i, hits in enumerate(exclusions):
        t = flag(t, hits, f"_ex{i}")
        excluded |= t[f"_ex{i}"]
    return frame(measure_id, t.mutate(unit_date=ibis.null().cast("date"), denominator=ibis.literal(1.0),
                                      numerator=ibis.ifelse(t._num, 1.0, 0.0), excluded=excluded))


def hospice(facts: ClaimFacts) -> ir.Table:
    """(person_id, year) with hospice care in the year: the common exclusion of person-level measures."""
    return in_year(facts.tagged("hospice"))
