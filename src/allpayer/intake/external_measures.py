"""Load external quality measures (survey and vital statistics: adults with a personal doctor, deaths from
suicide and drug overdose per 100,000) from CSV, with validation. Every error names the file, the row (1-based
data row, header excluded) and the field.

Columns: ``measure_id``, ``year``, ``geography`` (e.g. ``statewide``), ``rate`` (in the measure's unit: a share
0-1 or per 100,000), optional ``numerator`` and ``denominator`` (then ``rate`` may be empty and is computed),
``source``, ``note``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from allpayer.config.quality import UNIT_SCALE, QualitySettings

REQUIRED = ("measure_id", "year", "geography", "rate", "numerator", "denominator", "source")
RELATIVE_TOLERANCE = 0.005  # a given rate may differ from numerator/denominator by rounding only


class ExternalMeasureError(ValueError):
    """An external-measure file that cannot be loaded; one line per problem."""


def _number(text: str, where: str, problems: list[str], integer: bool = False) -> float | int | None:
    if text.strip() == "":
        return None
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        problems.append(f"{where}: not {'an integer' if integer else 'a number'}: {text!r}")
        return None
    if value < 0:
        problems.append(f"{where}: must not be negative: {text!r}")
        return None
    return value


def _row(row: dict[str, str], where: str, settings: QualitySettings, problems: list[str]) -> dict | None:
    before = len(problems)
    mid = (row.get("measure_id") or "").strip()
    known = {m.id: m for m in settings.measures}
    if mid not in known:
        problems.append(f"{where}, field measure_id: unknown measure {mid!r}")
        return None
    m = known[mid]
    if m.source != "external":
        problems.append(f"{where}, field measure_id: {mid!r} is a claims measure, computed from claims")
    year = _number(row["year"], f"{where}, field year", problems, integer=True)
    if year is not None and not 1990 <= int(year) <= 2040:
        problems.append(f"{where}, field year: outside 1990-2040: {year}")
    geography = (row.get("geography") or "").strip()
    if not geography:
        problems.append(f"{where}, field geography: required")
    num = _number(row["numerator"], f"{where}, field numerator", problems)
    den = _number(row["denominator"], f"{where}, field denominator", problems)
    rate = _number(row["rate"], f"{where}, field rate", problems)
    scale = UNIT_SCALE[m.unit]
    if (num is None) != (den is None):
        problems.append(f"{where}, fields numerator/denominator: give both or neither")
    elif num is not None and den is not None:
        if den == 0:
            problems.append(f"{where}, field denominator: must be positive")
        else:
            computed = num / den * scale
            if rate is None:
                rate = computed
            elif abs(rate - computed) > RELATIVE_TOLERANCE * max(abs(computed), 1e-9):
                problems.append(f"{where}, field rate: {rate} does not match numerator/denominator x {scale} "
                                f"= {computed:.4f}")
    if rate is None and num is None:
        problems.append(f"{where}, field rate: required when numerator and denominator are empty")
    if rate is not None and m.unit == "share" and rate > 1:
        problems.append(f"{where}, field rate: {mid!r} is a share between 0 and 1, got {rate}")
    if len(problems) > before:
        return None
    return {"measure_id": mid, "year": int(year), "geography": geography, "numerator": num, "denominator": den,
            "rate": float(rate), "source": (row.get("source") or "").strip()}


def load_external_measures(path: Path | str, settings: QualitySettings) -> pa.Table:
    """Validated rows as an Arrow table (measure_id, year, geography, numerator, denominator, rate, source);
    raises :class:`ExternalMeasureError` listing every problem."""
    path = Path(path)
    if not path.exists():
        raise ExternalMeasureError(f"{path}: no such file")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ExternalMeasureError(f"{path}: header: missing columns {missing}")
        problems: list[str] = []
        rows, seen = [], set()
        for i, raw in enumerate(reader, start=1):
            where = f"{path}: row {i}"
            row = _row(raw, where, settings, problems)
            if row is None:
                continue
            key = (row["measure_id"], row["year"], row["geography"])
            if key in seen:
                problems.append(f"{where}: duplicate measure_id, year and geography {key}")
            seen.add(key)
            rows.append(row)
    if problems:
        raise ExternalMeasureError("\n".join(problems))
    schema = pa.schema([("measure_id", pa.string()), ("year", pa.int64()), ("geography", pa.string()),
                        ("numerator", pa.float64()), ("denominator", pa.float64()), ("rate", pa.float64()),
                        ("source", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)
