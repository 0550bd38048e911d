"""Scale targets (domain.md §2, §8.5): the share of eligible Vermont residents attributed to an ACO through
a scale-target program, as of the measurement month of each performance year.

- Denominator: residents whose primary payer in the measurement month is in the year's scale-eligible payer
  types (all-payer or Medicare scope) and whose primary plan is not excluded (e.g. limited-benefit Medicaid).
- Numerator: persons of the denominator with an attributed month, in that measurement month, in a program
  with ``scale_target: true`` (Medicare scope: programs whose ``payer_scope`` is medicare).
- Status: ``met`` when the share reaches the year's target, ``missed`` otherwise, ``no target`` without one,
  ``no data`` when the year has no eligible resident (no enrollment for it).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.attribution_setup import glob_any, union_all
from allpayer.config.models import Pack

SCOPES = ("all_payer", "medicare")


def _scope_rows(pack: Pack, years: Iterable[int]) -> list[dict]:
    rows = []
    for year in years:
        py = pack.year(year)
        for scope in SCOPES:
            target = getattr(py.scale_targets, scope) if py.scale_targets else None
            programs = [p.program_id for p in pack.programs_in(year)
                        if p.scale_target and (scope == "all_payer" or p.payer_scope == "medicare")]
            rows.append({"year": year, "scope": scope, "month_index": year * 12 + py.measurement_month - 1,
                         "target": target, "programs": programs})
    return rows


def denominator(pack: Pack, primary: ir.Table, years: Iterable[int]) -> ir.Table:
    """``year``, ``scope``, ``person_id``, ``payer_type``, ``hsa``: scale-eligible residents."""
    parts = []
    for row in _scope_rows(pack, years):
        den = pack.year(row["year"]).scale_denominator
        types = den.all_payer_payer_types if row["scope"] == "all_payer" else den.medicare_payer_types
        keep = (primary.month_index == row["month_index"]) & primary.resident & primary.payer_type.isin(types)
        if den.exclude_plans:
            keep = keep & ~glob_any(primary.plan, den.exclude_plans)
        parts.append(primary.filter(keep).select(
            "person_id", "payer_type", hsa=primary.hsa.fill_null("unknown"),
            year=ibis.literal(row["year"], "int64"), scope=ibis.literal(row["scope"])))
    return union_all(parts)


def numerator(pack: Pack, months: ir.Table, years: Iterable[int]) -> ir.Table:
    """``year``, ``scope``, ``program_id``, ``person_id``: persons attributed in the measurement month."""
    parts = []
    for row in _scope_rows(pack, years):
        if not row["programs"]:
            continue
        m = months.filter((months.month_index == row["month_index"]) & months.program_id.isin(row["programs"]))
        parts.append(m.select("program_id", "person_id", year=ibis.literal(row["year"], "int64"),
                              scope=ibis.literal(row["scope"])).distinct())
    if not parts:
        return ibis.memtable(pa.table({"program_id": pa.array([], pa.string()), "person_id": pa.array([], pa.string()),
                                       "year": pa.array([], pa.int64()), "scope": pa.array([], pa.string())}))
    return union_all(parts)


def _targets(pack: Pack, years: Iterable[int]) -> ir.Table:
    rows = [{"year": r["year"], "scope": r["scope"], "target": r["target"]} for r in _scope_rows(pack, years)]
    return ibis.memtable(pa.Table.from_pylist(rows, schema=pa.schema(
        [("year", pa.int64()), ("scope", pa.string()), ("target", pa.float64())])))


def scale(pack: Pack, months: ir.Table, primary: ir.Table, years: Iterable[int]) -> dict[str, ir.Table]:
    """``scale_target`` (year × scope) and ``scale_breakdown`` (year × scope × dimension × value).

    ``months`` is the attributed person-months table; ``primary`` the statewide primary-payer months with
    ``resident`` and ``hsa``."""
    years = sorted(set(years))
    den = denominator(pack, primary, years)
    num = numerator(pack, months, years).semi_join(den, ["year", "scope", "person_id"])
    flagged = den.left_join(num.select("year", "scope", "person_id").distinct(), ["year", "scope", "person_id"])
    flagged = flagged.select("year", "scope", "person_id", "payer_type", "hsa",
                             attributed=flagged.person_id_right.notnull())
    totals = flagged.group_by(["year", "scope"]).aggregate(
        numerator=flagged.attributed.cast("int64").sum(), denominator=flagged.count())
    summary = _targets(pack, years).left_join(totals, ["year", "scope"])
    n, dd = summary.numerator.fill_null(0), summary.denominator.fill_null(0)
    pct = ibis.ifelse(dd > 0, n.cast("float64") / dd.cast("float64"), ibis.null("float64"))
    # A year with no eligible resident (no enrollment data for it yet) has no share to judge, not a missed one.
    status = ibis.cases((dd == 0, "no data"), (summary.target.isnull(), "no target"), (pct >= summary.target, "met"),
                        else_="missed")
    summary = summary.select("year", "scope", numerator=n, denominator=dd, pct=pct.round(6),
                             target=summary.target, status=status)
    return {"scale_target": summary, "scale_breakdown": _breakdown(pack, flagged, num, den, years)}


def _breakdown(pack: Pack, flagged: ir.Table, num: ir.Table, den: ir.Table, years: list[int]) -> ir.Table:
    parts = []
    for dim in ("payer_type", "hsa"):
        g = flagged.group_by(["year", "scope", flagged[dim].name("value")]).aggregate(
            numerator=flagged.attributed.cast("int64").sum(), denominator=flagged.count())
        parts.append(g.mutate(dimension=ibis.literal(dim)))
    scopes = ibis.memtable(pa.table({"program_id": list(pack.programs),
                                     "payer_scope": [p.payer_scope for p in pack.programs.values()]}))
    by_prog = num.group_by(["year", "scope", "program_id"]).aggregate(numerator=num.person_id.nunique())
    den_types = den.group_by(["year", "scope", "payer_type"]).aggregate(denominator=den.count())
    j = by_prog.join(scopes, "program_id")
    j = j.left_join(den_types, [j.year == den_types.year, j.scope == den_types.scope,
                                j.payer_scope == den_types.payer_type])
    parts.append(j.select("year", "scope", value=j.program_id, numerator=j.numerator,
                          denominator=j.denominator.fill_null(0), dimension=ibis.literal("program")))
    out = union_all([p.select("year", "scope", "dimension", "value", numerator=p.numerator.cast("int64"),
                              denominator=p.denominator.cast("int64")) for p in parts])
    return out.mutate(pct=ibis.ifelse(out.denominator > 0, out.numerator.cast("float64")
                                      / out.denominator.cast("float64"), ibis.null("float64")).round(6))


def participation(provider: ir.Table, pack: Pack, years: Iterable[int]) -> ir.Table:
    """Providers in each ACO network on the last day of the measurement month: clinicians (individual NPIs),
    practices and TINs."""
    parts = []
    for year in sorted(set(years)):
        m = pack.year(year).measurement_month
        day = ibis.literal(dt.date(year, m, calendar.monthrange(year, m)[1]))
        p = provider.filter(provider.aco_id.notnull() & (provider.aco_id != "")
                            & (provider.aco_start_date.isnull() | (provider.aco_start_date <= day))
                            & (provider.aco_end_date.isnull() | (provider.aco_end_date >= day)))
        parts.append(p.group_by("aco_id").aggregate(
            clinicians=p.npi.nunique(where=p.entity_type == "individual"), practices=p.practice_id.nunique(),
            tins=p.tin.nunique()).mutate(year=ibis.literal(year, "int64")))
    return union_all(parts).select("year", "aco_id", "clinicians", "practices", "tins")
