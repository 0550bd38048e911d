"""Typed Parquet copies of CSV fixtures: dates stored as dates, amounts as decimals, flags as booleans, as a
payer's data warehouse would export them, so intake's typed staging path is exercised on known data."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from allpayer.intake.adapters import TUVA
from allpayer.intake.contract import Kind

STORED_AS = {Kind.DATE: pa.date32(), Kind.MONEY: pa.decimal128(12, 2), Kind.INTEGER: pa.int32(),
             Kind.DECIMAL: pa.int32(), Kind.BOOLEAN: pa.bool_()}


def read_text(csv_path: Path) -> pa.Table:
    header = csv_path.read_text().splitlines()[0].split(",")
    return pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in header}, strings_can_be_null=True))


def typed(table: pa.Table, stem: str) -> pa.Table:
    """``table`` (text) with each contract column cast to the type a typed export would use."""
    kind = next(k for k in TUVA.kinds if k.stem == stem)
    kinds = {source: kind.kinds()[canonical] for source, canonical in kind.mapping().items()}
    columns = []
    for name in table.column_names:
        column = table[name]
        target = STORED_AS.get(kinds.get(name, Kind.STRING))
        if target == pa.bool_():
            column = pc.equal(column, "1")
        elif target is not None:
            column = column.cast(target)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_typed_copy(csv_path: Path, parquet_path: Path, stem: str) -> pa.Table:
    table = typed(read_text(csv_path), stem)
    parquet_path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, parquet_path)
    return table
