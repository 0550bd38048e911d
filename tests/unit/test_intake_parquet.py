"""Intake of typed Parquet: columns already stored in the contract's type skip the text round trip (and on
DuckDB the file is read where it lies), yet load exactly as the same data in CSV and are still checked."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from allpayer.intake.adapters import TUVA
from allpayer.intake.contract import TABLES
from allpayer.intake.staging import open_source
from tests.conftest import FIXTURES, SETTINGS
from tests.typed_parquet import read_text, typed, write_typed_copy

STEMS = ("eligibility", "medical_claim", "pharmacy_claim")
KEYS = {"person": ["person_id"], "enrollment": ["person_id", "enrollment_start_date", "source_row"],
        "medical_claim": ["claim_id", "claim_line_number"], "pharmacy_claim": ["claim_id", "claim_line_number"]}


def _rows(ctx, name: str) -> list[dict]:
    table = ctx.table(name).drop("source_file").to_pyarrow()
    return table.sort_by([(k, "ascending") for k in KEYS[name]]).to_pylist()


def test_typed_columns_are_kept_and_text_stays_text(tmp_path):
    path = tmp_path / "medical_claim.parquet"
    write_typed_copy(FIXTURES / "tuva_seed" / "medical_claim.csv", path, "medical_claim")
    kind = next(k for k in TUVA.kinds if k.stem == "medical_claim")
    source = open_source(path, kind.mapping(), kind.required_source_columns(), kind.kinds())
    kept = dict(zip(source.columns, source.types, strict=True))
    assert kept["claim_start_date"] == pa.date32()
    assert kept["paid_amount"] == pa.decimal128(18, 2)  # stored as decimal(12, 2): widened exactly
    assert kept["claim_line_number"] == pa.int64()
    assert kept["in_network_flag"] == pa.bool_()
    assert kept["service_unit_quantity"] == pa.decimal128(18, 4)
    assert kept["claim_id"] == pa.string()
    assert source.text_stored_as_text


def test_typed_parquet_loads_exactly_like_the_csv(make_context, tmp_path):
    """Same rows, values and source rows from the seed as CSV and as typed Parquet, with padded text in the
    Parquet copy trimmed as the CSV path trims it."""
    folder = tmp_path / "typed"
    for stem in STEMS:
        table = typed(read_text(FIXTURES / "tuva_seed" / f"{stem}.csv"), stem)
        padded = pc.binary_join_element_wise(" ", table["person_id"], "\t", "")  # " 10\t"
        table = table.set_column(table.column_names.index("person_id"), "person_id", padded)
        folder.mkdir(exist_ok=True)
        pq.write_table(table, folder / f"{stem}.parquet", row_group_size=500)  # several row groups
    from_csv, from_parquet = make_context(name="csv"), make_context(name="parquet")
    csv_report = from_csv.ingest([FIXTURES / "tuva_seed"], settings=SETTINGS)
    parquet_report = from_parquet.ingest([folder], settings=SETTINGS)
    assert (parquet_report.read, parquet_report.rejected) == (csv_report.read, csv_report.rejected) == (2397, 0)
    for name in KEYS:
        assert _rows(from_parquet, name) == _rows(from_csv, name), name


def test_typed_values_are_still_checked(make_context, tmp_path):
    """A typed file cannot hold unparsable values, but its values can still break rules."""
    table = typed(read_text(FIXTURES / "tuva_seed" / "pharmacy_claim.csv"), "pharmacy_claim")
    paid = table["paid_amount"].to_pylist()
    paid[0] = Decimal("-5.00")
    dispensed = table["dispensing_date"].to_pylist()
    dispensed[1] = dt.date(1850, 1, 1)
    table = table.set_column(table.column_names.index("paid_amount"), "paid_amount",
                             pa.array(paid, pa.decimal128(12, 2)))
    table = table.set_column(table.column_names.index("dispensing_date"), "dispensing_date",
                             pa.array(dispensed, pa.date32()))
    folder = tmp_path / "checked"
    folder.mkdir()
    pq.write_table(table, folder / "pharmacy_claim.parquet")
    write_typed_copy(FIXTURES / "tuva_seed" / "eligibility.csv", folder / "eligibility.parquet", "eligibility")
    ctx = make_context()
    report = ctx.ingest([folder], settings=SETTINGS)
    assert report.accepted + report.rejected == report.read
    found = {r["source_row"]: r for r in ctx.table("quarantine").to_pyarrow().to_pylist()}
    assert sorted(found) == [1, 2]
    assert (found[1]["rule_code"], found[1]["field"]) == ("AMOUNT_IMPOSSIBLE", "paid_amount")
    assert json.loads(found[1]["raw_values"])["paid_amount"] == "-5.00"
    assert (found[2]["rule_code"], found[2]["field"]) == ("DATE_OUT_OF_RANGE", "dispensing_date")
    assert "'1850-01-01'" in found[2]["message"]


def test_csv_and_typed_parquet_files_of_one_input_load_together(make_context, tmp_path):
    """Two files of one input, one text and one typed: the differing columns are checked as text."""
    lines = (FIXTURES / "tuva_seed" / "medical_claim.csv").read_text().splitlines(keepends=True)
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "medical_claim_a.csv").write_text("".join(lines[:1001]))
    (tmp_path / "second.csv").write_text("".join([lines[0], *lines[1001:]]))
    write_typed_copy(tmp_path / "second.csv", folder / "medical_claim_b.parquet", "medical_claim")
    write_typed_copy(FIXTURES / "tuva_seed" / "eligibility.csv", folder / "eligibility.parquet", "eligibility")
    mixed, plain = make_context(name="mixed"), make_context(name="plain")
    report = mixed.ingest([folder], settings=SETTINGS)
    plain.ingest([FIXTURES / "tuva_seed"], settings=SETTINGS)
    assert (report.read, report.rejected) == (31 + 2075, 0)
    without_row = [{k: v for k, v in r.items() if k != "source_row"} for r in _rows(plain, "medical_claim")]
    assert [{k: v for k, v in r.items() if k != "source_row"} for r in _rows(mixed, "medical_claim")] == without_row
    files = mixed.table("medical_claim").group_by("source_file").aggregate(
        n=lambda t: t.count(), last=lambda t: t.source_row.max()).to_pyarrow().to_pylist()
    assert sorted((f["source_file"], f["n"], f["last"]) for f in files) == [
        ("medical_claim_a.csv", 1000, 1000), ("medical_claim_b.parquet", 1075, 1075)]


def _stored_columns(ctx, name: str) -> list[str]:
    """The columns DuckDB's file for a published table stores."""
    wh = ctx.warehouse
    return pq.read_schema(wh.files.root / wh._view_files()[name]).names


