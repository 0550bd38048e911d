"""Intake gives identical canonical tables and quarantine on DuckDB and Spark."""

from __future__ import annotations

from tests.conftest import SETTINGS
from tests.dirty import write_dirty_copy

KEYS = {
    "person": ["person_id"],
    "enrollment": ["person_id", "enrollment_start_date", "source_row"],
    "medical_claim": ["claim_id", "claim_line_number", "source_row"],
    "pharmacy_claim": ["claim_id", "claim_line_number", "source_row"],
    "quarantine": ["source_file", "source_row"],
    "intake_warning": ["source_file", "source_row"],
    "load_file": ["source_file"],
}


def test_dirty_seed_loads_identically(parity, tmp_path):
    folder = tmp_path / "dirty"
    write_dirty_copy(folder)

    def run(ctx):
        ctx.ingest([folder], settings=SETTINGS)
        return {name: ctx.table(name).drop("load_id") if "load_id" in ctx.table(name).columns else ctx.table(name)
                for name in KEYS}

    result = parity(run, KEYS)
    assert len(result["quarantine"]) == 12
    assert len(result["medical_claim"]) > 2000


def test_typed_parquet_loads_identically(parity, tmp_path):
    """Typed Parquet is staged as a view over the file on DuckDB and streamed through Arrow on Spark."""
    from tests.conftest import FIXTURES
    from tests.typed_parquet import write_typed_copy

    folder = tmp_path / "typed"
    for stem in ("eligibility", "medical_claim", "pharmacy_claim"):
        write_typed_copy(FIXTURES / "tuva_seed" / f"{stem}.csv", folder / f"{stem}.parquet", stem)

    tables = {name: KEYS[name] for name in ("person", "enrollment", "medical_claim", "pharmacy_claim")}

    def run(ctx):
        ctx.ingest([folder], settings=SETTINGS)
        return {name: ctx.table(name) for name in tables}

    result = parity(run, tables)
    assert len(result["medical_claim"]) == 2075
