"""Month calendar helpers: month arithmetic goes through a month index (year * 12 + month - 1)."""

from __future__ import annotations

import calendar
import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.native import quotient

FIRST_YEAR, LAST_YEAR = 1990, 2040


def months(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> ir.Table:
    """One row per calendar month: ``month_index``, ``year``, ``month``, ``month_start``, ``month_end``,
    ``days_in_month``. Small and built in Python once; joined set-based."""
    rows = [(y, m) for y in range(first_year, last_year + 1) for m in range(1, 13)]
    return ibis.memtable(pa.table({
        "month_index": pa.array([y * 12 + m - 1 for y, m in rows], pa.int64()),
        "year": pa.array([y for y, _ in rows], pa.int64()),
        "month": pa.array([m for _, m in rows], pa.int64()),
        "month_start": pa.array([dt.date(y, m, 1) for y, m in rows], pa.date32()),
        "month_end": pa.array([dt.date(y, m, calendar.monthrange(y, m)[1]) for y, m in rows], pa.date32()),
        "days_in_month": pa.array([calendar.monthrange(y, m)[1] for y, m in rows], pa.int64()),
    }))


def month_index(date: ir.DateValue) -> ir.IntegerValue:
    return date.year().cast("int64") * 12 + date.month().cast("int64") - 1


def year_of(month: ir.IntegerValue) -> ir.IntegerValue:
    """The year of a month index, divided exactly (:func:`allpayer.compute.native.quotient`)."""
    return quotient(month, 12).cast("int64")
