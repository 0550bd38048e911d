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
