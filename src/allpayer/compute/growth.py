"""Growth of TCOC per beneficiary against the all-payer target and cap, and Medicare against national growth.

Formulas (domain.md §1.2, §1.3, §8.2, §8.3; docs/cost.md), ``B`` the baseline year, ``E`` the final year:

- year-over-year ``g(y) = PBPY(y) / PBPY(y - 1) - 1``;
- compound annual growth ``CAGR(y) = (PBPY(y) / PBPY(B)) ^ (1 / (y - B)) - 1``;
- status: ``on_target`` if CAGR <= target, ``watch`` if <= cap, else ``corrective_action_trigger``;
- growth the remaining years may average for the whole term to stay within the target (or cap):
  ``r(y) = ((1 + target) ^ (E - B) x PBPY(B) / PBPY(y)) ^ (1 / (E - y)) - 1`` for ``y < E``;
- Medicare: ``gap_pp(y) = 100 x (CAGR_US(y) - CAGR_VT(y))`` with ``CAGR_US`` from the projected national
  per-capita index; ``met`` if gap >= target gap, ``watch`` if >= trigger gap, else ``trigger``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.config.cost import GrowthSettings

REFDATA = Path(__file__).resolve().parent.parent / "refdata"
DIGITS = 8


def national_medicare_series(path: Path | None = None) -> ir.Table:
    """The projected national Medicare per-capita index (``refdata/national_medicare_growth.csv``)."""
    rows = list(csv.DictReader((path or REFDATA / "national_medicare_growth.csv").read_text().splitlines()))
    return ibis.memtable(pa.table({"year": pa.array([int(r["year"]) for r in rows], pa.int64()),
                                   "per_capita_index": pa.array([float(r["per_capita_index"]) for r in rows])}))


def _cagr(value: ir.FloatingValue, base: ir.FloatingValue, years: ir.IntegerValue) -> ir.FloatingValue:
    ok = (years > 0) & (base > 0)
    return ibis.ifelse(ok, (value / base) ** (1.0 / years.cast("float64")) - 1.0, ibis.null("float64"))


def growth(series: ir.Table, settings: GrowthSettings | None = None, national: ir.Table | None = None) -> ir.Table:
    """Growth per series and year. ``series`` has (series, year, pbpy); series ``medicare`` is compared with
    ``national`` (year, per_capita_index) when given."""
    s = settings or GrowthSettings()
    t = series.select("series", "year", pbpy=series.pbpy.cast("float64"))
    base = t.filter(t.year == s.baseline_year).select(_series=t.series, base_pbpy=t.pbpy)
    t = t.left_join(base, t.series == base._series).drop("_series")
    prev = t.pbpy.lag().over(ibis.window(group_by=t.series, order_by=t.year))
    prev_year = t.year.lag().over(ibis.window(group_by=t.series, order_by=t.year))
    t = t.mutate(_prev=prev, _prev_year=prev_year)
    years = t.year - s.baseline_year
    cagr = _cagr(t.pbpy, t.base_pbpy, years)
    left = s.final_year - t.year
    term = s.final_year - s.baseline_year

    def remaining(rate: float) -> ir.FloatingValue:
        ok = (left > 0) & (t.pbpy > 0) & t.base_pbpy.notnull()
        value = ((1 + rate) ** term * t.base_pbpy / t.pbpy) ** (1.0 / left.cast("float64")) - 1.0
        return ibis.ifelse(ok, value, ibis.null("float64"))

    status = ibis.cases(
        (years == 0, "baseline"), (years < 0, "before_baseline"), (cagr.isnull(), "unknown"),
        (cagr <= s.target, "on_target"), (cagr <= s.cap, "watch"), else_="corrective_action_trigger")
    yoy = ibis.ifelse((t._prev_year == t.year - 1) & (t._prev > 0), t.pbpy / t._prev - 1.0, ibis.null("float64"))
    out = t.mutate(yoy_growth=yoy.round(DIGITS), cagr=cagr.round(DIGITS), status=status,
                   target=ibis.literal(s.target), cap=ibis.literal(s.cap),
                   remaining_growth_within_target=remaining(s.target).round(DIGITS),
                   remaining_growth_within_cap=remaining(s.cap).round(DIGITS)).drop("_prev", "_prev_year")
    return _versus_national(out, national, s)


def _versus_national(out: ir.Table, national: ir.Table | None, s: GrowthSettings) -> ir.Table:
    if national is None:
        return out.mutate(national_cagr=ibis.null("float64"), gap_pp=ibis.null("float64"),
                          medicare_status=ibis.null("string"))
    n = national.select(_y=national.year, _idx=national.per_capita_index.cast("float64"))
    nb = n.filter(n._y == s.baseline_year).select(_base_idx=n._idx)
    n = n.cross_join(nb)
    j = out.left_join(n, out.year == n._y)
    us = _cagr(j._idx, j._base_idx, j.year - s.baseline_year)
    is_medicare = j.series == "medicare"
    gap = ibis.ifelse(is_medicare, 100.0 * (us - j.cagr), ibis.null("float64"))
    status = ibis.cases((gap.isnull(), ibis.null("string")), (gap >= s.medicare_target_gap_pp, "met"),
                        (gap >= s.medicare_trigger_gap_pp, "watch"), else_="trigger")
    return j.mutate(national_cagr=ibis.ifelse(is_medicare, us, ibis.null("float64")).round(DIGITS),
                    gap_pp=gap.round(6), medicare_status=status).drop("_y", "_idx", "_base_idx")


def series_from_tcoc(all_payer: ir.Table, medicare: ir.Table | None = None) -> ir.Table:
    """(series, year, pbpy) from :func:`allpayer.compute.tcoc.tcoc` results: the ``all_payer`` total row, and the
    ``medicare`` total row of a Medicare (own-payer) run."""
    a = all_payer.filter((all_payer.dimension == "total") & (all_payer.payer_type == "all_payer"))
    out = a.select(series=ibis.literal("all_payer"), year=a.year, pbpy=a.tcoc_pbpy)
    if medicare is not None:
        m = medicare.filter((medicare.dimension == "total") & (medicare.payer_type == "medicare"))
        out = out.union(m.select(series=ibis.literal("medicare"), year=m.year, pbpy=m.tcoc_pbpy))
    return out
