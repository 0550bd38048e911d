"""Dialect-safe parsing and code-format predicates over raw string columns (Ibis).

Every predicate returns a non-null boolean so DuckDB and Spark agree on nulls.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from allpayer.compute.native import full_match, quotient
from allpayer.intake.contract import Code, Column, Kind

INTEGER_PATTERN = r"^[+-]?[0-9]{1,18}(\.0+)?$"
NUMBER_PATTERN = r"^[+-]?([0-9]{1,16}(\.[0-9]*)?|\.[0-9]+)$"
TRUE_WORDS = ("1", "true", "t", "yes", "y")
FALSE_WORDS = ("0", "false", "f", "no", "n")

CODE_PATTERNS: dict[Code, str] = {
    Code.NPI: r"^[0-9]{10}$",
    # ICD-10-CM: letter, digit, alphanumeric, then up to four more characters (dots removed first).
    Code.ICD10CM: r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$",
    # CPT (four digits plus a digit or category letter) or HCPCS level II (letter plus four digits).
    Code.HCPCS: r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$",
    # NDC in the 11-digit 5-4-2 normalised form.
    Code.NDC: r"^[0-9]{11}$",
}


def matches(value: ir.StringValue, pattern: str) -> ir.BooleanValue:
    """Whether the whole value matches an anchored ``pattern``; False for null."""
    return full_match(value, pattern).fill_null(False)


def is_text(value: ir.Value) -> bool:
    """Staged as text; otherwise staging kept the contract's own type (see ``intake.staging``)."""
    return value.type().is_string()


def present(value: ir.Value) -> ir.Value:
    """The staged value (already trimmed in staging), with blank text as null."""
    return value.nullif("") if is_text(value) else value


def normalise(value: ir.StringValue, column: Column) -> ir.StringValue:
    """Canonical spelling of a raw value: blank as null, codes upper-cased without dots, enums through
    aliases."""
    value = present(value)
    if column.code is Code.ICD10CM:
        return value.upper().replace(".", "")
    if column.code in (Code.HCPCS,):
        return value.upper()
    if column.code is Code.NDC:
        return value.replace("-", "")
    if column.allowed:
        lowered = value.lower()
        if column.aliases:
            lowered = lowered.cases(*column.aliases.items(), else_=lowered)
        if column.default is not None:
            lowered = lowered.fill_null(column.default)
        return lowered
    return value


def parse(value: ir.StringValue, column: Column) -> ir.Value:
    """Typed value, or null where the raw value is missing or cannot be parsed."""
    if not is_text(value):
        return value.cast(column.ibis_type)
    value = normalise(value, column)
    kind = column.kind
    if kind is Kind.STRING:
        return value
    if kind is Kind.DATE:
        return ibis.ifelse(_looks_like_iso_date(value), value.substr(0, 10).try_cast("date"), ibis.null("date"))
    if kind is Kind.INTEGER:
        digits = value.re_replace(r"\.0+$", "")
        return ibis.ifelse(matches(value, INTEGER_PATTERN), digits.try_cast("int64"), ibis.null("int64"))
    if kind in (Kind.MONEY, Kind.DECIMAL):
        target = column.ibis_type
        return ibis.ifelse(matches(value, NUMBER_PATTERN), value.try_cast(target), ibis.null(target))
    if kind is Kind.BOOLEAN:
        lowered = value.lower()
        return ibis.cases(
            (lowered.isin(TRUE_WORDS), True), (lowered.isin(FALSE_WORDS), False), else_=ibis.null("boolean")
        )
    raise ValueError(f"no parser for {kind}")


def _looks_like_iso_date(value: ir.StringValue) -> ir.BooleanValue:
    """YYYY-MM-DD, optionally followed by a time; cheaper than a regex and strict on both engines
    (Spark's own date cast would accept shorter forms such as 2020-1-5)."""
    shape = (value.substr(4, 1) == "-") & (value.substr(7, 1) == "-")
    length = value.length()
    tail = (length == 10) | ((length > 10) & value.substr(10, 1).isin((" ", "T")))
    return (shape & tail).fill_null(False)


def npi_number(npi: ir.StringValue) -> ir.IntegerValue:
    """The NPI as a number where it is ten digits, else null."""
    return ibis.ifelse(matches(npi, CODE_PATTERNS[Code.NPI]), npi.try_cast("int64"), ibis.null("int64"))


# A digit doubled as Luhn doubles it (less 9 above 9), and the sum of a doubled digit and the plain digit after it,
# by the two digits' value: the check takes the NPI's digits two at a time from constant lists.
DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
PAIR_SUMS = tuple(DOUBLED[pair // 10] + pair % 10 for pair in range(100))


def luhn_ok(number: ir.IntegerValue) -> ir.BooleanValue:
    """NPI check digit: Luhn over the 80840 prefix and the first nine digits (CMS NPI standard), taken
    arithmetically from :func:`npi_number`, which both engines do fast. The nine digits are read as four pairs
    (a doubled digit, then a plain one) and a last doubled digit, each looked up in a constant list: at 630k
    persons the check of one NPI column of 20.5M claim lines took 1.3 s over parsing digit by digit, 0.6 s so.
    Pass a column, not an expression: the digits refer to it five times."""
    pairs = ibis.literal(list(PAIR_SUMS), type="array<int16>")
    doubled = ibis.literal(list(DOUBLED), type="array<int16>")
    total = ibis.literal(24, "int16")  # contribution of the constant prefix 80840
    for power in (10**8, 10**6, 10**4, 10**2):  # list positions are 32-bit (Spark's element_at takes no other)
        total = total + pairs[(quotient(number, power) % 100).cast("int32")]
    total = total + doubled[(quotient(number, 10) % 10).cast("int32")]
    check = (10 - total % 10) % 10
    return (check == number % 10).fill_null(False)


def code_ok(value: ir.StringValue, code: Code) -> ir.BooleanValue:
    if code is Code.NPI:
        return luhn_ok(npi_number(value))
    return matches(value, CODE_PATTERNS[code])


def npi_check_digit(first_nine: str) -> int:
    """Luhn check digit for nine NPI digits (used by the generator and tests)."""
    total = 24
    for position, char in enumerate(first_nine):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return (10 - total % 10) % 10
