"""Staging: the only place intake reads source files.

A file that is malformed as a whole is refused here with one :class:`FileError` line naming the file and
the problem, before anything is published. Rows stream out as strings with ``source_file`` and
``source_row`` (1-based data record, header excluded); the warehouse stores them as scratch tables.

Parquet columns whose type already is the contract's (a date column stored as a date, an amount as a decimal
with at most the contract's scale ...) keep that type: they cannot fail to parse, so they skip the string
round trip. Every other column arrives as a string.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from allpayer.intake.contract import Kind

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_OTHER_DELIMITERS = ("|", ";", "\t")
_BLOCK_SIZE = 16 << 20


class FileError(Exception):
    """A source file that cannot be loaded at all."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Source:
    """A source file whose header passed; ``batches()`` streams its rows as trimmed strings (empty ->
    null) under canonical names, with ``source_file`` and ``source_row`` appended. Trimming happens here,
    in Arrow, because Ibis's ``strip`` compiles to a Spark trim that also eats the letter f."""

    path: Path
    format: str
    source_columns: tuple[str, ...]
    columns: tuple[str, ...]
    types: tuple[pa.DataType, ...]  # per column: pa.string(), or the contract type it is already stored in
    stored_types: tuple[pa.DataType, ...]  # per column, as the file stores it

    @property
    def text_stored_as_text(self) -> bool:
        """Every column staged as a string is stored as one, so staging it is a trim, not a conversion."""
        return all(pa.types.is_string(s) or pa.types.is_large_string(s)
                   for s, t in zip(self.stored_types, self.types, strict=True) if t == pa.string())

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([*zip(self.columns, self.types, strict=True),
                          ("source_file", pa.string()), ("source_row", pa.int64())])

    def empty_columns(self) -> frozenset[str]:
        """Canonical columns a Parquet file's statistics show to hold no value (every row null in every row
        group); none for a CSV file, whose columns are known only once read."""
        if self.format != "parquet":
            return frozenset()
        metadata = pq.ParquetFile(self.path).metadata
        positions = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
        return frozenset(canonical for stored, canonical in zip(self.source_columns, self.columns, strict=True)
                         if stored in positions and _all_null(metadata, positions[stored]))

    def batches(self) -> Iterator[pa.RecordBatch]:
        raw = (_csv_batches(self.path, list(self.source_columns)) if self.format == "csv"
               else _parquet_batches(self.path, list(self.source_columns), self.types))
        rows = 0
        for batch in raw:
            if batch.num_rows == 0:
                continue
            arrays = [pc.utf8_trim_whitespace(column) if column.type == pa.string() else column
                      for column in batch.columns]
            arrays.append(pa.repeat(pa.scalar(self.path.name, pa.string()), batch.num_rows))
            arrays.append(pa.array(np.arange(rows + 1, rows + batch.num_rows + 1, dtype=np.int64)))
            yield pa.RecordBatch.from_arrays(arrays, schema=self.schema)
            rows += batch.num_rows


def file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    raise FileError(path, f"unknown file type {path.suffix!r} (expected .csv or .parquet)")


def open_source(source: Path, mapping: Mapping[str, str], required: set[str],
                kinds: Mapping[str, Kind] | None = None) -> Source:
    """Check that ``source`` can be read and has the ``required`` source columns; ``mapping`` renames
    source columns to canonical ones, ``kinds`` gives each canonical column's contract kind. Optional columns
    may be absent."""
    if not source.exists():
        raise FileError(source, "file not found")
    if source.stat().st_size == 0:
        raise FileError(source, "empty file (0 bytes)")
    fmt = file_format(source)
    stored = {c: pa.string() for c in _csv_header(source)} if fmt == "csv" else _parquet_types(source)
    missing = sorted(required - set(stored))
    if missing:
        raise FileError(source, _missing_message(missing, list(stored)))
    present = tuple(c for c in mapping if c in stored)
    columns = tuple(mapping[c] for c in present)
    kinds = kinds or {}
    types = tuple(_kept_type(stored[s], kinds.get(c, Kind.STRING)) for s, c in zip(present, columns, strict=True))
    return Source(source, fmt, present, columns, types, tuple(stored[s] for s in present))


def _all_null(metadata: pq.FileMetaData, column: int) -> bool:
    """Every row group's statistics count as many nulls as rows (no statistics: not known to be null)."""
    for group in range(metadata.num_row_groups):
        chunk = metadata.row_group(group)
        statistics = chunk.column(column).statistics
        if statistics is None or not statistics.has_null_count or statistics.null_count != chunk.num_rows:
            return False
    return True


