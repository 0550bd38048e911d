"""Known-bad rows: each violates exactly one intake rule, so intake quarantines it under that rule's code.

The rows go to separate files (``medical_claim_dirty.*``, ``pharmacy_claim_dirty.*``) with string columns,
which sort after the clean files, so a duplicate of a clean line is the later copy."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

MEDICAL_RULES = ("TYPE_UNPARSABLE", "REQUIRED_MISSING", "NPI_LUHN", "ICD10CM_FORMAT", "HCPCS_FORMAT",
                 "VALUE_NOT_ALLOWED", "DATE_OUT_OF_RANGE", "DATE_ORDER", "AMOUNT_IMPOSSIBLE", "DUPLICATE_KEY",
                 "NO_ENROLLMENT")
PHARMACY_RULES = ("NDC_FORMAT",)


def _as_strings(tbl: pa.Table) -> list[dict[str, str | None]]:
    cols = {name: tbl.column(name).cast(pa.string()).to_pylist() for name in tbl.column_names}
    return [{name: cols[name][i] for name in tbl.column_names} for i in range(tbl.num_rows)]


def _break(row: dict[str, str | None], rule: str, serial: int) -> dict[str, str | None]:
    row = dict(row)
    if rule != "DUPLICATE_KEY":
        row.update(claim_id=f"DIRTY{serial:07d}", claim_line_number="1", claim_status="original",
                   original_claim_id=None)
    if rule == "TYPE_UNPARSABLE":
        row["paid_amount"] = f"{row['paid_amount']}x"
    elif rule == "REQUIRED_MISSING":
        row["claim_start_date"] = None
    elif rule == "NPI_LUHN":
        npi = row["rendering_npi"] or "1234567893"
        row["rendering_npi"] = npi[:9] + str((int(npi[9]) + 1) % 10)
    elif rule == "ICD10CM_FORMAT":
        row["diagnosis_code_1"] = "250.00"  # an ICD-9-CM code in an ICD-10-CM column
    elif rule == "HCPCS_FORMAT":
        row["hcpcs_code"] = "992134"
    elif rule == "VALUE_NOT_ALLOWED":
        row["claim_type"] = "dental"
    elif rule == "DATE_OUT_OF_RANGE":
        row["claim_line_start_date"] = "1890" + (row["claim_line_start_date"] or "1890-06-01")[4:]
        row["claim_line_end_date"] = row["claim_line_start_date"]
    elif rule == "DATE_ORDER":
        start = dt.date.fromisoformat(row["claim_start_date"] or "2020-01-10")
        row["claim_end_date"] = (start - dt.timedelta(days=3)).isoformat()
    elif rule == "AMOUNT_IMPOSSIBLE":
        row["paid_amount"] = f"-{row['paid_amount']}"
    elif rule == "NO_ENROLLMENT":
        row["person_id"] = f"X{serial:09d}"
    elif rule == "NDC_FORMAT":
        row["ndc_code"] = (row["ndc_code"] or "00000000000")[:10]  # 10-digit NDC, not normalised to 11
    return row


def rows(sample: pa.Table, rules: tuple[str, ...], per_rule: int, serial: int = 0) -> tuple[pa.Table, dict[str, int]]:
    """``per_rule`` broken copies of sample rows for each rule, as an all-string table."""
    clean = _as_strings(sample)
    out, counts = [], {}
    i = 0
    for rule in rules:
        for _ in range(per_rule):
            out.append(_break(clean[i % len(clean)], rule, serial + i))
            i += 1
        counts[rule] = per_rule
    schema = pa.schema([(name, pa.string()) for name in sample.column_names])
    return pa.Table.from_pylist(out, schema=schema), counts
