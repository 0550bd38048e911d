"""Build small Tuva data sets with known bad rows, for intake tests."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from tests.conftest import FIXTURES

# rule -> (file, data row to corrupt (1-based), column, bad value); one row per rule, each tripping one rule.
CORRUPTIONS: dict[str, tuple[str, int, str, str]] = {
    "TYPE_UNPARSABLE": ("medical_claim", 5, "charge_amount", "12.3x"),
    "REQUIRED_MISSING": ("medical_claim", 6, "claim_start_date", ""),
    "NPI_LUHN": ("medical_claim", 7, "rendering_npi", "1234567890"),
    "ICD10CM_FORMAT": ("medical_claim", 8, "diagnosis_code_1", "12345"),
    "HCPCS_FORMAT": ("medical_claim", 9, "hcpcs_code", "99$13"),
    "NDC_FORMAT": ("pharmacy_claim", 3, "ndc_code", "1234"),
    "VALUE_NOT_ALLOWED": ("medical_claim", 10, "claim_type", "dental"),
    "DATE_OUT_OF_RANGE": ("eligibility", 4, "birth_date", "1850-01-01"),
    "DATE_ORDER": ("eligibility", 5, "enrollment_end_date", "2010-01-01"),
    "AMOUNT_IMPOSSIBLE": ("medical_claim", 11, "charge_amount", "-50.00"),
    "NO_ENROLLMENT": ("pharmacy_claim", 4, "person_id", "no-such-person"),
}
DUPLICATED = ("medical_claim", 12)  # appended again at the end of the file -> DUPLICATE_KEY


def write_dirty_copy(target: Path) -> dict[str, tuple[str, int]]:
    """Copy the Tuva seed to ``target`` with one bad row per rule; returns rule -> (file, row)."""
    target.mkdir(parents=True, exist_ok=True)
    expected: dict[str, tuple[str, int]] = {}
    for name in ("eligibility", "medical_claim", "pharmacy_claim"):
        with open(FIXTURES / "tuva_seed" / f"{name}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
            header = list(rows[0].keys())
        for rule, (file, row, column, value) in CORRUPTIONS.items():
            if file == name:
                rows[row - 1][column] = value
                expected[rule] = (f"{name}.csv", row)
        if name == DUPLICATED[0]:
            rows.append(dict(rows[DUPLICATED[1] - 1]))
            expected["DUPLICATE_KEY"] = (f"{name}.csv", len(rows))
        with open(target / f"{name}.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
    return expected


def copy_seed(target: Path) -> Path:
    shutil.copytree(FIXTURES / "tuva_seed", target)
    return target
