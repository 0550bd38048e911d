"""Warehouse publishing on every backend: atomic replacement, and scratch tables that publishing adopts when they
are published as they are (DuckDB renames them; Spark writes them like any other table)."""

from __future__ import annotations

import ibis
import pyarrow as pa


def _tables(wh) -> list[str]:
    """Stored tables, without the memtables Ibis registers for the inputs."""
    return sorted(t for t in wh.tables() if not t.startswith("ibis_"))


def _rows(table: ibis.Table) -> list[dict]:
    return sorted(table.to_pyarrow().to_pylist(), key=lambda r: r["k"])


def test_publish_adopts_scratch_published_as_it_is_and_copies_the_rest(backend, make_context):
    wh = make_context(backend).warehouse
    source = ibis.memtable(pa.table({"k": [1, 2, 3], "v": ["a", "b", "c"]}))
    kept = wh.materialize("months", source)
    other = wh.materialize("lines", source.filter(source.k > 1))
    # The adopted table is also read by another published table: both must come out whole.
    wh.publish({"months": kept, "joined": kept.join(other, "k").select("k", "v"), "other": other,
                "filtered": other.filter(other.k > 2)})
    wh.drop_scratch()
    assert _rows(wh.table("months")) == [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}, {"k": 3, "v": "c"}]
    assert _rows(wh.table("joined")) == [{"k": 2, "v": "b"}, {"k": 3, "v": "c"}]
    assert _rows(wh.table("filtered")) == [{"k": 3, "v": "c"}]
    assert _tables(wh) == ["filtered", "joined", "months", "other"]


def test_publish_replaces_and_unpublished_scratch_is_dropped(backend, make_context):
    wh = make_context(backend).warehouse
    wh.publish({"months": ibis.memtable(pa.table({"k": [9], "v": ["old"]}))})
    wh.materialize("unused", ibis.memtable(pa.table({"k": [5], "v": ["x"]})))
    kept = wh.materialize("months", ibis.memtable(pa.table({"k": [1], "v": ["new"]})))
    wh.publish({"months": kept})
    wh.drop_scratch()
    assert _rows(wh.table("months")) == [{"k": 1, "v": "new"}]
    assert _tables(wh) == ["months"]
    if backend == "duckdb":  # nothing of the scratch is left in the database file
        left = wh.con.raw_sql("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'")
        assert [name for (name,) in left.fetchall()] == ["months"]


def test_scratch_left_by_a_killed_process_is_dropped_when_the_workspace_opens(tmp_path):
    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.publish({"months": ibis.memtable(pa.table({"k": [1], "v": ["a"]}))})
    wh.materialize("lines", wh.table("months"))
    wh.con.raw_sql('CREATE TABLE "_publish_0badc0de_months" AS SELECT 1 AS k')
    wh.close()  # as a killed process would: no drop_scratch, no publish
    reopened = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    left = reopened.con.raw_sql("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'")
    assert sorted(name for (name,) in left.fetchall()) == ["months"]
    reopened.close()
