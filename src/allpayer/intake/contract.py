"""The canonical data contract: every table's columns, types, grain and key, declared once.

Validation rules, adapters, the warehouse schema and ``docs/data-contract.md`` are all derived
from these declarations, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import ibis.expr.datatypes as dt


class Kind(StrEnum):
    """Logical column type; each maps to one Ibis type and one parse rule."""

    STRING = "string"
    DATE = "date"
    INTEGER = "integer"
    MONEY = "money"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"


IBIS_TYPES: dict[Kind, dt.DataType] = {
    Kind.STRING: dt.string,
    Kind.DATE: dt.date,
    Kind.INTEGER: dt.int64,
    Kind.MONEY: dt.Decimal(18, 2),
    Kind.DECIMAL: dt.Decimal(18, 4),
    Kind.BOOLEAN: dt.boolean,
}


class Code(StrEnum):
    """Code systems whose format is checked at the boundary."""

    NPI = "npi"
    ICD10CM = "icd10cm"
    HCPCS = "hcpcs"
    NDC = "ndc"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    description: str
    required: bool = False
    code: Code | None = None
    allowed: tuple[str, ...] | None = None
    # Aliases accepted for an allowed value (lower-cased input -> canonical value).
    aliases: dict[str, str] = field(default_factory=dict)
    default: str | None = None

    @property
    def ibis_type(self) -> dt.DataType:
        return IBIS_TYPES[self.kind]


@dataclass(frozen=True)
class DateOrder:
    """A pair of dates where the second may not precede the first."""

    start: str
    end: str


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    date_orders: tuple[DateOrder, ...] = ()
    amount_columns: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def schema(self) -> dict[str, dt.DataType]:
        """Ibis schema of the accepted table, lineage columns included."""
        out = {c.name: c.ibis_type for c in self.columns}
        out.update(LINEAGE)
        return out


# Every canonical row keeps the file and record it came from.
LINEAGE: dict[str, dt.DataType] = {"source_file": dt.string, "source_row": dt.int64}

PAYER_TYPES = ("medicare", "medicare_advantage", "medicaid", "commercial", "self_funded", "other")
PAYER_TYPE_ALIASES = {
    "medicare advantage": "medicare_advantage",
    "ma": "medicare_advantage",
    "self-funded": "self_funded",
    "self funded": "self_funded",
    "aso": "self_funded",
}
CLAIM_STATUSES = ("original", "adjustment", "reversal", "denial")
CLAIM_STATUS_ALIASES = {
    "0": "original",
    "1": "reversal",
    "2": "adjustment",
    "cancel": "reversal",
    "cancellation": "reversal",
    "void": "reversal",
    "denied": "denial",
    "adjusted": "adjustment",
}


def _s(name: str, description: str, **kw: object) -> Column:
    return Column(name, Kind.STRING, description, **kw)  # type: ignore[arg-type]


def _d(name: str, description: str, **kw: object) -> Column:
    return Column(name, Kind.DATE, description, **kw)  # type: ignore[arg-type]


def _m(name: str, description: str, **kw: object) -> Column:
    return Column(name, Kind.MONEY, description, **kw)  # type: ignore[arg-type]


def _i(name: str, description: str, **kw: object) -> Column:
    return Column(name, Kind.INTEGER, description, **kw)  # type: ignore[arg-type]


def _numbered(prefix: str, count: int, make: type | object, description: str, **kw: object) -> tuple[Column, ...]:
    return tuple(make(f"{prefix}_{i}", f"{description} {i}", **kw) for i in range(1, count + 1))  # type: ignore[operator]


PERSON = Table(
    name="person",
    grain="one row per person across all payers",
    primary_key=("person_id",),
    columns=(
        _s("person_id", "Person identifier, stable across payers", required=True),
        _d("birth_date", "Date of birth", required=True),
        _s("sex", "Sex", required=True, allowed=("female", "male", "unknown"),
           aliases={"f": "female", "m": "male", "u": "unknown"}),
        _s("race", "Race as reported"),
        _d("death_date", "Date of death, if any"),
        _s("state", "State of residence (two-letter or full name as reported)"),
        _s("zip_code", "ZIP code of residence"),
    ),
)

ENROLLMENT = Table(
    name="enrollment",
    grain="one row per person, member, payer, plan and coverage span per data source",
    primary_key=("person_id", "member_id", "payer", "plan", "enrollment_start_date",
                 "enrollment_end_date", "data_source"),
    columns=(
        _s("person_id", "Person identifier", required=True),
        _s("member_id", "Payer's member identifier", required=True),
        _s("payer", "Payer name", required=True),
        _s("payer_type", "Kind of coverage", required=True, allowed=PAYER_TYPES,
           aliases=PAYER_TYPE_ALIASES),
        _s("plan", "Plan or program within the payer", required=True),
        _s("group_id", "Employer group identifier (self-funded and commercial groups)"),
        _s("group_name", "Employer group name"),
        _s("dual_status_code", "Medicare-Medicaid dual status code"),
        _s("medicare_status_code", "Medicare status code (10 aged, 20 disabled, 31 ESRD ...)"),
        _s("original_reason_entitlement_code", "Original reason for Medicare entitlement (OREC)"),
        _d("enrollment_start_date", "First day of coverage in the span", required=True),
        _d("enrollment_end_date", "Last day of coverage in the span", required=True),
        _s("data_source", "Feed the row came from", required=True),
    ),
    date_orders=(DateOrder("enrollment_start_date", "enrollment_end_date"),),
)

_ADR = (
    _s("claim_status", "Version kind: original, adjustment, reversal or denial", required=True,
       allowed=CLAIM_STATUSES, aliases=CLAIM_STATUS_ALIASES, default="original"),
    _s("original_claim_id", "Claim this version adjusts or reverses (its family); null for originals"),
)

MEDICAL_CLAIM = Table(
    name="medical_claim",
    grain="one row per claim line per data source (all versions; final action is computed)",
    primary_key=("claim_id", "claim_line_number", "data_source"),
    columns=(
        _s("claim_id", "Claim identifier (unique within a data source)", required=True),
        _i("claim_line_number", "Line number within the claim", required=True),
        _s("data_source", "Feed the row came from", required=True),
        _s("claim_type", "professional, institutional or undetermined", required=True,
           allowed=("professional", "institutional", "undetermined")),
        *_ADR,
        _s("person_id", "Person identifier", required=True),
        _s("member_id", "Payer's member identifier"),
        _s("payer", "Payer name", required=True),
        _s("plan", "Plan or program"),
        _d("claim_start_date", "First date of service on the claim", required=True),
        _d("claim_end_date", "Last date of service on the claim"),
        _d("claim_line_start_date", "First date of service on the line"),
        _d("claim_line_end_date", "Last date of service on the line"),
        _d("admission_date", "Inpatient admission date"),
        _d("discharge_date", "Inpatient discharge date"),
        _s("admit_type_code", "UB-04 admission type"),
        _s("discharge_disposition_code", "UB-04 patient discharge status"),
        _s("place_of_service_code", "CMS place of service"),
        _s("bill_type_code", "UB-04 type of bill"),
        _s("drg_code", "MS-DRG"),
        _s("revenue_center_code", "UB-04 revenue code"),
        Column("service_unit_quantity", Kind.DECIMAL, "Units of service"),
        _s("hcpcs_code", "CPT/HCPCS procedure code", code=Code.HCPCS),
        _s("hcpcs_modifier_1", "First HCPCS modifier"),
        _s("hcpcs_modifier_2", "Second HCPCS modifier"),
        _s("rendering_npi", "Rendering clinician NPI", code=Code.NPI),
        _s("rendering_tin", "Rendering clinician's billing TIN"),
        _s("billing_npi", "Billing provider NPI", code=Code.NPI),
        _s("billing_tin", "Billing provider TIN"),
        _s("facility_npi", "Facility NPI", code=Code.NPI),
        _d("paid_date", "Date the payer paid the line"),
        _m("paid_amount", "Amount paid by the payer"),
        _m("allowed_amount", "Allowed amount (payer paid plus member cost sharing)"),
        _m("charge_amount", "Billed charge"),
        _s("diagnosis_code_type", "icd-10-cm or icd-9-cm"),
        *_numbered("diagnosis_code", 25, _s, "ICD-10-CM diagnosis, position", code=Code.ICD10CM),
        *_numbered("procedure_code", 25, _s, "ICD-10-PCS procedure, position"),
        Column("in_network_flag", Kind.BOOLEAN, "In the payer's network"),
        _d("file_date", "Date of the file that delivered this version"),
    ),
    date_orders=(
        DateOrder("claim_start_date", "claim_end_date"),
        DateOrder("claim_line_start_date", "claim_line_end_date"),
        DateOrder("admission_date", "discharge_date"),
        DateOrder("claim_start_date", "paid_date"),
    ),
    amount_columns=("paid_amount", "allowed_amount", "charge_amount"),
)

PHARMACY_CLAIM = Table(
    name="pharmacy_claim",
    grain="one row per claim line per data source (all versions; final action is computed)",
    primary_key=("claim_id", "claim_line_number", "data_source"),
    columns=(
        _s("claim_id", "Claim identifier (unique within a data source)", required=True),
        _i("claim_line_number", "Line number within the claim", required=True),
        _s("data_source", "Feed the row came from", required=True),
        *_ADR,
        _s("person_id", "Person identifier", required=True),
        _s("member_id", "Payer's member identifier"),
        _s("payer", "Payer name", required=True),
        _s("plan", "Plan or program"),
        _s("prescribing_provider_npi", "Prescriber NPI", code=Code.NPI),
        _s("dispensing_provider_npi", "Pharmacy NPI", code=Code.NPI),
        _d("dispensing_date", "Date dispensed", required=True),
        _s("ndc_code", "11-digit National Drug Code", required=True, code=Code.NDC),
        Column("quantity", Kind.DECIMAL, "Quantity dispensed"),
        _i("days_supply", "Days supply"),
        _i("refills", "Refills remaining"),
        _d("paid_date", "Date the payer paid the line"),
        _m("paid_amount", "Amount paid by the payer"),
        _m("allowed_amount", "Allowed amount"),
        _m("charge_amount", "Billed charge"),
        Column("in_network_flag", Kind.BOOLEAN, "In the payer's network"),
        _d("file_date", "Date of the file that delivered this version"),
    ),
    date_orders=(DateOrder("dispensing_date", "paid_date"),),
    amount_columns=("paid_amount", "allowed_amount", "charge_amount"),
)

PROVIDER = Table(
    name="provider",
    grain="one row per clinician or facility NPI and billing TIN",
    primary_key=("npi", "tin"),
    columns=(
        _s("npi", "National Provider Identifier", required=True, code=Code.NPI),
        _s("tin", "Taxpayer identification number the NPI bills under", required=True),
        _s("provider_name", "Clinician or organisation name", required=True),
        _s("entity_type", "individual or organization", required=True,
           allowed=("individual", "organization"), aliases={"1": "individual", "2": "organization"}),
        _s("taxonomy_code", "NUCC taxonomy code", required=True),
        _s("specialty_code", "CMS provider specialty code"),
        _s("practice_id", "Practice identifier"),
        _s("practice_name", "Practice name"),
        _s("hsa", "Hospital service area of the practice"),
        _s("aco_id", "ACO the TIN participates in, if any"),
        _d("aco_start_date", "First day of ACO participation"),
        _d("aco_end_date", "Last day of ACO participation"),
    ),
    date_orders=(DateOrder("aco_start_date", "aco_end_date"),),
)

TABLES: dict[str, Table] = {t.name: t for t in (PERSON, ENROLLMENT, MEDICAL_CLAIM, PHARMACY_CLAIM, PROVIDER)}
# Load order matters: claims are checked against accepted enrollment.
LOAD_ORDER: tuple[str, ...] = ("provider", "person", "enrollment", "medical_claim", "pharmacy_claim")


def render_markdown() -> str:
    """The data-contract document, generated from the declarations above."""
    lines = [
        "# Canonical data contract",
        "",
        "Generated from `allpayer.intake.contract` by `allpayer contract > docs/data-contract.md`;"
        " a test fails if this file drifts from the code.",
        "",
        "Every table also carries `source_file` (string) and `source_row` (integer, the 1-based data"
        " record in that file, header excluded) so each figure traces back to input lines.",
        "Money is `decimal(18,2)`.",
    ]
    for table in TABLES.values():
        lines += [
            "",
            f"## `{table.name}`",
            "",
            f"Grain: {table.grain}. Primary key: ({', '.join(f'`{k}`' for k in table.primary_key)}).",
            "",
            "| column | type | required | checks | description |",
            "|---|---|---|---|---|",
        ]
        for col in table.columns:
            checks = []
            if col.code:
                checks.append(col.code.value)
            if col.allowed:
                checks.append("one of " + ", ".join(col.allowed))
            if col.default:
                checks.append(f"default {col.default}")
            lines.append(
                f"| `{col.name}` | {col.ibis_type} | {'yes' if col.required else ''} | "
                f"{'; '.join(checks)} | {col.description} |"
            )
        if table.date_orders:
            pairs = ", ".join(f"`{o.start}` ≤ `{o.end}`" for o in table.date_orders)
            lines += ["", f"Date order: {pairs}."]
    return "\n".join(lines) + "\n"
