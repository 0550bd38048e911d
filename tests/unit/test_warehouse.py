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
    if backend == "duckdb":  # nothing of the scratch is left: one view in the database file, one file
        assert _stored_objects(wh) == [("months", "VIEW")]
        assert [p.name.split("-")[0] for p in _files(wh)] == ["months"]
        assert not wh.files.scratch.exists()


def _stored_objects(wh) -> list[tuple[str, str]]:
    """Tables and views in the database file (not TEMP)."""
    return sorted(wh._stored().items())


def _files(wh) -> list:
    return sorted(wh.files.tables.glob("*.parquet"))


def test_scratch_left_by_a_killed_process_is_dropped_when_the_workspace_opens(tmp_path):
    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.publish({"months": ibis.memtable(pa.table({"k": [1], "v": ["a"]}))})
    wh.materialize("lines", wh.table("months"))
    wh.con.raw_sql('CREATE TABLE "_publish_0badc0de_months" AS SELECT 1 AS k')  # as stored before files
    dead = tmp_path / "tmp" / "scratch-999999999-0badc0de"  # no such process
    dead.mkdir(parents=True)
    (dead / "lines-0badc0de.parquet").write_bytes(b"left")
    dead_spill = tmp_path / "tmp" / "spill-999999999-0badc0de"  # DuckDB's temporary files of a killed query
    dead_spill.mkdir()
    (dead_spill / "duckdb_temp_storage_DEFAULT-0.tmp").write_bytes(b"spilled")
    (tmp_path / "warehouse_tables" / "months-0badc0de.parquet").write_bytes(b"never published")
    wh.con.con.close()  # as a killed process would: no drop_scratch, no publish, no clean-up
    reopened = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    assert _stored_objects(reopened) == [("months", "VIEW")]
    assert len(_files(reopened)) == 1 and not dead.exists() and not dead_spill.exists()
    assert wh.files.scratch.exists()  # this process is alive: its folder is left to it
    spill = reopened.con.con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert spill == str(reopened.files.spill)  # each process spills into its own folder
    assert reopened.files.spill.parent.is_dir()  # DuckDB creates the folder when it spills, but not its parent
    assert _rows(reopened.table("months")) == [{"k": 1, "v": "a"}]
    reopened.close()


def test_a_table_stored_in_the_database_file_is_replaced_by_a_view_over_a_file(tmp_path):
    """Workspaces written before tables became files keep working, and move over table by table."""
    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.con.raw_sql("CREATE TABLE months AS SELECT 1 AS k, 'old' AS v")
    assert _rows(wh.table("months")) == [{"k": 1, "v": "old"}]
    wh.publish({"months": ibis.memtable(pa.table({"k": [2], "v": ["new"]}))})
    assert _stored_objects(wh) == [("months", "VIEW")]
    assert _rows(wh.table("months")) == [{"k": 2, "v": "new"}]
    wh.close()


def test_republishing_deletes_the_replaced_file_and_a_failed_publish_keeps_the_old(tmp_path):
    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.publish({"months": ibis.memtable(pa.table({"k": [1], "v": ["a"]}))})
    first = _files(wh)
    wh.publish({"months": ibis.memtable(pa.table({"k": [2], "v": ["b"]}))})
    assert len(_files(wh)) == 1 and _files(wh) != first
    months = wh.table("months")
    broken = months.mutate(v=months.v.cast("int64"))  # 'b' is not an integer: the write fails
    try:
        wh.publish({"good": months, "months": broken})
    except Exception:
        pass
    else:
        raise AssertionError("publishing an expression that fails must raise")
    assert _rows(wh.table("months")) == [{"k": 2, "v": "b"}]
    assert not wh.has("good") and len(_files(wh)) == 1
    wh.close()


def test_stored_columns_have_the_types_of_the_expression(tmp_path):
    """DuckDB alone would store a float literal as DECIMAL and a sum of integers as HUGEINT (a double in
    Parquet); each column is stored as the type Ibis gives it, as Ibis's ``create_table`` does."""
    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    cents = ibis.memtable(pa.table({"k": [1, 1], "cents": pa.array([2**61, 2**61 + 1], pa.int64())}))
    expr = cents.group_by("k").aggregate(cents=cents.cents.sum(), share=ibis.literal(1.0), day=ibis.date(2019, 1, 1))
    wh.publish({"total": expr})
    assert wh.table("total").schema() == expr.schema()
    assert wh.table("total").to_pyarrow()["cents"].to_pylist() == [2**62 + 1]
    wh.close()


