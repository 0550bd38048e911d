"""The warehouse: where canonical tables live, on DuckDB (default) or Spark.

A connection string picks the backend:

- ``duckdb`` (default): a DuckDB file ``warehouse.duckdb`` in the workspace, whose tables are views over Parquet
  files in ``warehouse_tables/`` (:mod:`allpayer.table_files`);
- ``duckdb://:memory:``: an in-memory DuckDB;
- ``pyspark`` or ``pyspark://local[2]``: a local Spark session; tables persist as Parquet folders in
  the workspace, listed in ``spark/catalog.json``.

Writes go through :meth:`Warehouse.publish`, which replaces a set of tables all at once or not at all.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
import sqlglot.expressions as sge
from ibis.backends.sql.datatypes import DuckDBType

from allpayer.sql_text import quoted as _quoted
from allpayer.sql_text import sql_text as _sql_text
from allpayer.table_files import FILE_ROW_NUMBER, TableFiles, parquet_view_sql, view_file
from allpayer.text_values import TextValues, enum_type, metadata

if TYPE_CHECKING:
    from allpayer.intake.staging import Source


@dataclass(frozen=True)
class Staged:
    """A staged input: the scratch table, its rows, and the columns no row has a value in; ``source`` when the
    table reads the file where it lies (:meth:`Warehouse.adopt_input` may then publish a copy of the file)."""

    table: ir.Table
    rows: int
    empty_columns: frozenset[str]
    source: Source | None = None

    def lacks(self, column: str) -> bool:
        """No row has a value in ``column``: it is empty, or the file does not have it."""
        return column in self.empty_columns or column not in self.table.columns


Derivation = Callable[[ir.Table], ir.Table]


class Warehouse(ABC):
    """Stored tables, and *derived* tables: computed on read from a stored one (:meth:`derive`)."""

    con: ibis.BaseBackend
    name: str

    def __init__(self) -> None:
        self._derived: dict[str, tuple[str, Derivation]] = {}

    def derive(self, name: str, base: str, rows: Derivation) -> None:
        """Serve ``name`` as ``rows(base)`` wherever the stored table ``base`` exists: a table that is cheap to
        compute from a smaller one and dear to store (member months as month runs). A stored table of that name
        is read only where ``base`` does not exist (a workspace written before)."""
        self._derived[name] = (base, rows)

    def tables(self) -> list[str]:
        stored = self.stored_tables()
        return sorted({*stored, *(name for name, (base, _) in self._derived.items() if base in stored)})

    def table(self, name: str) -> ir.Table:
        base, rows = self._derived.get(name, (None, None))
        if base is not None and base in self.stored_tables():
            return rows(self.stored_table(base))
        return self.stored_table(name)

    def derived_from(self, published: Iterable[str]) -> dict[str, ir.Table]:
        """The derived tables whose base is among ``published``, computed from it."""
        names = set(published)
        return {name: rows(self.stored_table(base)) for name, (base, rows) in self._derived.items() if base in names}

    @abstractmethod
    def stored_tables(self) -> list[str]: ...

    @abstractmethod
    def stored_table(self, name: str) -> ir.Table: ...

    def has(self, name: str) -> bool:
        return name in self.tables()

    def empty_columns(self, name: str) -> frozenset[str]:
        """Columns of the stored table ``name`` that no row has a value in, as far as the warehouse knows without
        reading the rows (none, unless a backend says otherwise)."""
        return frozenset()

    @abstractmethod
    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        """Compute ``expr`` once into a scratch table and return it."""

    @abstractmethod
    def publish(self, tables: Mapping[str, ir.Table]) -> None:
        """Replace the named tables atomically: all of them or none. A scratch table published as it is may be
        adopted rather than copied."""

    @abstractmethod
    def drop_scratch(self) -> None: ...

    @abstractmethod
    def stage(self, name: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Staged:
        """Store streamed rows as a scratch table. An exception raised while producing the batches propagates
        unchanged."""

    def stage_source(self, name: str, source: Source) -> Staged:
        """Stage one source file's rows (see :class:`allpayer.intake.staging.Source`)."""
        return self.stage(name, source.schema, source.batches())

    def adopt_input(self, name: str, staged: Staged, types: Mapping[str, dt.DataType],
                    constants: Mapping[str, object]) -> ir.Table:
        """A scratch table that is a copy of ``staged``'s source file, read as the columns ``types`` (cast from
        the file's columns, or the ``constants``' values), ``source_file`` and ``source_row``: for a file whose
        typed rows would equal its stored values. Only where ``staged.source`` is set."""
        raise NotImplementedError(f"the {self.name} warehouse does not publish input files as they are")

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


