"""Any-day member months per enrollment source, for spending and completion (payer of a claim, exposure)."""

from __future__ import annotations

import ibis.expr.types as ir

from allpayer.compute.enrollment import member_months

SOURCE_KEYS = ("person_id", "payer", "payer_type", "plan", "data_source")


def any_day_member_months(enrollment: ir.Table) -> ir.Table:
    """One row per person, payer, plan, data source and month with at least one day of coverage (the CMS/Tuva
    convention). Overlapping spans for the same keys count once; coverage is not cut at death here."""
    months = member_months(enrollment, None, "any_day", SOURCE_KEYS)
    return months.select(*SOURCE_KEYS, "month_index", "year", "month")
