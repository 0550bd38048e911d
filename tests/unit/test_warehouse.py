"""Warehouse publishing on every backend: atomic replacement, scratch tables, and kept scratch tables that
publishing adopts (DuckDB renames them; Spark writes them like any other table)."""

from __future__ import annotations

import ibis
import pyarrow as pa


def _tables(wh) -> list[str]:
    """Stored tables, without the memtables Ibis registers for the inputs."""
    return sorted(t for t in wh.tables() if not t.startswith("ibis_"))


def _rows(table: ibis.Table) -> list[dict]:
    return sorted(table.to_pyarrow().to_pylist(), key=lambda r: r["k"])


def test_publish_adopts_kept_scratch_and_copies_the_rest(backend, make_context):
    wh = make_context(backend).warehouse
    source = ibis.memtable(pa.table({"k": [1, 2, 3], "v": ["a", "b", "c"]}))
    kept = wh.materialize_published("months", source)
    other = wh.materialize("lines", source.filter(source.k > 1))
    # The kept table is also read by another published table: both must come out whole.
    wh.publish({"months": kept, "joined": kept.join(other, "k").select("k", "v"), "other": other})
    wh.drop_scratch()
    assert _rows(wh.table("months")) == [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}, {"k": 3, "v": "c"}]
    assert _rows(wh.table("joined")) == [{"k": 2, "v": "b"}, {"k": 3, "v": "c"}]
    assert _tables(wh) == ["joined", "months", "other"]


def test_publish_replaces_and_unpublished_kept_scratch_is_dropped(backend, make_context):
    wh = make_context(backend).warehouse
    wh.publish({"months": ibis.memtable(pa.table({"k": [9], "v": ["old"]}))})
    wh.materialize_published("unused", ibis.memtable(pa.table({"k": [5], "v": ["x"]})))
    kept = wh.materialize_published("months", ibis.memtable(pa.table({"k": [1], "v": ["new"]})))
    wh.publish({"months": kept})
    wh.drop_scratch()
    assert _rows(wh.table("months")) == [{"k": 1, "v": "new"}]
    assert _tables(wh) == ["months"]
    if backend == "duckdb":  # nothing of the scratch is left in the database file
        left = wh.con.raw_sql("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'")
        assert [name for (name,) in left.fetchall()] == ["months"]
