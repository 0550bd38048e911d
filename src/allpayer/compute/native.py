"""DuckDB's own functions where Ibis's portable expression costs DuckDB much more; other engines get Ibis's.

- Hash residues (table fingerprints, :mod:`allpayer.fingerprint`): Ibis makes DuckDB's unsigned 64-bit ``hash``
  signed through a cast to BIT and back, about twice the hash's own cost. Fingerprinting 20M claim lines took
  4.2 s, 3.9 s of it there; 1.9 s from ``hash`` directly.
- Integer quotients: Ibis writes ``a // b`` as ``CAST(FLOOR(a / b) AS BIGINT)``, a division in floating point;
  DuckDB's ``divide`` divides integers, exactly (Ibis's form is wrong above 2^53). The NPI check digits take
  nine quotients per NPI: the check pass over 20.5M claim lines went from 26.5 s to 22.6 s.

  A common table expression whose columns hold ``divide`` is stored by DuckDB when two branches read it, where
  Ibis's form is read in place: keep ``quotient`` out of tables that several branches read (630k persons:
  ``cost_person_years`` 3.2 s with the spend's year as Ibis's quotient, 5.8 s with ``divide``).
- Whole-value pattern matches: Ibis writes a search, ``regexp_matches`` with the pattern's anchors; DuckDB's
  ``regexp_full_match`` of the pattern without them gives the same answer in a third of the time (25 diagnosis
  columns of 20.5M claim lines: 0.9 s -> 0.3 s over reading them).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir

TOP_BIT = 2**63


@ibis.udf.scalar.builtin(name="hash")
def _duckdb_hash(value) -> dt.uint64:  # type: ignore[empty-body]  # any type
    """DuckDB's own ``hash``: an unsigned 64-bit value."""


@ibis.udf.scalar.builtin(name="divide")
def _duckdb_divide(dividend: dt.int64, divisor: dt.int64) -> dt.int64:  # type: ignore[empty-body]
    """DuckDB's integer division (truncates toward zero)."""


@ibis.udf.scalar.builtin(name="regexp_full_match")
def _duckdb_full_match(value: dt.string, pattern: dt.string) -> dt.boolean:  # type: ignore[empty-body]
    """DuckDB's match of a whole value."""


def _on_duckdb(value: ir.Value) -> bool:
    """Whether ``value`` reads tables of a DuckDB connection, and only those. An expression over in-memory tables
    alone may be run on any backend, so it gets the portable form."""
    tables = value.op().find(ops.DatabaseTable)
    return bool(tables) and all(table.source.name == "duckdb" for table in tables)


def hash_residue(value: ir.Value, modulus: int) -> ir.IntegerValue:
    """``value.hash() % modulus`` as a signed 64-bit value, the same number on DuckDB as Ibis's expression gives.
    A hash with the top bit set is, signed, that value minus 2^64; ``%`` keeps the dividend's sign."""
    if not _on_duckdb(value):
        return (value.hash() % modulus).cast("int64")
    unsigned = _duckdb_hash(value)
    complement = (ibis.literal(2**64 - 1, "uint64") - unsigned + 1).cast("uint64")  # Ibis types it signed
    return ibis.ifelse(unsigned < ibis.literal(TOP_BIT, "uint64"), (unsigned % modulus).cast("int64"),
                       -(complement % modulus).cast("int64"))


def quotient(dividend: ir.IntegerValue, divisor: int) -> ir.IntegerValue:
    """``dividend // divisor`` for a non-negative integer ``dividend`` and a positive ``divisor`` (where flooring
    and truncating agree)."""
    if not _on_duckdb(dividend):
        return dividend // divisor
    return _duckdb_divide(dividend.cast("int64"), ibis.literal(divisor, "int64"))


def full_match(value: ir.StringValue, pattern: str) -> ir.BooleanValue:
    """Whether the whole of ``value`` matches ``pattern``, written with its anchors (``^...$``, any alternation
    inside a group); null for null."""
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        raise ValueError(f"a whole-value pattern is anchored at both ends: {pattern!r}")
    if not _on_duckdb(value):
        return value.re_search(pattern)
    return _duckdb_full_match(value, ibis.literal(f"(?:{pattern[1:-1]})"))
