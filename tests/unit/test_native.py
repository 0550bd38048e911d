"""Hash residues: DuckDB's fast path gives exactly the number Ibis's own expression gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from allpayer.compute.native import hash_residue, quotient

MODULUS = 2147483647


@pytest.fixture(scope="module")
def values() -> ibis.Table:
    con = ibis.duckdb.connect()
    table = pa.table({
        "text": pa.array(["P0000001", "", None, "claim-12345678901", "é"] * 40),
        "number": pa.array([0, -1, 2**62, None, 17] * 40, pa.int64()),
        "day": pa.array([dt.date(2019, 1, 1), None, dt.date(1900, 12, 31), dt.date(2024, 2, 29),
                         dt.date(1970, 1, 1)] * 40),
        "money": pa.array([Decimal("12.34"), Decimal("-0.01"), None, Decimal("0.00"),
                           Decimal("99999.99")] * 40, pa.decimal128(18, 2)),
    })
    return con.create_table("values", table)


@pytest.mark.parametrize("column", ["text", "number", "day", "money"])
def test_residue_equals_ibis_hash_modulo(values: ibis.Table, column: str) -> None:
    fast = hash_residue(values[column], MODULUS).name("fast")
    reference = (values[column].hash() % MODULUS).cast("int64").name("reference")
    out = values.select(fast, reference).to_pyarrow()
    assert out["fast"].to_pylist() == out["reference"].to_pylist()
    # both signs occur, so both branches of the fast path are exercised
    residues = set(out["fast"].to_pylist())
    assert any(r < 0 for r in residues) and any(r > 0 for r in residues)


def test_sum_of_residues_is_order_independent(values: ibis.Table) -> None:
    total = values.aggregate(s=hash_residue(values.text, MODULUS).sum()).to_pyarrow()["s"][0].as_py()
    shuffled = values.order_by(ibis.random())
    again = shuffled.aggregate(s=hash_residue(shuffled.text, MODULUS).sum()).to_pyarrow()["s"][0].as_py()
    assert total == again


def test_quotient_is_exact_floor_division_of_non_negative_integers() -> None:
    """Exact where Ibis's own ``//`` (a division in floating point) is not: 2^62 // 12."""
    values = [0, 7, 9, 10, 1234567893, 2**62, None]
    con = ibis.duckdb.connect()
    numbers = con.create_table("numbers", pa.table({"n": pa.array(values, pa.int64())}))
    for divisor in (1, 10, 12, 1000000000):
        out = numbers.select(q=quotient(numbers.n, divisor)).to_pyarrow()["q"].to_pylist()
        assert out == [None if v is None else v // divisor for v in values]
