"""Member months on Tuva's 1,000-person eligibility: Tuva's published figure is 31,184."""

from __future__ import annotations

from allpayer.compute.member_months import any_day_member_months
from tests.conftest import FIXTURES, SETTINGS


def test_tuva_full_member_months(make_context):
    ctx = make_context()
    ctx.ingest([FIXTURES / "tuva_full"], settings=SETTINGS)
    months = any_day_member_months(ctx.table("enrollment"))
    counts = months.group_by("year").aggregate(n=months.count()).to_pyarrow().to_pylist()
    by_year = {r["year"]: r["n"] for r in counts}
    assert by_year == {2016: 10_892, 2017: 11_445, 2018: 8_847}
    assert sum(by_year.values()) == 31_184
