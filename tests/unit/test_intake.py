"""Intake: the Tuva adapter, row checks, quarantine, row accounting and whole-file errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from allpayer.intake.load import LoadReport
from allpayer.intake.staging import FileError
from tests.conftest import FIXTURES, SETTINGS
from tests.dirty import write_dirty_copy


def _load(ctx, path: Path) -> LoadReport:
    return ctx.ingest([path], settings=SETTINGS)


def test_tuva_seed_loads_every_row(make_context):
    ctx = make_context()
    report = _load(ctx, FIXTURES / "tuva_seed")
    assert report.read == 31 + 2075 + 291
    assert report.rejected == 0
    assert report.table_rows == {"person": 10, "enrollment": 31, "medical_claim": 2075, "pharmacy_claim": 291,
                                 "provider": 0}


def test_lineage_points_at_source_rows(make_context):
    ctx = make_context()
    _load(ctx, FIXTURES / "tuva_seed")
    first = ctx.table("medical_claim").order_by("source_row").limit(1).to_pyarrow().to_pylist()[0]
    with open(FIXTURES / "tuva_seed" / "medical_claim.csv", newline="") as handle:
        raw = next(csv.DictReader(handle))
    assert (first["source_file"], first["source_row"]) == ("medical_claim.csv", 1)
    assert first["claim_id"] == raw["claim_id"]
    assert str(first["charge_amount"]) == raw["charge_amount"]


def test_one_bad_row_per_rule_is_quarantined_under_its_code(make_context, tmp_path):
    expected = write_dirty_copy(tmp_path / "dirty")
    ctx = make_context()
    report = _load(ctx, tmp_path / "dirty")
    found = {(r["rule_code"], r["source_file"], r["source_row"])
             for r in ctx.table("quarantine").to_pyarrow().to_pylist()}
    assert found == {(rule, file, row) for rule, (file, row) in expected.items()}
    assert report.rejected_by_rule() == {rule: 1 for rule in expected}
    for count in report.files:
        assert count.accepted + count.rejected == count.read


def test_quarantine_names_field_and_keeps_raw_values(make_context, tmp_path):
    write_dirty_copy(tmp_path / "dirty")
    ctx = make_context()
    _load(ctx, tmp_path / "dirty")
    q = ctx.table("quarantine")
    row = q.filter(q.rule_code == "TYPE_UNPARSABLE").to_pyarrow().to_pylist()[0]
    assert row["field"] == "charge_amount"
    assert "'12.3x'" in row["message"]
    assert '"charge_amount":"12.3x"' in row["raw_values"]
    assert row["severity"] == "reject"


def test_warnings_keep_the_row(make_context):
    ctx = make_context()
    report = _load(ctx, FIXTURES / "tuva_seed")
    assert report.warned_by_rule() == {"PAID_OVER_ALLOWED": 96 + 87}
    assert ctx.table("intake_warning").count().execute() == 96 + 87


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _seed_text(name: str) -> str:
    return (FIXTURES / "tuva_seed" / f"{name}.csv").read_text()


BROKEN = {
    "missing column": (lambda: _seed_text("eligibility").replace("person_id,", "pid,", 1), "missing column person_id"),
    "wrong delimiter": (lambda: _seed_text("eligibility").replace(",", ";"), "wrong delimiter"),
    "bad encoding": (lambda: _seed_text("eligibility").encode().replace(b"white", b"wh\xffte", 1),
                     "not valid UTF-8 text at row 1"),
    "truncated": (lambda: _seed_text("eligibility")[:-120], "truncated or ragged row"),
    "empty": (lambda: "", "empty file"),
    "header only": (lambda: _seed_text("eligibility").splitlines()[0] + "\n", "no data rows"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_is_refused_whole_with_one_line(make_context, tmp_path, case):
    make_text, expected = BROKEN[case]
    folder = tmp_path / "broken"
    _write(folder / "eligibility.csv", make_text())
    _write(folder / "medical_claim.csv", _seed_text("medical_claim"))
    ctx = make_context()
    _load(ctx, FIXTURES / "tuva_seed")
    before = {t: ctx.table(t).count().execute() for t in ctx.tables()}
    with pytest.raises(FileError) as info:
        _load(ctx, folder)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(folder / "eligibility.csv"))
    assert expected in message
    assert {t: ctx.table(t).count().execute() for t in ctx.tables()} == before


def test_truncated_file_names_the_row(tmp_path):
    from allpayer.intake.adapters import TUVA
    from allpayer.intake.staging import open_source

    text = _seed_text("eligibility")
    lines = text.splitlines()
    lines[3] = ",".join(lines[3].split(",")[:10])
    path = _write(tmp_path / "eligibility.csv", "\n".join(lines) + "\n")
    kind = TUVA.kinds[0]
    source = open_source(path, kind.mapping(), kind.required_source_columns())
    with pytest.raises(FileError, match="ragged row 3: expected 39 fields, got 10"):
        list(source.batches())


def test_claims_are_checked_against_this_loads_enrollment(make_context, tmp_path):
    folder = tmp_path / "claims_only"
    header, *spans = _seed_text("eligibility").splitlines()
    _write(folder / "eligibility.csv", "\n".join([header, *(s for s in spans if not s.startswith("10,"))]) + "\n")
    _write(folder / "pharmacy_claim.csv", _seed_text("pharmacy_claim"))
    ctx = make_context()
    report = _load(ctx, folder)
    with open(FIXTURES / "tuva_seed" / "pharmacy_claim.csv", newline="") as handle:
        person_10 = sum(1 for r in csv.DictReader(handle) if r["person_id"] == "10")
    assert person_10 > 0
    assert report.rejected_by_rule() == {"NO_ENROLLMENT": person_10}


def test_canonical_parquet_round_trip(make_context, tmp_path):
    from typer.testing import CliRunner

    from allpayer.cli import app

    first = make_context(name="first")
    _load(first, FIXTURES / "tuva_seed")
    first.close()
    result = CliRunner().invoke(app, ["export", str(tmp_path / "canon"), "--workspace", str(first.workspace)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "canon" / "provider.parquet").exists()  # empty tables are not written
    again = make_context(name="again")
    report = again.ingest([tmp_path / "canon"], adapter="canonical", settings=SETTINGS)
    assert report.rejected == 0
    first = make_context(name="first")
    for name, key in (("person", ["person_id"]), ("enrollment", ["person_id", "enrollment_start_date"]),
                      ("medical_claim", ["claim_id", "claim_line_number"]),
                      ("pharmacy_claim", ["claim_id", "claim_line_number"])):
        cols = [c for c in first.table(name).columns if c not in ("source_file", "source_row")]
        a, b = (ctx.table(name).select(cols).to_pyarrow().sort_by([(k, "ascending") for k in key])
                for ctx in (first, again))
        assert a.equals(b), name


def test_values_are_trimmed_and_blank_is_missing(make_context, tmp_path):
    header, first, *rest = _seed_text("eligibility").splitlines()
    fields = first.split(",")
    fields[3] = "  female "  # gender, padded; must not lose its letter f anywhere
    fields[12] = "   "  # plan: blank counts as missing
    _write(tmp_path / "in" / "eligibility.csv", "\n".join([header, ",".join(fields), *rest]) + "\n")
    ctx = make_context()
    report = _load(ctx, tmp_path / "in")
    assert report.rejected_by_rule() == {"REQUIRED_MISSING": 1}
    q = ctx.table("quarantine").to_pyarrow().to_pylist()[0]
    assert (q["field"], q["source_row"]) == ("plan", 1)
    assert '"sex":"female"' in q["raw_values"]
