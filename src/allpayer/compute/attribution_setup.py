"""Attribution set-up: the periods each program is attributed over, its reference code lists as small
tables, and program matching on enrollment. Built from the model pack (Python over configuration, never
over data rows); the engine in :mod:`allpayer.compute.attribution` joins them set-based.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.config.models import Pack, Program, ProgramMatch
from allpayer.refdata import attribution as ref

PERIOD_SCHEMA = pa.schema([
    ("program_id", pa.string()), ("aco_id", pa.string()), ("year", pa.int64()), ("period", pa.int64()),
    ("timing", pa.string()), ("asof_month", pa.int64()), ("asof_date", pa.date32()),
    ("month_first", pa.int64()), ("month_last", pa.int64()),
    ("window_first", pa.int64()), ("window_last", pa.int64()),
    ("specialist_step", pa.bool_()), ("voluntary", pa.bool_()), ("expanded", pa.bool_()),
])


def _date(month_index: int, last_day: bool = False) -> dt.date:
    year, month = divmod(month_index, 12)
    if not last_day:
        return dt.date(year, month + 1, 1)
    nxt = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def month_start(month_index: int) -> dt.date:
    return _date(month_index)


def month_end(month_index: int) -> dt.date:
    return _date(month_index, last_day=True)


def program_periods(program: Program, year: int) -> list[dict]:
    """Attribution runs of one program-year.

    - prospective: one run as of January; window = ``lookback_months`` ending ``window_offset_months`` before
      January; the list holds all year (members drop out month by month on loss of eligibility);
    - quarterly: prospective runs as of January, April, July and October, each holding for its quarter;
    - retrospective: one run as of December 31 on the window ending with December (less the offset).
    """
    a = program.attribution
    first = year * 12
    if a.timing == "retrospective":
        last = first + 11
        runs = [(0, last, _date(last, last_day=True), first, last, last - a.window_offset_months)]
    else:
        quarters = range(4) if a.timing == "quarterly" else range(1)
        span = 3 if a.timing == "quarterly" else 12
        runs = [(q, first + 3 * q, _date(first + 3 * q), first + 3 * q, first + 3 * q + span - 1,
                 first + 3 * q - 1 - a.window_offset_months) for q in quarters]
    expanded = a.expanded.enabled and year >= (a.expanded.first_year or 0)
    return [dict(program_id=program.program_id, aco_id=program.aco_id, year=year, period=q, timing=a.timing,
                 asof_month=asof, asof_date=asof_date, month_first=m0, month_last=m1,
                 window_first=wend - a.lookback_months + 1, window_last=wend,
                 specialist_step=a.specialist_step, voluntary=a.voluntary_alignment, expanded=expanded)
            for q, asof, asof_date, m0, m1, wend in runs]


def select_programs(pack: Pack, years: Iterable[int] | None, program_ids: Iterable[str] | None,
                    method: str | None = None) -> list[tuple[Program, int]]:
    wanted = set(program_ids) if program_ids else None
    if wanted:
        for pid in wanted:
            pack.program(pid)  # raises a clear error for an unknown program
    ys = set(years) if years else None
    return [(p, y) for p in pack.programs.values() for y in p.years
            if (wanted is None or p.program_id in wanted) and (ys is None or y in ys)
            and (method is None or p.attribution.method == method)]


def periods_table(runs: Sequence[tuple[Program, int]]) -> pa.Table:
    rows = [r for program, year in runs for r in program_periods(program, year)]
    return pa.Table.from_pylist(rows, schema=PERIOD_SCHEMA)


def code_tables(periods: pa.Table, programs: dict[str, Program]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Per period: primary-care codes, SNF (code, POS) exclusions and specialty categories."""
    codes, snf, spec = [], [], []
    for p in periods.to_pylist():
        refs = programs[p["program_id"]].attribution.reference
        year = refs.year or p["year"]
        key = {"program_id": p["program_id"], "year": p["year"], "period": p["period"]}
        window = (p["window_first"], p["window_last"])
        codes += [{**key, "hcpcs_code": c} for c in ref.primary_care_codes(year, refs.primary_care_hcpcs, window)]
        snf += [{**key, "hcpcs_code": c, "pos": pos} for c, pos in ref.snf_exclusions(year, refs.primary_care_hcpcs)]
        spec += [{**key, "specialty_code": s, "category": c}
                 for s, c in ref.specialty_categories(year, refs.specialty_categories).items()]
    key_schema = [("program_id", pa.string()), ("year", pa.int64()), ("period", pa.int64())]
    return (
        pa.Table.from_pylist(codes, schema=pa.schema([*key_schema, ("hcpcs_code", pa.string())])),
        pa.Table.from_pylist(snf, schema=pa.schema([*key_schema, ("hcpcs_code", pa.string()), ("pos", pa.string())])),
        pa.Table.from_pylist(spec, schema=pa.schema([*key_schema, ("specialty_code", pa.string()),
                                                     ("category", pa.string())])),
    )


def glob_any(column: ir.StringValue, patterns: list[str]) -> ir.BooleanValue:
    """Non-null boolean: does ``column`` match any glob (``*``, ``?``)?"""
    preds = []
    for pat in patterns:
        if "*" in pat or "?" in pat:
            like = pat.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%").replace("?", "_")
            preds.append(column.like(like))
        else:
            preds.append(column == pat)
    out = preds[0]
    for p in preds[1:]:
        out = out | p
    return out.fill_null(False)


def match_predicate(table: ir.Table, match: ProgramMatch) -> ir.BooleanValue:
    pred: ir.BooleanValue = ibis.literal(True)
    for column, patterns in (("payer", match.payer), ("payer_type", match.payer_type), ("plan", match.plan),
                             ("group_id", match.group_id)):
        if patterns is not None and column in table.columns:
            pred = pred & glob_any(table[column], list(patterns))
    return pred


def union_all(tables: list[ir.Table]) -> ir.Table:
    out = tables[0]
    for t in tables[1:]:
        out = out.union(t, distinct=False)
    return out


def tag_program(tables: ir.Table, programs: Sequence[Program], pred_of: callable) -> ir.Table:
    """Union over ``programs`` of ``tables.filter(pred_of(program))`` with a ``program_id`` column."""
    return union_all([tables.filter(pred_of(p)).mutate(program_id=ibis.literal(p.program_id))
                      for p in programs])
