"""Where the values of an expression's text column can come from: stored columns and literals.

The DuckDB warehouse writes a text column whose values all come from a few known ones as an ``ENUM`` of them: the
Parquet file holds plain text either way, but DuckDB writes an enum's dictionary as it stands, where text is
hashed value by value (14.7M member months written from memory: 3.2-3.8 s with their four coverage columns as text,
2.8-3.2 s as enums). :func:`text_sources` is the proof that a column can take no other value; it answers only for
operations that pass values through unchanged, and ``None`` for anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow.compute as pc


@dataclass(frozen=True)
class TextSources:
    """A text column's values are null, one of ``literals``, or a value of a stored column (table, column)."""

    columns: frozenset[tuple[str, str]] = frozenset()
    literals: frozenset[str] = frozenset()

    def __or__(self, other: TextSources) -> TextSources:
        return TextSources(self.columns | other.columns, self.literals | other.literals)


NOTHING = TextSources()
# Relations whose rows are some of their parent's, with the same columns.
_SAME_COLUMNS = (ops.Filter, ops.Sort, ops.Limit, ops.Distinct, ops.SelfReference, ops.JoinReference,
                 ops.DropColumns, ops.DropNull, ops.Sample)
# Aggregates whose result is one of the values aggregated.
_PICKS = (ops.Min, ops.Max, ops.First, ops.Last, ops.Arbitrary)


def text_sources(expr: ir.Table, column: str) -> TextSources | None:
    """The sources of ``column``'s values in ``expr``, or None where they cannot be told."""
    return _column(expr.op(), column)


def _column(rel: ops.Relation, name: str) -> TextSources | None:
    if isinstance(rel, ops.DatabaseTable):
        qualified = rel.namespace.catalog or rel.namespace.database  # only tables named as the warehouse names them
        text = rel.schema[name].is_string()
        return TextSources(columns=frozenset({(rel.name, name)})) if text and not qualified else None
    if isinstance(rel, ops.InMemoryTable):  # small tables of reference data: their values are at hand
        values = rel.data.to_pyarrow(rel.schema).column(name)
        return TextSources(literals=frozenset(v for v in pc.unique(values).to_pylist() if v is not None))
    if isinstance(rel, _SAME_COLUMNS):
        return _column(rel.parent, name)
    if isinstance(rel, ops.Project | ops.JoinChain):
        return _value(rel.values[name])
    if isinstance(rel, ops.Aggregate):
        return _value(rel.groups[name] if name in rel.groups else rel.metrics[name])
    if isinstance(rel, ops.Union):
        return _either(_column(rel.left, name), _column(rel.right, name))
    return None


def _value(op: ops.Value) -> TextSources | None:
    if not op.dtype.is_string():
        return None
    if isinstance(op, ops.Field):
        return _column(op.rel, op.name)
    if isinstance(op, ops.Literal):
        return NOTHING if op.value is None else TextSources(literals=frozenset({op.value}))
    if isinstance(op, ops.Cast):
        return _value(op.arg) if op.arg.dtype.is_string() else None
    if isinstance(op, _PICKS):
        return _value(op.arg)
    if isinstance(op, ops.Coalesce):
        return _all(op.arg)
    if isinstance(op, ops.IfElse):
        return _all((op.true_expr, op.false_null_expr))
    if isinstance(op, ops.SearchedCase | ops.SimpleCase):
        return _all((*op.results, op.default))
    if isinstance(op, ops.ArrayIndex) and isinstance(op.arg, ops.Literal):
        return TextSources(literals=frozenset(v for v in op.arg.value if v is not None))
    return None


def _either(a: TextSources | None, b: TextSources | None) -> TextSources | None:
    return None if a is None or b is None else a | b


def _all(values: tuple[ops.Value, ...]) -> TextSources | None:
    out: TextSources | None = NOTHING
    for value in values:
        out = _either(out, _value(value))
    return out
