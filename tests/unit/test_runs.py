"""Run folders: deterministic files, immutability, listing, prefixes, verification."""

from __future__ import annotations

import json
import random
import tempfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allpayer.runs import canonical_table, list_runs, open_run, write_run

TABLE = pa.table({"program_id": ["b", "a", "a"], "amount": pa.array([Decimal("2.00"), Decimal("1.50"),
                                                                       Decimal("-1.00")], pa.decimal128(18, 2))})


def test_same_rows_in_any_order_give_the_same_bytes(tmp_path: Path):
    one = write_run(tmp_path, "20260101T000000Z-x-2019-a", {"settlement": TABLE}, {"year": 2019})
    shuffled = TABLE.take([2, 0, 1]).replace_schema_metadata({"pandas": "noise"})
    two = write_run(tmp_path, "20260101T000001Z-x-2019-a", {"settlement": shuffled}, {"year": 2019})
    assert (one.path / "settlement.parquet").read_bytes() == (two.path / "settlement.parquet").read_bytes()
    assert one.table("settlement").to_pylist() == canonical_table(TABLE).to_pylist()
    assert one.table("settlement")["program_id"].to_pylist() == ["a", "a", "b"]


def test_runs_are_listed_opened_by_prefix_and_never_overwritten(tmp_path: Path):
    manifest = {"year": 2019, "pack": {"name": "vermont"}, "status": "final", "as_of": "2021-12-31",
                "created_at": "2026-01-01T00:00:00Z"}
    write_run(tmp_path, "20260101T000000Z-vermont-2019-abc", {"settlement": TABLE}, manifest)
    write_run(tmp_path, "20260102T000000Z-vermont-2019-abc", {"settlement": TABLE}, manifest)
    infos = list_runs(tmp_path)
    assert [i.run_id for i in infos] == ["20260101T000000Z-vermont-2019-abc", "20260102T000000Z-vermont-2019-abc"]
    assert (infos[0].pack, infos[0].year, infos[0].status) == ("vermont", 2019, "final")
    run = open_run(tmp_path, "20260102")
    assert run.tables() == ["settlement"] and run.verify() == []
    assert json.loads((run.path / "manifest.json").read_text())["outputs"]["settlement"]["rows"] == 3
    with pytest.raises(KeyError, match="more than one run"):
        open_run(tmp_path, "2026")
    with pytest.raises(KeyError, match="no run"):
        open_run(tmp_path, "1999")
    with pytest.raises(FileExistsError):
        write_run(tmp_path, "20260101T000000Z-vermont-2019-abc", {"settlement": TABLE}, manifest)
    with pytest.raises(KeyError, match="no table 'nope'"):
        run.table("nope")


def test_verify_reports_a_changed_file(tmp_path: Path):
    run = write_run(tmp_path, "r1", {"settlement": TABLE}, {})
    path = run.path / "settlement.parquet"
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"x")
    assert run.verify() == ["settlement"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-10**6, 10**6)), max_size=30),
       seed=st.integers(0, 10**6))
def test_rewriting_shuffled_rows_reproduces_the_bytes(tmp_path: Path, rows, seed):
    table = pa.table({"program_id": pa.array([r[0] for r in rows], pa.string()),
                      "amount": pa.array([Decimal(r[1]).scaleb(-2) for r in rows], pa.decimal128(18, 2))})
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    one = write_run(folder, "r1", {"t": table}, {})
    two = write_run(folder, "r2", {"t": table.take(pa.array(order, pa.int64()))}, {})
    assert (one.path / "t.parquet").read_bytes() == (two.path / "t.parquet").read_bytes()