def test_columns_no_file_fills_are_read_as_typed_nulls_and_not_stored(make_context, tmp_path):
    """The seed leaves procedure codes empty in every row, and here admission dates too. Loaded from a CSV and a
    typed Parquet file, the published table still has them, typed and null, but DuckDB's file does not store them
    (writing columns of nulls was half of writing the 630k claim lines). A column filled in one file only is stored;
    an empty column with a default (claim_status) is stored with its default."""
    seed = read_text(FIXTURES / "tuva_seed" / "medical_claim.csv")
    blank = pa.nulls(seed.num_rows, pa.string())
    seed = seed.append_column("claim_status", blank)
    seed = seed.set_column(seed.column_names.index("admission_date"), "admission_date", blank)
    first, second = seed.slice(0, 1000), seed.slice(1000)
    paid = pa.array(["2019-03-01"] * first.num_rows)
    first = first.set_column(first.column_names.index("paid_date"), "paid_date", paid)
    folder = tmp_path / "split"
    folder.mkdir()
    pacsv.write_csv(first, folder / "medical_claim_a.csv")
    pq.write_table(typed(second, "medical_claim"), folder / "medical_claim_b.parquet")
    write_typed_copy(FIXTURES / "tuva_seed" / "eligibility.csv", folder / "eligibility.parquet", "eligibility")
    ctx = make_context()
    assert ctx.ingest([folder], settings=SETTINGS).rejected == 0

    claims = ctx.table("medical_claim")
    assert claims.schema()["procedure_code_1"].is_string() and claims.schema()["admission_date"].is_date()
    counts = claims.aggregate(codes=claims.procedure_code_1.count(), dates=claims.admission_date.count(),
                              paid=claims.paid_date.count(), original=(claims.claim_status == "original").sum(),
                              rows=claims.count()).to_pyarrow().to_pylist()[0]
    assert counts == {"codes": 0, "dates": 0, "paid": 1000, "original": 2075, "rows": 2075}
    stored = _stored_columns(ctx, "medical_claim")
    assert {"paid_date", "claim_status", "claim_id"} <= set(stored)
    assert not {"procedure_code_1", "admission_date", "diagnosis_code_25"} & set(stored)


