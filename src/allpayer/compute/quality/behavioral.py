"""Behavioural-health measures: follow-up after an ED visit for mental illness (HEDIS FUM) or alcohol and
other drug use (HEDIS FUA), initiation and engagement of AOD treatment (HEDIS IET). docs/measures.md."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from allpayer.compute.quality.frame import CLAIM_KEY, ClaimFacts, days_between, flag, frame, hospice, in_ages
from allpayer.compute.quality.utilization import ed_visits_with, stays
from allpayer.config.quality import Measure

FOLLOWUP_DEFAULT_DAYS = 30


def _followup(m: Measure, pop: ir.Table, facts: ClaimFacts, principal_sets: list[str], followup_dx: str
              ) -> ir.Table:
    """Units: ED visits 1 January - 1 December with a principal diagnosis in ``principal_sets``. Numerator: a
    follow-up visit (outpatient, telehealth, behavioural health) with a ``followup_dx`` diagnosis on days
    0-``window_days`` after the visit, on another claim. Excluded: an acute admission within the window."""
    window = m.window_days or FOLLOWUP_DEFAULT_DAYS
    p = in_ages(pop, m.min_age, m.max_age)
    v = ed_visits_with(facts, principal_sets)
    units = p.join(v, (p.person_id == v.person_id) & (v.visit_date.year().cast("int64") == p.year)
                   & (v.visit_date.month() * 100 + v.visit_date.day() <= 1201))
    units = units.select(p.program_id, p.year, p.practice_id, p.person_id, unit_date=units.visit_date)
    visit_keys = facts.tagged("followup_visit").select(*CLAIM_KEY)
    fu = facts.tagged(followup_dx).semi_join(visit_keys, list(CLAIM_KEY))
    ed_keys = facts.tagged("ed_visit").select(*CLAIM_KEY)
    fu = fu.anti_join(ed_keys, list(CLAIM_KEY)).select(_pid="person_id", _d="service_date").distinct()
    gap = days_between(fu._d, units.unit_date)
    followed = units.join(fu, (units.person_id == fu._pid) & (gap >= 0) & (gap <= window))
    s = stays(facts).select(_sp="person_id", _adm="admission_date")
    agap = days_between(s._adm, units.unit_date)
    admitted = units.join(s, (units.person_id == s._sp) & (agap >= 0) & (agap <= window))
    keys = ("program_id", "person_id", "unit_date")
    j = flag(flag(units, followed, "_fu", keys), admitted, "_adm_hit", keys)
    return frame(m.id, j.select("program_id", "year", "practice_id", "person_id", "unit_date",
                                denominator=ibis.literal(1.0), numerator=ibis.ifelse(j._fu, 1.0, 0.0),
                                excluded=j._adm_hit))


def followup_after_ed_mental_illness(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    return _followup(m, pop, facts, ["mental_illness_dx", "self_harm_dx"], "mental_illness_dx")


def followup_after_ed_aod(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    return _followup(m, pop, facts, ["aod_dx"], "aod_dx")


def _treatment(facts: ClaimFacts) -> ir.Table:
    """AOD treatment events (data_source, claim_id, person_id, service_date): a follow-up-type visit or an
    inpatient stay with an AOD diagnosis, or an AOD medication (buprenorphine fill or code, methadone)."""
    aod = facts.tagged("aod_dx").select(*CLAIM_KEY, "person_id", "service_date")
    # each setting filters the few AOD claims: a union of the settings' keys would be millions of claims made distinct
    visits = aod.semi_join(facts.tagged("followup_visit"), list(CLAIM_KEY)).union(
        aod.semi_join(stays(facts), list(CLAIM_KEY)), distinct=True)
    meds = facts.tagged("aod_medication").select(*CLAIM_KEY, "person_id", "service_date")
    return visits.union(meds, distinct=True)


def _episodes(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """One index episode per attributed person and year: the first AOD diagnosis date 1 January - 14 November
    with no AOD diagnosis in the ``history_days`` (60) before it. Columns of ``pop`` + unit_date,
    initiation_date (first treatment 1-``window_days`` (14) days after the index date, or null)."""
    history, window = m.history_days or 60, m.window_days or 14
    days = facts.tagged("aod_dx").select("person_id", "service_date").distinct()
    w = ibis.window(group_by=days.person_id, order_by=days.service_date)
    days = days.mutate(_prev=days.service_date.lag().over(w))
    new = days.filter(days._prev.isnull() | (days_between(days.service_date, days._prev) > history))
    new = new.filter(new.service_date.month() * 100 + new.service_date.day() <= 1114)
    new = new.group_by(["person_id", new.service_date.year().cast("int64").name("year")]).aggregate(
        unit_date=new.service_date.min())
    p = in_ages(pop, m.min_age, m.max_age)
    units = p.join(new, ["person_id", "year"]).select(*p.columns, "unit_date")
    tr = _treatment(facts).select(_tp="person_id", _td="service_date")
    gap = days_between(tr._td, units.unit_date)
    j = units.join(tr, (units.person_id == tr._tp) & (gap >= 1) & (gap <= window))
    first = j.group_by(["program_id", "person_id", "year"]).aggregate(initiation_date=j._td.min())
    return units.left_join(first, ["program_id", "person_id", "year"]).select(*units.columns, "initiation_date")


def aod_initiation(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    e = _episodes(m, pop, facts)
    e = flag(e, hospice(facts), "_hospice")
    return frame(m.id, e.mutate(denominator=ibis.literal(1.0),
                                numerator=ibis.ifelse(e.initiation_date.notnull(), 1.0, 0.0), excluded=e._hospice))


def aod_engagement(m: Measure, pop: ir.Table, facts: ClaimFacts) -> ir.Table:
    """Initiated, and two or more further treatment dates within ``engagement_days`` (34) after initiation."""
    engage = m.engagement_days or 34
    e = _episodes(m, pop, facts)
    tr = _treatment(facts).select(_tp="person_id", _td="service_date").distinct()
    gap = days_between(tr._td, e.initiation_date)
    j = e.join(tr, (e.person_id == tr._tp) & (gap >= 1) & (gap <= engage))
    counts = j.group_by(["program_id", "person_id", "year"]).aggregate(_n=j._td.nunique())
    engaged = counts.filter(counts._n >= 2).select("program_id", "person_id", "year")
    e = flag(e, engaged, "_engaged", ("program_id", "person_id", "year"))
    e = flag(e, hospice(facts), "_hospice")
    return frame(m.id, e.mutate(denominator=ibis.literal(1.0), numerator=ibis.ifelse(e._engaged, 1.0, 0.0),
                                excluded=e._hospice))

