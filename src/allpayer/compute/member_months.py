"""Member months from enrollment spans."""

from __future__ import annotations

import ibis.expr.types as ir

from allpayer.compute.calendar import months


def any_day_member_months(enrollment: ir.Table) -> ir.Table:
    """One row per person, payer, plan and month with at least one day of coverage (the CMS/Tuva
    convention). Overlapping spans for the same person, payer and plan count once."""
    cal = months()
    joined = enrollment.join(
        cal, (enrollment.enrollment_start_date <= cal.month_end) & (enrollment.enrollment_end_date >= cal.month_start)
    )
    return joined.select(
        "person_id", "payer", "payer_type", "plan", "data_source", "month_index", "year", "month"
    ).distinct()
