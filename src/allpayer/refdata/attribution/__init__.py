"""Versioned attribution code lists (see ``refdata/README.md``), read as small Arrow tables.

Lists are keyed by a list name (``mssp``) and selected by performance year: a row applies to
``first_year <= year <= last_year`` (an empty ``last_year`` is open-ended). Ranges such as
``99201–99215`` or ``G0442–G0444`` are expanded here, once, on reference rows (never on data rows).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pyarrow as pa

HERE = Path(__file__).resolve().parent
REFDATA = HERE.parent
# COVID-19 public health emergency: March 2020 to May 2023 (month indexes year * 12 + month - 1).
PHE_FIRST_MONTH, PHE_LAST_MONTH = 2020 * 12 + 2, 2023 * 12 + 4


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    with (HERE / name).open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def _in_year(row: dict[str, str], year: int) -> bool:
    return int(row["first_year"]) <= year <= int(row["last_year"] or 9999)


def expand_range(code_from: str, code_to: str) -> list[str]:
    """``99201``–``99203`` → three codes; ``G0442``–``G0444`` keeps the letter prefix."""
    if not code_to:
        return [code_from]
    prefix = code_from.rstrip("0123456789")
    if prefix != code_to.rstrip("0123456789") or len(code_from) != len(code_to):
        raise ValueError(f"bad code range {code_from}-{code_to}")
    width = len(code_from) - len(prefix)
    lo, hi = int(code_from[len(prefix):]), int(code_to[len(prefix):])
    return [f"{prefix}{n:0{width}d}" for n in range(lo, hi + 1)]


def primary_care_codes(year: int, list_name: str = "mssp", window: tuple[int, int] | None = None) -> list[str]:
    """Primary-care HCPCS codes for a performance year; PHE codes count when ``window`` (first, last month
    index) includes a PHE month (42 CFR 425.400(c)(2))."""
    in_phe = window is not None and window[0] <= PHE_LAST_MONTH and window[1] >= PHE_FIRST_MONTH
    codes: set[str] = set()
    for row in _rows("primary_care_hcpcs.csv"):
        if row["list"] != list_name or not _in_year(row, year):
            continue
        if row["phe_only"] == "true" and not in_phe:
            continue
        codes.update(expand_range(row["code_from"], row["code_to"]))
    if not codes:
        raise KeyError(f"no primary-care code list {list_name!r} for {year}")
    return sorted(codes)


def snf_exclusions(year: int, list_name: str = "mssp") -> list[tuple[str, str]]:
    """(HCPCS, place of service) pairs that are not primary care in ``year``."""
    return sorted(
        (code, row["place_of_service_code"])
        for row in _rows("snf_pos_exclusions.csv")
        if row["list"] == list_name and _in_year(row, year)
        for code in expand_range(row["code_from"], row["code_to"])
    )


def specialty_categories(year: int, list_name: str = "mssp") -> dict[str, str]:
    """CMS specialty code → ``pcp``, ``npp`` (NP/PA/CNS) or ``specialist`` (step 2)."""
    out = {r["specialty_code"]: r["category"] for r in _rows("specialty_categories.csv")
           if r["list"] == list_name and _in_year(r, year)}
    if not out:
        raise KeyError(f"no specialty list {list_name!r} for {year}")
    return out


def taxonomy_specialty() -> pa.Table:
    """NUCC taxonomy → CMS specialty code, for roster rows without a specialty code."""
    rows = _rows("nucc_taxonomy_specialty.csv")
    return pa.table({"taxonomy_code": [r["taxonomy_code"] for r in rows],
                     "xwalk_specialty_code": [r["specialty_code"] for r in rows]})


def zip_hsa(name: str = "vt_zip_hsa.csv") -> pa.Table:
    """ZIP → hospital service area (empty if the crosswalk file is absent)."""
    path = REFDATA / name
    if not path.exists():
        return pa.table({"zip5": pa.array([], pa.string()), "hsa": pa.array([], pa.string())})
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return pa.table({"zip5": [r["zip_code"] for r in rows], "hsa": [r["hsa"] for r in rows]})