def test_a_workspace_reads_its_tables_from_any_folder_and_after_a_move(tmp_path, monkeypatch):
    """Views name their files relative to the workspace, which the warehouse resolves from its own path."""
    from allpayer.warehouse import DuckDBWarehouse

    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path)
    wh = DuckDBWarehouse("a/warehouse.duckdb")
    wh.publish({"months": ibis.memtable(pa.table({"k": [1], "v": ["a"]}))})
    wh.close()
    (tmp_path / "a").rename(tmp_path / "moved")
    monkeypatch.chdir(tmp_path / "moved" / "warehouse_tables")
    reopened = DuckDBWarehouse(tmp_path / "moved" / "warehouse.duckdb")
    assert _rows(reopened.table("months")) == [{"k": 1, "v": "a"}]
    reopened.close()


def test_columns_of_nulls_are_read_typed_but_not_stored(tmp_path):
    """DuckDB writes a column of nulls about as slowly as a filled one: a column an expression sets to a typed null
    is left out of the file and supplied by the view, in scratch, when adopted, when copied and after reopening."""
    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    source = ibis.memtable(pa.table({"k": [1, 2], "v": ["a", "b"]}))
    expr = source.select("k", day=ibis.null("date"), v=source.v, amount=ibis.null("decimal(18, 2)"))
    kept = wh.materialize("months", expr)
    assert kept.schema() == expr.schema() and kept.columns == ("k", "day", "v", "amount")
    joined = kept.join(source, "k").select("k", "v", note=ibis.null("string"))
    wh.publish({"months": kept, "joined": joined})
    wh.drop_scratch()
    wh.close()
    reopened = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    assert _rows(reopened.table("months")) == [{"k": 1, "day": None, "v": "a", "amount": None},
                                               {"k": 2, "day": None, "v": "b", "amount": None}]
    assert reopened.table("months").schema() == expr.schema()
    assert reopened.table("joined").schema() == joined.schema()
    import pyarrow.parquet as pq

    stored = {name: pq.read_schema(reopened.files.root / file).names for name, file in reopened._view_files().items()}
    assert stored == {"months": ["k", "v"], "joined": ["k", "v"]}
    # What the views give as typed nulls is known without reading rows
    assert reopened.empty_columns("months") == {"day", "amount"}
    assert reopened.empty_columns("joined") == {"note"}
    assert reopened.empty_columns("no_such_table") == frozenset()
    reopened.close()


def test_null_items_of_a_view():
    from allpayer.warehouse import null_items

    sql = ('CREATE VIEW t AS SELECT a AS a, CAST(NULL AS VARCHAR) AS b, CAST(CAST(x AS DATE) AS DATE) AS c, '
           'NULL AS d, \'NULL\' AS e, \'src\' AS f FROM read_parquet(\'f.parquet\')')
    assert null_items(sql) == {"b", "d"}


def test_some_columns_of_a_scratch_file_are_published_by_moving_it(tmp_path):
    """A projection of some of a scratch table's columns, under their own names, is published by moving the file:
    the view reads those columns, in the projection's order, nulls supplied as before; a renamed or computed
    column is a copy."""
    import pyarrow.parquet as pq

    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    source = ibis.memtable(pa.table({"k": [1, 2], "v": ["a", "b"], "verdict": [None, "late"]}))
    checked = wh.materialize("checked", source.mutate(day=ibis.null("date")))
    other = wh.materialize("other", source)
    scratch_file = wh._scratch_files["_scratch_checked"]
    wh.publish({"lines": checked.select("day", "k", "v"), "renamed": other.select("k", w=other.v)})
    wh.drop_scratch()
    files = wh._view_files()
    assert not scratch_file.exists()
    assert pq.read_schema(wh.files.root / files["lines"]).names == ["k", "v", "verdict"]  # the file as written
    assert wh.table("lines").columns == ("day", "k", "v")
    assert wh.table("lines").schema()["day"].is_date()
    assert _rows(wh.table("lines")) == [{"day": None, "k": 1, "v": "a"}, {"day": None, "k": 2, "v": "b"}]
    assert pq.read_schema(wh.files.root / files["renamed"]).names == ["k", "w"]  # a copy
    wh.close()