def _parquet_types(path: Path) -> dict[str, pa.DataType]:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileError(path, f"unreadable Parquet ({str(exc).splitlines()[0]})") from None
    return {f.name: f.type for f in schema}


# Largest integer digits and scale a stored decimal may have to be kept as the contract's decimal.
_DECIMAL_LIMITS = {Kind.MONEY: (16, 2), Kind.DECIMAL: (14, 4)}
_CONTRACT_ARROW = {Kind.DATE: pa.date32(), Kind.INTEGER: pa.int64(), Kind.BOOLEAN: pa.bool_(),
                   Kind.MONEY: pa.decimal128(18, 2), Kind.DECIMAL: pa.decimal128(18, 4)}


def _kept_type(stored: pa.DataType, kind: Kind) -> pa.DataType:
    """The contract's Arrow type when ``stored`` converts to it exactly, else string (checked as text)."""
    keep = False
    if kind is Kind.DATE:
        keep = pa.types.is_date(stored)
    elif kind is Kind.BOOLEAN:
        keep = pa.types.is_boolean(stored)
    elif kind is Kind.INTEGER:
        keep = pa.types.is_signed_integer(stored)
    elif kind in _DECIMAL_LIMITS:
        digits, scale = _DECIMAL_LIMITS[kind]
        keep = (pa.types.is_integer(stored) and stored.bit_width <= 32) or (
            pa.types.is_decimal(stored) and stored.scale <= scale and stored.precision - stored.scale <= digits)
    return _CONTRACT_ARROW[kind] if keep else pa.string()


def _missing_message(missing: list[str], header: list[str]) -> str:
    if len(header) == 1:
        for delim in _OTHER_DELIMITERS:
            if delim in header[0]:
                return f"wrong delimiter: header is split by {delim!r}, expected ','"
    return "missing column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing)


def _csv_header(path: Path) -> list[str]:
    opener = __import__("gzip").open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(path, f"header is not valid UTF-8 ({exc.reason})") from None
    if not text.strip():
        raise FileError(path, "empty file (no header line)")
    return [c.strip() for c in next(csv.reader([text.lstrip("\ufeff")]))]


def _open_text(path: Path) -> io.TextIOWrapper:
    if path.name.lower().endswith(".gz"):
        import gzip

        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _csv_batches(path: Path, columns: list[str]) -> Iterator[pa.RecordBatch]:
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns},
        include_columns=columns,
        strings_can_be_null=True,  # empty fields arrive as nulls
    )
    read = pacsv.ReadOptions(block_size=_BLOCK_SIZE, use_threads=True)
    try:
        reader = pacsv.open_csv(path, read_options=read, convert_options=convert)
        yield from reader
    except pa.ArrowInvalid as exc:
        raise FileError(path, _describe_csv_error(path, str(exc))) from None


def _describe_csv_error(path: Path, message: str) -> str:
    """Turn Arrow's parse error into a message that names the row (slow path, errors only)."""
    if "UTF8" in message:
        return f"not valid UTF-8 text at row {_first_bad_utf8_row(path)}"
    if "Expected" in message and "columns" in message:
        expected, got, row = _first_ragged_row(path)
        if row is not None:
            return f"truncated or ragged row {row}: expected {expected} fields, got {got}"
    return message.splitlines()[0]


def _first_bad_utf8_row(path: Path) -> int:
    with open(path, "rb") as handle:
        for line_number, raw in enumerate(handle):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line_number  # header is line 0, so this is the data record number
    return 0


def _first_ragged_row(path: Path) -> tuple[int, int, int | None]:
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        expected = len(next(reader))
        for row_number, record in enumerate(reader, start=1):
            if len(record) != expected:
                return expected, len(record), row_number
    return expected, expected, None


def _parquet_batches(path: Path, columns: list[str], types: tuple[pa.DataType, ...]) -> Iterator[pa.RecordBatch]:
    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(columns=columns, batch_size=1 << 20):
            yield pa.RecordBatch.from_arrays(
                [_as_string(column) if kept == pa.string() else column.cast(kept)
                 for column, kept in zip(batch.columns, types, strict=True)],
                names=batch.schema.names,
            )
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileError(path, f"unreadable Parquet ({str(exc).splitlines()[0]})") from None


def _as_string(array: pa.Array) -> pa.Array:
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array.cast(pa.string())
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "true", "false")
    if pa.types.is_floating(array.type):
        # Money in float columns: round to 6 places so 0.1+0.2 style noise does not reach the decimal parse.
        return pc.round(array, 6).cast(pa.string())
    return array.cast(pa.string())
