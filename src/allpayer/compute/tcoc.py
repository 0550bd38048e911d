"""Total cost of care per member month and per beneficiary per year (domain.md §8.2).

Inputs are tables, so either member-month convention can be passed:

- ``spend``: :func:`allpayer.compute.spending.incurred_spend` (person, month, claim payer, category, amounts);
- ``member_months``: (person_id, payer_type, month_index, year, weight), at most one row per person, month and
  payer type; a person-month's spend is shared across its rows in proportion to ``weight`` (one primary payer
  per month gives share 1);
- optional ``completion`` (payer, incurred_month, completion_ratio) from :mod:`allpayer.compute.completion`;
- optional ``attribution`` (person_id, year, aco_id, practice_id[, program]), ``person_hsa`` (person_id, hsa)
  and ``risk`` (person_id, year, risk_score).

PMPM = sum of spend / sum of member-month weights (member-month weighted); PBPY = 12 x PMPM. Truncation caps
each person's annual spend at the nearest-rank percentile among persons of the same year and payer type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from allpayer.compute.calendar import year_of
from allpayer.compute.enrollment import RUN_WEIGHT_COLUMNS, expand_runs
from allpayer.compute.exact import exact_float_sum, exact_sum
from allpayer.compute.stage import Stage, lazy
from allpayer.config.cost import CostSettings

MONEY = "decimal(18, 2)"
AMOUNTS = ("allowed", "paid")
DIMENSIONS = ("total", "aco", "program", "hsa", "practice")


def primary_member_months(enrollment_months: ir.Table, hierarchy: Sequence[str]) -> ir.Table:
    """Interim primary-payer member months from any-day months: the first payer type of ``hierarchy`` covering
    the person in the month, weight 1 (to be replaced by ``compute.enrollment``'s version)."""
    rank = enrollment_months.payer_type.cases(*[(p, i) for i, p in enumerate(hierarchy)], else_=len(hierarchy))
    ranked = enrollment_months.mutate(_rank=rank)
    best = ranked.group_by(["person_id", "month_index"]).aggregate(_best=ranked._rank.min())
    j = ranked.join(best, [ranked.person_id == best.person_id, ranked.month_index == best.month_index,
                           ranked._rank == best._best])
    return j.select("person_id", "payer_type", "month_index", "year").distinct().mutate(weight=ibis.literal(1.0))


def completed_spend(spend: ir.Table, completion: ir.Table | None) -> ir.Table:
    """Financial-target spend with completed amounts (``*_completed``; equal to paid-to-date without completion)."""
    s = spend.filter(spend.financial_target)
    if completion is None:
        return s.mutate(allowed_completed=s.allowed_amount, paid_completed=s.paid_amount)
    c = completion.select(_payer=completion.payer, _month=completion.incurred_month,
                          _ratio=completion.completion_ratio)
    j = s.left_join(c, [s.payer == c._payer, s.month_index == c._month])
    ratio = ibis.coalesce(j._ratio, 1.0)
    j = j.mutate(allowed_completed=scaled(j.allowed_amount, ratio), paid_completed=scaled(j.paid_amount, ratio))
    return j.drop("_payer", "_month", "_ratio")


def scaled(amount: ir.DecimalValue, factor: ir.FloatingValue) -> ir.DecimalValue:
    """``amount`` times ``factor``, rounded to the cent. At factor 1 (a complete month, a person's only member-month
    row: most rows) the amount is kept as it is, with no arithmetic in floating point."""
    return ibis.ifelse(factor == 1.0, amount.cast(MONEY), (amount.cast("float64") * factor).round(2).cast(MONEY))


SPEND_COLUMNS = ("allowed_amount", "paid_amount", "allowed_completed", "paid_completed")
MEASURES = ("allowed", "paid", "allowed_completed", "paid_completed")


def person_months(spend: ir.Table, member_months: ir.Table, completion: ir.Table | None = None) -> ir.Table:
    """One row per member-month row with its share of the person's spend in that month (by weight).

    Member-month rows are unique per person, payer type and month. Spend is summed per person and month before
    the join, so the join is one-to-one and the member-month table is never grouped. Member months with one row
    per person and month, or the own-payer view, take :func:`spend_person_years`'s ranges instead."""
    s = completed_spend(spend, completion)
    keys = ["person_id", "month_index"]
    sums = s.group_by(keys).aggregate(
        **{m: s[c].sum().cast(MONEY) for m, c in zip(MEASURES, SPEND_COLUMNS, strict=True)})
    sums = sums.rename(**{f"_{k}": k for k in keys})
    mm = member_months.select("person_id", "payer_type", "month_index", "year",
                              weight=member_months.weight.cast("float64"))
    # A grouping and a join rather than a window: both spill to disk, a window over every member month ran out of
    # memory at 630k persons.
    totals = mm.group_by(_pid=mm.person_id, _mi=mm.month_index).aggregate(_total=exact_float_sum(mm.weight))
    mm = mm.join(totals, [mm.person_id == totals._pid, mm.month_index == totals._mi])
    mm = mm.select("person_id", "payer_type", "month_index", "year", "weight", share=mm.weight / mm._total)
    j = mm.left_join(sums, [mm[k] == sums[f"_{k}"] for k in keys])
    zero = ibis.literal(0).cast(MONEY)
    amounts = {m: scaled(j[m], j.share) for m in MEASURES}
    return j.select("person_id", "payer_type", "month_index", "year", "weight",
                    **{m: ibis.coalesce(v, zero).cast(MONEY) for m, v in amounts.items()})


def unenrolled_spend(spend: ir.Table, member_months: ir.Table, one_row_per_month: bool = False,
                     ranges: ir.Table | None = None) -> ir.Table:
    """Financial-target spend in person-months with no member month, by year and claim payer type.
    ``one_row_per_month``: the member months are already unique per person and month; ``ranges`` their
    :func:`coverage_ranges`, if at hand (then the spend of persons whose coverage in the year has no gap is
    checked against month ranges, and only the rest against every member month)."""
    s = spend.filter(spend.financial_target)
    if one_row_per_month:
        ranges = ranges if ranges is not None else coverage_ranges(member_months)
        simple = ranges.filter(_stands_for(ranges, own_payer_only=False))
        s = s.mutate(_year=year_of(s.month_index))
        s = s.anti_join(simple, [s.person_id == simple.person_id, s._year == simple.year,
                                 s.month_index.between(simple.first_month, simple.last_month)])
        member_months = _rest_of_years(member_months, ranges)
    keys = member_months.select("person_id", "month_index")
    keys = keys if one_row_per_month else keys.distinct()
    orphan = s.anti_join(keys, ["person_id", "month_index"])
    return orphan.group_by(["year", "payer_type"]).aggregate(
        persons=orphan.person_id.nunique().cast("int64"), allowed=orphan.allowed_amount.sum().cast(MONEY),
        paid=orphan.paid_amount.sum().cast(MONEY), lines=orphan.lines.sum().cast("int64"))


def coverage_ranges(member_months: ir.Table) -> ir.Table:
    """Member months per person, year and payer type as a range: ``member_months`` (sum of weights),
    ``first_month`` and ``last_month`` (month indexes), ``gapless`` (every month between them has a row), and
    ``simple_year`` (every payer type of the person's year is gapless).

    Spend joined to gapless ranges on person and year, month between first and last, is the spend of exactly the
    member months: in a simple year of one-row-per-month member months the ranges cannot overlap. Most person-years
    are simple, so spend meets a few million person-year rows instead of every member month (at 630k persons x 6
    years the month-level join and groupings spilled: 36 s)."""
    mm = member_months
    g = mm.group_by(["person_id", year_of(mm.month_index).name("year"), "payer_type"]).aggregate(
        member_months=exact_float_sum(mm.weight), first_month=mm.month_index.min(),
        last_month=mm.month_index.max(), _months=mm.count())
    return _numbered_ranges(g)


def coverage_ranges_of_runs(runs: ir.Table) -> ir.Table:
    """:func:`coverage_ranges` of the member months that month runs expand to (person_id, payer_type, first_month,
    last_month, first_weight, last_weight: :func:`allpayer.compute.enrollment.spans_to_runs`), without expanding
    them: each run is cut at year ends, and every month of a piece but the run's own first and last weighs 1. The
    runs of one person and payer type never share a month (one row per person and month). At 630k persons x 6
    years, grouping 37.5M months into ranges took 3.3 s."""
    r = runs.mutate(year=ibis.range(year_of(runs.first_month), year_of(runs.last_month) + 1).unnest())
    first = ibis.greatest(r.first_month, r.year * 12)
    last = ibis.least(r.last_month, r.year * 12 + 11)
    months = last - first + 1
    short = ibis.ifelse(first == r.first_month, 1.0 - r.first_weight, 0.0) + \
        ibis.ifelse(last == r.last_month, 1.0 - r.last_weight, 0.0)
    weight = ibis.ifelse(r.first_month == r.last_month, r.first_weight, months.cast("float64") - short)
    p = r.select("person_id", "year", "payer_type", _first=first, _last=last, _months=months, _weight=weight)
    g = p.group_by(["person_id", "year", "payer_type"]).aggregate(
        member_months=exact_float_sum(p._weight), first_month=p._first.min(), last_month=p._last.max(),
        _months=p._months.sum())
    return _numbered_ranges(g)


def months_of_runs(runs: ir.Table) -> ir.Table:
    """Member months (person_id, payer_type, month_index, year, weight) of month runs."""
    months = expand_runs(runs.select("person_id", "payer_type", *RUN_WEIGHT_COLUMNS))
    return months.select("person_id", "payer_type", "month_index", "year", weight=months.member_month)


def _numbered_ranges(g: ir.Table) -> ir.Table:
    """Ranges per person, year and payer type (member_months, first_month, last_month, ``_months``) with
    ``gapless``, ``simple_year`` and ``range_id``."""
    gap = ibis.ifelse(g.last_month - g.first_month + 1 == g._months, 0, 1)
    g = g.mutate(gapless=gap == 0, _gaps=gap.max().over(ibis.window(group_by=[g.person_id, g.year])))
    # A number per range, in a fixed order, so spend is grouped on one integer: on the person, year and payer
    # type the grouping of 27M spend rows took twice as long, and on the person and a number within the person
    # (no window over the whole table, which Spark runs in one task) 1.3-2 s longer at 630k persons x 6 years.
    number = ibis.row_number().over(ibis.window(order_by=[g.person_id, g.year, g.payer_type]))
    return g.select("person_id", "year", "payer_type", "member_months", "first_month", "last_month",
                    "gapless", simple_year=g._gaps == 0, range_id=number)


def _stands_for(ranges: ir.Table, own_payer_only: bool) -> ir.BooleanValue:
    """Whether a range stands for its member months: its year is simple, or with ``own_payer_only`` (joined on the
    payer type too) the range itself is gapless."""
    return ranges.gapless if own_payer_only else ranges.simple_year


def _rest_of_years(table: ir.Table, ranges: ir.Table, own_payer_only: bool = False) -> ir.Table:
    """The rows of ``table`` (member months: ``person_id``, ``month_index`` and ``payer_type``) in the
    years :func:`coverage_ranges` cannot stand for: years with a gap, or with ``own_payer_only`` payer types with
    a gap."""
    keys = ["person_id", "year", "payer_type"] if own_payer_only else ["person_id", "year"]
    rest = ranges.filter(~_stands_for(ranges, own_payer_only)).select(*keys).distinct()
    on = [table.person_id == rest.person_id, year_of(table.month_index) == rest.year]
    return table.semi_join(rest, [*on, table.payer_type == rest.payer_type] if own_payer_only else on)


def spend_person_years(spend: ir.Table, member_months: ir.Table, completion: ir.Table | None = None,
                       own_payer_only: bool = False, one_row_per_month: bool = False,
                       ranges: ir.Table | None = None) -> ir.Table:
    """:func:`person_years` of :func:`person_months`, computed on :func:`coverage_ranges` (``ranges``, if at
    hand) with ``own_payer_only`` (rows unique per person, payer type and month) or ``one_row_per_month``.

    Years the ranges cannot stand for join the spend as one range per member month: such months never overlap
    either, so the spend is read and joined once (a second read for those years, 2% of the spend, took 1 s at
    630k persons)."""
    if not (own_payer_only or one_row_per_month):
        return person_years(person_months(spend, member_months, completion))
    ranges = ranges if ranges is not None else coverage_ranges(member_months)
    years = ranges.filter(_stands_for(ranges, own_payer_only))
    months = _rest_of_years(member_months, ranges, own_payer_only)
    # Numbered below the ranges' numbers (0 and up), so every range and month has its own.
    number = -ibis.row_number().over(ibis.window(order_by=[months.person_id, months.month_index, months.payer_type]))
    months = months.select("person_id", "year", "payer_type", member_months=months.weight.cast("float64"),
                           first_month="month_index", last_month="month_index", range_id=number - 1)
    cols = ["person_id", "year", "payer_type", "member_months", "first_month", "last_month"]
    # Stored on Spark, the ranges' numbers are 32-bit.
    every = years.select(*cols, range_id=years.range_id.cast("int64")).union(
        months.select(*cols, range_id=months.range_id.cast("int64")), distinct=False)
    r = every.select(_pid="person_id", _y="year", _type="payer_type", _first="first_month", _last="last_month",
                     _range="range_id")
    s = completed_spend(spend, completion)
    s = s.mutate(_year=year_of(s.month_index))
    on = [s.person_id == r._pid, s._year == r._y, s.month_index.between(r._first, r._last)]
    j = s.join(r, [*on, s.payer_type == r._type] if own_payer_only else on)
    sums = j.group_by("_range").aggregate(
        **{m: j[c].sum().cast(MONEY) for m, c in zip(MEASURES, SPEND_COLUMNS, strict=True)})
    zero = ibis.literal(0).cast(MONEY)
    summed = every.left_join(sums, every.range_id == sums._range)
    summed = summed.select("person_id", "year", "payer_type", "member_months", "range_id",
                           **{m: ibis.coalesce(summed[m], zero).cast(MONEY) for m in MEASURES})
    fast = summed.filter(summed.range_id >= 0).drop("range_id")
    rest = person_years(summed.filter(summed.range_id < 0).rename(weight="member_months"))
    return fast.union(rest.select(*fast.columns).cast(fast.schema()), distinct=False)


def person_years(pm: ir.Table) -> ir.Table:
    """Member months and spend per person, year and payer type."""
    amounts = [c for c in ("allowed", "paid", "allowed_completed", "paid_completed") if c in pm.columns]
    return pm.group_by(["person_id", "year", "payer_type"]).aggregate(
        member_months=exact_float_sum(pm.weight), **{c: pm[c].sum().cast(MONEY) for c in amounts})


def truncate(py: ir.Table, percentile: float | None) -> ir.Table:
    """Add ``allowed_truncated`` / ``paid_truncated``: completed annual spend capped at the nearest-rank
    ``percentile`` (value at rank ceil(p x n), ascending) among persons of the same year and payer type."""
    if percentile is None:
        return py.mutate(allowed_truncated=py.allowed_completed, paid_truncated=py.paid_completed,
                         allowed_cap=ibis.null("decimal(18, 2)"), paid_cap=ibis.null("decimal(18, 2)"))
    n = py.person_id.count().over(ibis.window(group_by=[py.year, py.payer_type]))
    out = py.mutate(_rank_at=(n.cast("float64") * percentile).ceil().cast("int64"))
    for amt in AMOUNTS:
        col = out[f"{amt}_completed"]
        rn = ibis.row_number().over(ibis.window(group_by=[out.year, out.payer_type],
                                                order_by=[col, out.person_id])) + 1
        out = out.mutate(**{f"_rn_{amt}": rn})
        at = ibis.ifelse(out[f"_rn_{amt}"] == out._rank_at, out[f"{amt}_completed"], ibis.null(MONEY))
        cap = at.max().over(ibis.window(group_by=[out.year, out.payer_type]))
        out = out.mutate(**{f"{amt}_cap": cap})
        out = out.mutate(**{f"{amt}_truncated": ibis.least(out[f"{amt}_completed"], out[f"{amt}_cap"])
                            .cast(MONEY)})
    return out.drop("_rank_at", "_rn_allowed", "_rn_paid")


def _with_dimensions(py: ir.Table, attribution: ir.Table | None, person_hsa: ir.Table | None,
                     risk: ir.Table | None) -> ir.Table:
    out = py
    if attribution is not None:
        a = attribution
        prog = a.program if "program" in a.columns else ibis.null("string")
        a = a.select(_p=a.person_id, _y=a.year, aco_id=a.aco_id, practice_id=a.practice_id, program=prog)
        j = out.left_join(a, [out.person_id == a._p, out.year == a._y])
        out = j.drop("_p", "_y")
    else:
        out = out.mutate(aco_id=ibis.null("string"), practice_id=ibis.null("string"), program=ibis.null("string"))
    if person_hsa is not None:
        h = person_hsa.select(_p=person_hsa.person_id, hsa=person_hsa.hsa)
        out = out.left_join(h, out.person_id == h._p).drop("_p")
    else:
        out = out.mutate(hsa=ibis.null("string"))
    if risk is not None:
        r = risk.select(_p=risk.person_id, _y=risk.year, risk_score=risk.risk_score.cast("float64"))
        out = out.left_join(r, [out.person_id == r._p, out.year == r._y]).drop("_p", "_y")
    else:
        out = out.mutate(risk_score=ibis.null("float64"))
    unknown = ibis.literal("(none)")
    return out.mutate(
        aco=ibis.ifelse(out.aco_id.notnull(), "aco", "not_attributed"),
        program=out.program.fill_null(unknown), hsa=out.hsa.fill_null(unknown),
        practice=out.practice_id.fill_null(unknown), total=ibis.literal("all"),
    )


def _partial_sums(t: ir.Table, dimensions: Sequence[str], amount: str) -> ir.Table:
    """The sums :func:`_summarise` adds up, per year, payer type and every dimension's group at once: one pass
    over the person-years. Every measure is a sum, so each dimension's summary adds these few rows up. A grouping
    per dimension read the person-years (with their all-payer copy) once each: at 630k persons x 6 years, five
    reads of 7.5M rows held in memory as a common table expression, which spilled (``tcoc`` 10.2 s)."""
    return t.group_by(["year", "payer_type", *dict.fromkeys(dimensions)]).aggregate(
        _counted=t._counted.sum(), member_months=exact_sum(t.member_months),
        allowed=t.allowed.sum(), paid=t.paid.sum(), allowed_completed=t.allowed_completed.sum(),
        paid_completed=t.paid_completed.sum(), _headline=t[f"{amount}_truncated"].sum(),
        _risk=exact_sum(t.risk_score * t.member_months),
        _risk_w=exact_sum(ibis.ifelse(t.risk_score.notnull(), t.member_months, 0.0)))


def _summarise(t: ir.Table, dimension: str) -> ir.Table:
    """One dimension's summary from :func:`_partial_sums`."""
    g = t.group_by(["year", "payer_type", t[dimension].name("group")]).aggregate(
        persons=t._counted.sum().cast("int64"), member_months=t.member_months.sum().cast("float64"),
        allowed=t.allowed.sum().cast(MONEY), paid=t.paid.sum().cast(MONEY),
        allowed_completed=t.allowed_completed.sum().cast(MONEY), paid_completed=t.paid_completed.sum().cast(MONEY),
        tcoc=t._headline.sum().cast(MONEY), _risk=t._risk.sum().cast("float64"),
        _risk_w=t._risk_w.sum().cast("float64"))
    pmpm = ibis.ifelse(g.member_months > 0, g.tcoc.cast("float64") / g.member_months, ibis.null("float64"))
    mean_risk = ibis.ifelse(g._risk_w > 0, g._risk / g._risk_w, ibis.null("float64"))
    return g.mutate(
        dimension=ibis.literal(dimension), member_months=g.member_months.round(6),
        allowed_pmpm=(g.allowed.cast("float64") / g.member_months).round(4),
        paid_pmpm=(g.paid.cast("float64") / g.member_months).round(4),
        tcoc_pmpm=pmpm.round(4), tcoc_pbpy=(pmpm * 12).round(4), mean_risk=mean_risk.round(6),
        risk_adjusted_pmpm=(pmpm / mean_risk).round(4),
    ).drop("_risk", "_risk_w")


def tcoc(spend: ir.Table, member_months: ir.Table, settings: CostSettings | None = None,
         completion: ir.Table | None = None, attribution: ir.Table | None = None,
         person_hsa: ir.Table | None = None, risk: ir.Table | None = None,
         dimensions: Sequence[str] = DIMENSIONS, own_payer_only: bool = False) -> ir.Table:
    """TCOC by year, payer type (plus ``all_payer``) and each dimension (long format: ``dimension``, ``group``).

    ``tcoc`` is the headline amount (``settings.amount``, completed, truncated if configured); ``tcoc_pmpm``,
    ``tcoc_pbpy`` and ``risk_adjusted_pmpm`` (PMPM / member-month-weighted mean risk score) derive from it."""
    py = spend_person_years(spend, member_months, completion, own_payer_only)
    return summarise_years(py, settings, attribution, person_hsa, risk, dimensions)


def summarise_years(person_year: ir.Table, settings: CostSettings | None = None,
                    attribution: ir.Table | None = None, person_hsa: ir.Table | None = None,
                    risk: ir.Table | None = None, dimensions: Sequence[str] = DIMENSIONS,
                    stage: Stage = lazy, name: str = "tcoc") -> ir.Table:
    """:func:`tcoc` from :func:`person_years` already at hand (truncation, dimensions, all-payer roll-up).
    ``stage`` may store the truncated person-years with their dimensions (``<name>_person_years``), which would
    otherwise be truncated and joined again, and their sums per group of every dimension
    (``<name>_partial_sums``), which every dimension's summary reads."""
    settings = settings or CostSettings()
    py = truncate(person_year, settings.truncation.percentile)
    py = stage(f"{name}_person_years", _with_dimensions(py, attribution, person_hsa, risk))
    # ``_counted`` marks one row per person, year and payer type, so persons are a sum and not a distinct count
    # (five distinct counts over 7.5M rows took 11 s at 630k persons x 6 years). A person-year has one row per
    # payer type, and its dimensions are the person-year's: in all-payer rows only its first payer type counts.
    allp = py.filter(py.payer_type.isin(settings.all_payer_payer_types))
    first = ibis.row_number().over(ibis.window(group_by=[allp.person_id, allp.year], order_by=allp.payer_type))
    allp = allp.mutate(payer_type=ibis.literal("all_payer"), _counted=ibis.ifelse(first == 0, 1, 0))
    both = py.mutate(_counted=ibis.literal(1)).union(allp.select(*py.columns, "_counted"))
    # Stored: every dimension reads them (Spark would compute them once per dimension).
    partial = stage(f"{name}_partial_sums", _partial_sums(both, dimensions, settings.amount))
    parts = [_summarise(partial, d) for d in dimensions]
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out.select("year", "payer_type", "dimension", "group", *[c for c in out.columns if c not in
                                                                   ("year", "payer_type", "dimension", "group")])


def attribution_by_year(attribution: ir.Table) -> ir.Table:
    """(person_id, year, aco_id, practice_id, program) from ``compute.attribution``'s table: the attributed row
    of the latest period, the first program by id when a person is attributed in several."""
    a = attribution.filter(attribution.attributed)
    w = ibis.window(group_by=[a.person_id, a.year], order_by=[ibis.desc(a.period), a.program_id])
    a = a.mutate(_rn=ibis.row_number().over(w))
    a = a.filter(a._rn == 0)
    return a.select("person_id", "year", "aco_id", "practice_id", program=a.program_id)


def run_tcoc(medical_claim: ir.Table, pharmacy_claim: ir.Table | None, enrollment: ir.Table, person: ir.Table,
             member_months: ir.Table | None, settings: CostSettings, as_of: dt.date,
             attribution: ir.Table | None = None, person_hsa: ir.Table | None = None,
             with_risk: bool = True, materialize: Stage | None = None,
             one_row_per_month: bool = False, medical_superseded: ir.Table | None = None,
             pharmacy_superseded: ir.Table | None = None, month_runs: ir.Table | None = None
             ) -> dict[str, ir.Table]:
    """Spending, completion, risk, TCOC (all payers and Medicare own-payer) and unenrolled spend as of a
    paid-through date. ``member_months``: (person_id, payer_type, month_index, year, weight);
    ``one_row_per_month`` when they have one row per person and month (see :func:`person_months`).
    ``month_runs`` instead of ``member_months`` (one of the two, with one row per person and month): the month runs
    the months expand from. The coverage ranges are computed from them, and only persons with a year the ranges
    cannot stand for have their months expanded (:func:`coverage_ranges_of_runs`). Expanded inside the joins that
    read them, DuckDB estimates the months at a twentieth of their rows and may join in the wrong order.
    ``medical_claim`` and ``pharmacy_claim`` are final-action lines, or the lines as loaded with the versions final
    action drops (``*_superseded``, intake's lists; worked out from the lines when None).

    ``materialize(name, expr)`` may compute shared intermediates once (e.g. ``Warehouse.materialize``)."""
    if (member_months is None) == (month_runs is None):
        raise ValueError("give run_tcoc member months or the month runs they expand from, one of the two")
    keep = materialize or lazy
    from allpayer.compute.completion import as_of_index, chain_ladder, payer_exposure
    from allpayer.compute.final_action import final_action
    from allpayer.compute.risk import claim_diagnoses, hcc_person_years, risk_scores
    from allpayer.compute.risk_hcc import mapped_diagnoses
    from allpayer.compute.spending import claim_spend, completion_lines, spend_by_category, spend_columns

    stored_spend = keep("cost_spend", claim_spend(medical_claim, pharmacy_claim, enrollment, ibis.literal(as_of),
                                                  medical_superseded, pharmacy_superseded, keep))
    # The completion triangle reads the claims on its own.
    medical = final_action(medical_claim, medical_superseded)
    fills = None if pharmacy_claim is None else final_action(pharmacy_claim, pharmacy_superseded)
    spend = spend_columns(stored_spend, settings.financial_target_services)
    target = completion_lines(medical, fills, settings.financial_target_services, settings.completion.by_category)
    segments = ("payer", "service_category_1") if settings.completion.by_category else ("payer",)
    exposure = payer_exposure(enrollment, as_of_index(as_of))
    completion, factors = chain_ladder(target, as_of, settings.completion, segments, exposure, stage=keep)
    completion = keep("cost_completion", completion)
    ratios = completion.select("payer", "incurred_month", "completion_ratio") if not settings.completion.by_category \
        else None
    by_category = spend_by_category(stored_spend, settings.financial_target_services)
    out = {"cost_spend": stored_spend, "cost_spend_by_category": by_category,
           "cost_completion": completion, "cost_completion_factor": factors}
    # Read by every summary of both TCOC tables.
    attribution = keep("cost_attribution", attribution) if attribution is not None else None
    person_hsa = keep("cost_person_hsa", person_hsa) if person_hsa is not None else None
    risk = None
    # Read by both person-year tables, the unenrolled spend and risk scoring.
    if member_months is not None:
        ranges = keep("cost_coverage_ranges", coverage_ranges(member_months))
    elif not one_row_per_month:
        raise ValueError("month runs stand for member months of one row per person and month")
    else:
        ranges = keep("cost_coverage_ranges", coverage_ranges_of_runs(month_runs))
        # Every other reader of the months goes through _rest_of_years: the months of these persons suffice.
        rest = ranges.filter(~ranges.simple_year).select("person_id").distinct()
        member_months = months_of_runs(month_runs.semi_join(rest, "person_id"))
    out["tcoc_unenrolled"] = unenrolled_spend(spend, member_months, one_row_per_month, ranges)
    years = keep("cost_person_years", spend_person_years(spend, member_months, ratios,
                                                         one_row_per_month=one_row_per_month, ranges=ranges))
    if with_risk:
        py = years.mutate(tcoc=years[f"{settings.amount}_completed"])
        # Stored once (each model version reads them), and only for the person-years CMS-HCC scores.
        # The ranges hold every (person, year, payer type) of the member months: 1.2M rows, not 13.8M at 630k.
        scored = hcc_person_years(ranges, settings.risk.hcc_payer_types)
        dx = keep("risk_diagnoses", claim_diagnoses(medical_claim, settings.risk.diagnosis_year_offset, scored,
                                                    medical_superseded, mapped_diagnoses()))
        risk = keep("risk_score", risk_scores(py, person, enrollment, ranges, dx, settings.risk, keep))
        out["risk_score"] = risk
    out["tcoc"] = summarise_years(years, settings, attribution, person_hsa, risk, stage=keep)
    medicare_mm = member_months.filter(member_months.payer_type.isin(settings.medicare_payer_types))
    # Own-payer spend of Medicare rows is Medicare claims only: the other payers' spend is left out before the
    # grouping instead of being grouped and then not joined.
    medicare_spend = spend.filter(spend.payer_type.isin(settings.medicare_payer_types))
    medicare_ranges = ranges.filter(ranges.payer_type.isin(settings.medicare_payer_types))
    medicare_years = spend_person_years(medicare_spend, medicare_mm, ratios, own_payer_only=True,
                                        ranges=medicare_ranges)
    out["tcoc_medicare"] = summarise_years(medicare_years, settings, attribution, person_hsa, risk,
                                           dimensions=["total", "aco"], stage=keep, name="tcoc_medicare")
    return {k: v.mutate(as_of_date=ibis.literal(as_of)) if k.startswith("tcoc") else v for k, v in out.items()}
