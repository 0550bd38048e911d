"""Sums of floats that do not depend on row order.

Member months of partial months, member-years (months / 12) and risk scores times months are floats. An engine adds
a column's rows in whatever order its threads finish, and a float sum moves with the order: two runs of the same
quality step at 630k persons differed in the 9th decimal of a denominator. Each float is cast to a decimal of 18
places, which keeps its digits, and the decimals add up exactly, so the sum is the same in any order; rounded to
the places a result keeps, it is also the true total of the values the rows meant (120,000 units of 7/12 give
70,000.000000000004 as decimals, 70,000.000000072 as floats).
"""

from __future__ import annotations

import ibis.expr.types as ir

EXACT = "decimal(38, 18)"  # totals below 10^20


def exact_sum(value: ir.NumericValue, where: ir.BooleanValue | None = None) -> ir.DecimalValue:
    """The sum of ``value`` (over the rows ``where`` holds), added up as decimals of 18 places."""
    return value.cast(EXACT).sum(where=where)


def exact_float_sum(value: ir.NumericValue, where: ir.BooleanValue | None = None) -> ir.FloatingValue:
    """:func:`exact_sum` as a float: the same float in any row order, for a column that stays a float."""
    return exact_sum(value, where).cast("float64")