def test_checked_lines_are_published_as_typed_without_their_verdicts(make_context, tmp_path):
    """Claims are checked and typed in one pass. With nothing rejected, the published table is those rows as they
    were written, whose file also holds the verdicts: the table shows the contract's columns only. With a line
    rejected, the rest are written again, still without the columns no file fills."""
    seed = read_text(FIXTURES / "tuva_seed" / "medical_claim.csv")
    contract = [c.name for c in TABLES["medical_claim"].columns] + ["source_file", "source_row"]

    clean = tmp_path / "clean"
    clean.mkdir()
    pacsv.write_csv(seed, clean / "medical_claim.csv")
    write_typed_copy(FIXTURES / "tuva_seed" / "eligibility.csv", clean / "eligibility.parquet", "eligibility")
    ctx = make_context()
    assert ctx.ingest([clean], settings=SETTINGS).rejected == 0
    assert ctx.table("medical_claim").columns == tuple(contract)
    assert {"rule_code", "warn_code"} <= set(_stored_columns(ctx, "medical_claim"))
    clean_rows = ctx.table("medical_claim").count().execute()

    dirty = tmp_path / "dirty"
    dirty.mkdir()
    amounts = seed["paid_amount"].to_pylist()
    amounts[0] = "-5.00"  # a negative amount on an original claim line: rejected
    pacsv.write_csv(seed.set_column(seed.column_names.index("paid_amount"), "paid_amount", pa.array(amounts)),
                    dirty / "medical_claim.csv")
    write_typed_copy(FIXTURES / "tuva_seed" / "eligibility.csv", dirty / "eligibility.parquet", "eligibility")
    ctx = make_context()
    report = ctx.ingest([dirty], settings=SETTINGS)
    assert report.rejected == 1 and report.rejected_by_rule() == {"AMOUNT_IMPOSSIBLE": 1}
    claims = ctx.table("medical_claim")
    assert claims.columns == tuple(contract)
    assert claims.count().execute() == clean_rows - 1
    assert claims.filter(claims.source_row == 1).count().execute() == 0  # the first data row was the bad one
    stored = set(_stored_columns(ctx, "medical_claim"))
    assert "paid_amount" in stored and not {"procedure_code_1", "rule_code", "warn_code"} & stored


def _typed_seed(folder, change=None):
    """Typed Parquet copies of the seed's claims and eligibility in ``folder``; ``change(stem, table)`` may edit
    a table first."""
    folder.mkdir()
    for stem in STEMS:
        table = typed(read_text(FIXTURES / "tuva_seed" / f"{stem}.csv"), stem)
        pq.write_table(change(stem, table) if change else table, folder / f"{stem}.parquet", row_group_size=500)


def test_an_unchanged_parquet_file_is_published_as_a_copy(make_context, tmp_path):
    """A Parquet claims file that no rule rejects, no warning flags and parsing would not change is checked by
    counting, and published as a copy of itself read with casts: the same rows, values and source rows as the
    seed loaded from CSV (written typed). The stored file is the input's (every input column, no verdicts); the
    claim status the file lacks is its default. Warnings are reported as from written rows."""
    folder = tmp_path / "typed"
    _typed_seed(folder)
    copied, written = make_context(name="copied"), make_context(name="written")
    report = copied.ingest([folder], settings=SETTINGS)
    assert (report.read, report.rejected) == (2397, 0)
    written.ingest([FIXTURES / "tuva_seed"], settings=SETTINGS)
    for name in ("medical_claim", "pharmacy_claim"):
        assert _stored_columns(copied, name) == pq.read_schema(folder / f"{name}.parquet").names
        assert _rows(copied, name) == _rows(written, name), name
        assert copied.table(name).schema() == written.table(name).schema()
        files = copied.table(name).source_file.value_counts().to_pyarrow().to_pylist()
        assert [f["source_file"] for f in files] == [f"{name}.parquet"]
    # The seed's paid-over-allowed warnings are found by the counting pass too.
    assert report.warned_by_rule() == {"PAID_OVER_ALLOWED": 183}

    def warnings(ctx):
        rows = ctx.table("intake_warning").to_pyarrow().to_pylist()
        return sorted((r["source_file"].split(".")[0], r["source_row"], r["rule_code"], r["field"]) for r in rows)

    assert warnings(copied) == warnings(written) and len(warnings(copied)) == 183
    claims = copied.table("medical_claim")
    assert claims.filter(claims.claim_status != "original").count().execute() == 0
    # The copy is the workspace's own: the input may change or go.
    (folder / "medical_claim.parquet").unlink()
    assert claims.count().execute() == 2075


