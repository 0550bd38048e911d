"""Spending, completion, risk, TCOC and growth give identical results on DuckDB and Spark (tuva seed fixture)."""

from __future__ import annotations

import datetime as dt

from allpayer.compute.growth import growth, national_medicare_series
from allpayer.compute.member_months import any_day_member_months
from allpayer.compute.tcoc import primary_member_months, run_tcoc
from allpayer.config.cost import CompletionSettings, CostSettings, Truncation
from tests.conftest import FIXTURES, SETTINGS

KEYS = {
    "spend": ["year", "payer_type", "enrolled", "service_category_1", "service_category_2", "financial_target"],
    "completion": ["payer", "incurred_month"],
    "factors": ["payer", "lag"],
    "tcoc": ["year", "payer_type", "dimension", "group"],
    "growth": ["series", "year"],
    "risk": ["person_id", "year"],
}


def test_cost_pipeline_is_identical(parity):
    """The production path (:func:`run_tcoc`, intermediates stored as the warehouse does) on both engines."""
    settings = CostSettings(truncation=Truncation(percentile=0.95),
                            completion=CompletionSettings(max_lag=6, fallback_months=1))

    def run(ctx):
        ctx.ingest([FIXTURES / "tuva_seed"], settings=SETTINGS)
        enrollment = ctx.table("enrollment")
        mm = primary_member_months(any_day_member_months(enrollment), settings.primary_payer_hierarchy)
        as_of = dt.date(2018, 10, 31)  # the seed has no paid dates: file dates stand in
        out = run_tcoc(ctx.table("medical_claim"), ctx.table("pharmacy_claim"), enrollment, ctx.table("person"),
                       ctx.warehouse.materialize("parity_member_months", mm), settings, as_of,
                       materialize=ctx.warehouse.materialize)
        t = ctx.warehouse.materialize("parity_tcoc", out["tcoc"])
        series = t.filter((t.dimension == "total") & (t.payer_type == "all_payer")).select(
            series="payer_type", year="year", pbpy="tcoc_pbpy")
        return {"spend": out["cost_spend_by_category"], "completion": out["cost_completion"],
                "factors": out["cost_completion_factor"], "tcoc": t, "risk": out["risk_score"],
                "growth": growth(series, settings.growth, national_medicare_series())}

    result = parity(run, KEYS)
    assert len(result["spend"]) > 5 and len(result["tcoc"]) > 5 and result["risk"]
