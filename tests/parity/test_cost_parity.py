"""Spending, completion, TCOC and growth give identical results on DuckDB and Spark (tuva seed fixture)."""

from __future__ import annotations

import datetime as dt

from allpayer.compute.completion import chain_ladder, payer_exposure
from allpayer.compute.growth import growth, national_medicare_series
from allpayer.compute.member_months import any_day_member_months
from allpayer.compute.spending import incurred_spend, service_lines, spend_by_category
from allpayer.compute.tcoc import primary_member_months, tcoc
from allpayer.config.cost import CompletionSettings, CostSettings, Truncation
from tests.conftest import FIXTURES, SETTINGS

KEYS = {
    "spend": ["year", "payer_type", "enrolled", "service_category_1", "service_category_2", "financial_target"],
    "completion": ["payer", "incurred_month"],
    "factors": ["payer", "lag"],
    "tcoc": ["year", "payer_type", "dimension", "group"],
    "growth": ["series", "year"],
}


def test_cost_pipeline_is_identical(parity):
    settings = CostSettings(truncation=Truncation(percentile=0.95))

    def run(ctx):
        ctx.ingest([FIXTURES / "tuva_seed"], settings=SETTINGS)
        enrollment = ctx.table("enrollment")
        lines = service_lines(ctx.table("medical_claim"), ctx.table("pharmacy_claim"))
        months = any_day_member_months(enrollment)
        as_of = dt.date(2018, 10, 31)  # the seed has no paid dates: file dates stand in
        spend = incurred_spend(lines, enrollment, settings.financial_target_services)
        completion, factors = chain_ladder(lines, as_of, CompletionSettings(max_lag=6, fallback_months=1),
                                           exposure=payer_exposure(enrollment))
        mm = primary_member_months(months, settings.primary_payer_hierarchy)
        t = tcoc(spend, mm, settings, completion=completion)
        series = t.filter((t.dimension == "total") & (t.payer_type == "all_payer")).select(
            series="payer_type", year="year", pbpy="tcoc_pbpy")
        return {"spend": spend_by_category(spend), "completion": completion, "factors": factors, "tcoc": t,
                "growth": growth(series, settings.growth, national_medicare_series())}

    result = parity(run, KEYS)
    assert len(result["spend"]) > 5 and len(result["tcoc"]) > 5
