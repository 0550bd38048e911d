"""Code-format and type predicates, evaluated through DuckDB."""

from __future__ import annotations

import ibis
import pytest

from allpayer.intake.contract import Code, Column, Kind
from allpayer.intake.parse import code_ok, npi_check_digit, parse


def _eval(expr) -> object:
    return ibis.duckdb.connect().execute(expr)


@pytest.mark.parametrize(("npi", "ok"), [
    ("1234567893", True),   # the CMS example NPI
    ("1234567890", False),  # wrong check digit
    ("123456789", False),   # nine digits
    ("12345678931", False),
    ("12345A7893", False),
])
def test_npi_luhn(npi, ok):
    assert _eval(code_ok(ibis.literal(npi), Code.NPI)) is ok


def test_npi_check_digit_matches_the_cms_example():
    assert npi_check_digit("123456789") == 3


@pytest.mark.parametrize(("code", "value", "ok"), [
    (Code.ICD10CM, "E119", True), (Code.ICD10CM, "I10", True), (Code.ICD10CM, "S72001A", True),
    (Code.ICD10CM, "12345", False), (Code.ICD10CM, "E1", False), (Code.ICD10CM, "E11900000", False),
    (Code.HCPCS, "99213", True), (Code.HCPCS, "G0439", True), (Code.HCPCS, "3044F", True),
    (Code.HCPCS, "9921", False), (Code.HCPCS, "99$13", False),
    (Code.NDC, "00002143380", True), (Code.NDC, "0002-1433-80", False),
])
def test_code_formats(code, value, ok):
    assert _eval(code_ok(ibis.literal(value), code)) is ok


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    (Kind.DATE, "2020-02-29", "2020-02-29"), (Kind.DATE, "2021-02-29", None), (Kind.DATE, "02/03/2020", None),
    (Kind.DATE, "2020-02-03 00:00:00", "2020-02-03"),
    (Kind.INTEGER, "12", 12), (Kind.INTEGER, "12.0", 12), (Kind.INTEGER, "12.5", None),
    (Kind.MONEY, "12.345", "12.35"), (Kind.MONEY, "-3", "-3.00"), (Kind.MONEY, "1e3", None),
    (Kind.BOOLEAN, "1", True), (Kind.BOOLEAN, "No", False), (Kind.BOOLEAN, "maybe", None),
])
def test_parse(kind, raw, expected):
    value = _eval(parse(ibis.literal(raw), Column("x", kind, "test")))
    if expected is None:
        assert value is None or value != value  # null (NaT/NaN in pandas scalars)
    else:
        assert str(value)[:10] == str(expected)


def test_dotted_icd_codes_are_normalised():
    column = Column("dx", Kind.STRING, "test", code=Code.ICD10CM)
    assert _eval(parse(ibis.literal("e11.9"), column)) == "E119"


def test_duckdb_forms_of_the_checks_agree_with_python():
    """On a table DuckDB stores, the NPI check digit and the code formats take DuckDB's own forms (the digits
    two at a time from constant lists; ``regexp_full_match``): each answer equals Python's, for valid NPIs, NPIs
    one digit off, and random text of the characters the patterns test."""
    import random
    import re

    import pyarrow as pa

    from allpayer.intake.parse import CODE_PATTERNS

    rng = random.Random(11)
    firsts = [f"{rng.randrange(10**8, 10**9)}" for _ in range(1500)]
    valid = [f + str(npi_check_digit(f)) for f in firsts]
    off = [n[:9] + str((int(n[9]) + rng.randrange(1, 10)) % 10) for n in valid[:500]]
    alphabet = "0123456789ABEFGZ.-$ "
    noise = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 13))) for _ in range(3000)]
    values = valid + off + noise + ["0000000000", "9999999999"]
    con = ibis.duckdb.connect()
    table = con.create_table("codes", pa.table({"value": values}))
    passed = {}
    for code, pattern in CODE_PATTERNS.items():
        expr = table.select(ok=code_ok(table.value, code))
        sql = str(ibis.to_sql(expr, dialect="duckdb")).lower()
        assert ("regexp_full_match" in sql) and ("regexp_matches" not in sql)
        got = con.to_pyarrow(expr)["ok"].to_pylist()
        shaped = [re.fullmatch(pattern[1:-1], v) is not None for v in values]
        expected = [s and (code is not Code.NPI or int(v[9]) == npi_check_digit(v[:9]))
                    for s, v in zip(shaped, values, strict=True)]
        assert got == expected, code
        passed[code] = sum(got)
    assert passed[Code.NPI] >= 1500  # every valid NPI passes (and a random one rarely)
