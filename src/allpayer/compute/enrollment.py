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


RUN_COLUMNS = ("first_month", "last_month", "first_days", "last_days", "first_weight", "last_weight")
# The run columns member months are expanded from when the days covered are not needed.
RUN_WEIGHT_COLUMNS = tuple(c for c in RUN_COLUMNS if not c.endswith("_days"))


def spans_to_runs(spans: ir.Table, keys: Sequence[str], convention: str = "any_day", alone: bool = False
                  ) -> ir.Table:
    """Merged spans → *month runs*: ``keys``, ``first_month`` and ``last_month`` (month indexes), the days covered
    and the member month of the first and last month (``first_days``, ``last_days``, ``first_weight``,
    ``last_weight``); every month between is covered in full and weighs 1 under either convention.
    :func:`expand_runs` gives one row per month. Stored as runs, the member months of 630k persons are 1.2M rows,
    not 14.7M, and a month table was mostly the time to write it.

    Merged spans are disjoint, so a month is shared only when a gap between two spans of the same keys falls
    inside it. Such spans are flagged at span level (a few, against tens of millions of months); their months
    are summed by a group-by and each becomes a run of one month. ``alone``: each span is the only one of its
    keys, so none shares a month and none is compared with a neighbour."""
    if convention not in CONVENTIONS:
        raise ValueError(f"member-month convention must be one of {CONVENTIONS}, got {convention!r}")
    keys = list(keys)
    s = spans.mutate(_smi=month_index(spans.start_date), _emi=month_index(spans.end_date))
    if alone:
        return _runs_of_lone_spans(s, keys, convention)
    w = ibis.window(group_by=keys, order_by=[s.start_date])
    shared = (s._smi == s._emi.lag().over(w)).fill_null(False) | (s._emi == s._smi.lead().over(w)).fill_null(False)
    s = s.mutate(_shared=shared)
    split = _covered_months(s.filter(s._shared), keys)
    summed = split.group_by([*keys, "month_index"]).aggregate(days_covered=split.days_covered.sum(),
                                                              _dim=split._dim.max())
    single_months = summed.select(*keys, first_month=summed.month_index, last_month=summed.month_index,
                                  first_days=summed.days_covered, last_days=summed.days_covered,
                                  _first_dim=summed._dim, _last_dim=summed._dim)
    return _runs_of_lone_spans(s.filter(~s._shared), keys, convention, single_months)


def _runs_of_lone_spans(alone: ir.Table, keys: list[str], convention: str, more: ir.Table | None = None
                        ) -> ir.Table:
    """Month runs of spans (with ``_smi`` and ``_emi``, their first and last month indexes) that share no month
    with another span of their keys, and of ``more`` runs (with the days in their months) if given."""
    start_day, end_day = alone.start_date.day().cast("int64"), alone.end_date.day().cast("int64")
    first_days = ibis.ifelse(alone._smi == alone._emi, end_day, days_in_month(alone._smi)) - start_day + 1
    last_days = ibis.ifelse(alone._smi == alone._emi, first_days, end_day)
    runs = alone.select(*keys, first_month=alone._smi, last_month=alone._emi, first_days=first_days,
                        last_days=last_days, _first_dim=days_in_month(alone._smi),
                        _last_dim=days_in_month(alone._emi))
    out = runs if more is None else runs.union(more, distinct=False)
    return out.select(*keys, "first_month", "last_month", "first_days", "last_days",
                      first_weight=_weight(out.first_days, out._first_dim, convention),
                      last_weight=_weight(out.last_days, out._last_dim, convention))


def _weight(days: ir.IntegerValue, dim: ir.IntegerValue, convention: str) -> ir.FloatingValue:
    """A month's member month: 1 if any day is covered (``any_day``), else covered days / days in the month."""
    # Computed, not the literal 1.0: Spark would store that as a decimal.
    return (days > 0).cast("float64") if convention == "any_day" else days.cast("float64") / dim.cast("float64")


