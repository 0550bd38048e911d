"""The values a DuckDB warehouse knows its tables' text columns take, so it can write a column of few values as an
enum of them (:mod:`allpayer.text_domain` says where a column's values come from).

Values are known from writing a table (and kept for the rest of the process), from the ``allpayer_text_values``
entry of a published file's Parquet metadata (another process wrote it), or by reading a small table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import ibis.expr.types as ir
import pyarrow.parquet as pq

from allpayer.sql_text import quoted, sql_text
from allpayer.text_domain import TextSources, text_sources

# An enum of at most this many values, taken from stored tables of at most this many rows: the values of a larger
# table cost more to find than the enum saves.
ENUM_MAX_VALUES, ENUM_MAX_SOURCE_ROWS = 1000, 2_000_000
METADATA_KEY = "allpayer_text_values"

Values = frozenset[str] | None  # None: not known, or too many


class TextValues:
    """Known values of stored text columns. ``published_files`` gives each published table's file; tables named
    with ``unread_prefix`` (raw input, read once) are never read for their values."""

    def __init__(self, con: duckdb.DuckDBPyConnection, published_files: Callable[[], Mapping[str, Path]],
                 unread_prefix: str) -> None:
        self._con, self._published_files, self._unread_prefix = con, published_files, unread_prefix
        self._files: dict[Path, dict[str, Values]] = {}  # a file this process wrote -> its traced text columns
        self._columns: dict[tuple[str, str], Values] = {}  # (table, column) -> values, once known
        self._metadata_read: set[str] = set()  # published tables whose file's metadata has been read
        self._rows: dict[str, int] = {}  # tables read for values -> their rows
        self._published: Mapping[str, Path] | None = None  # published table -> its file, once looked up

    def of_columns(self, expr: ir.Table, columns: list[str]) -> dict[str, Values]:
        """The values of each of ``columns`` that is text and whose sources are known (None: too many)."""
        schema = expr.schema()
        traced = {c: sources for c in columns if schema[c].is_string() and (sources := text_sources(expr, c))}
        return {c: self.enum_values(sources) for c, sources in traced.items()}

    def enum_values(self, sources: TextSources) -> Values:
        """Every value a column of these sources can take, when there are at most ``ENUM_MAX_VALUES``."""
        values = set(sources.literals)
        for table, column in sorted(sources.columns):
            found = self.stored(table, column)
            if found is None:
                return None
            values |= found
        return frozenset(values) if 0 < len(values) <= ENUM_MAX_VALUES else None

    def stored(self, table: str, column: str) -> Values:
        """The values of a stored column: known from writing it or from its file's metadata, else read from a
        table of at most ``ENUM_MAX_SOURCE_ROWS`` rows."""
        key = (table, column)
        if table.startswith(self._unread_prefix):
            return None
        if key not in self._columns and table not in self._metadata_read:
            self._metadata_read.add(table)
            self._columns.update({(table, c): v for c, v in self._file_metadata(table).items()})
        if key not in self._columns:
            if table not in self._rows:
                self._rows[table] = self._con.execute(f"SELECT count(*) FROM {quoted(table)}").fetchone()[0]
            small = self._rows[table] <= ENUM_MAX_SOURCE_ROWS
            self._columns[key] = self._read(quoted(table), quoted(column)) if small else None
        return self._columns[key]

    def _file_metadata(self, table: str) -> dict[str, Values]:
        if self._published is None:
            self._published = self._published_files()
        file = self._published.get(table)
        if file is None:
            return {}
        metadata = pq.read_metadata(file).metadata or {}  # the footer alone
        stored = json.loads(metadata.get(METADATA_KEY.encode(), b"{}"))
        return {c: None if v is None else frozenset(v) for c, v in stored.items()}

    def _read(self, table: str, column: str) -> Values:
        rows = self._con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL "
                                 f"LIMIT {ENUM_MAX_VALUES + 1}").fetchall()
        return frozenset(r[0] for r in rows) if len(rows) <= ENUM_MAX_VALUES else None

    # ---------------------------------------------------------------- what the warehouse did

    def written(self, path: Path, values: dict[str, Values]) -> None:
        self._files[path] = values

    def moved(self, old: Path, new: Path) -> None:
        self._files[new] = self._files.pop(old, {})

    def deleted(self, path: Path) -> None:
        self._files.pop(path, None)

    def pointed(self, table: str, path: Path | None = None, published: bool = False) -> None:
        """``table`` now reads something else: the file ``path``, if known."""
        for key in [k for k in self._columns if k[0] == table]:
            del self._columns[key]
        self._metadata_read.discard(table)
        self._rows.pop(table, None)
        if published:
            self._published = None
        for column, values in self._files.get(path, {}).items() if path is not None else ():
            self._columns[(table, column)] = values

    def dropped(self, prefix: str, paths: list[Path]) -> None:
        """The tables named with ``prefix`` and the files ``paths`` are gone."""
        for path in paths:
            self._files.pop(path, None)
        self._columns = {k: v for k, v in self._columns.items() if not k[0].startswith(prefix)}


def metadata(values: Mapping[str, Values]) -> dict[str, str]:
    """A written file's Parquet metadata entry: its traced text columns' values."""
    return {METADATA_KEY: json.dumps({c: sorted(v) if v else None for c, v in values.items()}, sort_keys=True)}


def enum_type(values: frozenset[str]) -> str:
    return "ENUM(" + ", ".join(sql_text(v) for v in sorted(values)) + ")"
