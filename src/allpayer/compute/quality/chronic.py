"""Chronic-disease measures: HbA1c poor control (NQF 0059) and controlling high blood pressure (NQF 0018)
from CPT II result codes, and claims-based prevalence of diabetes, hypertension and COPD (docs/measures.md)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from allpayer.compute.quality.frame import ClaimFacts, hospice, in_ages, in_year, person_frame
from allpayer.config.quality import Measure

# HbA1c result levels (lower is better); the latest test date's best result decides.
HBA1C_LEVELS = {"hba1c_below_7": 1, "hba1c_7_to_8": 2, "hba1c_8_to_9": 3, "hba1c_above_9": 4}
POOR = 4


def _dx_this_or_prior_year(facts: ClaimFacts, value_set: str, persons: ir.Table) -> ir.Table:
    """(person_id, year, service_date): each diagnosis date of ``persons`` (person_id) counted in its year and
    the year after. Kept to the measured persons first: diagnosis dates cover everyone."""
    d = facts.dates(value_set).semi_join(persons, "person_id")
    this = d.select("person_id", "service_date", year=d.service_date.year().cast("int64"))
    return this.union(this.mutate(year=this.year + 1), distinct=True)


def _latest_per_year(readings: ir.Table) -> ir.Table:
    """Rows of the latest ``service_date`` per (person_id, year)."""
    r = readings.mutate(year=readings.service_date.year().cast("int64"))
    w = ibis.window(group_by=[r.person_id, r.year])
    r = r.mutate(_latest=r.service_date.max().over(w))
    return r.filter(r.service_date == r._latest)


def hba1c_poor_control(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Persons 18-75 with a diabetes diagnosis in the year or the year before. Numerator (lower is better): the
    most recent HbA1c result code of the year is > 9% (3046F; several codes that day: the lowest counts), or
    no result code in the year. Excluded: hospice."""
    ages = in_ages(pop, m.min_age, m.max_age)
    dx = _dx_this_or_prior_year(facts, "diabetes_dx", ages).select("person_id", "year").distinct()
    denominator = ages.semi_join(dx, ["person_id", "year"])
    t = facts.tagged_any(list(HBA1C_LEVELS))
    t = t.mutate(level=t.value_set.cases(*HBA1C_LEVELS.items(), else_=POOR))
    last = _latest_per_year(t).group_by(["person_id", "year"]).aggregate(best=lambda x: x.level.min())
    poor = last.filter(last.best == POOR).select("person_id", "year")
    untested = denominator.select("person_id", "year").anti_join(last, ["person_id", "year"])
    return person_frame(m.id, denominator, poor.union(untested, distinct=True), [hospice(facts)])


def controlling_blood_pressure(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Persons 18-85 with hypertension diagnosed on two or more dates in the year and the year before.
    Numerator: on the latest date of the year with both a systolic and a diastolic result code, the lowest
    reading is < 140 (3074F/3075F) and < 90 (3078F/3079F). Excluded: hospice, ESRD (diagnosed by year end)."""
    ages = in_ages(pop, m.min_age, m.max_age)
    dx = _dx_this_or_prior_year(facts, "hypertension_dx", ages)
    twice = dx.group_by(["person_id", "year"]).aggregate(n=dx.service_date.nunique())
    denominator = ages.semi_join(twice.filter(twice.n >= 2), ["person_id", "year"])
    t = facts.tagged_any(["systolic_controlled", "systolic_uncontrolled", "diastolic_controlled",
                          "diastolic_uncontrolled"])
    days = t.group_by(["person_id", "service_date"]).aggregate(
        has_sys=t.value_set.startswith("systolic").any(), has_dia=t.value_set.startswith("diastolic").any(),
        sys_ok=(t.value_set == "systolic_controlled").any(), dia_ok=(t.value_set == "diastolic_controlled").any())
    last = _latest_per_year(days.filter(days.has_sys & days.has_dia))
    controlled = last.filter(last.sys_ok & last.dia_ok).select("person_id", "year")
    # Flagged on the age band, not the denominator: the flags only mark the denominator's units, and a second
    # reading of the denominator counted the diagnosis dates again.
    esrd = facts.dates("esrd_dx")
    esrd = ages.join(esrd, "person_id")
    esrd = esrd.filter(esrd.service_date.year() <= esrd.year).select("person_id", "year")
    return person_frame(m.id, denominator, controlled, [hospice(facts), esrd])


def _prevalence(m: Measure, pop: ir.Table, facts: ClaimFacts, value_set: str) -> ir.Table:
    """Adults (18+) with a diagnosis in ``value_set`` on a claim of the year. No exclusions."""
    return person_frame(m.id, in_ages(pop, m.min_age, m.max_age), in_year(facts.tagged(value_set)), [])


def prevalence_diabetes(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    return _prevalence(m, pop, facts, "diabetes_dx")


def prevalence_hypertension(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    return _prevalence(m, pop, facts, "hypertension_dx")


def prevalence_copd(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    return _prevalence(m, pop, facts, "copd_dx")
