"""Utilization measures: ED visits per 1,000 member-years and 30-day all-cause readmissions, with the ED-visit
and inpatient-stay building blocks the behavioural-health measures and the high-risk list reuse."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from allpayer.compute.quality.frame import CLAIM_KEY, ClaimFacts, days_between, flag, frame, in_ages
from allpayer.config.quality import Measure

DIED, TRANSFERRED = "20", "02"


def ed_visits(facts: ClaimFacts) -> ir.Table:
    """One row per ED visit: a distinct (person_id, visit_date) with an ED claim (revenue 045x/0981, ED E/M or
    place of service 23); ``admitted`` when an acute inpatient stay begins that day or the next."""
    visits = facts.dates("ed_visit").rename(visit_date="service_date")
    adm = stays(facts).select(_pid="person_id", _adm="admission_date")
    gap = days_between(adm._adm, visits.visit_date)
    # An inner join, then a flag: an outer join whose condition compares both sides in one expression is a nested
    # loop join in DuckDB (107 s at 630k persons)
    admitted = visits.join(adm, (visits.person_id == adm._pid) & (gap >= 0) & (gap <= 1))
    return flag(visits, admitted.select("person_id", "visit_date"), "admitted", ("person_id", "visit_date"))


def ed_visits_with(facts: ClaimFacts, principal_value_sets: list[str]) -> ir.Table:
    """ED visits (person_id, visit_date) with an ED claim whose principal diagnosis is in one of the sets."""
    ed = facts.tagged("ed_visit").select(*CLAIM_KEY)
    dx = facts.tagged_any(principal_value_sets, principal=True)
    hit = dx.semi_join(ed, list(CLAIM_KEY))
    return hit.select("person_id", visit_date=hit.service_date).distinct()


def stays(facts: ClaimFacts) -> ir.Table:
    """Acute inpatient stays (type of bill 11x): data_source, claim_id, person_id, admission_date, discharge_date,
    discharge_disposition_code, principal_dx."""
    c = facts.claims  # exactly the claims tagged STAY_VALUE_SET
    return c.select(*CLAIM_KEY, "person_id", "admission_date", "discharge_date", "discharge_disposition_code",
                    "principal_dx")


def ed_visit_rate(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Units: each attributed person (denominator = attributed months / 12, numerator 0) and each of their ED
    visits in the year (denominator 0, numerator 1). Excluded: visits that end in an inpatient admission."""
    p = in_ages(pop, m.min_age, m.max_age)
    persons = p.mutate(unit_date=ibis.null().cast("date"), denominator=p.months / 12.0, numerator=ibis.literal(0.0),
                       excluded=ibis.literal(False))
    v = ed_visits(facts)
    j = p.join(v, (p.person_id == v.person_id) & (v.visit_date.year().cast("int64") == p.year))
    visits = j.select(p.program_id, p.year, p.practice_id, p.person_id, unit_date=j.visit_date,
                      denominator=ibis.literal(0.0), numerator=ibis.literal(1.0), excluded=j.admitted)
    cols = ["program_id", "year", "practice_id", "person_id", "unit_date", "denominator", "numerator", "excluded"]
    return frame(m.id, persons.select(*cols).union(visits.select(*cols), distinct=False))


def readmission_30(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Units: acute stays of attributed persons (18+) discharged 1 January - 1 December (so the window fits in
    the year). Numerator: another acute admission 1-30 days after discharge (``window_days``). Excluded:
    discharged dead, transferred to another hospital, or a pregnancy/perinatal principal diagnosis."""
    window = m.window_days or 30
    p = in_ages(pop, m.min_age, m.max_age)
    s = stays(facts)
    index = p.join(s, (p.person_id == s.person_id) & (s.discharge_date.year().cast("int64") == p.year)
                   & (s.discharge_date.month() * 100 + s.discharge_date.day() <= 1201))
    index = index.select(p.program_id, p.year, p.practice_id, p.person_id, s.data_source, s.claim_id,
                         s.discharge_date, s.discharge_disposition_code, s.principal_dx)
    later = s.select(_pid="person_id", _source="data_source", _claim="claim_id", _adm="admission_date")
    gap = days_between(later._adm, index.discharge_date)
    other_claim = (index.data_source != later._source) | (index.claim_id != later._claim)
    hit = index.join(later, (index.person_id == later._pid) & other_claim & (gap >= 1) & (gap <= window))
    perinatal = facts.tagged("pregnancy_perinatal_dx", principal=True)
    j = flag(flag(index, hit, "_readmit", ("program_id", *CLAIM_KEY)), perinatal, "_perinatal", CLAIM_KEY)
    excluded = j.discharge_disposition_code.isin([DIED, TRANSFERRED]).fill_null(False) | j._perinatal
    return frame(m.id, j.select("program_id", "year", "practice_id", "person_id", unit_date=j.discharge_date,
                                denominator=ibis.literal(1.0),
                                numerator=ibis.ifelse(j._readmit, 1.0, 0.0), excluded=excluded))
