"""Claims completion: incurred-month x payment-lag triangles, chain ladder, IBNR and a PMPM-trend fallback.

Method (docs/cost.md, domain.md §6.6 and §8.12), per segment (payer, optionally service category):

- ``C[i, k]`` = paid for incurred month ``i`` by lag ``k`` (months from the incurred month to the paid month),
  cumulative; lags beyond ``max_lag`` count at ``max_lag`` (the tail is taken as complete).
- Age-to-age ``f_k = sum_i C[i, k+1] / sum_i C[i, k]`` over incurred months with lag ``k + 1`` observed
  (optionally only the latest ``averaging_months`` of them); ``f_k = 1`` where nothing is observed.
- Completion factor ``CF_k = prod_{j >= k} 1 / f_j`` (the share of the ultimate paid by lag ``k``).
- ``ultimate_i = C[i, lag_i] / CF_{lag_i}``, ``IBNR_i = ultimate_i - C[i, lag_i]``.
- The latest ``fallback_months`` incurred months use a PMPM trend instead when exposure is given:
  ``PMPM_ref x (1 + trend) ^ ((i - mid_ref) / 12) x member_months_i`` (never below paid to date), where
  ``PMPM_ref`` is the chain-ladder ultimate per member month over the ``fallback_reference_months`` before them.

Every result carries ``as_of_date``, ``runout_months`` and ``status`` (``final`` once ``max_lag`` months of
run-out are seen, else ``provisional``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.calendar import month_index
from allpayer.compute.enrollment import coverage_spans, lone_and_merged_spans
from allpayer.compute.stage import Stage, lazy
from allpayer.config.cost import CompletionSettings

MONEY = "decimal(18, 2)"
DIGITS = 10  # factors are rounded so every backend reports the same figure


def as_of_index(as_of: dt.date) -> int:
    return as_of.year * 12 + as_of.month - 1


def _lags(max_lag: int) -> ir.Table:
    return ibis.memtable(pa.table({"lag": pa.array(range(max_lag + 1), pa.int64())}))


def triangle(lines: ir.Table, as_of: dt.date, max_lag: int, segments: tuple[str, ...] = ("payer",),
             amount: str = "paid_amount") -> ir.Table:
    """Incremental paid by segment, incurred month and lag, from lines paid on or before ``as_of``."""
    end = as_of_index(as_of)
    paid_date = lines.paid_on if "paid_on" in lines.columns else ibis.coalesce(lines.paid_date, lines.incurred_date)
    seen = lines.filter((paid_date <= ibis.literal(as_of)) & (lines.incurred_month <= end))
    lag = ibis.greatest(ibis.least(seen.paid_month - seen.incurred_month, max_lag), 0)
    seen = seen.mutate(lag=lag.cast("int64"))
    return seen.group_by([*segments, "incurred_month", "lag"]).aggregate(paid=seen[amount].sum().cast(MONEY))


def cumulative(tri: ir.Table, as_of: dt.date, max_lag: int, segments: tuple[str, ...] = ("payer",)) -> ir.Table:
    """Dense cumulative triangle: every observed (segment, incurred month, lag) cell, zero where nothing paid."""
    end = as_of_index(as_of)
    rows = tri.select(*segments, "incurred_month").distinct()
    grid = rows.cross_join(_lags(max_lag))
    grid = grid.filter(grid.incurred_month + grid.lag <= end)
    cells = grid.left_join(tri, [*segments, "incurred_month", "lag"]).select(
        *segments, "incurred_month", "lag", paid=ibis.coalesce(tri.paid, ibis.literal(0).cast(MONEY)))
    win = ibis.window(group_by=[cells[s] for s in segments] + [cells.incurred_month], order_by=cells.lag,
                      rows=(None, 0))
    return cells.mutate(cumulative=cells.paid.sum().over(win).cast(MONEY))


def factors(cum: ir.Table, as_of: dt.date, settings: CompletionSettings,
            segments: tuple[str, ...] = ("payer",)) -> ir.Table:
    """Age-to-age factor, cumulative development factor and completion factor per segment and lag."""
    end = as_of_index(as_of)
    win = ibis.window(group_by=[cum[s] for s in segments] + [cum.incurred_month], order_by=cum.lag)
    pairs = cum.mutate(next_cumulative=cum.cumulative.lead().over(win))
    pairs = pairs.filter(pairs.next_cumulative.notnull() & (pairs.lag < settings.max_lag))
    if settings.averaging_months:
        pairs = pairs.filter(pairs.incurred_month >= end - pairs.lag - settings.averaging_months)
    sums = pairs.group_by([*segments, "lag"]).aggregate(
        num=pairs.next_cumulative.sum().cast("float64"), den=pairs.cumulative.sum().cast("float64"))
    grid = cum.select(*segments).distinct().cross_join(_lags(settings.max_lag))
    grid = grid.left_join(sums, [*segments, "lag"]).select(*segments, "lag", "num", "den")
    ok = (grid.den > 0) & (grid.num > 0)
    f = ibis.ifelse(ok.fill_null(False), grid.num / grid.den, 1.0)
    grid = grid.mutate(age_to_age=ibis.ifelse(grid.lag >= settings.max_lag, 1.0, f))
    tail = ibis.window(group_by=[grid[s] for s in segments], order_by=ibis.desc(grid.lag), rows=(None, 0))
    grid = grid.mutate(_log=grid.age_to_age.ln().sum().over(tail))
    return grid.select(
        *segments, "lag", age_to_age=grid.age_to_age.round(DIGITS),
        cumulative_factor=grid._log.exp().round(DIGITS),
        completion_factor=(-grid._log).exp().round(DIGITS),
    )


def chain_ladder(lines: ir.Table, as_of: dt.date, settings: CompletionSettings,
                 segments: tuple[str, ...] = ("payer",), exposure: ir.Table | None = None,
                 amount: str = "paid_amount", stage: Stage = lazy) -> tuple[ir.Table, ir.Table]:
    """``(completion, factors)``: completion per segment and incurred month, and the factors used.

    ``exposure`` (segments..., month_index, member_months) switches on the PMPM-trend fallback. ``stage`` may
    keep the triangle (a few hundred cells) as ``cost_triangle``: both results read it, and computed twice it
    read every line twice (the factors took 1 s at 630k persons, the completion 2 s).
    """
    tri = stage("cost_triangle", triangle(lines, as_of, settings.max_lag, segments, amount))
    cum = cumulative(tri, as_of, settings.max_lag, segments)
    fac = factors(cum, as_of, settings, segments)
    result = _ultimates(cum, fac, as_of, settings, segments)
    if exposure is not None and settings.fallback_months > 0:
        result = _fallback(result, exposure, as_of, settings, segments)
    return _finish(result, as_of, settings), fac


def _ultimates(cum: ir.Table, fac: ir.Table, as_of: dt.date, settings: CompletionSettings,
               segments: tuple[str, ...]) -> ir.Table:
    end = as_of_index(as_of)
    latest = cum.filter(cum.lag == ibis.least(end - cum.incurred_month, settings.max_lag))
    j = latest.join(fac, [*segments, "lag"])
    cf = j.completion_factor
    ult = ibis.ifelse(cf > 0, (j.cumulative.cast("float64") / cf).round(2), j.cumulative.cast("float64"))
    return j.select(*segments, "incurred_month", "lag", "completion_factor", paid_to_date=j.cumulative,
                    ultimate=ult.cast(MONEY), method=ibis.literal("chain_ladder"))


def _fallback(result: ir.Table, exposure: ir.Table, as_of: dt.date, settings: CompletionSettings,
              segments: tuple[str, ...]) -> ir.Table:
    end = as_of_index(as_of)
    first_recent = end - settings.fallback_months + 1
    ref_lo = first_recent - settings.fallback_reference_months
    exp = exposure.select(*segments, incurred_month=exposure.month_index,
                          member_months=exposure.member_months.cast("float64"))
    r = result.left_join(exp, [*segments, "incurred_month"]).drop([f"{s}_right" for s in segments]
                                                                  + ["incurred_month_right"])
    ref = r.filter((r.incurred_month >= ref_lo) & (r.incurred_month < first_recent))
    ref = ref.group_by(list(segments)).aggregate(
        ref_pmpm=ref.ultimate.sum().cast("float64") / ref.member_months.sum(),
        ref_mid=ref.incurred_month.cast("float64").mean())
    r = r.left_join(ref, list(segments)).drop([f"{s}_right" for s in segments])
    growth = (1.0 + settings.fallback_annual_trend) ** ((r.incurred_month.cast("float64") - r.ref_mid) / 12.0)
    estimate = (r.ref_pmpm * growth * r.member_months).round(2)
    use = (r.incurred_month >= first_recent) & estimate.notnull() & (r.ref_pmpm > 0)
    use = use.fill_null(False)
    trended = ibis.greatest(estimate, r.paid_to_date.cast("float64")).cast(MONEY)
    return r.select(*segments, "incurred_month", "lag", "completion_factor", "paid_to_date",
                    ultimate=ibis.ifelse(use, trended, r.ultimate),
                    method=ibis.ifelse(use, "pmpm_trend", r.method))


def _finish(result: ir.Table, as_of: dt.date, settings: CompletionSettings) -> ir.Table:
    end = as_of_index(as_of)
    runout = end - result.incurred_month
    ratio = ibis.ifelse(result.paid_to_date != 0,
                        result.ultimate.cast("float64") / result.paid_to_date.cast("float64"), 1.0)
    return result.mutate(
        year=(result.incurred_month // 12).cast("int64"), month=(result.incurred_month % 12 + 1).cast("int64"),
        ibnr=(result.ultimate - result.paid_to_date).cast(MONEY),
        completion_ratio=ratio.round(DIGITS),
        as_of_date=ibis.literal(as_of), runout_months=runout.cast("int64"),
        status=ibis.ifelse(runout >= settings.max_lag, "final", "provisional"),
    )


def payer_exposure(enrollment: ir.Table, last_month: int | None = None) -> ir.Table:
    """Member months per payer and month (persons with any day of coverage), the exposure for the PMPM
    fallback, for every month from the first covered one to ``last_month`` (a month index; default the last
    covered one).

    Counted from the edges of each person's merged spans with the payer, not from their months: a span adds one
    from its first month and takes it off after its last, and two spans of a person meeting inside one month count
    it once. Expanded into person-months instead it took 0.9-1.1 s at 630k persons, and an open-ended span (ending
    9999-12-31) would have been expanded for eight thousand years."""
    keys = ("person_id", "payer")
    spans = coverage_spans(enrollment, None, keys)

    def edges(t: ir.Table) -> ir.Table:
        return t.select("person_id", "payer", first=month_index(t.start_date), last=month_index(t.end_date))

    # A person's only span is already merged and meets no other: only persons with several go through the windows.
    lone, merged = lone_and_merged_spans(spans, keys)
    merged = edges(merged)
    previous_last = merged.last.lag().over(ibis.window(group_by=[merged.person_id, merged.payer],
                                                       order_by=[merged.first, merged.last]))
    merged = merged.mutate(_meets=(merged.first == previous_last).fill_null(False))
    meets = merged.filter(merged._meets)
    s = edges(lone).union(merged.drop("_meets"), distinct=False)
    changes = ibis.union(
        s.select("payer", month_index=s.first, change=ibis.literal(1)),
        s.select("payer", month_index=s.last + 1, change=ibis.literal(-1)),
        meets.select("payer", month_index=meets.first, change=ibis.literal(-1)),
        meets.select("payer", month_index=meets.first + 1, change=ibis.literal(1)),
        distinct=False,
    )
    changes = changes.group_by(["payer", "month_index"]).aggregate(change=changes.change.sum())
    bounds = s.group_by("payer").aggregate(_lo=s.first.min(), _hi=s.last.max())
    hi = bounds._hi if last_month is None else ibis.least(bounds._hi, last_month)
    grid = bounds.select(_payer=bounds.payer, _month=ibis.range(bounds._lo, hi + 1).unnest())
    j = grid.join(changes, [grid._payer == changes.payer, changes.month_index <= grid._month])
    return j.group_by(payer=j._payer, month_index=j._month).aggregate(member_months=j.change.sum().cast("int64"))


def paid_through_month(lines: ir.Table) -> ir.IntegerValue:
    return month_index(lines.paid_date.max())
