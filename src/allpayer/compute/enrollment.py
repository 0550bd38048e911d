"""Member months, primary payer per month and residency, from enrollment spans (domain.md §1.2, §8.1).

- Coverage ends at death: a span's end is ``least(enrollment_end_date, death_date)``; spans starting after
  death are dropped.
- Overlapping or adjacent spans of the same coverage (several data sources, members or files) are merged
  first (gaps and islands), so member months never double count and splitting a span in two never changes
  any total.
- ``any_day``: a month with at least one covered day counts 1 (CMS/Tuva). ``partial``: covered days / days
  in the month.
- Primary payer: one coverage per person and month, the first payer type in the hierarchy; ties between
  coverages of the same type go to the most covered days, then payer, plan and group in alphabetical order.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.calendar import month_index
from allpayer.compute.stage import Stage, lazy

COVERAGE_KEYS = ("person_id", "payer", "payer_type", "plan", "group_id")
CONVENTIONS = ("any_day", "partial")


def coverage_spans(enrollment: ir.Table, person: ir.Table | None = None,
                   keys: Sequence[str] = COVERAGE_KEYS) -> ir.Table:
    """Enrollment spans cut at death: ``keys`` + ``start_date``, ``end_date``."""
    cols = {k: enrollment[k].cast("string") if k == "group_id" else enrollment[k] for k in keys}
    spans = enrollment.select(**cols, start_date=enrollment.enrollment_start_date,
                              end_date=enrollment.enrollment_end_date)
    if person is None:
        return spans
    deaths = person.select(_pid="person_id", _death="death_date")
    joined = spans.left_join(deaths, spans.person_id == deaths._pid)
    end = ibis.ifelse(joined._death.notnull() & (joined._death < joined.end_date), joined._death, joined.end_date)
    cut = joined.select(*keys, start_date=joined.start_date, end_date=end)
    return cut.filter(cut.start_date <= cut.end_date)


def merge_spans(spans: ir.Table, keys: Sequence[str]) -> ir.Table:
    """Union of overlapping or adjacent spans per ``keys``: gaps and islands over the running maximum end."""
    keys = list(keys)
    order = [spans.start_date, spans.end_date]
    running = ibis.window(group_by=keys, order_by=order, rows=(None, 0))
    t = spans.mutate(_s=spans.start_date.epoch_days(), _reach=spans.end_date.epoch_days().max().over(running))
    t = t.mutate(_prev=t._reach.lag().over(ibis.window(group_by=keys, order_by=[t.start_date, t.end_date])))
    t = t.mutate(_new=ibis.ifelse(t._prev.isnull() | (t._s > t._prev + 1), 1, 0))
    t = t.mutate(_island=t._new.sum().over(ibis.window(group_by=keys, order_by=[t.start_date, t.end_date],
                                                       rows=(None, 0))))
    return t.group_by([*keys, "_island"]).aggregate(start_date=t.start_date.min(), end_date=t.end_date.max()) \
        .drop("_island")


def days_in_month(month_idx: ir.IntegerValue) -> ir.IntegerValue:
    """Days in the month of a month index, by arithmetic (Gregorian leap years), so no calendar join."""
    year, month = month_idx // 12, month_idx % 12 + 1
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return ibis.cases((month == 2, ibis.ifelse(leap, 29, 28)), (month.isin([4, 6, 9, 11]), 30),
                      else_=31).cast("int64")


def spans_to_months(spans: ir.Table, keys: Sequence[str], convention: str = "any_day") -> ir.Table:
    """Merged spans → one row per ``keys`` × month with ``days_covered`` and ``member_month``.

    Merged spans are disjoint, so a month can have two rows only when a gap between two spans of the same keys
    falls inside it. Such spans are flagged at span level (a few, against tens of millions of months) and only
    their months are summed by a group-by; every other month row is final as expanded. The two kinds of span are
    expanded apart: months expanded once and read by both branches were a common table expression, which DuckDB
    stores in full (14.7M rows at 630k persons)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"member-month convention must be one of {CONVENTIONS}, got {convention!r}")
    keys = list(keys)
    s = spans.mutate(_smi=month_index(spans.start_date), _emi=month_index(spans.end_date))
    w = ibis.window(group_by=keys, order_by=[s.start_date])
    shared = (s._smi == s._emi.lag().over(w)).fill_null(False) | (s._emi == s._smi.lead().over(w)).fill_null(False)
    s = s.mutate(_shared=shared)
    alone = _covered_months(s.filter(~s._shared), keys)
    split = _covered_months(s.filter(s._shared), keys)
    summed = split.group_by([*keys, "month_index"]).aggregate(days_covered=split.days_covered.sum(),
                                                              _dim=split._dim.max())
    out = alone.union(summed.select(*alone.columns), distinct=False)
    value = (ibis.literal(1.0) if convention == "any_day"
             else out.days_covered.cast("float64") / out._dim.cast("float64"))
    return out.select(*keys, "month_index", year=out.month_index // 12, month=out.month_index % 12 + 1,
                      days_covered=out.days_covered, member_month=value)