def test_text_of_a_few_known_values_is_stored_as_plain_text_and_follows_its_sources(tmp_path):
    """A text column whose values come from a small stored table (or literals) is written through an enum of
    them: the file holds plain text, equal to the expression's. What a table was written with is remembered for
    the tables computed from it, and forgotten when its name is pointed at other rows."""
    import pyarrow.parquet as pq

    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.publish({"spans": ibis.memtable(pa.table({"k": [1, 2, 3], "v": ["a", "b", None]}))})
    spans = wh.table("spans")
    typed = spans.select("k", v=ibis.coalesce(spans.v, "other"), kind=ibis.literal("x"))
    months = wh.materialize("months", typed)
    assert wh.text_values._files[wh._scratch_files["_scratch_months"]] == {"v": {"a", "b", "other"}, "kind": {"x"}}
    assert _rows(months) == [{"k": 1, "v": "a", "kind": "x"}, {"k": 2, "v": "b", "kind": "x"},
                             {"k": 3, "v": "other", "kind": "x"}]
    assert pq.read_schema(wh._scratch_files["_scratch_months"]).field("v").type == pa.string()
    # Computed from the scratch table: its values are known without reading it
    assert _values(wh, months.filter(months.k > 1), "v") == {"a", "b", "other"}
    # The name now reads other rows: their values, not the remembered ones
    months = wh.materialize("months", spans.select("k", v=ibis.coalesce(spans.v, "none"), kind=spans.v))
    wh.publish({"spans": ibis.memtable(pa.table({"k": [4], "v": ["c"]}))})
    spans = wh.table("spans")
    joined = months.join(spans, "k", how="outer").select(k=ibis.coalesce(months.k, spans.k), v=spans.v,
                                                         w=months.v)
    wh.publish({"joined": joined})
    assert sorted(wh.table("joined").to_pyarrow().to_pylist(), key=lambda r: r["k"]) == [
        {"k": 1, "v": None, "w": "a"}, {"k": 2, "v": None, "w": "b"}, {"k": 3, "v": None, "w": "none"},
        {"k": 4, "v": "c", "w": None}]
    wh.close()


def test_text_of_many_values_or_from_a_large_table_is_written_as_text(tmp_path, monkeypatch):
    from allpayer import text_values
    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    monkeypatch.setattr(text_values, "ENUM_MAX_VALUES", 2)
    codes = ibis.memtable(pa.table({"k": [1, 2, 3], "v": ["a", "b", "c"], "w": ["a", "a", "b"]}))
    wh.publish({"codes": codes.select("k", v=codes.v.upper(), w=codes.w.upper())})
    codes = wh.table("codes")
    assert _values(wh, codes, "v") is None and _values(wh, codes, "w") == {"A", "B"}
    monkeypatch.setattr(text_values, "ENUM_MAX_SOURCE_ROWS", 2)
    other = ibis.memtable(pa.table({"w": ["a", "b", "a"]}))
    wh.publish({"other": other.select(w=other.w.upper())})  # not traced: its values would have to be read
    assert _values(wh, wh.table("other"), "w") is None
    wh.close()


def _values(wh, table: ibis.Table, column: str) -> frozenset[str] | None:
    from allpayer.text_domain import text_sources

    return wh.text_values.enum_values(text_sources(table, column))


def test_a_published_file_keeps_its_text_values_for_the_next_process(tmp_path, monkeypatch):
    from allpayer.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    spans = ibis.memtable(pa.table({"k": [1, 2, 3], "v": ["a", "b", None]}))
    wh.publish({"spans": spans.select("k", v=ibis.coalesce(spans.v, "it's"), w=spans.v.upper())})
    wh.close()
    reopened = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    read = []
    values = reopened.text_values
    monkeypatch.setattr(values, "_read", lambda table, column: read.append(column) or frozenset({"A", "B"}))
    assert values.stored("spans", "v") == {"a", "b", "it's"} and read == []  # from the file's metadata
    assert values.stored("spans", "w") == {"A", "B"} and read == ['"w"']  # not traced: read
    reopened.close()


def test_a_derived_table_is_computed_from_its_base_and_replaces_a_stored_one(tmp_path):
    """Member months are stored as month runs and served as months (Warehouse.derive): the engine reads the
    expression over the runs, SQL from outside reads a view of the database file, and a month table published
    before is replaced, its file deleted."""
    from allpayer.warehouse import DuckDBWarehouse

    def doubled(runs: ibis.Table) -> ibis.Table:
        return runs.select("k", twice=runs.k * 2)

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.publish({"wide": ibis.memtable(pa.table({"k": [0], "twice": [0]}))})  # as written by an older version
    wh.derive("wide", "narrow", doubled)
    assert not wh.has("narrow") and _rows(wh.table("wide")) == [{"k": 0, "twice": 0}]  # no base yet: stored
    wh.publish({"narrow": ibis.memtable(pa.table({"k": [1, 2]}))})
    assert {"narrow", "wide"} <= set(wh.tables())
    assert _stored_objects(wh) == [("narrow", "VIEW"), ("wide", "VIEW")] and len(_files(wh)) == 1
    assert sorted(r["twice"] for r in _rows(wh.table("wide"))) == [2, 4]
    wh.publish({"narrow": ibis.memtable(pa.table({"k": [5]}))})
    assert _rows(wh.table("wide")) == [{"k": 5, "twice": 10}]
    wh.close()
    reopened = DuckDBWarehouse(tmp_path / "warehouse.duckdb")  # nothing derived registered: the stored view
    assert _rows(reopened.table("wide")) == [{"k": 5, "twice": 10}]
    reopened.close()