def test_a_parquet_file_that_parsing_changes_is_written_typed(make_context, tmp_path):
    """One value intake normalises (a lower-case diagnosis code with a dot), or one with a trailing space, and the
    file is typed and written as before: the published values are the normalised ones."""
    def lower_code(stem: str, table: pa.Table) -> pa.Table:
        if stem != "medical_claim":
            return table
        codes = table["diagnosis_code_1"].to_pylist()
        codes[0] = "e11.9"
        return table.set_column(table.column_names.index("diagnosis_code_1"), "diagnosis_code_1", pa.array(codes))

    def padded_id(stem: str, table: pa.Table) -> pa.Table:
        if stem != "pharmacy_claim":
            return table
        ids = table["claim_id"].to_pylist()
        ids[0] = ids[0] + " "
        return table.set_column(table.column_names.index("claim_id"), "claim_id", pa.array(ids))

    for name, change in (("medical_claim", lower_code), ("pharmacy_claim", padded_id)):
        folder = tmp_path / name
        _typed_seed(folder, change)
        ctx = make_context(name=name)
        assert ctx.ingest([folder], settings=SETTINGS).rejected == 0
        assert {"rule_code", "warn_code"} <= set(_stored_columns(ctx, name))  # written, not copied
        first = ctx.table(name).filter(ibis._.source_row == 1).to_pyarrow().to_pylist()[0]
        if name == "medical_claim":
            assert first["diagnosis_code_1"] == "E119"
        else:
            assert not first["claim_id"].endswith(" ")


def test_a_copied_parquet_file_still_has_its_repeated_keys_rejected(make_context, tmp_path):
    """A line repeated in an otherwise unchanged file: the copy is checked for repeated keys like written rows,
    and the later line is quarantined; the rest are published."""
    def repeat_first(stem: str, table: pa.Table) -> pa.Table:
        return pa.concat_tables([table, table.slice(0, 1)]) if stem == "medical_claim" else table

    folder = tmp_path / "repeated"
    _typed_seed(folder, repeat_first)
    ctx = make_context()
    report = ctx.ingest([folder], settings=SETTINGS)
    assert (report.read, report.rejected) == (2398, 1)
    assert report.accepted + report.rejected == report.read
    bad = ctx.table("quarantine").to_pyarrow().to_pylist()
    assert [(r["source_file"], r["source_row"]) for r in bad] == [("medical_claim.parquet", 2076)]
    assert ctx.table("medical_claim").count().execute() == 2075


def test_a_parquet_file_of_text_loads_like_the_csv_either_way(make_context, tmp_path):
    """Claims stored as text in Parquet (dates, amounts and flags too): whether counting finds every value
    unchanged and the copy is read with tried casts, or not, the published rows equal the CSV's."""
    folder = tmp_path / "text"
    folder.mkdir()
    for stem in STEMS:
        pq.write_table(read_text(FIXTURES / "tuva_seed" / f"{stem}.csv"), folder / f"{stem}.parquet")
    as_text, from_csv = make_context(name="text"), make_context(name="csv")
    assert as_text.ingest([folder], settings=SETTINGS).rejected == 0
    from_csv.ingest([FIXTURES / "tuva_seed"], settings=SETTINGS)
    for name in ("medical_claim", "pharmacy_claim"):
        assert _rows(as_text, name) == _rows(from_csv, name), name
        assert as_text.table(name).schema() == from_csv.table(name).schema()