def _covered_months(spans: ir.Table, keys: list[str]) -> ir.Table:
    """One row per span and covered month: ``keys``, month_index, days_covered and the month's days (``_dim``)."""
    s = spans.mutate(month_index=ibis.range(spans._smi, spans._emi + 1).unnest())
    dim = days_in_month(s.month_index)
    first = ibis.ifelse(s._smi < s.month_index, 1, s.start_date.day().cast("int64"))
    last = ibis.ifelse(s._emi > s.month_index, dim, s.end_date.day().cast("int64"))
    return s.select(*keys, "month_index", days_covered=last - first + 1, _dim=dim)


def member_months(enrollment: ir.Table, person: ir.Table | None = None, convention: str = "any_day",
                  keys: Sequence[str] = COVERAGE_KEYS) -> ir.Table:
    """Member months per ``keys`` (default person × payer × payer type × plan × group) × month."""
    spans = coverage_spans(enrollment, person, keys)
    return spans_to_months(merge_spans(spans, keys), keys, convention)


def _hierarchy_rank(payer_type: ir.StringValue, hierarchy: Sequence[str]) -> ir.IntegerValue:
    return payer_type.cases(*[(p, i) for i, p in enumerate(hierarchy)], else_=len(hierarchy))


DIM_KEYS = ("payer", "payer_type", "plan", "group_id")
_ORDER = 1_000_000  # coverage order numbers stay below this


def coverage_dimension(coverage: ir.Table, hierarchy: Sequence[str]) -> ir.Table:
    """The distinct coverages (payer, payer type, plan, group) numbered by hierarchy rank, payer, plan, group."""
    dim = coverage.select(*DIM_KEYS).distinct()
    dim = dim.mutate(_rank=_hierarchy_rank(dim.payer_type, hierarchy))
    w = ibis.window(order_by=[dim._rank, dim.payer, dim.plan, dim.group_id.fill_null(""), dim.payer_type])
    return dim.mutate(cov_order=ibis.row_number().over(w))


def primary_payer(coverage_months: ir.Table, hierarchy: Sequence[str]) -> ir.Table:
    """One row per person and month: the primary coverage (``payer_type``, ``payer``, ``plan``,
    ``group_id``) and ``coverages``, the number of coverages that month.

    The pick is the minimum of one integer key (hierarchy rank, fewest uncovered days, coverage order), a plain
    group-by that aggregates and spills like any other on tens of millions of rows."""
    dim = coverage_dimension(coverage_months, hierarchy)
    cm = coverage_months
    t = cm.join(dim, [cm.payer == dim.payer, cm.payer_type == dim.payer_type, cm.plan == dim.plan,
                      cm.group_id.fill_null("") == dim.group_id.fill_null("")])
    key = (t._rank.cast("int64") * 100 + (31 - t.days_covered.cast("int64"))) * _ORDER + t.cov_order
    picked = t.group_by(["person_id", "month_index"]).aggregate(_key=key.min(), coverages=t.count())
    picked = picked.mutate(cov_order=picked._key % _ORDER)
    out = picked.join(dim, "cov_order")
    return out.select("person_id", "month_index", year=out.month_index // 12, month=out.month_index % 12 + 1,
                      payer_type=out.payer_type, payer=out.payer, plan=out.plan, group_id=out.group_id,
                      coverages=out.coverages)


