"""Care-management lists (role-restricted: they carry person identifiers and are stored in the workspace,
never printed or logged): open care gaps per practice, and the highest-risk persons for outreach."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from allpayer.compute.quality.frame import ClaimFacts, attach
from allpayer.compute.quality.utilization import ed_visits, stays
from allpayer.config.quality import HighRisk


def care_gaps(frames: ir.Table, registry: ir.Table) -> ir.Table:
    """``care_gap``: program_id, year, practice_id, person_id, measure_id, gap, event_date. A gap is a unit in
    the denominator, not excluded, that misses the numerator (higher-is-better measures) or hits it
    (lower-is-better ones such as HbA1c poor control), for measures with a ``care_gap`` text."""
    r = registry.filter(registry.care_gap.notnull()).select("measure_id", "direction", "care_gap")
    f = frames.join(r, "measure_id")
    open_gap = ibis.ifelse(f.direction == "higher", f.numerator == 0, f.numerator > 0)
    f = f.filter(~f.excluded & (f.denominator > 0) & open_gap)
    return f.select("program_id", "year", "practice_id", "person_id", "measure_id", gap=f.care_gap,
                    event_date=f.unit_date)


def high_risk(pop: ir.Table, facts: ClaimFacts, risk: ir.Table | None, settings: HighRisk) -> ir.Table:
    """``high_risk``: attributed persons with the program-year's top ``top_risk_share`` of risk scores, or at
    least ``min_admissions`` acute admissions or ``min_ed_visits`` ED visits in the year; ranked for outreach
    within program, year and practice (risk, admissions, ED visits)."""
    s = stays(facts)  # one row per claim
    adm = s.group_by(["person_id", s.admission_date.year().cast("int64").name("year")]).aggregate(
        admissions=s.count().cast("int64"))
    v = ed_visits(facts)
    ed = v.group_by(["person_id", v.visit_date.year().cast("int64").name("year")]).aggregate(
        ed_visits=v.visit_date.count().cast("int64"))
    t = attach(attach(pop, adm), ed)
    if risk is not None:
        rs = risk.group_by(["person_id", "year"]).aggregate(risk_score=risk.risk_score.max().cast("float64"))
        t = attach(t, rs)
    else:
        t = t.mutate(risk_score=ibis.null().cast("float64"))
    t = t.select("program_id", "year", "practice_id", "person_id", "risk_score",
                 admissions=t.admissions.fill_null(0), ed_visits=t.ed_visits.fill_null(0))
    by_program = ibis.window(group_by=[t.program_id, t.year], order_by=[ibis.desc(t.risk_score), t.person_id])
    scored = ibis.window(group_by=[t.program_id, t.year])
    t = t.mutate(_rank=ibis.row_number().over(by_program),
                 _n=t.risk_score.count().over(scored))
    top = t.risk_score.notnull() & ((t._rank + 1) <= (t._n * settings.top_risk_share).ceil())
    t = t.mutate(top_risk=top, frequent_admissions=t.admissions >= settings.min_admissions,
                 frequent_ed=t.ed_visits >= settings.min_ed_visits)
    t = t.filter(t.top_risk | t.frequent_admissions | t.frequent_ed)
    w = ibis.window(group_by=[t.program_id, t.year, t.practice_id],
                    order_by=[ibis.desc(t.risk_score.fill_null(-1.0)), ibis.desc(t.admissions),
                              ibis.desc(t.ed_visits), t.person_id])
    return t.select("program_id", "year", "practice_id", "person_id", "risk_score", "admissions", "ed_visits",
                    "top_risk", "frequent_admissions", "frequent_ed",
                    outreach_rank=(ibis.row_number().over(w) + 1).cast("int64"))
