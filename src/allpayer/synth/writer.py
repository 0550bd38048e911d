"""Arrow column builders (codes, ids, dates, money) and streaming Parquet/CSV writers in Tuva layout."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from allpayer.synth.util import NULL

MONEY = pa.decimal128(12, 2)

MEDICAL_COLUMNS: tuple[str, ...] = (
    "claim_id", "claim_line_number", "claim_type", "person_id", "member_id", "payer", "plan",
    "claim_start_date", "claim_end_date", "claim_line_start_date", "claim_line_end_date", "admission_date",
    "discharge_date", "admit_source_code", "admit_type_code", "discharge_disposition_code", "place_of_service_code",
    "bill_type_code", "drg_code_type", "drg_code", "revenue_center_code", "service_unit_quantity", "hcpcs_code",
    *[f"hcpcs_modifier_{i}" for i in range(1, 6)],
    "rendering_npi", "rendering_tin", "billing_npi", "billing_tin", "facility_npi", "paid_date", "paid_amount",
    "allowed_amount", "charge_amount", "coinsurance_amount", "copayment_amount", "deductible_amount",
    "total_cost_amount", "diagnosis_code_type", *[f"diagnosis_code_{i}" for i in range(1, 26)],
    *[f"diagnosis_poa_{i}" for i in range(1, 26)], "procedure_code_type",
    *[f"procedure_code_{i}" for i in range(1, 26)], *[f"procedure_date_{i}" for i in range(1, 26)],
    "in_network_flag", "data_source", "file_name", "file_date", "ingest_datetime", "claim_status", "original_claim_id",
)
PHARMACY_COLUMNS: tuple[str, ...] = (
    "claim_id", "claim_line_number", "person_id", "member_id", "payer", "plan", "prescribing_provider_npi",
    "dispensing_provider_npi", "dispensing_date", "ndc_code", "quantity", "days_supply", "refills", "paid_date",
    "paid_amount", "allowed_amount", "charge_amount", "coinsurance_amount", "copayment_amount", "deductible_amount",
    "in_network_flag", "data_source", "file_name", "file_date", "ingest_datetime", "claim_status", "original_claim_id",
)
ELIGIBILITY_COLUMNS: tuple[str, ...] = (
    "person_id", "member_id", "subscriber_id", "gender", "race", "birth_date", "death_date", "death_flag",
    "enrollment_start_date", "enrollment_end_date", "payer", "payer_type", "plan", "original_reason_entitlement_code",
    "dual_status_code", "medicare_status_code", "group_id", "group_name", "subscriber_relation", "state", "zip_code",
    "data_source", "file_name", "file_date", "ingest_datetime",
)


def _type_of(name: str) -> pa.DataType:
    if name.endswith("_date") or name.startswith("procedure_date_"):
        return pa.date32()
    if name.endswith("_amount"):
        return MONEY
    if name in ("claim_line_number", "days_supply", "refills", "quantity", "service_unit_quantity"):
        return pa.int32()
    if name.endswith("_flag"):
        return pa.bool_()
    if name == "ingest_datetime":
        return pa.timestamp("s")
    return pa.string()


def schema(columns: tuple[str, ...]) -> pa.Schema:
    return pa.schema([(c, _type_of(c)) for c in columns])


def codes(vocab: tuple[str, ...] | pa.Array, index: np.ndarray) -> pa.Array:
    """Decode integer codes (NULL -> null) through a vocabulary."""
    values = vocab if isinstance(vocab, pa.Array) else pa.array(list(vocab), pa.string())
    idx = pa.array(np.maximum(index, 0).astype(np.int64), mask=index == NULL)
    return values.take(idx)


def ids(prefix: str | pa.Array, numbers: np.ndarray, width: int, mask: np.ndarray | None = None) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers.astype(np.int64)).cast(pa.string()), width, "0")
    head = pa.scalar(prefix) if isinstance(prefix, str) else prefix
    out = pc.binary_join_element_wise(head, digits, "")
    if mask is not None:
        out = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), out)
    return out


def dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), mask=days == NULL, type=pa.int32()).cast(pa.date32())


def money(cents: np.ndarray) -> pa.Array:
    """Exact decimal(12,2) from integer cents."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(MONEY, len(cents), [None, pa.py_buffer(words.tobytes())])


def ints(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(values.astype(np.int32), mask=mask, type=pa.int32())


def table(columns: tuple[str, ...], arrays: dict[str, pa.Array], n: int) -> pa.Table:
    """A table in the declared column order; columns not given are all-null."""
    sch = schema(columns)
    cols = []
    for field in sch:
        arr = arrays.get(field.name)
        cols.append(pa.nulls(n, field.type) if arr is None else arr.cast(field.type))
    return pa.Table.from_arrays(cols, schema=sch)


class TableWriter:
    """Streams tables to one Parquet or CSV file.

    Writes run on a background thread (Arrow releases the GIL), overlapping encoding with generating the
    next chunk; at most one table is pending, so memory stays bounded.
    """

    def __init__(self, path: Path, sch: pa.Schema, file_format: str) -> None:
        self.path = path
        self.rows = 0
        self._format = file_format
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: Future | None = None
        if file_format == "parquet":
            self._writer = pq.ParquetWriter(path, sch, compression="zstd")
        else:
            self._writer = pacsv.CSVWriter(path, sch)

    def _write(self, tbl: pa.Table) -> None:
        if self._format == "parquet":
            self._writer.write_table(tbl, row_group_size=1 << 20)
        else:
            self._writer.write_table(tbl)

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def write(self, tbl: pa.Table) -> None:
        if tbl.num_rows:
            self._wait()
            self._pending = self._pool.submit(self._write, tbl)
            self.rows += tbl.num_rows

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown()
            self._writer.close()


def file_name(stem: str, file_format: str) -> str:
    return f"{stem}.{'parquet' if file_format == 'parquet' else 'csv'}"