def zip_hsa_table(crosswalk: pa.Table) -> ir.Table:
    return ibis.memtable(crosswalk)


def residency(person: ir.Table, states: Sequence[str], zip_hsa: ir.Table | None = None) -> ir.Table:
    """Per person: ``resident`` (state in ``states``, case-insensitive) and ``hsa`` from the ZIP crosswalk.
    Residence is a person attribute here (the contract has one address per person), applied to every month."""
    wanted = [s.strip().lower() for s in states]
    st = person.state.strip().lower()
    p = person.select("person_id", resident=st.notnull() & st.isin(wanted),
                      zip5=person.zip_code.strip().substr(0, 5))
    if zip_hsa is None:
        return p.mutate(hsa=ibis.null("string")).drop("zip5")
    j = p.left_join(zip_hsa, p.zip5 == zip_hsa.zip5)
    return j.select("person_id", resident=j.resident.fill_null(False),
                    hsa=ibis.ifelse(j.resident.fill_null(False), j.hsa.fill_null("unknown"), ibis.null("string")))


def overlapping_persons(enrollment: ir.Table, person: ir.Table | None = None) -> ir.Table:
    """Persons with two enrollment spans touching the same month (``person_id``), found at span level.
    Everyone else has one coverage in each covered month, so that coverage is their primary payer."""
    s = coverage_spans(enrollment, person)
    s = s.mutate(_smi=month_index(s.start_date), _emi=month_index(s.end_date))
    order = [s._smi, s._emi]
    s = s.mutate(_reach=s._emi.max().over(ibis.window(group_by="person_id", order_by=order, rows=(None, 0))))
    s = s.mutate(_prev=s._reach.lag().over(ibis.window(group_by="person_id", order_by=order)))
    return s.filter(s._smi <= s._prev).select("person_id").distinct()


def primary_payer_months(enrollment: ir.Table, person: ir.Table, hierarchy: Sequence[str],
                         convention: str = "any_day", residents: ir.Table | None = None,
                         coverage: ir.Table | None = None, stage: Stage = lazy,
                         overlapping: ir.Table | None = None) -> ir.Table:
    """Statewide member months: person × month with the primary payer, the person's ``member_month``
    (union of all coverage that month under ``convention``), ``resident`` and ``hsa``.

    ``coverage`` is :func:`member_months` of the same inputs (either convention), and ``overlapping``
    :func:`overlapping_persons`, if already at hand. Only persons with overlapping coverage go through the
    per-month pick; the rest take their one coverage. ``stage`` may store those persons once: three parts of the
    plan read them, and inlined each ordered every enrollment span twice again."""
    coverage = coverage if coverage is not None else member_months(enrollment, person, convention)
    multi = overlapping if overlapping is not None else stage("overlapping_persons",
                                                              overlapping_persons(enrollment, person))
    single = coverage.anti_join(multi, "person_id")
    mm_single = (ibis.literal(1.0) if convention == "any_day"
                 else single.days_covered.cast("float64") / days_in_month(single.month_index).cast("float64"))
    single = single.select("person_id", "month_index", "year", "month", "payer_type", "payer", "plan", "group_id",
                           coverages=ibis.literal(1).cast("int64"), member_month=mm_single)
    primary = primary_payer(coverage.semi_join(multi, "person_id"), hierarchy)
    if convention == "any_day":  # every month with a coverage row counts 1
        several = primary.mutate(member_month=ibis.literal(1.0))
    else:
        person_mm = member_months(enrollment.semi_join(multi, "person_id"), person, convention,
                                  keys=("person_id",)).select("person_id", "month_index", "member_month")
        several = primary.join(person_mm, ["person_id", "month_index"])
    out = single.union(several.select(*single.columns), distinct=False)
    if residents is None:
        return out
    return out.left_join(residents, "person_id").drop("person_id_right").mutate(
        resident=ibis._.resident.fill_null(False))