def expand_runs(runs: ir.Table) -> ir.Table:
    """One row per month of each month run (:func:`spans_to_runs`): its other columns, ``month_index``, ``year``,
    ``month``, ``member_month`` and, when the runs carry days, ``days_covered``. Expanding 0.7M runs into 14M
    months takes a tenth of a second, against nearly 3 s to write the months."""
    others = [c for c in runs.columns if c not in RUN_COLUMNS]
    r = runs.mutate(month_index=ibis.range(runs.first_month, runs.last_month + 1).unnest())
    m = r.month_index
    edge = {"first": m == r.first_month, "last": m == r.last_month}
    weight = ibis.cases((edge["first"], r.first_weight), (edge["last"], r.last_weight),
                        else_=ibis.literal(1.0)).cast("float64")
    days = {} if "first_days" not in runs.columns else {"days_covered": ibis.cases(
        (edge["first"], r.first_days), (edge["last"], r.last_days), else_=days_in_month(m))}
    return r.select(*others, "month_index", year=m // 12, month=m % 12 + 1, **days, member_month=weight)


def spans_to_months(spans: ir.Table, keys: Sequence[str], convention: str = "any_day") -> ir.Table:
    """Merged spans → one row per ``keys`` × month with ``days_covered`` and ``member_month``."""
    return expand_runs(spans_to_runs(spans, keys, convention))


def _covered_months(spans: ir.Table, keys: list[str]) -> ir.Table:
    """One row per span and covered month: ``keys``, month_index, days_covered and the month's days (``_dim``)."""
    s = spans.mutate(month_index=ibis.range(spans._smi, spans._emi + 1).unnest())
    dim = days_in_month(s.month_index)
    first = ibis.ifelse(s._smi < s.month_index, 1, s.start_date.day().cast("int64"))
    last = ibis.ifelse(s._emi > s.month_index, dim, s.end_date.day().cast("int64"))
    return s.select(*keys, "month_index", days_covered=last - first + 1, _dim=dim)


def several_span_persons(spans: ir.Table) -> ir.Table:
    """(person_id) of the persons with more than one span: only their spans can overlap, meet or share a month
    with another of their own, so only theirs need the windows that merge spans and compare neighbours (a quarter
    of the spans at 630k persons)."""
    counted = spans.group_by("person_id").aggregate(_spans=spans.count())
    return counted.filter(counted._spans > 1).select("person_id")


def lone_and_merged_spans(spans: ir.Table, keys: Sequence[str]) -> tuple[ir.Table, ir.Table]:
    """The spans of persons with one span, as they are (each is its own merged span and meets no other), and the
    :func:`merge_spans` on ``keys`` of the spans of persons with several (:func:`several_span_persons`)."""
    several = several_span_persons(spans)
    return spans.anti_join(several, "person_id"), merge_spans(spans.semi_join(several, "person_id"), keys)


def member_month_runs(enrollment: ir.Table, person: ir.Table | None = None, convention: str = "any_day",
                      keys: Sequence[str] = COVERAGE_KEYS) -> ir.Table:
    """:func:`member_months` as month runs (:func:`spans_to_runs`).

    A person with one span (three in four spans at 630k persons) needs no merging: their span is the union of
    their spans and shares no month. Only the spans of persons with several go through the windows that merge
    them and compare neighbours."""
    spans = coverage_spans(enrollment, person, keys)
    if "person_id" not in keys:
        return spans_to_runs(merge_spans(spans, keys), keys, convention)
    lone, merged = lone_and_merged_spans(spans, keys)
    return spans_to_runs(lone, keys, convention, alone=True).union(spans_to_runs(merged, keys, convention),
                                                                    distinct=False)


def member_months(enrollment: ir.Table, person: ir.Table | None = None, convention: str = "any_day",
                  keys: Sequence[str] = COVERAGE_KEYS) -> ir.Table:
    """Member months per ``keys`` (default person × payer × payer type × plan × group) × month."""
    return expand_runs(member_month_runs(enrollment, person, convention, keys))


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


PRIMARY_COLUMNS = ("person_id", "month_index", "year", "month", "payer_type", "payer", "plan", "group_id",
                   "coverages", "member_month")


def primary_payer_runs(enrollment: ir.Table, person: ir.Table, hierarchy: Sequence[str],
                       convention: str = "any_day", residents: ir.Table | None = None,
                       coverage_runs: ir.Table | None = None, stage: Stage = lazy,
                       overlapping: ir.Table | None = None) -> ir.Table:
    """:func:`primary_payer_months` as month runs (:func:`spans_to_runs`, without days: ``first_weight`` and
    ``last_weight`` are the person's member month of the first and last month).

    ``coverage_runs`` is :func:`member_month_runs` of the same inputs (either convention), and ``overlapping``
    :func:`overlapping_persons`, if already at hand. Only persons with overlapping coverage go through the
    per-month pick, each month a run of its own; everyone else's runs are their coverage's. ``stage`` may store
    those persons once: three parts of the plan read them, and inlined each ordered every enrollment span twice
    again."""
    coverage_runs = coverage_runs if coverage_runs is not None else member_month_runs(enrollment, person, convention)
    multi = overlapping if overlapping is not None else stage("overlapping_persons",
                                                              overlapping_persons(enrollment, person))
    single = coverage_runs.anti_join(multi, "person_id")
    single = single.select("person_id", "payer_type", "payer", "plan", "group_id",
                           coverages=ibis.literal(1).cast("int64"), first_month=single.first_month,
                           last_month=single.last_month, first_weight=single.first_weight,
                           last_weight=single.last_weight)
    primary = primary_payer(expand_runs(coverage_runs.semi_join(multi, "person_id")), hierarchy)
    if convention == "any_day":  # every month with a coverage row counts 1
        several = primary.mutate(member_month=ibis.literal(1.0))
    else:
        person_mm = member_months(enrollment.semi_join(multi, "person_id"), person, convention,
                                  keys=("person_id",)).select("person_id", "month_index", "member_month")
        several = primary.join(person_mm, ["person_id", "month_index"])
    several = several.select("person_id", "payer_type", "payer", "plan", "group_id", "coverages",
                             first_month=several.month_index, last_month=several.month_index,
                             first_weight=several.member_month.cast("float64"),
                             last_weight=several.member_month.cast("float64"))
    out = single.union(several, distinct=False)
    if residents is None:
        return out
    return out.left_join(residents, "person_id").drop("person_id_right").mutate(
        resident=ibis._.resident.fill_null(False))


def expand_primary_runs(runs: ir.Table) -> ir.Table:
    """:func:`primary_payer_runs` as one row per person and month, in :func:`primary_payer_months`'s columns."""
    months = expand_runs(runs)
    return months.select(*PRIMARY_COLUMNS, *[c for c in ("resident", "hsa") if c in months.columns])


def primary_payer_months(enrollment: ir.Table, person: ir.Table, hierarchy: Sequence[str],
                         convention: str = "any_day", residents: ir.Table | None = None,
                         coverage_runs: ir.Table | None = None, stage: Stage = lazy,
                         overlapping: ir.Table | None = None) -> ir.Table:
    """Statewide member months: person × month with the primary payer, the person's ``member_month``
    (union of all coverage that month under ``convention``), ``resident`` and ``hsa`` (the expanded
    :func:`primary_payer_runs`, whose arguments these are)."""
    return expand_primary_runs(primary_payer_runs(enrollment, person, hierarchy, convention, residents,
                                                  coverage_runs, stage, overlapping))
