"""Versioned quality value sets (``value_sets.csv``, see ``refdata/README.md``), read as a small Arrow table.

A row names a value set, a code system (``hcpcs``, ``icd10cm``, ``revenue``, ``pos``, ``bill_type``, ``ndc``),
a code or a range (``code_from``–``code_to``, expanded here on reference rows only), ``exact`` or ``prefix``
matching, and the years it applies to (``first_year <= year <= last_year``; empty ``last_year`` is open-ended).
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

import pyarrow as pa

HERE = Path(__file__).resolve().parent
SYSTEMS = ("hcpcs", "icd10cm", "revenue", "pos", "bill_type", "ndc")
_CODE = re.compile(r"^([A-Z]*)(\d*)([A-Z]*)$")


def expand(code_from: str, code_to: str) -> list[str]:
    """``99202``–``99205``, ``F20``–``F48``, ``3074F``–``3075F``, ``0450``–``0459``: every code in between,
    keeping letters before and after the number."""
    if not code_to:
        return [code_from]
    a, b = _CODE.match(code_from), _CODE.match(code_to)
    if not (a and b) or a[1] != b[1] or a[3] != b[3] or len(a[2]) != len(b[2]) or not a[2]:
        raise ValueError(f"bad code range {code_from}-{code_to}")
    lo, hi = int(a[2]), int(b[2])
    if lo > hi:
        raise ValueError(f"bad code range {code_from}-{code_to}: descending")
    return [f"{a[1]}{n:0{len(a[2])}d}{a[3]}" for n in range(lo, hi + 1)]


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    path = HERE / name
    with path.open(encoding="utf-8", newline="") as f:
        rows = tuple(csv.DictReader(f))
    for i, row in enumerate(rows, start=2):
        if row["system"] not in SYSTEMS or row["match"] not in ("exact", "prefix"):
            raise ValueError(f"{path} line {i}: system must be one of {SYSTEMS} and match exact or prefix")
    return rows


def value_sets(name: str = "value_sets.csv", year: int | None = None) -> pa.Table:
    """(value_set, system, code, match, prefix_length, first_year, last_year) with ranges expanded; only rows in
    force in ``year`` when given. Codes are upper-case without dots."""
    out: dict[str, list] = {k: [] for k in ("value_set", "system", "code", "match", "prefix_length", "first_year",
                                            "last_year")}
    for row in _rows(name):
        first, last = int(row["first_year"]), int(row["last_year"] or 9999)
        if year is not None and not first <= year <= last:
            continue
        for code in expand(row["code_from"].upper().replace(".", ""), row["code_to"].upper().replace(".", "")):
            out["value_set"].append(row["value_set"])
            out["system"].append(row["system"])
            out["code"].append(code)
            out["match"].append(row["match"])
            out["prefix_length"].append(len(code) if row["match"] == "prefix" else 0)
            out["first_year"].append(first)
            out["last_year"].append(last)
    return pa.table({k: pa.array(v, pa.int64() if k in ("prefix_length", "first_year", "last_year") else pa.string())
                     for k, v in out.items()})
