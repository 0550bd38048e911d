"""Access and prevention measures, one unit per attributed person: primary-care access, child and adolescent
well-care visits, annual wellness visits, depression screening (docs/measures.md)."""

from __future__ import annotations

import ibis.expr.types as ir

from allpayer.compute.quality.frame import ClaimFacts, hospice, in_ages, in_year, person_frame
from allpayer.config.quality import Measure


def primary_care_access(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Attributed persons with a primary-care visit (office, preventive, wellness, TCM) in the year."""
    return person_frame(m.id, in_ages(pop, m.min_age, m.max_age), in_year(facts.tagged("primary_care_visit")),
                        [hospice(facts)])


def well_care_visits(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Persons aged 3-21 (configurable) with a well-care visit (preventive CPT or well-exam diagnosis)."""
    return person_frame(m.id, in_ages(pop, m.min_age, m.max_age), in_year(facts.tagged("well_care")),
                        [hospice(facts)])


def annual_wellness_visit(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Medicare persons with an initial or subsequent annual wellness visit (G0438/G0439) in the year."""
    return person_frame(m.id, in_ages(pop, m.min_age, m.max_age), in_year(facts.tagged("annual_wellness_visit")),
                        [hospice(facts)])


def depression_screening(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Persons 12+ with a primary-care visit in the year, screened (G8431 positive with a follow-up plan, G8510
    negative). Excluded: a depression or bipolar diagnosis before the year, or a documented medical reason
    (G8433) in the year."""
    visits = in_year(facts.tagged("primary_care_visit")).distinct()
    denominator = in_ages(pop, m.min_age, m.max_age).semi_join(visits, ["person_id", "year"])
    dx = facts.tagged("depression_bipolar_dx")
    first_dx = dx.group_by("person_id").aggregate(_first=dx.service_date.min())
    prior = denominator.join(first_dx, "person_id")
    prior = prior.filter(prior._first.year() < prior.year).select("person_id", "year")
    return person_frame(m.id, denominator, in_year(facts.tagged("depression_screen")),
                        [prior, in_year(facts.tagged("depression_screen_exception"))])
