"""The validation rule book: every rule has a code, a severity and a message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    REJECT = "reject"  # the row goes to quarantine
    WARN = "warn"  # the row is accepted and the finding recorded


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    message: str


_RULES = (
    Rule("TYPE_UNPARSABLE", Severity.REJECT, "value cannot be read as the column's type"),
    Rule("REQUIRED_MISSING", Severity.REJECT, "required value is missing"),
    Rule("NPI_LUHN", Severity.REJECT, "NPI is not 10 digits with a valid Luhn check digit"),
    Rule("ICD10CM_FORMAT", Severity.REJECT, "malformed ICD-10-CM diagnosis code"),
    Rule("HCPCS_FORMAT", Severity.REJECT, "malformed CPT/HCPCS code"),
    Rule("NDC_FORMAT", Severity.REJECT, "malformed NDC (expected 11 digits)"),
    Rule("VALUE_NOT_ALLOWED", Severity.REJECT, "value is not one of the allowed values"),
    Rule("DATE_OUT_OF_RANGE", Severity.REJECT, "date outside the plausible range"),
    Rule("DATE_ORDER", Severity.REJECT, "end date before start date"),
    Rule("AMOUNT_IMPOSSIBLE", Severity.REJECT, "impossible amount or quantity"),
    Rule("DUPLICATE_KEY", Severity.REJECT, "primary key already seen in an earlier row"),
    Rule("NO_ENROLLMENT", Severity.REJECT, "claim for a person with no accepted enrollment"),
    Rule("PAID_OVER_ALLOWED", Severity.WARN, "paid amount exceeds allowed amount"),
)

RULES: dict[str, Rule] = {r.code: r for r in _RULES}
# The order in which a row's first failing rule is reported.
PRECEDENCE: tuple[str, ...] = tuple(r.code for r in _RULES)


def render_markdown() -> str:
    lines = ["| code | severity | meaning |", "|---|---|---|"]
    lines += [f"| `{r.code}` | {r.severity} | {r.message} |" for r in _RULES]
    return "\n".join(lines) + "\n"