# How each kind of DuckDB scratch object is dropped: staged input (TEMP tables and views) and computed scratch
# (TEMP views over Parquet files, deleted with the scratch folder).
_DROP = {"STAGE": "TABLE IF EXISTS temp.main", "VIEW": "VIEW IF EXISTS temp.main", "FILE": "VIEW IF EXISTS temp.main"}
SCRATCH_PREFIX, PUBLISH_PREFIX = "_scratch_", "_publish_"
STAGE_PREFIX = f"{SCRATCH_PREFIX}stage_"


class DuckDBWarehouse(Warehouse):
    """Tables are Parquet files read through views in the database file (:mod:`allpayer.table_files`)."""

    name = "duckdb"

    def __init__(self, path: Path | str, threads: int | None = None) -> None:
        super().__init__()
        self.path = str(path)
        self.con = ibis.duckdb.connect(self.path)
        self.con.raw_sql("SET preserve_insertion_order = false")
        self.con.raw_sql("SET enable_progress_bar = false")  # a bar per query, on the output of a command
        # Stay inside the 2 GB budget of a full run; DuckDB spills to disk beyond it. The process holds about
        # 600 MB more than DuckDB's limit at its peak (Python, Arrow, DuckDB's own overhead): at 1.5 GB, intake
        # and quality at 630k persons peaked at 2.1-2.2 GB; at 1.2 GB every step stays under 1.9 GB, as fast.
        self.con.raw_sql(f"SET memory_limit = '{os.environ.get('ALLPAYER_DUCKDB_MEMORY', '1200MB')}'")
        in_memory = self.path == ":memory:"
        root = Path(tempfile.mkdtemp(prefix="allpayer-")) if in_memory else Path(self.path).resolve().parent
        self._own_root = root if in_memory else None
        self.files = TableFiles(root, "memory" if in_memory else Path(self.path).stem)
        self.con.raw_sql(f"SET file_search_path = {_sql_text(str(root))}")  # views name files relative to it
        self.con.raw_sql(f"SET temp_directory = {_sql_text(str(self.files.spill))}")
        if threads:
            self.con.raw_sql(f"SET threads = {int(threads)}")
        self._scratch: dict[str, str] = {}  # scratch name -> STAGE (TEMP table), VIEW or FILE (TEMP views)
        self._scratch_files: dict[str, Path] = {}
        self._view_columns: dict[Path, dict[str, str]] = {}  # scratch file -> its columns' select items
        self.text_values = TextValues(self.con.con, self._published_files, STAGE_PREFIX)
        self._drop_leftover_scratch()

    def stored_tables(self) -> list[str]:
        return [t for t in self.con.list_tables() if not t.startswith("_")]

    def stored_table(self, name: str) -> ir.Table:
        return self.con.table(name)

    def stage(self, name: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Staged:
        counted = _Counted(batches)
        scratch = f"{STAGE_PREFIX}{name}"
        self._scratch[scratch] = "STAGE"
        reader = pa.RecordBatchReader.from_batches(schema, counted)
        raw = self.con.con
        raw.register("_allpayer_arrow_in", reader)
        try:
            # Scratch tables are TEMP: never written to the database file, spilled only when memory is short.
            raw.execute(f"CREATE OR REPLACE TEMP TABLE {_quoted(scratch)} AS SELECT * FROM _allpayer_arrow_in")
        except Exception:
            counted.reraise()
            raise
        finally:
            raw.unregister("_allpayer_arrow_in")
        counted.reraise()
        return Staged(self.con.table(scratch), counted.rows, counted.empty_columns(schema))

    def stage_source(self, name: str, source: Source) -> Staged:
        """A Parquet file whose text columns are stored as text is staged as a view over the file: DuckDB
        reads it where it lies, in parallel, each time a check needs it, and nothing is copied."""
        if source.format != "parquet" or not source.text_stored_as_text:
            return super().stage_source(name, source)
        scratch = f"{STAGE_PREFIX}{name}"
        self._scratch[scratch] = "VIEW"
        columns = [_staged_column(stored, canonical, kept) for stored, canonical, kept
                   in zip(source.source_columns, source.columns, source.types, strict=True)]
        self.con.raw_sql(
            f'CREATE OR REPLACE TEMP VIEW {_quoted(scratch)} AS SELECT {", ".join(columns)}, '
            f"{_stored_text(source)}"
            f"{_sql_text(source.path.name)} AS source_file, file_row_number + 1 AS source_row "
            f"FROM read_parquet({_sql_text(str(source.path))}, file_row_number = true)")
        return Staged(self.con.table(scratch), pq.ParquetFile(source.path).metadata.num_rows, source.empty_columns(),
                      source)

    def adopt_input(self, name: str, staged: Staged, types: Mapping[str, dt.DataType],
                    constants: Mapping[str, object]) -> ir.Table:
        """The file is copied into scratch (the input may change later; a published table must not) and read
        through a TEMP view that casts its columns; publishing it as it is moves the copy into place. The cast of
        each column is the one intake's parse makes of a value that needs no normalising (:func:`_input_item`)."""
        source = staged.source
        if source is None:
            raise ValueError(f"{name}: the staged input does not read its file in place")
        path = self.files.scratch_file(name)
        shutil.copyfile(source.path, path)
        stored = {canonical: (column, kept) for column, canonical, kept
                  in zip(source.source_columns, source.columns, source.types, strict=True)}
        columns = {c: _constant_item(c, dtype, constants[c]) if c in constants else _input_item(c, dtype, *stored[c])
                   for c, dtype in types.items()}
        columns["source_file"] = f"{_sql_text(source.path.name)} AS source_file"
        columns["source_row"] = f"CAST({FILE_ROW_NUMBER} + 1 AS BIGINT) AS source_row"
        return self._scratch_view(name, path, columns)

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        """A Parquet file in this process's scratch folder, read through a TEMP view: its pages, unlike a TEMP
        table's, never have to be spilled to make room. Publishing it as it is moves the file."""
        path = self.files.scratch_file(name)
        return self._scratch_view(name, path, self._write(expr, path))

    def _scratch_view(self, name: str, path: Path, columns: dict[str, str]) -> ir.Table:
        """Read the scratch file ``path`` as the scratch table ``name`` (its columns' select items), replacing
        the file an earlier one of that name had."""
        scratch = f"{SCRATCH_PREFIX}{name}"
        self._point_view(scratch, path, select_list(columns), temp=True)
        replaced = self._scratch_files.get(scratch)
        self._scratch[scratch], self._scratch_files[scratch] = "FILE", path
        self._view_columns[path] = columns
        if replaced is not None:
            replaced.unlink(missing_ok=True)
            self._view_columns.pop(replaced, None)
            self.text_values.deleted(replaced)
        return self.con.table(scratch)

    def _write(self, expr: ir.Table, path: Path) -> dict[str, str]:
        """Compute ``expr`` into one Parquet file, each column cast to the type Ibis gives it (as Ibis's own
        ``create_table`` does): DuckDB alone would store ``1.0`` as a DECIMAL and a sum of integers as HUGEINT.
        A text column whose few values are known (:mod:`allpayer.text_values`) is cast to an enum of them instead: the
        file holds the same text, written faster.

        Columns that ``expr`` sets to a typed null are not written: DuckDB writes a column of nulls about as
        slowly as a filled one (101 empty claim columns were half of writing 20M claim lines). Returns each
        column's item in a view's select list (:func:`select_list`), which supplies them."""
        self.con._run_pre_execute_hooks(expr)  # registers the memtables it reads, as Ibis's own writers do
        schema = expr.schema()
        nulls = constant_null_columns(expr)
        stored = [c for c in schema if c not in nulls] or list(schema)[:1]  # a file keeps its row count
        values = self.text_values.of_columns(expr, stored)
        columns = ", ".join(_enum_column(column, values[column]) if values.get(column)
                            else _typed_column(column, schema[column]) for column in stored)
        kv = ", ".join(f"{key}: {_sql_text(value)}" for key, value in metadata(values).items())
        self.con.con.execute(f"COPY (SELECT {columns} FROM ({self.con.compile(expr)})) TO {_sql_text(str(path))} "
                             f"(FORMAT parquet, COMPRESSION snappy, KV_METADATA {{{kv}}})")
        self.text_values.written(path, values)
        return {c: _quoted(c) if c in stored else _constant_item(c, dtype, None) for c, dtype in schema.items()}

    def _published_files(self) -> dict[str, Path]:
        return {name: self.files.root / file for name, file in self._view_files().items()}

    def _point_view(self, name: str, path: Path, columns: str, temp: bool) -> None:
        kind = "TEMP VIEW" if temp else "VIEW"
        body = parquet_view_sql(self.files.relative(path), columns)
        self.con.raw_sql(f"CREATE OR REPLACE {kind} {_quoted(name)} AS {body}")
        self.text_values.pointed(name, path, published=not temp)

    def _stored(self) -> dict[str, str]:
        """Name -> TABLE or VIEW for every object in the database file (not TEMP)."""
        rows = self.con.con.execute(
            "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE database_name = current_database() "
            "AND NOT temporary UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() "
            "WHERE database_name = current_database() AND NOT temporary AND NOT internal").fetchall()
        return dict(rows)

    def empty_columns(self, name: str) -> frozenset[str]:
        """The columns that the view of a published table gives as a typed null: intake found no value in them,
        or :meth:`_write` left them out of the file."""
        sql = self._published_views().get(name)
        return null_items(sql) if sql else frozenset()

    def _published_views(self) -> dict[str, str]:
        """Published view -> its SQL."""
        return dict(self.con.con.execute("SELECT view_name, sql FROM duckdb_views() WHERE database_name = "
                                         "current_database() AND NOT temporary AND NOT internal").fetchall())

    def _view_files(self) -> dict[str, str]:
        """Published view -> the file it reads (relative to the workspace)."""
        return {name: file for name, sql in self._published_views().items() if (file := view_file(sql)) is not None}

    def _drop_leftover_scratch(self) -> None:
        """What a killed process left: scratch and half-published tables in the database file (stored there
        before tables became files), its scratch folder, and published files no view reads."""
        for name, kind in self._stored().items():
            if kind == "TABLE" and name.startswith((SCRATCH_PREFIX, PUBLISH_PREFIX)):
                self.con.raw_sql(f"DROP TABLE IF EXISTS main.{_quoted(name)}")
        self.files.remove_dead_scratch()
        self.files.remove_unreferenced(set(self._view_files().values()))

    def publish(self, tables: Mapping[str, ir.Table]) -> None:
        token = uuid.uuid4().hex[:8]
        adopted = self._adoptable(tables)
        written: dict[str, Path] = {}
        columns: dict[str, str] = {}
        try:
            for name in tables:  # copies first: they may read a scratch file about to be adopted
                if name not in adopted:
                    written[name] = self.files.published_file(name, token)
                    columns[name] = select_list(self._write(tables[name], written[name]))
            for name, scratch in adopted.items():
                written[name] = self.files.published_file(name, token)
                file_columns = self._view_columns[self._scratch_files[scratch]]
                columns[name] = select_list({c: file_columns[c] for c in tables[name].columns}, file_columns)
                os.replace(self._scratch_files[scratch], written[name])
                self.text_values.moved(self._scratch_files[scratch], written[name])
            replaced = self._swap_views(written, columns)
        except Exception:
            for path in written.values():
                path.unlink(missing_ok=True)
            for name in tables:  # the views may read what they did before
                self.text_values.pointed(name, published=True)
            raise
        for name, scratch in adopted.items():  # the scratch view reads the file where it now lies
            self._point_view(scratch, written[name], select_list(self._view_columns[self._scratch_files[scratch]]),
                             temp=True)
            self._scratch[scratch] = "VIEW"
            del self._view_columns[self._scratch_files.pop(scratch)]
        for relative in replaced:
            (self.files.root / relative).unlink(missing_ok=True)

    def _swap_views(self, written: Mapping[str, Path], columns: Mapping[str, str]) -> list[str]:
        """Point every published name at its new file, and the tables derived from them at their SQL, in one
        transaction; returns the files they read before."""
        stored, before = self._stored(), self._view_files()
        self.con.raw_sql("BEGIN TRANSACTION")
        try:
            for name, path in written.items():
                if name in stored:
                    self.con.raw_sql(f"DROP {stored[name]} main.{_quoted(name)}")
                self._point_view(name, path, columns[name], temp=False)
            derived = self.derived_from(written)
            for name, expr in derived.items():  # a view of its own, for SQL read from outside the engine
                if name in stored:
                    self.con.raw_sql(f"DROP {stored[name]} main.{_quoted(name)}")
                self.con.raw_sql(f"CREATE VIEW main.{_quoted(name)} AS {self.con.compile(expr)}")
                self.text_values.pointed(name, published=True)
            self.con.raw_sql("COMMIT")
        except Exception:
            self.con.raw_sql("ROLLBACK")
            raise
        return [before[name] for name in [*written, *derived] if name in before]

    def _adoptable(self, tables: Mapping[str, ir.Table]) -> dict[str, str]:
        """Published name -> scratch file, for each expression that is one or some of its columns, unchanged and
        under their own names (each file adopted once): the view of the published name reads those columns."""
        adopted: dict[str, str] = {}
        for name, expr in tables.items():
            scratch = _scratch_read(expr.op())
            if scratch is not None and self._scratch.get(scratch) == "FILE" and scratch not in adopted.values():
                adopted[name] = scratch
        return adopted

    def drop_scratch(self) -> None:
        for scratch, kind in self._scratch.items():
            self.con.raw_sql(f"DROP {_DROP[kind]}.{_quoted(scratch)}")
        self._scratch.clear()
        self.text_values.dropped(SCRATCH_PREFIX, list(self._scratch_files.values()))
        self._scratch_files.clear()
        self._view_columns.clear()
        self.files.drop_scratch()

    def close(self) -> None:
        self.files.drop_scratch()
        self.con.disconnect()
        self.files.remove_spill()
        if self._own_root is not None:
            shutil.rmtree(self._own_root, ignore_errors=True)


def _enum_column(column: str, values: frozenset[str]) -> str:
    return f"CAST({_quoted(column)} AS {enum_type(values)}) AS {_quoted(column)}"


def _typed_column(column: str, dtype: dt.DataType) -> str:
    return f"CAST({_quoted(column)} AS {DuckDBType.to_string(dtype)}) AS {_quoted(column)}"


def select_list(columns: Mapping[str, str], file_columns: Mapping[str, str] | None = None) -> str:
    """A view's select list from its columns' items (:meth:`DuckDBWarehouse._write`): ``*`` when it reads
    every column of the file (``file_columns``, default the same), in order, and supplies none."""
    file_columns = columns if file_columns is None else file_columns
    plain = all(item == _quoted(column) for column, item in file_columns.items())
    return "*" if plain and list(columns) == list(file_columns) else ", ".join(columns.values())


def _scratch_read(op: ops.Node) -> str | None:
    """The table a plain read of stored columns reads (the table itself, or a projection of some of its columns
    under their own names), else None."""
    if isinstance(op, ops.Project):
        parent = op.parent
        plain = all(isinstance(v, ops.Field) and v.rel == parent and v.name == k for k, v in op.values.items())
        op = parent if plain else op
    return op.name if isinstance(op, ops.DatabaseTable) else None


def null_items(view_sql: str) -> frozenset[str]:
    """The columns a view's select list sets to a null literal (cast or not)."""
    select = sqlglot.parse_one(view_sql, read="duckdb").find(sge.Select)
    nulls = set()
    for item in select.expressions if select is not None else ():
        value = item.this if isinstance(item, sge.Alias) else item
        while isinstance(value, sge.Cast):
            value = value.this
        if isinstance(value, sge.Null):
            nulls.add(item.alias_or_name)
    return frozenset(nulls)


def constant_null_columns(expr: ir.Table) -> set[str]:
    """Columns that the last projection of ``expr`` sets to a null literal (cast or not). A projection of a join
    is part of the join's operation in Ibis."""
    op = expr.op()
    if not isinstance(op, ops.Project | ops.JoinChain):
        return set()
    nulls = set()
    for name, value in op.values.items():
        while isinstance(value, ops.Cast):
            value = value.arg
        if isinstance(value, ops.Literal) and value.value is None:
            nulls.add(name)
    return nulls


# Space, tab, LF, VT, FF, CR: what Arrow's utf8_trim_whitespace removes from ASCII text on the streamed path.
_WHITESPACE_SQL = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"
# Trimming with a character list costs ~2.5x a test of the end characters, and few values need it. The first
# character is tested by its code point (ascii), a third of the cost of taking it as a string.
_TRIMMED = "CASE WHEN ascii({c}) <= 32 OR {c}[-1] <= ' ' THEN trim({c}, " + _WHITESPACE_SQL + ") ELSE {c} END"


STORED_TEXT = "_stored_"  # prefix of a staged Parquet text column's value as stored, before staging trims it


def _stored_text(source: Source) -> str:
    """``"<column>" AS "_stored_<canonical>", `` for each text column: the stored value beside the trimmed one,
    read from the same column of the file, for :func:`allpayer.intake.validate.unchanged_copy`."""
    return "".join(f'{_quoted(stored)} AS {_quoted(STORED_TEXT + canonical)}, ' for stored, canonical, kept
                   in zip(source.source_columns, source.columns, source.types, strict=True) if kept == pa.string())


def _input_item(canonical: str, dtype: dt.DataType, stored: str, kept: pa.DataType) -> str:
    """A contract column read from a stored input file, as intake types a value that needs no normalising: text
    as it is, or tried as the type (parse leaves what fails null); other columns cast to the staged type, then
    the contract's."""
    quoted, target = _quoted(stored), DuckDBType.to_string(dtype)
    if kept == pa.string():
        value = quoted if dtype.is_string() else f"TRY_CAST({quoted} AS {target})"
    else:
        value = f"CAST({_staged_value(stored, kept)} AS {target})"
    return f"{value} AS {_quoted(canonical)}"


def _constant_item(canonical: str, dtype: dt.DataType, value: object) -> str:
    literal = "NULL" if value is None else _sql_text(str(value))
    return f"CAST({literal} AS {DuckDBType.to_string(dtype)}) AS {_quoted(canonical)}"


def _staged_value(stored: str, kept: pa.DataType) -> str:
    """A stored column as staging reads it: text trimmed, other columns cast to the type they are kept in."""
    quoted = _quoted(stored)
    return (f"CAST({quoted} AS {DuckDBType.to_string(dt.DataType.from_pyarrow(kept))})" if kept != pa.string()
            else _TRIMMED.format(c=quoted))


def _staged_column(stored: str, canonical: str, kept: pa.DataType) -> str:
    return f"{_staged_value(stored, kept)} AS {_quoted(canonical)}"


def _extra_spark_conf() -> dict[str, str]:
    """``ALLPAYER_SPARK_CONF="key=value,key=value"``: Spark settings on top of the defaults above."""
    pairs = [p for p in os.environ.get("ALLPAYER_SPARK_CONF", "").split(",") if p.strip()]
    return dict(p.strip().split("=", 1) for p in pairs)


class SparkWarehouse(Warehouse):
    name = "pyspark"

    def __init__(self, root: Path, master: str = "local[1]") -> None:
        from pyspark.sql import SparkSession

        super().__init__()
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        builder = (
            SparkSession.builder.master(master)
            .appName("allpayer")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            # Intake checks are wide expressions; generated Java for them exceeds the JVM method limit
            # and Spark would fall back anyway after a slow failed compile.
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.warehouse.dir", str(self.root / "spark-warehouse"))
            .config("spark.driver.memory", os.environ.get("ALLPAYER_SPARK_MEMORY", "2g"))
        )
        for key, value in _extra_spark_conf().items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        self.con = ibis.pyspark.connect(session)
        self._catalog_path = self.root / "catalog.json"
        self._catalog: dict[str, str] = (
            json.loads(self._catalog_path.read_text()) if self._catalog_path.exists() else {}
        )
        for name, path in self._catalog.items():
            self.con.read_parquet(path, table_name=name)
        self._scratch_dir = self.root / "_scratch"

    def stored_tables(self) -> list[str]:
        return sorted(self._catalog)

    def stored_table(self, name: str) -> ir.Table:
        if name not in self._catalog:
            raise KeyError(f"no table {name!r} in the Spark warehouse at {self.root}")
        return self.con.table(name)

    def stage(self, name: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Staged:
        path = self._scratch_dir / f"stage-{name}-{uuid.uuid4().hex[:8]}.parquet"
        counted = _Counted(batches)
        write_parquet(iter(counted), schema, path)
        return Staged(self.con.read_parquet(str(path)), counted.rows, counted.empty_columns(schema))

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        path = self._scratch_dir / f"{name}-{uuid.uuid4().hex[:8]}"
        self.con.to_parquet(expr, path)
        return self.con.read_parquet(str(path))

    def publish(self, tables: Mapping[str, ir.Table]) -> None:
        token = uuid.uuid4().hex[:8]
        written = {}
        for name, expr in tables.items():
            path = self.root / "tables" / name / token
            self.con.to_parquet(expr, path)
            written[name] = str(path)
        catalog = {**self._catalog, **written}
        tmp = self._catalog_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(catalog, indent=2, sort_keys=True))
        os.replace(tmp, self._catalog_path)  # the single atomic step
        old = {self._catalog[n] for n in written if n in self._catalog}
        self._catalog = catalog
        for name, path in written.items():
            self.con.read_parquet(path, table_name=name)
        for path in old:
            shutil.rmtree(path, ignore_errors=True)

    def drop_scratch(self) -> None:
        shutil.rmtree(self._scratch_dir, ignore_errors=True)


def write_parquet(batches: Iterator[pa.RecordBatch], schema: pa.Schema, target: Path) -> None:
    """Stream batches to one Parquet file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(target, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)


class _Counted:
    """Wraps a batch iterator: counts rows and notes the columns that have a value, and keeps an exception raised
    inside it so the caller can re-raise it as it was (an engine reading the stream would otherwise replace it
    with its own)."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self.rows = 0
        self.filled: set[str] = set()
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._batches:
                self.rows += batch.num_rows
                self.filled.update(name for name, column in zip(batch.schema.names, batch.columns, strict=True)
                                   if column.null_count < batch.num_rows)
                yield batch
        except Exception as exc:
            self.error = exc
            raise

    def reraise(self) -> None:
        if self.error is not None:
            raise self.error

    def empty_columns(self, schema: pa.Schema) -> frozenset[str]:
        return frozenset(schema.names) - self.filled


def connect(connection: str, workspace: Path) -> Warehouse:
    """Open the warehouse named by ``connection`` for ``workspace``."""
    scheme, _, rest = connection.partition("://")
    if scheme == "duckdb":
        path = rest or str(workspace / "warehouse.duckdb")
        return DuckDBWarehouse(path)
    if scheme in ("pyspark", "spark"):
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise RuntimeError("the pyspark backend needs the 'spark' extra: pip install 'allpayer[spark]'") from None
        return SparkWarehouse(workspace / "spark", master=rest or "local[1]")
    raise ValueError(f"unknown backend {connection!r}: use 'duckdb' or 'pyspark'")
